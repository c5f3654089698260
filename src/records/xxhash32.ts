/**
 * xxHash32 (the XXH32 specification, "xxhash_spec.md" of the xxHash project), used by the LZ4
 * frame format for its header checksum byte and optional block and content checksums.
 * Pure, allocation-free, 32-bit arithmetic through Math.imul and `>>> 0`.
 */

const P1 = 0x9e3779b1; // 2654435761
const P2 = 0x85ebca77; // 2246822519
const P3 = 0xc2b2ae3d; // 3266489917
const P4 = 0x27d4eb2f; // 668265263
const P5 = 0x165667b1; // 374761393
const STRIPE_BYTES = 16;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

function readU32le(b: Uint8Array, i: number): number {
  return ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) |
    ((b[i + 3] as number) << 24)) >>> 0;
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, P2)) >>> 0, 13), P1) >>> 0;
}

/** XXH32 of `bytes[start, end)` with the given seed (LZ4 frames use seed 0). */
export function xxhash32(
  bytes: Uint8Array,
  seed = 0,
  start = 0,
  end = bytes.length,
): number {
  let i = start;
  const len = end - start;
  let acc: number;
  if (len >= STRIPE_BYTES) {
    let v1 = (seed + P1 + P2) >>> 0;
    let v2 = (seed + P2) >>> 0;
    let v3 = seed >>> 0;
    let v4 = (seed - P1) >>> 0;
    const limit = end - STRIPE_BYTES;
    while (i <= limit) {
      v1 = round(v1, readU32le(bytes, i));
      v2 = round(v2, readU32le(bytes, i + 4));
      v3 = round(v3, readU32le(bytes, i + 8));
      v4 = round(v4, readU32le(bytes, i + 12));
      i += STRIPE_BYTES;
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) >>> 0;
  } else {
    acc = (seed + P5) >>> 0;
  }
  // The spec adds the input length modulo 2^32.
  acc = (acc + len) >>> 0;
  while (i + 4 <= end) {
    acc = Math.imul(rotl((acc + Math.imul(readU32le(bytes, i), P3)) >>> 0, 17), P4) >>> 0;
    i += 4;
  }
  while (i < end) {
    acc = Math.imul(rotl((acc + Math.imul(bytes[i] as number, P5)) >>> 0, 11), P1) >>> 0;
    i++;
  }
  acc ^= acc >>> 15;
  acc = Math.imul(acc, P2) >>> 0;
  acc ^= acc >>> 13;
  acc = Math.imul(acc, P3) >>> 0;
  acc ^= acc >>> 16;
  return acc >>> 0;
}
