/**
 * A peer's bounded FIFO of encoded frames, bounded both in frames and in bytes (STYLE.md
 * "every resource has a bound"). A push that does not fit is refused, never blocked: the
 * caller turns the refusal into a `dropped` send result.
 */
import { assert } from "../../util/mod.ts";

/** Compact the backing array once this many taken slots pile up at its head. */
const COMPACT_AFTER = 1024;
/** Frames are carved out of slabs of this size, so adjacent frames are written uncopied. */
export const SLAB_BYTES = 256 * 1024;
/** Frames larger than this get a buffer of their own. */
const SLAB_FRAME_MAX = SLAB_BYTES / 4;

/** A bounded queue of frames. */
export class PeerQueue {
  readonly #maxFrames: number;
  readonly #maxBytes: number;
  /** Queued frames from `#head` on; taken slots are emptied at once (never kept alive). */
  #frames: Array<Uint8Array | undefined> = [];
  #head = 0;
  #bytes = 0;
  #slab = new Uint8Array(0);
  #slabAt = 0;

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

  /** Whether a frame of `bytes` would fit under both bounds now. */
  fits(bytes: number): boolean {
    return this.frames < this.#maxFrames && this.#bytes + bytes <= this.#maxBytes;
  }

  /**
   * Room for one frame of `n` bytes, carved from the current slab when small: frames
   * allocated one after another are contiguous, and `runs` merges them into one write.
   */
  alloc(n: number): Uint8Array {
    if (n > SLAB_FRAME_MAX) return new Uint8Array(n);
    if (this.#slabAt + n > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabAt = 0;
    }
    const out = this.#slab.subarray(this.#slabAt, this.#slabAt + n);
    this.#slabAt += n;
    return out;
  }

  /** Appends a frame; false when it would exceed either bound. */
  push(frame: Uint8Array): boolean {
    if (!this.fits(frame.length)) return false;
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
      // Empty the slot now: a taken frame (up to maxFrameBytes) must not stay referenced until
      // the next compaction, which came only after 1,024 takes (a leader kept ~700 MB so).
      this.#frames[this.#head] = undefined;
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

/**
 * Merges frames that lie next to each other in one buffer (see `PeerQueue.alloc`) into
 * single views, so a batch is written without copying; other frames stay as they are.
 */
export function runs(frames: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array | null = null;
  for (const f of frames) {
    if (
      run !== null && f.buffer === run.buffer && f.byteOffset === run.byteOffset + run.length
    ) {
      run = new Uint8Array(run.buffer, run.byteOffset, run.length + f.length);
    } else {
      if (run !== null) out.push(run);
      run = f;
    }
  }
  if (run !== null) out.push(run);
  return out;
}
