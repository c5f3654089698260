/**
 * LZ4 for Kafka record batches (compression id 3): the LZ4 *frame* format (lz4_Frame_format.md)
 * wrapping LZ4 blocks (lz4_Block_format.md). Kafka 0.10+ writes standard frames; KIP-57 fixed
 * the header checksum, which before it covered the magic too ("broken" frames of Kafka 0.8-0.9
 * are refused here, as magic v2 batches never carry them).
 *
 * Written from the public specifications because the pure-JS npm codecs either lack output
 * bounds and checksum verification or are unmaintained.
 *
 * Invariants:
 * - Decompression is bounded by `outputBytesMax` (BoundedOutput) and by the input: every
 *   length, offset and checksum is checked before it is used; malformed input throws
 *   `FrameDecodeError` only. Linked (dependent) blocks, block checksums, content size and
 *   content checksum are accepted, as other clients (python-lz4) may write them.
 * - Compression writes one frame of independent 64 KiB blocks without optional checksums
 *   (the Kafka batch CRC already covers the bytes), as Kafka's KafkaLZ4BlockOutputStream does.
 */
import { FrameDecodeError } from "../util/mod.ts";
import { BoundedOutput } from "./_bounded_output.ts";
import { copyBytes, copyMatch } from "./_copy_bytes.ts";
import { xxhash32 } from "./xxhash32.ts";

const FRAME_MAGIC = 0x184d2204;
const FLG_VERSION = 0x40; // bits 7-6 = 01
const FLG_VERSION_MASK = 0xc0;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
/** BD byte: block maximum size id in bits 6-4; 4 = 64 KiB ... 7 = 4 MiB. */
const BD_BLOCK_MAX_SHIFT = 4;
const BD_RESERVED_MASK = 0x8f;
const BLOCK_MAX_ID_64KIB = 4;
const BLOCK_MAX_BYTES_BY_ID: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};
/** High bit of a block size: the block is stored uncompressed. */
const BLOCK_UNCOMPRESSED = 0x8000_0000;
const WRITE_BLOCK_BYTES = 64 * 1024;
/** Upper bound of LZ4's expansion ratio: a 255 length byte adds at most 255 output bytes. */
const LZ4_EXPANSION_MAX = 256;

/** Block format constants (lz4_Block_format.md, "End of block conditions"). */
const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 0xffff;
const RUN_MASK = 15;
const HASH_LOG = 14;
const HASH_SHIFT = 32 - HASH_LOG;
const HASH_MULTIPLIER = 0x9e3779b1; // Knuth's multiplicative hash, 2654435761
/** Match-finder table: position + 1 of the last 4-byte sequence with a hash; 0 = empty. */
const hashTable = new Int32Array(1 << HASH_LOG);

function fail(detail: string): FrameDecodeError {
  return new FrameDecodeError(`Cannot decompress lz4 records: ${detail}`);
}

function readU32le(b: Uint8Array, i: number): number {
  return ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) |
    ((b[i + 3] as number) << 24)) >>> 0;
}

function writeU32le(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

/** Worst-case compressed size of an `n`-byte block (LZ4_COMPRESSBOUND). */
export function lz4BlockBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function writeLength(dst: Uint8Array, pos: number, extra: number): number {
  while (extra >= 255) {
    dst[pos++] = 255;
    extra -= 255;
  }
  dst[pos++] = extra;
  return pos;
}

/** Emits one sequence: literals `src[anchor, ip)` then (if `matchLen` > 0) a match. */
function writeSequence(
  src: Uint8Array,
  anchor: number,
  ip: number,
  dst: Uint8Array,
  op: number,
  offset: number,
  matchLen: number,
): number {
  const litLen = ip - anchor;
  const tokenPos = op++;
  let token = 0;
  if (litLen >= RUN_MASK) {
    token = RUN_MASK << 4;
    op = writeLength(dst, op, litLen - RUN_MASK);
  } else {
    token = litLen << 4;
  }
  dst.set(src.subarray(anchor, ip), op);
  op += litLen;
  if (matchLen > 0) {
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    const ml = matchLen - MIN_MATCH;
    if (ml >= RUN_MASK) {
      token |= RUN_MASK;
      op = writeLength(dst, op, ml - RUN_MASK);
    } else {
      token |= ml;
    }
  }
  dst[tokenPos] = token;
  return op;
}

/**
 * Compresses `src[start, end)` as one LZ4 block into `dst` at `op` (room for
 * `lz4BlockBound(end - start)` bytes needed); returns the position after it. Greedy single-probe
 * hash matching with skip acceleration over incompressible runs.
 */
export function lz4CompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  op: number,
): number {
  let anchor = start;
  if (end - start >= MF_LIMIT + 1) {
    hashTable.fill(0);
    const matchStartLimit = end - MF_LIMIT;
    const matchEndLimit = end - LAST_LITERALS;
    let ip = start;
    let searches = 0;
    while (ip <= matchStartLimit) {
      const seq = readU32le(src, ip);
      const h = Math.imul(seq, HASH_MULTIPLIER) >>> HASH_SHIFT;
      const ref = (hashTable[h] as number) - 1;
      hashTable[h] = ip + 1;
      if (ref >= start && ip - ref <= MAX_OFFSET && readU32le(src, ref) === seq) {
        let len = MIN_MATCH;
        while (ip + len < matchEndLimit && src[ref + len] === src[ip + len]) len++;
        op = writeSequence(src, anchor, ip, dst, op, ip - ref, len);
        ip += len;
        anchor = ip;
        searches = 0;
      } else {
        // Skip faster through data that does not compress (the reference's "acceleration").
        ip += 1 + (searches++ >> 6);
      }
    }
  }
  return writeSequence(src, anchor, end, dst, op, 0, 0);
}

/** Reads a length continuation (bytes of 255 then a final byte) at `c.pos`. */
function readLength(src: Uint8Array, c: { pos: number }, end: number): number {
  let n = 0;
  for (;;) {
    if (c.pos >= end) throw fail("block ends inside a length");
    const b = src[c.pos++] as number;
    n += b;
    if (b !== 255) return n;
  }
}

/**
 * Decompresses the LZ4 block `src[start, end)` onto `out`. Matches may reach back to
 * `windowStart` (the block's own start for independent blocks, earlier output for linked ones).
 * @throws {FrameDecodeError} on malformed input or output beyond `out.bytesMax`.
 */
export function lz4DecompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: BoundedOutput,
  windowStart: number,
): void {
  const c = { pos: start };
  for (;;) {
    if (c.pos >= end) throw fail("block ends without its last literals");
    const token = src[c.pos++] as number;
    let litLen = token >>> 4;
    if (litLen === RUN_MASK) litLen += readLength(src, c, end);
    if (litLen > end - c.pos) throw fail(`literal run of ${litLen} bytes overruns the block`);
    out.reserve(litLen);
    copyBytes(src, c.pos, out.buf, out.length, litLen);
    out.length += litLen;
    c.pos += litLen;
    if (c.pos === end) return; // the last sequence has literals only
    if (end - c.pos < 2) throw fail("block ends inside a match offset");
    const offset = (src[c.pos] as number) | ((src[c.pos + 1] as number) << 8);
    c.pos += 2;
    if (offset === 0 || offset > out.length - windowStart) {
      throw fail(`match offset ${offset} points before the window`);
    }
    let matchLen = token & RUN_MASK;
    if (matchLen === RUN_MASK) matchLen += readLength(src, c, end);
    matchLen += MIN_MATCH;
    out.reserve(matchLen);
    copyMatch(out.buf, out.length, offset, matchLen);
    out.length += matchLen;
  }
}

/** Compresses `data` as one LZ4 frame (Kafka's compression id 3). */
export function lz4Compress(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / WRITE_BLOCK_BYTES));
  // magic 4 + FLG + BD + HC, per block 4-byte size + bound, end mark 4.
  const dst = new Uint8Array(7 + blocks * (4 + lz4BlockBound(WRITE_BLOCK_BYTES)) + 4);
  writeU32le(dst, 0, FRAME_MAGIC);
  dst[4] = FLG_VERSION | FLG_BLOCK_INDEPENDENT;
  dst[5] = BLOCK_MAX_ID_64KIB << BD_BLOCK_MAX_SHIFT;
  // KIP-57: the header checksum covers the descriptor only (FLG..), not the magic.
  dst[6] = (xxhash32(dst, 0, 4, 6) >>> 8) & 0xff;
  let op = 7;
  for (let start = 0; start < data.length; start += WRITE_BLOCK_BYTES) {
    const end = Math.min(data.length, start + WRITE_BLOCK_BYTES);
    const blockEnd = lz4CompressBlock(data, start, end, dst, op + 4);
    const size = blockEnd - op - 4;
    if (size < end - start) {
      writeU32le(dst, op, size);
      op = blockEnd;
    } else {
      // Incompressible: store the block raw, flagged by the size's high bit.
      writeU32le(dst, op, ((end - start) | BLOCK_UNCOMPRESSED) >>> 0);
      dst.set(data.subarray(start, end), op + 4);
      op += 4 + end - start;
    }
  }
  writeU32le(dst, op, 0); // end mark
  return dst.slice(0, op + 4);
}

interface FrameDescriptor {
  flg: number;
  blockMaxBytes: number;
  contentSize: number | undefined;
  /** Position of the first block. */
  pos: number;
}

function readFrameDescriptor(src: Uint8Array): FrameDescriptor {
  if (src.length < 7) throw fail(`${src.length} bytes is shorter than a frame header`);
  const magic = readU32le(src, 0);
  if (magic !== FRAME_MAGIC) throw fail(`bad frame magic "0x${magic.toString(16)}"`);
  const flg = src[4] as number;
  const bd = src[5] as number;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION) throw fail(`unsupported frame version`);
  if ((flg & FLG_RESERVED) !== 0 || (bd & BD_RESERVED_MASK) !== 0) {
    throw fail("reserved descriptor bits are set");
  }
  if ((flg & FLG_DICT_ID) !== 0) throw fail("dictionaries are not supported");
  const blockMaxBytes = BLOCK_MAX_BYTES_BY_ID[bd >>> BD_BLOCK_MAX_SHIFT];
  if (blockMaxBytes === undefined) throw fail(`invalid block maximum size id`);
  let pos = 6;
  let contentSize: number | undefined;
  if ((flg & FLG_CONTENT_SIZE) !== 0) {
    if (src.length < pos + 9) throw fail("frame header truncated");
    const lo = readU32le(src, pos);
    const hi = readU32le(src, pos + 4);
    // Any size beyond 2^32 is far above every allowed output maximum anyway.
    contentSize = hi === 0 ? lo : Number.MAX_SAFE_INTEGER;
    pos += 8;
  }
  const hc = (xxhash32(src, 0, 4, pos) >>> 8) & 0xff;
  if (src[pos] !== hc) throw fail("frame header checksum mismatch");
  return { flg, blockMaxBytes, contentSize, pos: pos + 1 };
}

/**
 * Decompresses one LZ4 frame, refusing output beyond `outputBytesMax`.
 * @throws {FrameDecodeError} on malformed input, a checksum mismatch or too much output.
 */
export function lz4Decompress(src: Uint8Array, outputBytesMax: number): Uint8Array {
  const d = readFrameDescriptor(src);
  if (d.contentSize !== undefined && d.contentSize > outputBytesMax) {
    throw fail(`content size ${d.contentSize} exceeds the limit of ${outputBytesMax} bytes`);
  }
  // A declared content size is trusted only as far as the input could expand (LZ4 cannot
  // exceed ~255:1), so a small frame claiming a huge size cannot force a huge allocation.
  const out = new BoundedOutput(
    "lz4 records",
    outputBytesMax,
    Math.min(d.contentSize ?? 4 * src.length, LZ4_EXPANSION_MAX * src.length + 64),
  );
  const hasBlockChecksum = (d.flg & FLG_BLOCK_CHECKSUM) !== 0;
  const isIndependent = (d.flg & FLG_BLOCK_INDEPENDENT) !== 0;
  let pos = d.pos;
  for (;;) {
    if (src.length - pos < 4) throw fail("frame ends before its end mark");
    const word = readU32le(src, pos);
    pos += 4;
    if (word === 0) break;
    const isRaw = (word & BLOCK_UNCOMPRESSED) !== 0;
    const size = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
    if (size > d.blockMaxBytes || size > src.length - pos) {
      throw fail(`block of ${size} bytes overruns the frame or the block maximum`);
    }
    if (hasBlockChecksum) {
      if (src.length - pos - size < 4) throw fail("frame ends inside a block checksum");
      if (xxhash32(src, 0, pos, pos + size) !== readU32le(src, pos + size)) {
        throw fail("block checksum mismatch");
      }
    }
    const blockStart = out.length;
    if (isRaw) {
      out.reserve(size);
      out.buf.set(src.subarray(pos, pos + size), out.length);
      out.length += size;
    } else {
      lz4DecompressBlock(src, pos, pos + size, out, isIndependent ? blockStart : 0);
    }
    if (out.length - blockStart > d.blockMaxBytes) throw fail("block exceeds the block maximum");
    pos += size + (hasBlockChecksum ? 4 : 0);
  }
  const result = out.result();
  if ((d.flg & FLG_CONTENT_CHECKSUM) !== 0) {
    if (src.length - pos < 4) throw fail("frame ends inside the content checksum");
    if (xxhash32(result) !== readU32le(src, pos)) throw fail("content checksum mismatch");
  }
  if (d.contentSize !== undefined && d.contentSize !== result.length) {
    throw fail(`content size ${d.contentSize} differs from the ${result.length} bytes decoded`);
  }
  return result;
}
