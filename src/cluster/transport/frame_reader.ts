/**
 * Reads length-prefixed transport frames from a connection, checking each length against
 * the frame limit before allocating from it. Each call consumes one frame or reports the
 * end: a read loop built on it is bounded by the connection's life. Frames are returned as
 * views of read chunks that are never reused (no per-frame copy); a consumer that keeps a
 * small payload for long should copy it, or it keeps its whole chunk alive.
 */
import { getI32, LENGTH_BYTES } from "./transport_frame.ts";

const READ_CHUNK_BYTES = 64 * 1024;
/** Start a new chunk rather than read into less room than this. */
const MIN_READ_BYTES = 4096;

/** One read's outcome. */
export type FrameRead =
  /**
   * `frame` is the kind byte and body: a view into a read chunk (up to 64 KiB, shared with
   * neighbouring frames) that is never written again.
   */
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
    const length = getI32(this.#buf, this.#start);
    if (length < 1 || length > this.#maxFrameBytes) return { type: "bad_length", length };
    if (!await this.#fill(LENGTH_BYTES + length)) return { type: "eof" };
    const from = this.#start + LENGTH_BYTES;
    const frame = this.#buf.subarray(from, from + length);
    this.#start = from + length;
    return { type: "frame", frame };
  }

  /**
   * Ensures `n` unread bytes are buffered; false at end of stream. Bytes already handed out
   * are never overwritten: when the chunk runs out of room the unread tail moves to a new
   * chunk, so returned frames can be views instead of copies.
   */
  async #fill(n: number): Promise<boolean> {
    if (this.#end - this.#start >= n) return true;
    // n <= LENGTH_BYTES + maxFrameBytes: the length was checked before this call.
    if (this.#buf.length - this.#start < n || this.#buf.length - this.#end < MIN_READ_BYTES) {
      const next = new Uint8Array(Math.max(READ_CHUNK_BYTES, n));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buf = next;
    }
    // Each iteration reads at least one byte or returns.
    while (this.#end - this.#start < n) {
      const got = await this.#conn.read(this.#buf.subarray(this.#end));
      if (got === null || got === 0) return false;
      this.#end += got;
    }
    return true;
  }
}
