/**
 * Pyralog as a library: a durable, Kafka-format log you open in-process, without a server
 * (`openLog`); a whole node (Kafka protocol and HTTP API) started in-process (`startNode`);
 * and a Kafka-protocol client for any Kafka-compatible broker (`KafkaClient`).
 *
 * Topics have partitions; records (key, value, headers, timestamp) are appended as Kafka
 * RecordBatch v2 and read back by offset or timestamp. With the default `fsync: "always"` an
 * append resolves only once the data is on disk.
 *
 * @example
 * ```ts
 * import { openLog } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const log = openLog(dir);
 * log.createTopic("events", { partitions: 2 });
 * const [pos] = await log.append("events", [{ key: "user-1", value: "signed up" }]);
 * const { records } = log.read("events", pos!.partition, pos!.offset);
 * console.log(new TextDecoder().decode(records[0]!.value!)); // "signed up"
 * await log.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 * @module
 */
import { EmbeddedLog, type EmbeddedLogOptions } from "./src/storage/mod.ts";

export {
  type Data,
  EmbeddedLog,
  type EmbeddedLogOptions,
  type FsyncPolicy,
  type LogConfig,
  PartitionLog,
  type ProducerRecord,
  type ReadRecordsOptions,
  type RecordPosition,
  type StoredRecord,
  TopicError,
  type TopicInfo,
  TopicStore,
} from "./src/storage/mod.ts";
export {
  buildBatch,
  type CompressionName,
  decodeBatch,
  type DecodedBatch,
  type DecodedRecord,
  iterateBatches,
} from "./src/records/mod.ts";
export { StorageError } from "./src/util/mod.ts";
export {
  type ClientOptions,
  GroupConsumer,
  type GroupConsumerOptions,
  KafkaClient,
} from "./src/kafka/client/mod.ts";
export { type RunningNode, startNode } from "./src/cli/serve.ts";
export { type ServeConfig } from "./src/cli/serve_config.ts";

/**
 * Opens (creating) an embedded log in `dir`.
 * @throws {StorageError} when the directory cannot be used.
 */
export function openLog(dir: string, options: EmbeddedLogOptions = {}): EmbeddedLog {
  return EmbeddedLog.open(dir, options);
}
