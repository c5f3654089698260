/**
 * A growable output buffer with a hard ceiling, private to the decompressors of this folder.
 * Decompression must never allocate beyond the configured maximum however the input claims
 * otherwise (zip bombs): `reserve` refuses with `FrameDecodeError` before growing past it.
 */
import { FrameDecodeError } from "../util/mod.ts";

/** Smallest capacity allocated on the first growth. */
const INITIAL_BYTES = 4096;

/** Output bytes `buf[0, length)`, never more than `bytesMax`. */
export class BoundedOutput {
  buf: Uint8Array;
  length = 0;
  readonly bytesMax: number;
  readonly #what: string;

  constructor(what: string, bytesMax: number, initialBytes = INITIAL_BYTES) {
    this.#what = what;
    this.bytesMax = bytesMax;
    this.buf = new Uint8Array(Math.max(0, Math.min(bytesMax, initialBytes)));
  }

  /**
   * Makes room for `n` more bytes.
   * @throws {FrameDecodeError} when the output would exceed `bytesMax`.
   */
  reserve(n: number): void {
    const needed = this.length + n;
    if (needed <= this.buf.length) return;
    if (needed > this.bytesMax) {
      throw new FrameDecodeError(
        `Cannot decompress ${this.#what}: output exceeds the limit of ${this.bytesMax} bytes`,
      );
    }
    const grown = new Uint8Array(
      Math.min(this.bytesMax, Math.max(needed, this.buf.length * 2, INITIAL_BYTES)),
    );
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  /** The bytes written so far (a view). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
