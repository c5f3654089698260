/**
 * Kafka RecordBatch v2: header codec, CRC32C, building and decoding batches, control records
 * and the compression codecs (gzip, snappy, lz4, zstd). Imports only `src/util`.
 *
 * @example
 * ```ts
 * import { buildBatch, decodeBatch, iterateBatches } from "./mod.ts";
 *
 * const value = new TextEncoder().encode("hello");
 * const batch = buildBatch({ records: [{ value, timestampMs: 1_700_000_000_000 }], compression: "lz4" });
 * const decoded = decodeBatch(batch);
 * if (decoded.records[0]?.offset !== 0) throw new Error("unexpected offset");
 * for (const frame of iterateBatches(batch)) {
 *   if (frame.header.recordCount !== 1) throw new Error("unexpected count");
 * }
 * ```
 * @module
 */
export * from "./batch_header.ts";
export { crc32c } from "./crc32c.ts";
export {
  type BatchFrame,
  buildBatch,
  type BuildBatchOptions,
  decodeBatch,
  type DecodeBatchOptions,
  type DecodedBatch,
  type DecodedRecord,
  iterateBatches,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  type RecordHeader,
  type RecordInput,
} from "./record_batch.ts";
export {
  buildEndTxnMarkerBatch,
  type ControlRecordKey,
  ControlRecordType,
  type ControlRecordTypeName,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  encodeControlRecordKey,
  encodeEndTxnMarker,
  type EndTxnMarkerOptions,
} from "./control_record.ts";
export {
  compress,
  compressionId,
  compressionName,
  decompress,
  DECOMPRESSED_BYTES_MAX,
} from "./compression.ts";
