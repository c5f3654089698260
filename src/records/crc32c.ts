/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka RecordBatch v2
 * (KIP-98). Table-driven with slicing-by-16: sixteen 256-entry tables let the loop consume
 * sixteen bytes per step, read as four aligned 32-bit little-endian words (a Uint32Array view
 * over the input), instead of one byte at a time. Pure and allocation-free on the hot path
 * apart from that one view per call.
 *
 * The word loads assume a little-endian platform (every platform Deno ships for); on a
 * big-endian one the byte-at-a-time loop does all the work, with the same result.
 */

const POLY = 0x82f63b78;
const SLICES = 16;

/** TABLES[k*256 + b]: CRC of byte b followed by k zero bytes. */
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(256 * SLICES);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[b] = c >>> 0;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b] as number;
    for (let s = 1; s < SLICES; s++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[s * 256 + b] = c >>> 0;
    }
  }
  return t;
})();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Extends a running CRC32C over `bytes[start, end)`. Start from `0` for a fresh checksum;
 * the result of one call can be passed as `crc` to continue over more bytes.
 */
export function crc32c(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  if (LITTLE_ENDIAN && end - i >= 64) {
    // Bytes up to a 4-byte boundary of the underlying buffer, one at a time.
    while (((bytes.byteOffset + i) & 3) !== 0) {
      c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
      i++;
    }
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 2);
    const steps = words.length & ~3;
    // Sixteen bytes per step: the running CRC folds into the first word; each byte then
    // looks up the table for its distance from the end of the step.
    for (let w = 0; w < steps; w += 4) {
      const a = ((words[w] as number) ^ c) >>> 0;
      const b = words[w + 1] as number;
      const d = words[w + 2] as number;
      const e = words[w + 3] as number;
      c = (t[15 * 256 + (a & 0xff)] as number) ^ (t[14 * 256 + ((a >>> 8) & 0xff)] as number) ^
        (t[13 * 256 + ((a >>> 16) & 0xff)] as number) ^ (t[12 * 256 + (a >>> 24)] as number) ^
        (t[11 * 256 + (b & 0xff)] as number) ^ (t[10 * 256 + ((b >>> 8) & 0xff)] as number) ^
        (t[9 * 256 + ((b >>> 16) & 0xff)] as number) ^ (t[8 * 256 + (b >>> 24)] as number) ^
        (t[7 * 256 + (d & 0xff)] as number) ^ (t[6 * 256 + ((d >>> 8) & 0xff)] as number) ^
        (t[5 * 256 + ((d >>> 16) & 0xff)] as number) ^ (t[4 * 256 + (d >>> 24)] as number) ^
        (t[3 * 256 + (e & 0xff)] as number) ^ (t[2 * 256 + ((e >>> 8) & 0xff)] as number) ^
        (t[256 + ((e >>> 16) & 0xff)] as number) ^ (t[e >>> 24] as number);
    }
    i += steps * 4;
  }
  while (i < end) {
    c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
    i++;
  }
  return ~c >>> 0;
}
