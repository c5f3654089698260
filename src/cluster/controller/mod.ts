/**
 * The cluster controller (issue #6): the metadata records of `__cluster_metadata`, the
 * `MetadataImage` every node applies from them, the `MetadataQuorum` (the metadata Raft group
 * and its applier) and the `Controller` its leader runs (broker registration, liveness and
 * fencing, topics, partition assignments with copyset placement, configs, and the leaders and
 * ISRs that partition Raft groups report through `alterPartition`). After KRaft (KIP-500,
 * KIP-595, KIP-631, KIP-497).
 *
 * @example
 * ```ts
 * import { MetadataImage, decodeMetadataBatch, encodeMetadataBatch } from "./mod.ts";
 * import { nodeId } from "../../util/mod.ts";
 *
 * const batch = encodeMetadataBatch([
 *   { type: "topic", name: "orders", topicId: "00000000-0000-4000-8000-000000000001" },
 *   {
 *     type: "partition",
 *     topicId: "00000000-0000-4000-8000-000000000001",
 *     partition: 0,
 *     replicas: [nodeId(1), nodeId(2)],
 *     isr: [nodeId(1), nodeId(2)],
 *     leader: nodeId(1),
 *     leaderEpoch: 0,
 *   },
 * ]);
 * const image = new MetadataImage();
 * image.applyAll(decodeMetadataBatch(batch));
 * if (image.describeTopic("orders")?.partitions[0]?.leader !== 1) throw new Error("no leader");
 * ```
 * @module
 */
export {
  type AlterConfigsRequest,
  type AlterPartitionRequest,
  type BrokerHeartbeatRequest,
  Controller,
  type ControllerErrorKind,
  type ControllerOptions,
  type ControllerQuorum,
  type ControllerResult,
  type CreateTopicRequest,
  DEFAULT_CONTROLLER_QUEUE_MAX,
  DEFAULT_PLACEMENT_SEED,
  DEFAULT_SCATTER_WIDTH,
  DEFAULT_SESSION_TIMEOUT_MS,
  fenceChanges,
  type QuorumProposeResult,
  randomTopicId,
  type RegisterBrokerRequest,
} from "./controller.ts";
export {
  REPLICATION_QUORUM_CONFIG,
  type ReplicationQuorum,
  replicationQuorumOf,
  replicationQuorumProblem,
} from "./replication_quorum.ts";
export { ClusterNode, type ClusterNodeOptions, DEFAULT_CLUSTER_TICK_MS } from "./cluster_node.ts";
export {
  type CallOptions,
  CONTROLLER_RPC_GROUP_ID,
  CONTROLLER_RPC_REPLY_GROUP_ID,
  CONTROLLER_RPC_VERSION,
  ControllerClient,
  type ControllerClientOptions,
  type ControllerClientResult,
  type ControllerRpcApi,
  type ControllerRpcFrame,
  type ControllerRpcReplies,
  type ControllerRpcRequest,
  type ControllerRpcResponse,
  ControllerRpcServer,
  type ControllerRpcServerOptions,
  decodeControllerRpcFrame,
  encodeControllerRequest,
  encodeControllerResponse,
  type UnavailableReason,
} from "./controller_rpc.ts";
export {
  type BrokerInfo,
  MetadataImage,
  type PartitionInfo,
  type TopicInfo,
} from "./metadata_image.ts";
export {
  METADATA_GROUP_ID,
  MetadataQuorum,
  type MetadataQuorumOptions,
} from "./metadata_quorum.ts";
export {
  type BrokerEndpoint,
  type ConfigResourceType,
  decodeMetadataBatch,
  decodeMetadataRecord,
  encodeMetadataBatch,
  encodeMetadataRecord,
  ENDPOINTS_MAX,
  isTopicId,
  METADATA_RECORD_VERSION,
  METADATA_RECORDS_PER_BATCH_MAX,
  METADATA_STRING_BYTES_MAX,
  METADATA_TOPIC,
  type MetadataRecord,
  NO_LEADER,
  type OffsetMetadataRecord,
  REPLICAS_MAX,
} from "./metadata_record.ts";
