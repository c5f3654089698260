/**
 * Snappy for Kafka record batches (compression id 2). Two encodings exist on the wire: the
 * Java client writes through xerial's SnappyOutputStream ("xerial framing": the magic
 * "\x82SNAPPY\x00", two int32 versions, then chunks of int32 big-endian length + raw snappy
 * block), and so does kafka-python; librdkafka and KafkaJS write one raw snappy block.
 * Decompression accepts both. Compression writes one raw block: every client reads it (xerial's
 * SnappyInputStream falls back to a raw block when the magic is absent, librdkafka and
 * kafka-python check for the magic the same way). `snappyCompressXerial` exists for tests and
 * for peers that insist on the framing.
 *
 * The raw block format follows Google's snappy "format_description.txt": a varint preamble
 * with the uncompressed length, then literal and copy elements. Written from that
 * specification because the pure-JS npm decoder (snappyjs) neither bounds nor checks its
 * output (a short stream silently yields zero-filled bytes).
 *
 * Invariants: decompression is bounded by `outputBytesMax` and every length and offset is
 * checked before use; malformed input throws `FrameDecodeError` only.
 */
import { FrameDecodeError } from "../util/mod.ts";
import { copyBytes, copyMatch } from "./_copy_bytes.ts";

/** xerial SnappyOutputStream header: magic, version 1, minimum compatible version 1. */
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
/** xerial's default chunk (block) size. */
const XERIAL_CHUNK_BYTES = 32 * 1024;
/** Snappy compresses in independent fragments of at most 64 KiB (kBlockSize). */
const FRAGMENT_BYTES = 64 * 1024;

const TAG_LITERAL = 0;
const TAG_COPY1 = 1;
const TAG_COPY2 = 2;
const LITERAL_INLINE_MAX = 60;
const MIN_MATCH = 4;
/** Inputs shorter than this are emitted as one literal (no room for a match plus slack). */
const INPUT_MARGIN_BYTES = 15;
const HASH_LOG = 14;
const HASH_SHIFT = 32 - HASH_LOG;
const HASH_MULTIPLIER = 0x1e35a7bd; // the multiplier of snappy's reference hash
const hashTable = new Int32Array(1 << HASH_LOG);
/**
 * Most output one input byte can yield: a 3-byte copy-2 element writes 64 bytes (21.3x).
 * A preamble promising more than this of the bytes that follow it is a lie, refused before
 * allocating.
 */
const SNAPPY_EXPANSION_MAX = 22;

function fail(detail: string): FrameDecodeError {
  return new FrameDecodeError(`Cannot decompress snappy records: ${detail}`);
}

function readU32le(b: Uint8Array, i: number): number {
  return ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) |
    ((b[i + 3] as number) << 24)) >>> 0;
}

/** Worst-case size of a raw snappy block for `n` input bytes (MaxCompressedLength). */
export function snappyBlockBound(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function writeLiteral(src: Uint8Array, start: number, end: number, dst: Uint8Array, op: number) {
  const n = end - start - 1;
  if (n < LITERAL_INLINE_MAX) {
    dst[op++] = (n << 2) | TAG_LITERAL;
  } else {
    // Tags 60..63 say the length-1 follows in 1..4 little-endian bytes.
    const bytes = n < 0x100 ? 1 : n < 0x1_0000 ? 2 : n < 0x100_0000 ? 3 : 4;
    dst[op++] = ((LITERAL_INLINE_MAX - 1 + bytes) << 2) | TAG_LITERAL;
    for (let i = 0; i < bytes; i++) dst[op++] = (n >>> (8 * i)) & 0xff;
  }
  dst.set(src.subarray(start, end), op);
  return op + end - start;
}

function writeCopy(dst: Uint8Array, op: number, offset: number, len: number): number {
  // Copy-2 elements carry at most 64 bytes; leave at least 4 for the last element.
  while (len >= 68) {
    dst[op++] = ((64 - 1) << 2) | TAG_COPY2;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    dst[op++] = ((60 - 1) << 2) | TAG_COPY2;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    dst[op++] = ((offset >>> 8) << 5) | ((len - 4) << 2) | TAG_COPY1;
    dst[op++] = offset & 0xff;
  } else {
    dst[op++] = ((len - 1) << 2) | TAG_COPY2;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
  }
  return op;
}

/** Compresses one fragment `src[start, end)` (at most 64 KiB) with greedy hash matching. */
function compressFragment(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  op: number,
) {
  let anchor = start;
  if (end - start >= INPUT_MARGIN_BYTES) {
    hashTable.fill(0);
    const limit = end - INPUT_MARGIN_BYTES;
    let ip = start;
    let misses = 0;
    while (ip <= limit) {
      const seq = readU32le(src, ip);
      const h = Math.imul(seq, HASH_MULTIPLIER) >>> HASH_SHIFT;
      const ref = (hashTable[h] as number) - 1;
      hashTable[h] = ip + 1;
      if (ref >= start && readU32le(src, ref) === seq) {
        let len = MIN_MATCH;
        while (ip + len < end && src[ref + len] === src[ip + len]) len++;
        if (ip > anchor) op = writeLiteral(src, anchor, ip, dst, op);
        op = writeCopy(dst, op, ip - ref, len);
        ip += len;
        anchor = ip;
        misses = 0;
      } else {
        ip += 1 + (misses++ >> 5);
      }
    }
  }
  if (end > anchor) op = writeLiteral(src, anchor, end, dst, op);
  return op;
}

/** Compresses `data` as one raw snappy block (varint length preamble, then elements). */
export function snappyCompress(data: Uint8Array): Uint8Array {
  const dst = new Uint8Array(snappyBlockBound(data.length));
  let op = 0;
  let n = data.length;
  while (n >= 0x80) {
    dst[op++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  dst[op++] = n;
  for (let start = 0; start < data.length; start += FRAGMENT_BYTES) {
    op = compressFragment(data, start, Math.min(data.length, start + FRAGMENT_BYTES), dst, op);
  }
  return dst.slice(0, op);
}

/** Compresses `data` with xerial framing (what the Java client and kafka-python send). */
export function snappyCompressXerial(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = XERIAL_HEADER_BYTES;
  for (let start = 0; start < data.length || chunks.length === 0; start += XERIAL_CHUNK_BYTES) {
    const c = snappyCompress(data.subarray(start, start + XERIAL_CHUNK_BYTES));
    chunks.push(c);
    total += 4 + c.length;
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(XERIAL_MAGIC, 0);
  dv.setInt32(8, XERIAL_VERSION);
  dv.setInt32(12, XERIAL_VERSION);
  let pos = XERIAL_HEADER_BYTES;
  for (const c of chunks) {
    dv.setInt32(pos, c.length);
    out.set(c, pos + 4);
    pos += 4 + c.length;
  }
  return out;
}

/** Reads the varint preamble (uncompressed length, at most 32 bits). */
function readPreamble(
  src: Uint8Array,
  start: number,
  end: number,
): { length: number; pos: number } {
  let length = 0;
  for (let i = 0, pos = start; i < 5; i++) {
    if (pos >= end) throw fail("block ends inside its length preamble");
    const b = src[pos++] as number;
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (length > 0xffff_ffff) throw fail("length preamble exceeds 32 bits");
      return { length, pos };
    }
  }
  throw fail("length preamble longer than 5 bytes");
}

/**
 * Decompresses the raw snappy block `src[start, end)` into `out` at `outPos`, which must have
 * exactly the preamble's length available; returns the position after the output.
 */
function decompressElements(
  src: Uint8Array,
  pos: number,
  end: number,
  out: Uint8Array,
  outStart: number,
  outEnd: number,
): void {
  let op = outStart;
  while (pos < end) {
    const tag = src[pos++] as number;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case TAG_LITERAL: {
        len = (tag >>> 2) + 1;
        if (len > LITERAL_INLINE_MAX) {
          const bytes = len - LITERAL_INLINE_MAX;
          if (end - pos < bytes) throw fail("block ends inside a literal length");
          len = 0;
          for (let i = 0; i < bytes; i++) len += (src[pos + i] as number) * 2 ** (8 * i);
          len += 1;
          pos += bytes;
        }
        if (len > end - pos || len > outEnd - op) throw fail("literal overruns input or output");
        copyBytes(src, pos, out, op, len);
        pos += len;
        op += len;
        continue;
      }
      case TAG_COPY1:
        if (end - pos < 1) throw fail("block ends inside a copy");
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | (src[pos++] as number);
        break;
      case TAG_COPY2:
        if (end - pos < 2) throw fail("block ends inside a copy");
        len = (tag >>> 2) + 1;
        offset = (src[pos] as number) | ((src[pos + 1] as number) << 8);
        pos += 2;
        break;
      default: // TAG_COPY4
        if (end - pos < 4) throw fail("block ends inside a copy");
        len = (tag >>> 2) + 1;
        offset = readU32le(src, pos);
        pos += 4;
    }
    if (offset === 0 || offset > op - outStart) throw fail(`copy offset ${offset} out of range`);
    if (len > outEnd - op) throw fail("copy overruns the declared length");
    copyMatch(out, op, offset, len);
    op += len;
  }
  if (op !== outEnd) {
    throw fail(`decoded ${op - outStart} bytes, preamble said ${outEnd - outStart}`);
  }
}

function checkExpansion(length: number, inputBytes: number): void {
  if (length > SNAPPY_EXPANSION_MAX * inputBytes) {
    throw fail(`length ${length} cannot come from ${inputBytes} compressed bytes`);
  }
}

function isXerial(src: Uint8Array): boolean {
  if (src.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (src[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/**
 * Decompresses snappy data, xerial-framed or one raw block, refusing output beyond
 * `outputBytesMax`.
 * @throws {FrameDecodeError} on malformed input or too much output.
 */
export function snappyDecompress(src: Uint8Array, outputBytesMax: number): Uint8Array {
  if (!isXerial(src)) {
    const { length, pos } = readPreamble(src, 0, src.length);
    if (length > outputBytesMax) {
      throw fail(`length ${length} exceeds the limit of ${outputBytesMax} bytes`);
    }
    checkExpansion(length, src.length - pos);
    const out = new Uint8Array(length);
    decompressElements(src, pos, src.length, out, 0, length);
    return out;
  }
  // Pass one sizes the chunks from their preambles, so the output is allocated once and
  // bounded before any allocation.
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const chunks: Array<{ start: number; end: number; length: number; pos: number }> = [];
  let total = 0;
  for (let p = XERIAL_HEADER_BYTES; p < src.length;) {
    if (src.length - p < 4) throw fail("xerial stream ends inside a chunk length");
    const size = dv.getInt32(p);
    p += 4;
    if (size < 0 || size > src.length - p) throw fail(`xerial chunk of ${size} bytes overruns`);
    const pre = readPreamble(src, p, p + size);
    checkExpansion(pre.length, p + size - pre.pos);
    total += pre.length;
    if (total > outputBytesMax) {
      throw fail(`output exceeds the limit of ${outputBytesMax} bytes`);
    }
    chunks.push({ start: p, end: p + size, length: pre.length, pos: pre.pos });
    p += size;
  }
  const out = new Uint8Array(total);
  let op = 0;
  for (const c of chunks) {
    decompressElements(src, c.pos, c.end, out, op, op + c.length);
    op += c.length;
  }
  return out;
}
