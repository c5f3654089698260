/**
 * The node runtime's services, shared by the front doors (Kafka broker, HTTP API): produce,
 * fetch and offset lookups with producer-sequence checks, and node identity. Replication,
 * the controller and placement arrive with issue #6.
 * @module
 */
export {
  EARLIEST_TIMESTAMP,
  type FetchOutcome,
  LATEST_TIMESTAMP,
  LogService,
  type LogServiceOptions,
  MAX_TIMESTAMP,
  type OffsetLookup,
  type PartitionError,
  type PartitionErrorKind,
  type ProduceOptions,
  type ProduceOutcome,
  type ReadOptions,
  type ReplicaDirectory,
  SINGLE_NODE_LEADER_EPOCH,
} from "./log_service.ts";
export { loadClusterId, PRODUCER_ID_BLOCK, ProducerIdAllocator } from "./node_identity.ts";
export {
  PRODUCER_BATCHES_REMEMBERED,
  ProducerStateTable,
  type ProducerSummary,
  type SequenceCheck,
} from "./producer_state.ts";
export {
  type AdminError,
  type AdminErrorKind,
  AdminService,
  type AdminServiceOptions,
  type ControllerOutcome,
  type CreatedTopic,
  endOffsetForEpoch,
  HIGH_WATERMARK_OFFSET,
  INTERNAL_TOPICS,
  isInternalTopic,
  type NewTopic,
  type TopicController,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
  USE_DEFAULT,
} from "./admin_service.ts";
export {
  applyConfigChanges,
  type ConfigChange,
  ConfigOperation,
  ConfigSource,
  ConfigType,
  type EffectiveConfig,
  effectiveTopicConfigs,
  isKnownTopicConfig,
  replaceConfigs,
  TOPIC_CONFIG_CATALOG,
  type TopicConfigSpec,
} from "./topic_config_catalog.ts";
export {
  type IncomingRecord,
  type OutgoingRecord,
  type ProduceForwarder,
  type RecordRead,
  type RecordResult,
  RecordService,
} from "./record_service.ts";
export {
  type ClassicGroup,
  type CommittedOffset,
  GROUP_STATES,
  type GroupError,
  type GroupErrorKind,
  type GroupProtocol,
  type GroupState,
  type JoinedMember,
  type JoinOutcome,
  type SyncOutcome,
} from "./classic_group.ts";
export {
  type DescribedMember,
  GROUP_INITIAL_REBALANCE_DELAY_MS,
  GROUP_MAX_SESSION_TIMEOUT_MS,
  GROUP_MIN_SESSION_TIMEOUT_MS,
  GroupCoordinator,
  type GroupCoordinatorOptions,
  type GroupDescription,
  type GroupEvent,
  type GroupListing,
  type GroupResult,
  type JoinGroupInput,
  type LeaveOutcome,
  type LeavingMember,
  type MemberIdentity,
  type RemovalCause,
  type SyncGroupInput,
  type TopicOffsets,
} from "./group_coordinator.ts";
export {
  type FetchedOffset,
  GROUP_TICK_MS,
  GroupService,
  type GroupServiceOptions,
  OFFSET_METADATA_MAX_BYTES,
  type OffsetCommitInput,
  type OffsetCommitPartition,
  type OffsetErrorKind,
  OFFSETS_TOPIC,
  OFFSETS_TOPIC_PARTITIONS,
  type PartitionOutcome,
} from "./group_service.ts";
export { encodeSubscription, parseSubscriptionTopics } from "./consumer_protocol.ts";
export {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
  type OffsetKey,
} from "./offset_commit_record.ts";
export {
  type AssignedPartitions,
  assignRange,
  assignRoundRobin,
  encodeConsumerAssignment,
  type MemberTopics,
  parseConsumerAssignment,
} from "./consumer_assignment.ts";
export {
  CONSUMER_PROTOCOL_TYPE,
  GroupMember,
  GroupMemberError,
  type GroupMemberOptions,
  type MemberOffset,
  RANGE_PROTOCOL,
  ROUND_ROBIN_PROTOCOLS,
} from "./group_member.ts";
export {
  type BrokerAddress,
  type ClusterView,
  KAFKA_ENDPOINT,
  MetadataClusterView,
  type PartitionPlacement,
  SingleNodeView,
} from "./cluster_view.ts";
export {
  DEFAULT_ISR_LAG_MS,
  type ReplicaHandle,
  ReplicaManager,
  type ReplicaManagerOptions,
} from "./replica_manager.ts";
export * from "./placement/mod.ts";
export * from "./transport/mod.ts";
export * from "./replication/mod.ts";
export * from "./controller/mod.ts";
export { ClusterRuntime, type ClusterRuntimeOptions, deriveClusterId } from "./cluster_runtime.ts";
