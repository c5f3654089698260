/**
 * Pyralog's Kafka-protocol client, used by the CLI, tests and benchmarks: pipelined broker
 * connections with version negotiation, metadata, produce, fetch, list offsets, admin calls
 * and a minimal classic-group consumer. It speaks only the wire protocol (it imports
 * `src/kafka/protocol`, `src/records` and `src/util`), so it works with any Kafka-compatible
 * broker.
 *
 * @example
 * ```ts
 * import { assignRange, decodeAssignment, encodeAssignment, parseBrokerList } from "./mod.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseBrokerList("127.0.0.1:9092"), [{ host: "127.0.0.1", port: 9092 }]);
 * const plan = assignRange([{ memberId: "a", topics: ["t"] }], new Map([["t", 2]]));
 * const bytes = encodeAssignment({ partitions: plan.get("a") ?? new Map(), userData: null });
 * deepStrictEqual(decodeAssignment(bytes).partitions.get("t"), [0, 1]);
 * ```
 * @module
 */
export { ApiVersionTable, CLIENT_VERSIONS, type VersionRange } from "./api_version_table.ts";
export {
  BrokerConnection,
  CONNECT_TIMEOUT_MS,
  type ConnectionOptions,
  formatAddress,
  MAX_IN_FLIGHT,
  REQUEST_TIMEOUT_MS,
} from "./broker_connection.ts";
export {
  type Assignment,
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
} from "./consumer_protocol.ts";
export { type FetchedRecords, fetchedRecords } from "./fetched_records.ts";
export {
  GroupConsumer,
  type GroupConsumerOptions,
  type TopicPartitionOffset,
} from "./group_consumer.ts";
export {
  type BrokerAddress,
  type BrokerInfo,
  type ClientOptions,
  type ClusterMetadata,
  type CommittedOffset,
  type ConfigEntry,
  DEFAULT_BROKER,
  EARLIEST_TIMESTAMP,
  type FetchOptions,
  type FetchPosition,
  type FetchResult,
  type GroupDescription,
  type GroupListing,
  type GroupMember,
  isRetriable,
  type ItemResult,
  KafkaClient,
  LATEST_TIMESTAMP,
  type NewTopic,
  parseBrokerList,
  type PartitionInfo,
  type PartitionOffset,
  type ProduceBatch,
  type ProduceResult,
  type TopicInfo,
} from "./kafka_client.ts";
export { checkErrorCode, errorName, KafkaError } from "./kafka_error.ts";
export { assignRange, type MemberSubscription, RANGE_ASSIGNOR } from "./range_assignor.ts";
