/**
 * The fixed 61-byte header of a Kafka RecordBatch (magic 2), as the protocol guide's "Record
 * Batch" section specifies. Storage and replication need only this header to frame, verify
 * and re-offset batches; they never decode the records inside (DESIGN.md "One log format").
 *
 * Layout (big-endian):
 *   0 baseOffset int64 | 8 batchLength int32 (bytes after this field) | 12 partitionLeaderEpoch
 *   int32 | 16 magic int8 | 17 crc uint32 (CRC32C of bytes 21..end) | 21 attributes int16 |
 *   23 lastOffsetDelta int32 | 27 baseTimestamp int64 | 35 maxTimestamp int64 |
 *   43 producerId int64 | 51 producerEpoch int16 | 53 baseSequence int32 | 57 recordCount int32
 *
 * baseOffset and partitionLeaderEpoch lie outside the CRC, so the broker can assign offsets and
 * stamp the Raft term without recomputing it.
 */
import { FrameDecodeError } from "../util/mod.ts";
import { crc32c } from "./crc32c.ts";

/** Size of the RecordBatch header. */
export const BATCH_HEADER_BYTES = 61;
/** Bytes before the batchLength-counted part: baseOffset (8) + batchLength (4). */
export const BATCH_LOG_OVERHEAD_BYTES = 12;
/** The only record batch format Pyralog stores. */
export const BATCH_MAGIC = 2;

/** Field positions within the header. */
export const BATCH_FIELD = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

/** Compression codec ids in attributes bits 0-2. */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
/** A compression codec name. */
export type CompressionName = keyof typeof Compression;

/** Attribute bits. */
export const ATTR = {
  compressionMask: 0x07,
  logAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

/** The decoded header of one batch. */
export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field; the whole batch is this plus 12. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function readInt64(dv: DataView, pos: number, what: string): number {
  const v = dv.getBigInt64(pos);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new FrameDecodeError(`Cannot decode record batch: ${what} "${v}" is out of range`);
  }
  return Number(v);
}

/**
 * Reads the header of the batch starting at `pos`, checking only that the header fits and the
 * magic and length are sane (not the CRC; see `verifyBatchCrc`).
 * @throws {FrameDecodeError} when the bytes cannot be a v2 batch header.
 */
export function readBatchHeader(bytes: Uint8Array, pos = 0): BatchHeader {
  if (pos < 0 || bytes.length - pos < BATCH_HEADER_BYTES) {
    throw new FrameDecodeError(
      `Cannot decode record batch: ${bytes.length - pos} bytes is shorter than a header`,
    );
  }
  const dv = view(bytes);
  const magic = dv.getInt8(pos + BATCH_FIELD.magic);
  if (magic !== BATCH_MAGIC) {
    throw new FrameDecodeError(`Cannot decode record batch: unsupported magic "${magic}"`);
  }
  const batchLength = dv.getInt32(pos + BATCH_FIELD.batchLength);
  if (batchLength < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD_BYTES) {
    throw new FrameDecodeError(
      `Cannot decode record batch: batch length "${batchLength}" too small`,
    );
  }
  const lastOffsetDelta = dv.getInt32(pos + BATCH_FIELD.lastOffsetDelta);
  const recordCount = dv.getInt32(pos + BATCH_FIELD.recordCount);
  if (lastOffsetDelta < 0 || recordCount < 0) {
    throw new FrameDecodeError(
      `Cannot decode record batch: negative lastOffsetDelta "${lastOffsetDelta}" or record count "${recordCount}"`,
    );
  }
  return {
    baseOffset: readInt64(dv, pos + BATCH_FIELD.baseOffset, "base offset"),
    batchLength,
    partitionLeaderEpoch: dv.getInt32(pos + BATCH_FIELD.partitionLeaderEpoch),
    magic,
    crc: dv.getUint32(pos + BATCH_FIELD.crc),
    attributes: dv.getInt16(pos + BATCH_FIELD.attributes),
    lastOffsetDelta,
    baseTimestamp: readInt64(dv, pos + BATCH_FIELD.baseTimestamp, "base timestamp"),
    maxTimestamp: readInt64(dv, pos + BATCH_FIELD.maxTimestamp, "max timestamp"),
    producerId: dv.getBigInt64(pos + BATCH_FIELD.producerId),
    producerEpoch: dv.getInt16(pos + BATCH_FIELD.producerEpoch),
    baseSequence: dv.getInt32(pos + BATCH_FIELD.baseSequence),
    recordCount,
  };
}

/** Total size in bytes of the batch whose header is `h`. */
export function batchSize(h: BatchHeader): number {
  return h.batchLength + BATCH_LOG_OVERHEAD_BYTES;
}

/** Computes the CRC32C a batch should carry (over attributes..end). */
export function computeBatchCrc(batch: Uint8Array): number {
  return crc32c(batch, 0, BATCH_FIELD.attributes, batch.length);
}

/** True when the CRC stored in `batch` (exactly one whole batch) matches its content. */
export function verifyBatchCrc(batch: Uint8Array): boolean {
  if (batch.length < BATCH_HEADER_BYTES) return false;
  return view(batch).getUint32(BATCH_FIELD.crc) === computeBatchCrc(batch);
}

/** Writes a fresh CRC into `batch` after its CRC-covered content changed. */
export function writeBatchCrc(batch: Uint8Array): void {
  view(batch).setUint32(BATCH_FIELD.crc, computeBatchCrc(batch));
}

/** Overwrites the base offset in place (outside the CRC: no re-checksum needed). */
export function setBaseOffset(batch: Uint8Array, baseOffset: number): void {
  view(batch).setBigInt64(BATCH_FIELD.baseOffset, BigInt(baseOffset));
}

/** Overwrites the partition leader epoch (the Raft term) in place (outside the CRC). */
export function setPartitionLeaderEpoch(batch: Uint8Array, epoch: number): void {
  view(batch).setInt32(BATCH_FIELD.partitionLeaderEpoch, epoch);
}

/**
 * Overwrites maxTimestamp and sets the LogAppendTime attribute, as a broker does for topics
 * with `message.timestamp.type=LogAppendTime`. Both lie inside the CRC, which is recomputed.
 */
export function stampLogAppendTime(batch: Uint8Array, timestampMs: number): void {
  const dv = view(batch);
  dv.setInt16(BATCH_FIELD.attributes, dv.getInt16(BATCH_FIELD.attributes) | ATTR.logAppendTime);
  dv.setBigInt64(BATCH_FIELD.maxTimestamp, BigInt(timestampMs));
  writeBatchCrc(batch);
}
