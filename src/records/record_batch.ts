/**
 * Builds and decodes whole Kafka RecordBatch v2 frames: the 61-byte header (batch_header.ts)
 * followed by records, optionally compressed as one block (protocol guide, "Record Batch" and
 * "Record"; KIP-98 for producer ids, sequences, transactions and control batches; KIP-32 for
 * LogAppendTime).
 *
 * A record is: length varint (bytes after it) | attributes int8 | timestampDelta varlong |
 * offsetDelta varint | keyLength varint (-1 = null) | key | valueLength varint | value |
 * headerCount varint | per header: keyLength varint | key (UTF-8) | valueLength varint | value.
 *
 * Invariants:
 * - Decoding is bounded: every length is checked against the bytes that remain before
 *   slicing, counts are checked against the least space their items could take before any
 *   array grows, and decompression refuses output beyond `decompressedBytesMax`. Malformed
 *   input throws `FrameDecodeError` and nothing else.
 * - Decoded keys, values and header values are views into the input (uncompressed batches)
 *   or into the one decompressed buffer; they are not copied.
 * - The builder never reads a clock: a record without a timestamp gets `baseTimestampMs`.
 */
import { assert, FrameDecodeError } from "../util/mod.ts";
import {
  ATTR,
  BATCH_FIELD,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD_BYTES,
  BATCH_MAGIC,
  type BatchHeader,
  batchSize,
  Compression,
  type CompressionName,
  readBatchHeader,
  verifyBatchCrc,
  writeBatchCrc,
} from "./batch_header.ts";
import { compress, compressionName, decompress, DECOMPRESSED_BYTES_MAX } from "./compression.ts";
import {
  type ReadCursor,
  readVarint,
  readVarlong,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from "./varint.ts";

/** Kafka's "no timestamp" value (RecordBatch.NO_TIMESTAMP). */
export const NO_TIMESTAMP = -1;
/** Producer id, epoch and sequence of a non-idempotent producer (RecordBatch.NO_PRODUCER_ID...). */
export const NO_PRODUCER_ID = -1n;
/** See `NO_PRODUCER_ID`. */
export const NO_PRODUCER_EPOCH = -1;
/** See `NO_PRODUCER_ID`. */
export const NO_SEQUENCE = -1;
/** A producer's batches carry no leader epoch; the broker stamps it (the Raft term). */
export const NO_PARTITION_LEADER_EPOCH = -1;
/**
 * Least bytes one record can occupy: length, attributes, timestampDelta, offsetDelta, key
 * length, value length and header count, one byte each. Bounds `recordCount` before decoding.
 */
const RECORD_BYTES_MIN = 7;
/** Least bytes one header can occupy: key length and value length, one byte each. */
const HEADER_BYTES_MIN = 2;
const INT32_MAX = 0x7fff_ffff;

/** One record header. Keys are UTF-8 strings; values are bytes or null. */
export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** A record handed to `buildBatch`. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeader[];
  /** CreateTime in ms; defaults to the batch's `baseTimestampMs`. */
  timestampMs?: number;
}

/** Options of `buildBatch`. */
export interface BuildBatchOptions {
  records: RecordInput[];
  /** Offset of the first record; the broker overwrites it on append. Default 0. */
  baseOffset?: number;
  compression?: CompressionName;
  /** Default `NO_PRODUCER_ID` (-1): not idempotent. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  /** Marks a control batch (transaction markers); its records must be control records. */
  isControl?: boolean;
  /** Default `NO_PARTITION_LEADER_EPOCH` (-1). */
  partitionLeaderEpoch?: number;
  /**
   * The batch's base timestamp; defaults to the first record's timestamp, else `NO_TIMESTAMP`.
   * Records without `timestampMs` take this value.
   */
  baseTimestampMs?: number;
  /** When set, the batch is stamped LogAppendTime (attribute bit 3) with this maxTimestamp. */
  logAppendTimeMs?: number;
}

/** A decoded record. `offset` and `timestampMs` are absolute (base plus delta). */
export interface DecodedRecord {
  offset: number;
  /**
   * CreateTime of the record, or the batch's maxTimestamp for LogAppendTime batches (as the
   * Java client reports it).
   */
  timestampMs: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/** A decoded batch: its header, the flags from its attributes, and its records. */
export interface DecodedBatch {
  header: BatchHeader;
  compression: CompressionName;
  isTransactional: boolean;
  isControl: boolean;
  timestampType: "CreateTime" | "LogAppendTime";
  records: DecodedRecord[];
}

/** Options of `decodeBatch`. */
export interface DecodeBatchOptions {
  /** Check the CRC32C before decoding (default true). */
  verifyCrc?: boolean;
  /** Largest decompressed record block accepted (default `DECOMPRESSED_BYTES_MAX`). */
  decompressedBytesMax?: number;
}

/** One record prepared for writing: its sizes computed once, header keys UTF-8 encoded. */
interface PreparedRecord {
  bodyBytes: number;
  timestampDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<{ key: Uint8Array; value: Uint8Array | null }>;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function bytesFieldSize(b: Uint8Array | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

function writeBytesField(buf: Uint8Array, pos: number, b: Uint8Array | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

function checkInt(n: number, min: number, max: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RangeError(`Cannot build record batch: ${what} "${n}" is out of range`);
  }
}

/** Sizes every record (pass one of two) so the output is allocated exactly once. */
function prepareRecords(
  records: RecordInput[],
  baseTimestampMs: number,
): { prepared: PreparedRecord[]; recordsBytes: number; maxTimestampMs: number } {
  const prepared: PreparedRecord[] = [];
  let recordsBytes = 0;
  let maxTimestampMs = NO_TIMESTAMP;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as RecordInput;
    const ts = r.timestampMs ?? baseTimestampMs;
    checkInt(ts, NO_TIMESTAMP, Number.MAX_SAFE_INTEGER, "timestamp");
    if (ts > maxTimestampMs) maxTimestampMs = ts;
    const timestampDelta = ts - baseTimestampMs;
    const key = r.key ?? null;
    const headers = (r.headers ?? []).map((h) => ({
      key: utf8Encoder.encode(h.key),
      value: h.value,
    }));
    let bodyBytes = 1 + varlongSize(timestampDelta) + varintSize(i) + bytesFieldSize(key) +
      bytesFieldSize(r.value) + varintSize(headers.length);
    for (const h of headers) bodyBytes += bytesFieldSize(h.key) + bytesFieldSize(h.value);
    recordsBytes += varintSize(bodyBytes) + bodyBytes;
    prepared.push({ bodyBytes, timestampDelta, key, value: r.value, headers });
  }
  return { prepared, recordsBytes, maxTimestampMs };
}

/** Writes the prepared records at `pos` (pass two); returns the position after them. */
function writeRecords(buf: Uint8Array, pos: number, prepared: PreparedRecord[]): number {
  for (let i = 0; i < prepared.length; i++) {
    const r = prepared[i] as PreparedRecord;
    pos = writeVarint(buf, pos, r.bodyBytes);
    buf[pos++] = 0; // record attributes: unused, always 0
    pos = writeVarlong(buf, pos, r.timestampDelta);
    pos = writeVarint(buf, pos, i);
    pos = writeBytesField(buf, pos, r.key);
    pos = writeBytesField(buf, pos, r.value);
    pos = writeVarint(buf, pos, r.headers.length);
    for (const h of r.headers) {
      pos = writeBytesField(buf, pos, h.key);
      pos = writeBytesField(buf, pos, h.value);
    }
  }
  return pos;
}

/**
 * Builds one RecordBatch v2 with the given records, compressing the record block as asked.
 * @throws {RangeError} when there are no records or a field is out of its wire range.
 */
export function buildBatch(opts: BuildBatchOptions): Uint8Array {
  const { records } = opts;
  if (records.length === 0) throw new RangeError("Cannot build record batch: no records");
  checkInt(records.length, 1, INT32_MAX, "record count");
  const compression = opts.compression ?? "none";
  const producerId = opts.producerId ?? NO_PRODUCER_ID;
  const producerEpoch = opts.producerEpoch ?? NO_PRODUCER_EPOCH;
  const baseSequence = opts.baseSequence ?? NO_SEQUENCE;
  const baseOffset = opts.baseOffset ?? 0;
  checkInt(baseOffset, 0, Number.MAX_SAFE_INTEGER, "base offset");
  checkInt(producerEpoch, -1, 0x7fff, "producer epoch");
  checkInt(baseSequence, -1, INT32_MAX, "base sequence");
  const epoch = opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH;
  checkInt(epoch, -1, INT32_MAX, "partition leader epoch");
  if (producerId < -1n || producerId > 0x7fff_ffff_ffff_ffffn) {
    throw new RangeError(`Cannot build record batch: producer id "${producerId}" is out of range`);
  }
  if (opts.isTransactional === true && producerId < 0n) {
    throw new RangeError("Cannot build record batch: a transactional batch needs a producer id");
  }
  const baseTimestampMs = opts.baseTimestampMs ?? records[0]?.timestampMs ?? NO_TIMESTAMP;
  checkInt(baseTimestampMs, NO_TIMESTAMP, Number.MAX_SAFE_INTEGER, "base timestamp");

  const { prepared, recordsBytes, maxTimestampMs } = prepareRecords(records, baseTimestampMs);
  let batch: Uint8Array;
  if (compression === "none") {
    batch = new Uint8Array(BATCH_HEADER_BYTES + recordsBytes);
    const end = writeRecords(batch, BATCH_HEADER_BYTES, prepared);
    assertWritten(end, batch.length);
  } else {
    const plain = new Uint8Array(recordsBytes);
    assertWritten(writeRecords(plain, 0, prepared), recordsBytes);
    const packed = compress(compression, plain);
    batch = new Uint8Array(BATCH_HEADER_BYTES + packed.length);
    batch.set(packed, BATCH_HEADER_BYTES);
  }
  checkInt(batch.length - BATCH_LOG_OVERHEAD_BYTES, 0, INT32_MAX, "batch length");

  let attributes = Compression[compression];
  if (opts.isTransactional === true) attributes |= ATTR.transactional;
  if (opts.isControl === true) attributes |= ATTR.control;
  if (opts.logAppendTimeMs !== undefined) {
    checkInt(opts.logAppendTimeMs, 0, Number.MAX_SAFE_INTEGER, "log append time");
    attributes |= ATTR.logAppendTime;
  }
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  dv.setBigInt64(BATCH_FIELD.baseOffset, BigInt(baseOffset));
  dv.setInt32(BATCH_FIELD.batchLength, batch.length - BATCH_LOG_OVERHEAD_BYTES);
  dv.setInt32(BATCH_FIELD.partitionLeaderEpoch, epoch);
  dv.setInt8(BATCH_FIELD.magic, BATCH_MAGIC);
  dv.setInt16(BATCH_FIELD.attributes, attributes);
  dv.setInt32(BATCH_FIELD.lastOffsetDelta, records.length - 1);
  dv.setBigInt64(BATCH_FIELD.baseTimestamp, BigInt(baseTimestampMs));
  dv.setBigInt64(BATCH_FIELD.maxTimestamp, BigInt(opts.logAppendTimeMs ?? maxTimestampMs));
  dv.setBigInt64(BATCH_FIELD.producerId, producerId);
  dv.setInt16(BATCH_FIELD.producerEpoch, producerEpoch);
  dv.setInt32(BATCH_FIELD.baseSequence, baseSequence);
  dv.setInt32(BATCH_FIELD.recordCount, records.length);
  writeBatchCrc(batch);
  return batch;
}

function assertWritten(end: number, expected: number): void {
  // A mismatch means the sizing pass and the writing pass disagree: a bug, not bad input.
  assert(end === expected, `wrote ${end} record bytes, sized ${expected}`);
}

function malformed(detail: string): FrameDecodeError {
  return new FrameDecodeError(`Cannot decode record batch: ${detail}`);
}

/** Reads a varint length-prefixed byte field; -1 means null. */
function readBytesField(c: ReadCursor, what: string): Uint8Array | null {
  const len = readVarint(c);
  if (len === -1) return null;
  if (len < -1 || len > c.end - c.pos) {
    throw malformed(`${what} length "${len}" exceeds the ${c.end - c.pos} bytes left`);
  }
  const out = c.bytes.subarray(c.pos, c.pos + len);
  c.pos += len;
  return out;
}

function readHeaders(c: ReadCursor): RecordHeader[] {
  const count = readVarint(c);
  if (count < 0 || count * HEADER_BYTES_MIN > c.end - c.pos) {
    throw malformed(`header count "${count}" does not fit the ${c.end - c.pos} bytes left`);
  }
  const headers: RecordHeader[] = [];
  for (let i = 0; i < count; i++) {
    const key = readBytesField(c, "header key");
    // Header keys are non-nullable strings (Java: "Invalid negative header key size").
    if (key === null) throw malformed("header key is null");
    headers.push({ key: utf8Decoder.decode(key), value: readBytesField(c, "header value") });
  }
  return headers;
}

/** Decodes one record at `c.pos`, checking it consumes exactly its declared length. */
function readRecord(c: ReadCursor, h: BatchHeader, isLogAppendTime: boolean): DecodedRecord {
  const bodyBytes = readVarint(c);
  if (bodyBytes < RECORD_BYTES_MIN - 1 || bodyBytes > c.end - c.pos) {
    throw malformed(`record length "${bodyBytes}" does not fit the ${c.end - c.pos} bytes left`);
  }
  const rc: ReadCursor = { bytes: c.bytes, pos: c.pos, end: c.pos + bodyBytes };
  rc.pos++; // record attributes: unused
  const timestampDelta = readVarlong(rc);
  const offsetDelta = readVarint(rc);
  const key = readBytesField(rc, "key");
  const value = readBytesField(rc, "value");
  const headers = readHeaders(rc);
  if (rc.pos !== rc.end) throw malformed(`record has ${rc.end - rc.pos} trailing bytes`);
  c.pos = rc.end;
  const offset = h.baseOffset + offsetDelta;
  const timestampMs = isLogAppendTime ? h.maxTimestamp : h.baseTimestamp + timestampDelta;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(timestampMs)) {
    throw malformed("record offset or timestamp is outside the safe integer range");
  }
  return { offset, timestampMs, key, value, headers };
}

/**
 * Decodes the batch at the start of `bytes` (trailing bytes after it are ignored), verifying
 * its CRC and decompressing its records.
 * @throws {FrameDecodeError} when the bytes are not one well-formed v2 batch.
 */
export function decodeBatch(bytes: Uint8Array, opts: DecodeBatchOptions = {}): DecodedBatch {
  const h = readBatchHeader(bytes, 0);
  const size = batchSize(h);
  if (size > bytes.length) throw malformed(`batch of ${size} bytes truncated at ${bytes.length}`);
  const batch = bytes.subarray(0, size);
  if (opts.verifyCrc !== false && !verifyBatchCrc(batch)) {
    throw malformed(`CRC mismatch (stored "${h.crc}")`);
  }
  const codecId = h.attributes & ATTR.compressionMask;
  const compression = compressionName(codecId);
  if (compression === undefined) throw malformed(`unknown compression codec "${codecId}"`);
  let block = batch.subarray(BATCH_HEADER_BYTES);
  if (compression !== "none") {
    block = decompress(compression, block, opts.decompressedBytesMax ?? DECOMPRESSED_BYTES_MAX);
  }
  if (h.recordCount * RECORD_BYTES_MIN > block.length) {
    throw malformed(`record count "${h.recordCount}" does not fit ${block.length} bytes`);
  }
  const isLogAppendTime = (h.attributes & ATTR.logAppendTime) !== 0;
  const c: ReadCursor = { bytes: block, pos: 0, end: block.length };
  const records: DecodedRecord[] = [];
  for (let i = 0; i < h.recordCount; i++) records.push(readRecord(c, h, isLogAppendTime));
  // Java's DefaultRecordBatch rejects a batch whose records leave bytes unread.
  if (c.pos !== c.end) throw malformed(`${c.end - c.pos} bytes after the last record`);
  return {
    header: h,
    compression,
    isTransactional: (h.attributes & ATTR.transactional) !== 0,
    isControl: (h.attributes & ATTR.control) !== 0,
    timestampType: isLogAppendTime ? "LogAppendTime" : "CreateTime",
    records,
  };
}

/** One batch framed by `iterateBatches`: its header, its bytes and where it starts. */
export interface BatchFrame {
  header: BatchHeader;
  /** The whole batch (a view into the input, not a copy). */
  bytes: Uint8Array;
  /** Position of the batch in the input. */
  position: number;
}

/**
 * Frames a concatenation of batches (a log segment, a Fetch response's records), yielding each
 * whole batch without decoding its records or checking its CRC. Stops cleanly at a partial
 * trailing batch, as a Fetch response may end with one; the generator's return value is the
 * number of bytes covered by whole batches.
 * @throws {FrameDecodeError} when a header is malformed (bad magic, impossible length).
 */
export function* iterateBatches(bytes: Uint8Array): Generator<BatchFrame, number, undefined> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (bytes.length - pos >= BATCH_LOG_OVERHEAD_BYTES) {
    const batchLength = dv.getInt32(pos + BATCH_FIELD.batchLength);
    if (batchLength < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD_BYTES) {
      throw malformed(`batch length "${batchLength}" at position ${pos} too small`);
    }
    const size = batchLength + BATCH_LOG_OVERHEAD_BYTES;
    if (size > bytes.length - pos) break; // partial trailing batch
    const header = readBatchHeader(bytes, pos);
    yield { header, bytes: bytes.subarray(pos, pos + size), position: pos };
    pos += size;
  }
  return pos;
}
