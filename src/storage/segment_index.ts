/**
 * The sparse offset and time indexes of one segment, held in growable typed arrays.
 *
 * Offset index: one entry every `indexIntervalBytes` of log, mapping the base offset of a batch
 * (relative to the segment base, uint32) to its byte position (uint32). Time index: for the
 * same batches, the largest timestamp seen in the segment up to and including that batch, so
 * its entries are non-decreasing in both fields and can be binary searched.
 *
 * On disk an index file is the raw entries, big-endian: `.index` = relOffset u32, position u32;
 * `.timeindex` = timestamp i64, relOffset u32, position u32. Index files are written when a
 * segment is sealed; the active segment's index is rebuilt from the log on open, so a torn
 * index never matters (it is validated and rebuilt if wrong).
 */
import { assert } from "../util/mod.ts";

const OFFSET_ENTRY_BYTES = 8;
const TIME_ENTRY_BYTES = 16;
const INITIAL_CAPACITY = 16;

/** Sparse offset → position and timestamp → position lookups for one segment. */
export class SegmentIndex {
  #rel = new Uint32Array(INITIAL_CAPACITY);
  #pos = new Uint32Array(INITIAL_CAPACITY);
  #ts = new Float64Array(INITIAL_CAPACITY);
  #count = 0;

  /** Number of entries. */
  get length(): number {
    return this.#count;
  }

  /** Position of the last entry, or 0 when there is none. */
  get lastPosition(): number {
    return this.#count === 0 ? 0 : (this.#pos[this.#count - 1] as number);
  }

  /** Relative offset of the last entry, or -1 when there is none. */
  get lastRelOffset(): number {
    return this.#count === 0 ? -1 : (this.#rel[this.#count - 1] as number);
  }

  /** Largest timestamp recorded, or -1 when there is no entry. */
  get lastTimestamp(): number {
    return this.#count === 0 ? -1 : (this.#ts[this.#count - 1] as number);
  }

  /** Appends an entry; offsets, positions and timestamps must not decrease. */
  add(relOffset: number, position: number, maxTimestampSoFar: number): void {
    const n = this.#count;
    if (n > 0) {
      assert(relOffset > (this.#rel[n - 1] as number), "index offsets increase");
      assert(position > (this.#pos[n - 1] as number), "index positions increase");
    }
    if (n === this.#rel.length) this.#grow();
    this.#rel[n] = relOffset;
    this.#pos[n] = position;
    this.#ts[n] = Math.max(maxTimestampSoFar, n > 0 ? (this.#ts[n - 1] as number) : -1);
    this.#count = n + 1;
  }

  /** Position of the last indexed batch whose base offset is <= `relOffset` (0 if none). */
  floorPosition(relOffset: number): number {
    const found = this.#floor(relOffset);
    return found < 0 ? 0 : (this.#pos[found] as number);
  }

  /** Relative base offset of the batch at `floorPosition(relOffset)` (0 if none). */
  floorRelOffset(relOffset: number): number {
    const found = this.#floor(relOffset);
    return found < 0 ? 0 : (this.#rel[found] as number);
  }

  /** Index of the last entry whose relative offset is <= `relOffset`, or -1. */
  #floor(relOffset: number): number {
    let lo = 0, hi = this.#count - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#rel[mid] as number) <= relOffset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Position from which a scan finds the first batch with a timestamp >= `timestampMs`: the
   * position of the last entry whose running maximum is still below it (0 if none).
   */
  timestampScanStart(timestampMs: number): number {
    let lo = 0, hi = this.#count - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#ts[mid] as number) < timestampMs) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? 0 : (this.#pos[found] as number);
  }

  /** Drops every entry at or after byte `position` (for truncation). */
  truncateToPosition(position: number): void {
    while (this.#count > 0 && (this.#pos[this.#count - 1] as number) >= position) this.#count--;
  }

  /** The offset index file's bytes. */
  encodeOffsets(): Uint8Array {
    const out = new Uint8Array(this.#count * OFFSET_ENTRY_BYTES);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < this.#count; i++) {
      dv.setUint32(i * 8, this.#rel[i] as number);
      dv.setUint32(i * 8 + 4, this.#pos[i] as number);
    }
    return out;
  }

  /** The time index file's bytes. */
  encodeTimes(): Uint8Array {
    const out = new Uint8Array(this.#count * TIME_ENTRY_BYTES);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < this.#count; i++) {
      dv.setBigInt64(i * 16, BigInt(this.#ts[i] as number));
      dv.setUint32(i * 16 + 8, this.#rel[i] as number);
      dv.setUint32(i * 16 + 12, this.#pos[i] as number);
    }
    return out;
  }

  /**
   * Rebuilds an index from its two files, or returns null when they are missing, torn or
   * inconsistent with each other or with a log of `logBytes` bytes (the caller then rescans).
   */
  static decode(offsets: Uint8Array, times: Uint8Array, logBytes: number): SegmentIndex | null {
    if (offsets.length % OFFSET_ENTRY_BYTES !== 0 || times.length % TIME_ENTRY_BYTES !== 0) {
      return null;
    }
    const ov = new DataView(offsets.buffer, offsets.byteOffset, offsets.byteLength);
    const n = offsets.length / OFFSET_ENTRY_BYTES;
    if (times.length / TIME_ENTRY_BYTES !== n) return null;
    // The writer indexes the first batch (relative offset 0, position 0) of every non-empty
    // segment, so an empty index of a non-empty log is torn, not sparse.
    if (n === 0) return logBytes === 0 ? new SegmentIndex() : null;
    if (ov.getUint32(0) !== 0 || ov.getUint32(4) !== 0) return null;
    const tv = new DataView(times.buffer, times.byteOffset, times.byteLength);
    const index = new SegmentIndex();
    let prevRel = -1, prevPos = -1, prevTs = -Infinity;
    for (let i = 0; i < n; i++) {
      const rel = ov.getUint32(i * 8), pos = ov.getUint32(i * 8 + 4);
      const ts = Number(tv.getBigInt64(i * 16));
      if (tv.getUint32(i * 16 + 8) !== rel || tv.getUint32(i * 16 + 12) !== pos) return null;
      if (rel <= prevRel || pos <= prevPos || ts < prevTs || pos >= logBytes) return null;
      index.add(rel, pos, ts);
      prevRel = rel;
      prevPos = pos;
      prevTs = ts;
    }
    return index;
  }

  #grow(): void {
    const cap = this.#rel.length * 2;
    const rel = new Uint32Array(cap), pos = new Uint32Array(cap), ts = new Float64Array(cap);
    rel.set(this.#rel);
    pos.set(this.#pos);
    ts.set(this.#ts);
    this.#rel = rel;
    this.#pos = pos;
    this.#ts = ts;
  }
}
