/**
 * Reads length-prefixed transport frames from a connection, checking each length against
 * the frame limit before allocating from it. Each call consumes one frame or reports the
 * end: a read loop built on it is bounded by the connection's life.
 */
import { LENGTH_BYTES } from "./transport_frame.ts";

const READ_CHUNK_BYTES = 64 * 1024;

/** One read's outcome. */
export type FrameRead =
  /** `frame` is the kind byte and body, in a buffer of its own. */
  | { readonly type: "frame"; readonly frame: Uint8Array }
  | { readonly type: "eof" }
  /** The length field is outside 1..maxFrameBytes; the stream cannot be resynchronised. */
  | { readonly type: "bad_length"; readonly length: number };

/** Buffered frame reader over a `Deno.Reader`-like connection. */
export class FrameReader {
  readonly #conn: { read(p: Uint8Array): Promise<number | null> };
  readonly #maxFrameBytes: number;
  #buf = new Uint8Array(READ_CHUNK_BYTES);
  #start = 0;
  #end = 0;

  constructor(conn: { read(p: Uint8Array): Promise<number | null> }, maxFrameBytes: number) {
    this.#conn = conn;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Reads the next frame. Errors of the connection propagate to the caller. */
  async next(): Promise<FrameRead> {
    if (!await this.#fill(LENGTH_BYTES)) return { type: "eof" };
    const length = new DataView(this.#buf.buffer, this.#start, LENGTH_BYTES).getInt32(0);
    if (length < 1 || length > this.#maxFrameBytes) return { type: "bad_length", length };
    if (!await this.#fill(LENGTH_BYTES + length)) return { type: "eof" };
    const from = this.#start + LENGTH_BYTES;
    const frame = this.#buf.slice(from, from + length);
    this.#start = from + length;
    return { type: "frame", frame };
  }

  /** Ensures `n` unread bytes are buffered; false at end of stream. */
  async #fill(n: number): Promise<boolean> {
    if (this.#end - this.#start >= n) return true;
    const have = this.#end - this.#start;
    // n <= LENGTH_BYTES + maxFrameBytes: the length was checked before this call.
    const size = Math.max(READ_CHUNK_BYTES, n);
    if (this.#buf.length < n || (this.#buf.length > size * 2 && have < size)) {
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = have;
    // Each iteration reads at least one byte or returns.
    while (this.#end < n) {
      const got = await this.#conn.read(this.#buf.subarray(this.#end));
      if (got === null || got === 0) return false;
      this.#end += got;
    }
    return true;
  }
}
