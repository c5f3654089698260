/**
 * Pyralog's Raft consensus core: a pure state machine (no I/O, no clock, no ambient
 * randomness) with flexible quorums, pre-vote, check-quorum, pipelined replication,
 * leadership transfer, learners, single-server membership change, a log that may start
 * after offset 0, and read index. Log positions are Kafka offsets and terms are partition
 * leader epochs. See `RaftNode` for the runtime's I/O contract.
 *
 * @example
 * ```ts
 * import { MemoryLog, nodeId, RaftNode } from "./mod.ts";
 * import { createPrng } from "../util/mod.ts";
 *
 * const log = new MemoryLog();
 * const node = new RaftNode({
 *   id: nodeId(1),
 *   log,
 *   prng: createPrng(7),
 *   membership: { voters: [nodeId(1)], learners: [] },
 *   electionTicks: 10,
 *   heartbeatTicks: 2,
 * });
 * for (let i = 0; i < 30 && node.role !== "leader"; i++) {
 *   node.tick();
 *   while (node.hasReady()) {
 *     const rd = node.ready();
 *     log.append(rd.entries);
 *     node.advance(rd);
 *   }
 * }
 * if (node.role !== "leader") throw new Error("a single voter elects itself");
 * ```
 * @module
 */
export { type Entry, entryBytes, type EntryPayload } from "./entry.ts";
export {
  applyConfigChange,
  type ConfigChange,
  hasDefaultQuorums,
  majority,
  type Membership,
  type Quorums,
  quorumsOf,
  validateMembership,
} from "./membership.ts";
export { MemoryLog } from "./memory_log.ts";
export type { Message, MessageType } from "./message.ts";
export type { RaftLog } from "./raft_log.ts";
export {
  type Durability,
  type HardState,
  type LogStart,
  type RaftConfig,
  RaftNode,
  type ReadState,
  type Ready,
  type RequestResult,
  type Role,
} from "./raft_node.ts";
export { type NodeId, nodeId, type Offset, offset, type Term, term } from "../util/mod.ts";
