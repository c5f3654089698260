/**
 * Byte copies for the decompressors of this folder (private). Short copies, the common case
 * in LZ-style streams, run as plain loops: below ~32 bytes the per-call overhead of
 * `set`/`subarray`/`copyWithin` costs more than the copy itself (2.5x faster decompression
 * measured with bench/records_bench.ts). Callers have checked every bound beforehand.
 */

/** Below this many bytes a plain loop beats the call overhead of set/copyWithin. */
const SHORT_COPY_BYTES = 32;

/** Copies `src[from, from + n)` to `dst[to, ...)`. */
export function copyBytes(
  src: Uint8Array,
  from: number,
  dst: Uint8Array,
  to: number,
  n: number,
): void {
  if (n < SHORT_COPY_BYTES) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i] as number;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/**
 * Appends `len` bytes at `to` copied from `offset` bytes back. An overlapping copy
 * (offset < len) repeats the last `offset` bytes, so it must run forward byte by byte.
 */
export function copyMatch(buf: Uint8Array, to: number, offset: number, len: number): void {
  const from = to - offset;
  if (offset < len || len < SHORT_COPY_BYTES) {
    for (let i = 0; i < len; i++) buf[to + i] = buf[from + i] as number;
  } else {
    buf.copyWithin(to, from, from + len);
  }
}
