/**
 * The storage engine: partition logs made of segments of RecordBatch v2 bytes, with sparse
 * offset and time indexes, crash recovery, retention and a durability policy.
 * @module
 */
export { DEFAULT_MAX_OPEN_FILES, FilePool, writeFileAtomic } from "./file_pool.ts";
export {
  DEFAULT_LOG_CONFIG,
  type FsyncPolicy,
  type LogConfig,
  resolveLogConfig,
} from "./log_config.ts";
export {
  type AppendOptions,
  type AppendResult,
  type OpenLogOptions,
  PartitionLog,
  type ReadOptions,
  type ReadResult,
} from "./partition_log.ts";
export type { TimestampHit } from "./segment.ts";
export {
  type Data,
  EmbeddedLog,
  type EmbeddedLogOptions,
  type ProducerRecord,
  type ReadRecordsOptions,
  type RecordPosition,
  type StoredRecord,
} from "./embedded_log.ts";
export {
  PARTITIONS_MAX,
  TopicError,
  type TopicInfo,
  TopicStore,
  type TopicStoreOptions,
  validateTopicName,
} from "./topic_store.ts";
export {
  InvalidConfigError,
  logConfigFor,
  TOPIC_CONFIG_DEFAULTS,
  validateTopicConfigs,
} from "./topic_config.ts";
