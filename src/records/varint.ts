/**
 * Variable-length integers of Kafka RecordBatch v2 records: protobuf-style base-128 varints
 * with zigzag encoding for signed values (protocol guide, "Record"; KIP-98). `varint` fields
 * are 32-bit (at most 5 bytes), `varlong` fields 64-bit (at most 10 bytes).
 *
 * Invariants: readers never read past `cursor.end` and throw only `FrameDecodeError`;
 * varlongs are carried as JS numbers and values outside the safe integer range are refused
 * (no timestamp delta or length in a real batch comes near 2^53). Writers assume the caller
 * sized the buffer with `varintSize`/`varlongSize`.
 */
import { FrameDecodeError } from "../util/mod.ts";

/** A read position over `bytes[pos, end)`; readers advance `pos`. */
export interface ReadCursor {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;
}

/** Longest encoding of a 32-bit varint. */
const VARINT_BYTES_MAX = 5;
/** Longest encoding of a 64-bit varlong. */
const VARLONG_BYTES_MAX = 10;

/** Zigzag-encodes a signed 32-bit integer into an unsigned one (0,-1,1,-2 -> 0,1,2,3). */
export function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** Inverse of `zigzag32`. */
export function unzigzag32(u: number): number {
  return (u >>> 1) ^ -(u & 1);
}

/** Bytes needed for `n` (a signed 32-bit integer) as a zigzag varint. */
export function varintSize(n: number): number {
  const u = zigzag32(n);
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x20_0000) return 3;
  if (u < 0x1000_0000) return 4;
  return 5;
}

/** Zigzag of a safe integer as a BigInt; only for the rare varlongs beyond 31 bits. */
function zigzag64(n: number): bigint {
  const b = BigInt(n);
  return b >= 0n ? b << 1n : (-b << 1n) - 1n;
}

/** Bytes needed for `n` (a safe integer) as a zigzag varlong. */
export function varlongSize(n: number): number {
  if (n >= -0x4000_0000 && n < 0x4000_0000) return varintSize(n);
  let u = zigzag64(n);
  let size = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    size++;
  }
  return size;
}

/** Writes `n` (signed 32-bit) as a zigzag varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let u = zigzag32(n);
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Writes `n` (a safe integer) as a zigzag varlong at `pos`; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, n: number): number {
  if (n >= -0x4000_0000 && n < 0x4000_0000) return writeVarint(buf, pos, n);
  // Beyond 31 bits bitwise operators on numbers would truncate and 2|n| may not be exact in a
  // double: go through BigInt (rare: timestamp deltas are small).
  let u = zigzag64(n);
  while (u >= 0x80n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  return pos;
}

function truncated(what: string): FrameDecodeError {
  return new FrameDecodeError(`Cannot decode ${what}: input ends inside it`);
}

/**
 * Reads a zigzag varint (signed 32-bit).
 * @throws {FrameDecodeError} when the input ends early or the varint is longer than 5 bytes.
 */
export function readVarint(c: ReadCursor): number {
  let u = 0;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    if (c.pos >= c.end) throw truncated("varint");
    const b = c.bytes[c.pos++] as number;
    u |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      // The fifth byte may carry only the top 4 bits of a 32-bit value.
      if (i === VARINT_BYTES_MAX - 1 && b > 0x0f) {
        throw new FrameDecodeError("Cannot decode varint: value exceeds 32 bits");
      }
      return unzigzag32(u >>> 0);
    }
  }
  throw new FrameDecodeError("Cannot decode varint: longer than 5 bytes");
}

/**
 * Reads a zigzag varlong (signed 64-bit) as a number.
 * @throws {FrameDecodeError} when the input ends early, the varlong is longer than 10 bytes,
 *   or its value lies outside the safe integer range.
 */
export function readVarlong(c: ReadCursor): number {
  // The zigzagged value u is split into lo (bits 0-27, exact as an int) and hi (bits 28+,
  // accumulated in floating point). Neither u nor u + 1 is formed: above 2^53 they may not be
  // exact. The result is (u even) u / 2, (u odd) -(u + 1) / 2, i.e. +-floor(u / 2) (- 1).
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < VARLONG_BYTES_MAX; i++) {
    if (c.pos >= c.end) throw truncated("varlong");
    const b = c.bytes[c.pos++] as number;
    const bits = b & 0x7f;
    if (i < 4) {
      lo |= bits << (7 * i);
    } else {
      hi += bits * 2 ** (7 * i - 28);
      // u >= 2^54 means |result| >= 2^53: not a safe integer.
      if (hi >= 2 ** 26) {
        throw new FrameDecodeError("Cannot decode varlong: value outside the safe integer range");
      }
    }
    if (b < 0x80) {
      const half = hi * 2 ** 27 + (lo >>> 1); // floor(u / 2), exact: < 2^53
      const value = (lo & 1) === 0 ? half : -half - 1;
      if (!Number.isSafeInteger(value)) {
        throw new FrameDecodeError("Cannot decode varlong: value outside the safe integer range");
      }
      return value;
    }
  }
  throw new FrameDecodeError("Cannot decode varlong: longer than 10 bytes");
}
