/**
 * A peer's bounded FIFO of encoded frames, bounded both in frames and in bytes (STYLE.md
 * "every resource has a bound"). A push that does not fit is refused, never blocked: the
 * caller turns the refusal into a `dropped` send result.
 */
import { assert } from "../../util/mod.ts";

/** Compact the backing array once this many taken slots pile up at its head. */
const COMPACT_AFTER = 1024;

/** A bounded queue of frames. */
export class PeerQueue {
  readonly #maxFrames: number;
  readonly #maxBytes: number;
  #frames: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;

  constructor(maxFrames: number, maxBytes: number) {
    assert(maxFrames > 0 && maxBytes > 0, "queue bounds must be positive");
    this.#maxFrames = maxFrames;
    this.#maxBytes = maxBytes;
  }

  get frames(): number {
    return this.#frames.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Appends a frame; false when it would exceed either bound. */
  push(frame: Uint8Array): boolean {
    if (this.frames >= this.#maxFrames || this.#bytes + frame.length > this.#maxBytes) {
      return false;
    }
    this.#frames.push(frame);
    this.#bytes += frame.length;
    return true;
  }

  /**
   * Removes frames from the head while their total stays within `maxBytes` (always at
   * least one frame when any is queued).
   */
  take(maxBytes: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let total = 0;
    while (this.#head < this.#frames.length) {
      const f = this.#frames[this.#head];
      assert(f !== undefined, "queue slot is empty");
      if (out.length > 0 && total + f.length > maxBytes) break;
      out.push(f);
      total += f.length;
      this.#head++;
    }
    this.#bytes -= total;
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /** Drops everything queued; returns how many frames were dropped. */
  clear(): number {
    const n = this.frames;
    this.#frames = [];
    this.#head = 0;
    this.#bytes = 0;
    return n;
  }
}
