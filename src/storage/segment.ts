/**
 * One segment of a partition log: a `.log` file of RecordBatch v2 bytes, exactly as accepted,
 * plus its sparse `SegmentIndex`. Only the active (last) segment is written; a sealed segment
 * is immutable.
 *
 * Invariants:
 * - the file holds whole, CRC-valid batches with contiguous offsets starting at `baseOffset`
 *   (recovery truncates anything else off the tail of the active segment);
 * - `verifiedBytes` is a prefix of the file whose CRCs were checked in this process; reads
 *   check every batch past it, so a batch corrupted on disk is reported and never served.
 */
import fs from "node:fs";
import {
  BATCH_HEADER_BYTES,
  type BatchHeader,
  batchSize,
  readBatchHeader,
  verifyBatchCrc,
} from "../records/mod.ts";
import { assert, FrameDecodeError, StorageError } from "../util/mod.ts";
import {
  type FilePool,
  readAt,
  syncDir,
  wrapIoError,
  writeAt,
  writeFileAtomic,
} from "./file_pool.ts";
import { SegmentIndex } from "./segment_index.ts";

/** Bytes read per step when scanning a segment. */
const SCAN_CHUNK_BYTES = 1024 * 1024;

/** Zero-padded file stem of a segment, as Kafka names them. */
export function segmentStem(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

/** The result of reading batches from a segment. */
export interface SegmentRead {
  /** Whole batches, concatenated; empty when none qualifies. */
  bytes: Uint8Array;
  /** Offset after the last batch returned (or the requested offset when none). */
  nextOffset: number;
}

/** A batch found by a timestamp lookup. */
export interface TimestampHit {
  header: BatchHeader;
  batch: Uint8Array;
}

interface ScanOutcome {
  validBytes: number;
  nextOffset: number;
  maxTimestamp: number;
  problem: string | null;
}

/** A segment file and its index. */
export class Segment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  readonly createdMs: number;
  #pool: FilePool;
  #indexIntervalBytes: number;
  #size: number;
  #nextOffset: number;
  #maxTimestamp: number;
  #index: SegmentIndex | null;
  #sealed: boolean;
  #verifiedBytes: number;
  #bytesSinceIndex = 0;
  #lastBatchPos = -1;
  #lastBatchBase = -1;

  private constructor(
    dir: string,
    baseOffset: number,
    pool: FilePool,
    indexIntervalBytes: number,
    state: {
      size: number;
      nextOffset: number;
      maxTimestamp: number;
      index: SegmentIndex | null;
      sealed: boolean;
      verifiedBytes: number;
      createdMs: number;
    },
  ) {
    this.baseOffset = baseOffset;
    const stem = `${dir}/${segmentStem(baseOffset)}`;
    this.logPath = `${stem}.log`;
    this.indexPath = `${stem}.index`;
    this.timeIndexPath = `${stem}.timeindex`;
    this.#pool = pool;
    this.#indexIntervalBytes = indexIntervalBytes;
    this.#size = state.size;
    this.#nextOffset = state.nextOffset;
    this.#maxTimestamp = state.maxTimestamp;
    this.#index = state.index;
    this.#sealed = state.sealed;
    this.#verifiedBytes = state.verifiedBytes;
    this.createdMs = state.createdMs;
  }

  /**
   * Creates a new, empty active segment and makes its directory entry durable.
   * @throws {StorageError} when the file cannot be created.
   */
  static create(
    dir: string,
    baseOffset: number,
    pool: FilePool,
    indexIntervalBytes: number,
    nowMs: number,
  ): Segment {
    const seg = new Segment(dir, baseOffset, pool, indexIntervalBytes, {
      size: 0,
      nextOffset: baseOffset,
      maxTimestamp: -1,
      index: new SegmentIndex(),
      sealed: false,
      verifiedBytes: 0,
      createdMs: nowMs,
    });
    try {
      const fd = pool.fd(seg.logPath, true);
      fs.ftruncateSync(fd, 0);
      syncDir(dir);
    } catch (err) {
      throw wrapIoError(`Cannot create segment "${seg.logPath}"`, err);
    }
    return seg;
  }

  /**
   * Opens the last segment of a log after a restart or crash: scans every batch, verifies
   * lengths, CRCs and offset continuity, truncates a torn or corrupt tail, rebuilds the index.
   * Returns the segment and a description of what was truncated, if anything.
   */
  static recoverActive(
    dir: string,
    baseOffset: number,
    pool: FilePool,
    indexIntervalBytes: number,
    nowMs: number,
  ): { segment: Segment; truncated: string | null } {
    const seg = new Segment(dir, baseOffset, pool, indexIntervalBytes, {
      size: 0,
      nextOffset: baseOffset,
      maxTimestamp: -1,
      index: new SegmentIndex(),
      sealed: false,
      verifiedBytes: 0,
      createdMs: nowMs,
    });
    const fileBytes = seg.#fileSize();
    const outcome = seg.#scan(fileBytes, true);
    let truncated: string | null = null;
    if (outcome.validBytes < fileBytes) {
      truncated = `${fileBytes - outcome.validBytes} bytes at position ${outcome.validBytes}: ${
        outcome.problem ?? "trailing bytes"
      }`;
      try {
        const fd = pool.fd(seg.logPath);
        fs.ftruncateSync(fd, outcome.validBytes);
        fs.fdatasyncSync(fd);
      } catch (err) {
        throw wrapIoError(`Cannot truncate corrupt tail of "${seg.logPath}"`, err);
      }
    }
    seg.#size = outcome.validBytes;
    seg.#nextOffset = outcome.nextOffset;
    seg.#maxTimestamp = outcome.maxTimestamp;
    seg.#verifiedBytes = outcome.validBytes;
    return { segment: seg, truncated };
  }

  /**
   * Opens a sealed segment whose offsets end before `nextOffset` (the next segment's base).
   * The index is loaded from its files, or rebuilt by a scan when they are missing or invalid.
   */
  static openSealed(
    dir: string,
    baseOffset: number,
    nextOffset: number,
    pool: FilePool,
    indexIntervalBytes: number,
    nowMs: number,
  ): Segment {
    const seg = new Segment(dir, baseOffset, pool, indexIntervalBytes, {
      size: 0,
      nextOffset,
      maxTimestamp: -1,
      index: null,
      sealed: true,
      verifiedBytes: 0,
      createdMs: nowMs,
    });
    seg.#size = seg.#fileSize();
    seg.#maxTimestamp = seg.#loadIndex().lastTimestamp;
    return seg;
  }

  /** Bytes in the log file. */
  get size(): number {
    return this.#size;
  }

  /** Offset after the last batch (the base offset when empty). */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /** Largest batch timestamp in the segment, -1 when empty. */
  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }

  /** True once the segment is immutable. */
  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Appends one whole, already validated batch whose base offset is `nextOffset`.
   * On failure (a full disk, say) the file is cut back to its previous size, so the segment
   * stays consistent and readable.
   * @throws {StorageError} with code "no_space" or "io".
   */
  append(batch: Uint8Array, header: BatchHeader): void {
    assert(!this.#sealed, "append to a sealed segment");
    assert(header.baseOffset === this.#nextOffset, "segment appends are contiguous");
    const fd = this.#pool.fd(this.logPath);
    try {
      writeAt(fd, batch, this.#size);
    } catch (err) {
      try {
        fs.ftruncateSync(fd, this.#size);
      } catch (truncErr) {
        // The write error is the one to report; a failed cut-back leaves a torn tail that
        // recovery removes on the next open, and the in-memory size already excludes it.
        console.error(`Cannot cut back "${this.logPath}" after a failed append`, truncErr);
      }
      throw wrapIoError(`Cannot append to segment "${this.logPath}"`, err);
    }
    this.#indexBatch(header, this.#size);
    this.#size += batch.length;
    this.#verifiedBytes = this.#size;
    this.#nextOffset = header.baseOffset + header.lastOffsetDelta + 1;
  }

  /**
   * Reads whole batches holding offsets from `fromOffset`, up to `maxBytes` (but at least one
   * batch when `minOneBatch`), never returning a batch that reaches `maxOffsetExclusive`.
   * @throws {StorageError} with code "corrupt" when a batch fails its CRC.
   */
  read(
    fromOffset: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    minOneBatch: boolean,
  ): SegmentRead {
    const empty = { bytes: new Uint8Array(0), nextOffset: fromOffset };
    if (fromOffset >= this.#nextOffset) return empty;
    const index = this.#loadIndex();
    let pos = index.floorPosition(fromOffset - this.baseOffset);
    // Offsets are outside the batch CRC, so the walk checks them: every batch must continue
    // exactly where the previous one (or the index entry) left off, inside this segment.
    let expected = this.baseOffset + index.floorRelOffset(fromOffset - this.baseOffset);
    const fd = this.#pool.fd(this.logPath);
    // Read a window large enough for the answer plus the distance from the index entry.
    const windowBytes = Math.min(this.#size - pos, maxBytes + this.#indexIntervalBytes * 2);
    let buf = readAt(fd, pos, Math.max(windowBytes, BATCH_HEADER_BYTES));
    let p = 0, start = -1, end = -1, next = fromOffset, stopped = false;
    // Bounded by the window: every iteration advances p by a whole batch or stops.
    while (p + BATCH_HEADER_BYTES <= buf.length) {
      const h = this.#header(buf, p, pos + p);
      const size = batchSize(h);
      const last = h.baseOffset + h.lastOffsetDelta;
      if (h.baseOffset !== expected || last >= this.#nextOffset) {
        throw new StorageError(
          "corrupt",
          `Cannot read "${this.logPath}" at position "${
            pos + p
          }": batch offset "${h.baseOffset}" where "${expected}" was expected`,
        );
      }
      expected = last + 1;
      if (last >= maxOffsetExclusive) {
        stopped = true;
        break;
      }
      if (last < fromOffset) {
        p += size;
        continue;
      }
      if (start < 0) start = p;
      const taken = p - start;
      if (taken + size > maxBytes && !(taken === 0 && minOneBatch)) {
        stopped = true;
        break;
      }
      if (p + size > buf.length) {
        // The batch runs past the window: re-read from `start` with enough room for it.
        if (pos + p + size > this.#size) {
          throw new StorageError("corrupt", `Cannot read "${this.logPath}": batch runs past end`);
        }
        buf = readAt(fd, pos + start, taken + size);
        pos += start;
        p -= start;
        start = 0;
      }
      this.#verify(buf.subarray(p, p + size), pos + p, h);
      end = p + size;
      next = last + 1;
      p += size;
    }
    if (start < 0 || end < 0) {
      // The window always reaches the wanted batch (it spans two index intervals past the
      // index entry), so finding nothing without hitting a limit means the file ends before
      // offsets it should hold: a sealed segment cut short. An empty answer would stall a
      // consumer at this offset forever without saying why.
      if (!stopped) {
        throw new StorageError(
          "corrupt",
          `Cannot read offset "${fromOffset}" of "${this.logPath}": the segment ends at position "${
            pos + p
          }" before offset "${this.#nextOffset}"`,
        );
      }
      return empty;
    }
    return { bytes: buf.subarray(start, end), nextOffset: next };
  }

  /** The first batch whose max timestamp is >= `timestampMs`, or null. */
  findByTimestamp(timestampMs: number): TimestampHit | null {
    if (this.#maxTimestamp < timestampMs) return null;
    const start = this.#loadIndex().timestampScanStart(timestampMs);
    const fd = this.#pool.fd(this.logPath);
    let pos = start;
    // Bounded by the file size: each step advances by a whole batch.
    while (pos + BATCH_HEADER_BYTES <= this.#size) {
      const head = readAt(fd, pos, BATCH_HEADER_BYTES);
      const h = this.#header(head, 0, pos);
      if (h.maxTimestamp >= timestampMs) {
        const batch = readAt(fd, pos, batchSize(h));
        this.#verify(batch, pos, h);
        return { header: h, batch };
      }
      pos += batchSize(h);
    }
    return null;
  }

  /**
   * Removes every batch at or after `offset`, which must be a batch boundary inside this
   * segment (or its end).
   * @throws {StorageError} "invalid_argument" when `offset` is not a batch boundary.
   */
  truncateTo(offset: number): void {
    assert(!this.#sealed, "truncate a sealed segment");
    if (offset >= this.#nextOffset) return;
    const index = this.#loadIndex();
    const fd = this.#pool.fd(this.logPath);
    let pos = index.floorPosition(offset - this.baseOffset);
    // Walk from the index entry to the cut; bounded by the file size.
    while (pos < this.#size) {
      const h = this.#header(readAt(fd, pos, BATCH_HEADER_BYTES), 0, pos);
      if (h.baseOffset === offset) break;
      if (h.baseOffset > offset || h.baseOffset + h.lastOffsetDelta >= offset) {
        throw new StorageError(
          "invalid_argument",
          `Cannot truncate "${this.logPath}" at offset "${offset}": not a batch boundary`,
        );
      }
      pos += batchSize(h);
    }
    try {
      fs.ftruncateSync(fd, pos);
      fs.fdatasyncSync(fd);
    } catch (err) {
      throw wrapIoError(`Cannot truncate "${this.logPath}"`, err);
    }
    // Rebuild the in-memory state of the kept prefix with a scan (it was verified already).
    this.#size = pos;
    this.#index = new SegmentIndex();
    this.#bytesSinceIndex = 0;
    this.#lastBatchPos = -1;
    const outcome = this.#scan(pos, false);
    this.#nextOffset = outcome.nextOffset;
    this.#maxTimestamp = outcome.maxTimestamp;
    this.#verifiedBytes = Math.min(this.#verifiedBytes, pos);
  }

  /**
   * Seals the segment: writes its index files and, when `sync`, makes its data durable.
   * @throws {StorageError} when a write or sync fails.
   */
  seal(sync: boolean): void {
    if (this.#sealed) return;
    this.#writeIndex(sync);
    this.#sealed = true;
  }

  /**
   * Completes the index with an entry for the last batch (so the time index's last value is
   * the segment's max timestamp and a reopen can check the index against the log's end) and
   * writes its files; durably when `sync`, after making the data durable.
   */
  #writeIndex(sync: boolean): void {
    const index = this.#loadIndex();
    if (this.#lastBatchPos >= 0 && this.#lastBatchPos > index.lastPosition) {
      index.add(this.#lastBatchBase - this.baseOffset, this.#lastBatchPos, this.#maxTimestamp);
    }
    try {
      const fd = this.#pool.fd(this.logPath);
      if (sync) {
        fs.fdatasyncSync(fd);
        // Durable index files keep retention honest after a power cut (a torn time index
        // would under-report the segment's newest timestamp).
        const dir = this.logPath.slice(0, this.logPath.lastIndexOf("/"));
        writeFileAtomic(dir, this.indexPath.slice(dir.length + 1), index.encodeOffsets());
        writeFileAtomic(dir, this.timeIndexPath.slice(dir.length + 1), index.encodeTimes());
      } else {
        fs.writeFileSync(this.indexPath, index.encodeOffsets());
        fs.writeFileSync(this.timeIndexPath, index.encodeTimes());
      }
    } catch (err) {
      throw wrapIoError(`Cannot seal segment "${this.logPath}"`, err);
    }
  }

  /** Closes the segment's descriptor (it reopens lazily). */
  close(): void {
    this.#pool.close(this.logPath);
  }

  /** Deletes the segment's files. */
  remove(): void {
    this.#pool.close(this.logPath);
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) {
      try {
        fs.unlinkSync(p);
      } catch (err) {
        if ((err as { code?: unknown }).code !== "ENOENT") {
          throw wrapIoError(`Cannot delete "${p}"`, err);
        }
      }
    }
  }

  #indexBatch(h: BatchHeader, position: number): void {
    const index = this.#loadIndex();
    if (this.#lastBatchPos < 0 || this.#bytesSinceIndex >= this.#indexIntervalBytes) {
      index.add(
        h.baseOffset - this.baseOffset,
        position,
        Math.max(this.#maxTimestamp, h.maxTimestamp),
      );
      this.#bytesSinceIndex = 0;
    }
    this.#bytesSinceIndex += batchSize(h);
    this.#lastBatchPos = position;
    this.#lastBatchBase = h.baseOffset;
    if (h.maxTimestamp > this.#maxTimestamp) this.#maxTimestamp = h.maxTimestamp;
  }

  #loadIndex(): SegmentIndex {
    if (this.#index) return this.#index;
    let decoded: SegmentIndex | null = null;
    try {
      decoded = SegmentIndex.decode(
        fs.readFileSync(this.indexPath),
        fs.readFileSync(this.timeIndexPath),
        this.#size,
      );
    } catch (err) {
      // A missing or unreadable index is rebuilt from the log below; the log is the truth.
      if ((err as { code?: unknown }).code !== "ENOENT") {
        console.error(`Rebuilding index of "${this.logPath}"`, err);
      }
    }
    if (decoded && this.#indexMatchesLog(decoded)) {
      this.#index = decoded;
      return decoded;
    }
    this.#index = new SegmentIndex();
    const outcome = this.#scan(this.#size, true);
    if (outcome.problem !== null || outcome.nextOffset !== this.#nextOffset) {
      throw new StorageError(
        "corrupt",
        `Cannot open sealed segment "${this.logPath}": ${
          outcome.problem ??
            `offsets end at "${outcome.nextOffset}", expected "${this.#nextOffset}"`
        }`,
      );
    }
    this.#verifiedBytes = outcome.validBytes;
    // The segment is already marked sealed, so seal() would skip this: without it the
    // rebuilt index would lack its last-batch entry and under-report the max timestamp
    // (timestamp lookups and retention would then skip or expire the segment).
    this.#writeIndex(false);
    this.#maxTimestamp = this.#index.lastTimestamp;
    return this.#index;
  }

  /**
   * A cheap check that index files describe this log (as Kafka's index sanity check does):
   * the last entry must be the last batch, ending the file at `nextOffset`, with a timestamp
   * no older than that batch's. Anything else (a stale or damaged index, a log cut short) is
   * rebuilt by a verifying scan.
   */
  #indexMatchesLog(index: SegmentIndex): boolean {
    // An empty file is right only for an empty segment: one whose offsets reach the next
    // segment's base but whose data was lost must not read as a hole.
    if (index.length === 0) return this.#size === 0 && this.#nextOffset === this.baseOffset;
    const pos = index.lastPosition;
    let h: BatchHeader;
    try {
      h = readBatchHeader(readAt(this.#pool.fd(this.logPath), pos, BATCH_HEADER_BYTES));
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      return false;
    }
    return h.baseOffset === this.baseOffset + index.lastRelOffset &&
      pos + batchSize(h) === this.#size &&
      h.baseOffset + h.lastOffsetDelta + 1 === this.#nextOffset &&
      index.lastTimestamp >= h.maxTimestamp;
  }

  /** Scans [0, limit) building the index; stops at the first invalid batch. */
  #scan(limit: number, verify: boolean): ScanOutcome {
    const fd = this.#pool.fd(this.logPath);
    this.#index = new SegmentIndex();
    this.#bytesSinceIndex = 0;
    this.#lastBatchPos = -1;
    this.#maxTimestamp = -1;
    let pos = 0, expected = this.baseOffset, problem: string | null = null;
    // Bounded by `limit`: every iteration consumes a whole batch or stops.
    while (pos < limit) {
      const chunk = readAt(fd, pos, Math.min(SCAN_CHUNK_BYTES, limit - pos));
      let p = 0;
      while (p < chunk.length) {
        if (chunk.length - p < BATCH_HEADER_BYTES) {
          if (pos + p + BATCH_HEADER_BYTES > limit) problem = "torn batch header";
          break;
        }
        let h: BatchHeader;
        try {
          h = readBatchHeader(chunk, p);
        } catch (err) {
          if (!(err instanceof FrameDecodeError)) throw err;
          problem = err.message;
          break;
        }
        const size = batchSize(h);
        if (pos + p + size > limit) {
          problem = `torn batch at offset "${h.baseOffset}"`;
          break;
        }
        if (h.baseOffset !== expected) {
          problem = `batch offset "${h.baseOffset}" where "${expected}" was expected`;
          break;
        }
        let batch: Uint8Array;
        if (p + size <= chunk.length) batch = chunk.subarray(p, p + size);
        else if (p > 0) break; // re-read the chunk from this batch
        else batch = readAt(fd, pos, size);
        if (verify && !verifyBatchCrc(batch)) {
          problem = `CRC mismatch in batch at offset "${h.baseOffset}"`;
          break;
        }
        this.#indexBatch(h, pos + p);
        expected = h.baseOffset + h.lastOffsetDelta + 1;
        p += size;
      }
      // Batches consumed before a problem are valid: they count towards the kept prefix,
      // exactly as they count towards `expected`.
      pos += p;
      if (problem !== null || p === 0) break;
    }
    return { validBytes: pos, nextOffset: expected, maxTimestamp: this.#maxTimestamp, problem };
  }

  #header(buf: Uint8Array, p: number, filePos: number): BatchHeader {
    try {
      return readBatchHeader(buf, p);
    } catch (err) {
      throw new StorageError(
        "corrupt",
        `Cannot read "${this.logPath}" at position "${filePos}": ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  #verify(batch: Uint8Array, filePos: number, h: BatchHeader): void {
    const end = filePos + batch.length;
    if (end <= this.#verifiedBytes) return;
    if (!verifyBatchCrc(batch)) {
      throw new StorageError(
        "corrupt",
        `Cannot read batch at offset "${h.baseOffset}" of "${this.logPath}": CRC mismatch`,
      );
    }
    if (filePos <= this.#verifiedBytes) this.#verifiedBytes = end;
  }

  #fileSize(): number {
    try {
      return fs.fstatSync(this.#pool.fd(this.logPath)).size;
    } catch (err) {
      throw wrapIoError(`Cannot stat "${this.logPath}"`, err);
    }
  }
}
