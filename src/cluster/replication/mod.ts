/**
 * Partition replication (issue #6): every partition is a Raft group whose log is the
 * partition's storage log (DESIGN.md "Consensus and replication"). `StorageRaftLog` lets the
 * pure core in src/raft read a `PartitionLog`; `encodeRaftMessage`/`decodeRaftMessage` put
 * Raft messages on the node transport; `RaftGroup` is the runtime of one group (ticks,
 * persistence per durability mode, sends, proposals); `GroupRouter` routes a transport's
 * frames to the groups of a node. Terms are Kafka leader epochs and the commit end is the
 * high watermark, as in KRaft (KIP-595).
 *
 * @example
 * ```ts
 * import { decodeRaftMessage, encodeRaftMessage } from "./mod.ts";
 * import { nodeId, term } from "../../util/mod.ts";
 *
 * const wire = encodeRaftMessage({ type: "timeoutNow", term: term(3), from: nodeId(1), to: nodeId(2) });
 * if (decodeRaftMessage(wire).type !== "timeoutNow") throw new Error("round trip failed");
 * ```
 * @module
 */
export { GroupRouter, type RoutedGroup } from "./group_router.ts";
export {
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_INBOX,
  HARD_STATE_FILE,
  type ProposeResult,
  RaftGroup,
  type RaftGroupOptions,
} from "./raft_group.ts";
export {
  decodeRaftMessage,
  encodeRaftMessage,
  MAX_ENTRIES_PER_MESSAGE,
  MAX_MEMBERS,
  RAFT_CODEC_VERSION,
} from "./raft_message_codec.ts";
export {
  batchFor,
  DELETE_RECORDS_CONTROL_TYPE,
  deleteRecordsBatch,
  deleteRecordsTarget,
  entryOf,
  EPOCH_CHECKPOINT_FILE,
  LEADER_CHANGE_CONTROL_TYPE,
  StorageRaftLog,
  type TermBoundary,
  VOTERS_CONTROL_TYPE,
} from "./storage_raft_log.ts";
