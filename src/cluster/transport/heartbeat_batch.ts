/**
 * The heartbeats of all groups bound for one peer, accumulated between two flushes and sent
 * as ONE HEARTBEATS frame (issue #6: thousands of partitions must not mean thousands of
 * heartbeat streams). A later heartbeat of a group replaces the earlier one: a heartbeat
 * carries the newest commit index and read sequence, so an older one is worthless.
 *
 * The batch never grows past one frame: `add` reports "full" when the new entry would push
 * the frame over `maxFrameBytes`, and the caller flushes first.
 */
import {
  beatBytes,
  encodeGroupId,
  encodeHeartbeats,
  heartbeatsFrameLength,
} from "./transport_frame.ts";

interface Beat {
  readonly groupId: Uint8Array;
  readonly payload: Uint8Array;
}

/** What `add` did. */
export type BeatAdded = "added" | "full" | "too_large";

/** Pending heartbeats for one peer. */
export class HeartbeatBatch {
  readonly #maxFrameBytes: number;
  #beats = new Map<string, Beat>();
  #beatsBytes = 0;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  get size(): number {
    return this.#beats.size;
  }

  /**
   * Adds (or replaces) one group's heartbeat. "full": the batch must be flushed before this
   * entry fits; "too_large": it would not fit even in an empty frame.
   */
  add(groupId: string, payload: Uint8Array): BeatAdded {
    const gid = encodeGroupId(groupId);
    if (gid === null) return "too_large";
    const bytes = beatBytes(gid.length, payload.length);
    if (heartbeatsFrameLength(bytes) > this.#maxFrameBytes) return "too_large";
    const old = this.#beats.get(groupId);
    const oldBytes = old === undefined ? 0 : beatBytes(old.groupId.length, old.payload.length);
    if (heartbeatsFrameLength(this.#beatsBytes - oldBytes + bytes) > this.#maxFrameBytes) {
      return "full";
    }
    // Copy: the caller may reuse its buffer before the flush.
    this.#beats.set(groupId, { groupId: gid, payload: payload.slice() });
    this.#beatsBytes += bytes - oldBytes;
    return "added";
  }

  /** Encodes the pending heartbeats as one frame and empties the batch; null when empty. */
  drain(): Uint8Array | null {
    if (this.#beats.size === 0) return null;
    const frame = encodeHeartbeats([...this.#beats.values()]);
    this.#beats = new Map();
    this.#beatsBytes = 0;
    return frame;
  }

  /** Empties the batch without encoding it; returns true when anything was pending. */
  discard(): boolean {
    const had = this.#beats.size > 0;
    this.#beats = new Map();
    this.#beatsBytes = 0;
    return had;
  }
}
