/**
 * A partition log: a directory of segments holding Kafka RecordBatch v2 bytes, with offsets
 * assigned at append, reads by offset and timestamp, truncation (for replication), deletion
 * of a prefix (DeleteRecords), retention, and an explicit durability policy.
 *
 * Invariants:
 * - segments are sorted by base offset and contiguous: each one's base is the previous one's
 *   `nextOffset`; only the last (active) segment is written;
 * - logStartOffset <= flushedOffset <= logEndOffset... except that flushedOffset may lag the
 *   start after a prefix deletion; it never exceeds logEndOffset;
 * - an append is acknowledged (its promise resolves) only once it is durable as the policy
 *   says: `always` after an fdatasync that covers it (concurrent appends share one sync:
 *   group commit), `interval` and `never` once it is in the page cache;
 * - after an fdatasync fails, the log refuses appends (the page cache state is unknown; see
 *   PostgreSQL's "fsyncgate"); reopening the log recovers from what is on disk.
 */
import fs from "node:fs";
import { setImmediate } from "node:timers";
import {
  type BatchHeader,
  batchSize,
  readBatchHeader,
  setBaseOffset,
  stampLogAppendTime,
  verifyBatchCrc,
} from "../records/mod.ts";
import { assert, type Clock, FrameDecodeError, StorageError, systemClock } from "../util/mod.ts";
import { fdatasync, FilePool, wrapIoError, writeFileAtomic } from "./file_pool.ts";
import { type LogConfig, resolveLogConfig } from "./log_config.ts";
import { Segment, segmentStem, type TimestampHit } from "./segment.ts";

const LOG_START_FILE = "log-start-offset";

/** Where an appended batch landed. */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker's time for LogAppendTime topics, else -1. */
  logAppendTimeMs: number;
}

/** Options of `PartitionLog.append`. */
export interface AppendOptions {
  /** Replication: the batch must land exactly at this offset (its leader chose it). */
  expectedBaseOffset?: number;
  /** Stamp the batch with the broker's time (message.timestamp.type=LogAppendTime). */
  logAppendTime?: boolean;
  /**
   * Resolve only once durable. Defaults to true with `fsync: "always"`; false acknowledges
   * from the page cache (write caching), and `flushedOffset` tells when it became durable.
   */
  waitForSync?: boolean;
  /**
   * The caller already verified the CRC of exactly these bytes (a Raft leader's own
   * proposal): it is not computed again. Base offset and leader epoch lie outside the CRC.
   */
  crcVerified?: boolean;
}

/** The outcome of a read: batches, or an offset the log does not hold. */
export type ReadResult =
  | { type: "ok"; bytes: Uint8Array; nextOffset: number }
  | { type: "offsetOutOfRange"; logStartOffset: number; logEndOffset: number };

/** Options of `PartitionLog.read`. */
export interface ReadOptions {
  /** Stop before any batch reaching this offset (a high watermark). Default: log end. */
  maxOffsetExclusive?: number;
  /** Return the first batch even when it exceeds maxBytes, so a consumer can progress. */
  minOneBatch?: boolean;
  /**
   * Also serve batches below the log start that are still stored (from `storedStartOffset`):
   * a replicated partition's Raft log starts at a batch boundary while Kafka's log start,
   * moved by DeleteRecords, may lie inside a batch. Never for clients.
   */
  belowLogStart?: boolean;
}

/** Everything `PartitionLog.open` needs besides the directory. */
export interface OpenLogOptions {
  config?: Partial<LogConfig>;
  pool?: FilePool;
  clock?: Clock;
  /** Where recovery and background failures are reported. */
  onWarning?: (message: string) => void;
}

interface SyncWaiter {
  offset: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** One partition's durable log. */
export class PartitionLog {
  readonly dir: string;
  readonly config: LogConfig;
  #pool: FilePool;
  #ownsPool: boolean;
  #clock: Clock;
  #warn: (message: string) => void;
  #segments: Segment[];
  #logStart: number;
  #flushed: number;
  #unflushedBytes = 0;
  #waiters: SyncWaiter[] = [];
  #syncing: Promise<void> | null = null;
  /** The lowest offset truncated to while a sync round ran (see #syncLoop), else null. */
  #cutDuringSync: number | null = null;
  /** Segments sealed without a sync (fsync=never); a flush must cover them too. */
  #unsyncedSealed: Segment[] = [];
  #failure: StorageError | null = null;
  #closed = false;
  /** Told how long each fdatasync took (ms), for metrics; null when nobody listens. */
  onSyncMs: ((durationMs: number) => void) | null = null;

  private constructor(
    dir: string,
    config: LogConfig,
    pool: FilePool,
    ownsPool: boolean,
    clock: Clock,
    warn: (m: string) => void,
    segments: Segment[],
    logStart: number,
  ) {
    this.dir = dir;
    this.config = config;
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.#clock = clock;
    this.#warn = warn;
    this.#segments = segments;
    this.#logStart = logStart;
    // What recovery found on disk is what survives a crash from here on.
    this.#flushed = this.logEndOffset;
  }

  /**
   * Opens (creating if needed) the log in `dir`, recovering from a crash: a torn or corrupt
   * tail is truncated, indexes are checked and rebuilt.
   * @throws {StorageError} when the directory cannot be read or a sealed segment is corrupt.
   */
  static open(dir: string, options: OpenLogOptions = {}): PartitionLog {
    const config = resolveLogConfig(options.config);
    const pool = options.pool ?? new FilePool();
    const clock = options.clock ?? systemClock;
    const warn = options.onWarning ?? ((m: string) => console.warn(m));
    const now = clock.nowMs();
    let names: string[];
    try {
      fs.mkdirSync(dir, { recursive: true });
      names = fs.readdirSync(dir);
    } catch (err) {
      throw wrapIoError(`Cannot open log directory "${dir}"`, err);
    }
    const bases = names.filter((n) => /^\d{20}\.log$/.test(n)).map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
    for (const n of names) {
      // Leftovers of an interrupted atomic write are never the truth.
      if (n.endsWith(".tmp")) fs.rmSync(`${dir}/${n}`, { force: true });
    }
    const checkpoint = readLogStart(dir);
    let segments: Segment[];
    try {
      segments = loadSegments(dir, bases, checkpoint ?? 0, pool, config, now, warn);
    } catch (err) {
      // A log that cannot open must not keep descriptors: its files stay busy (a mount
      // cannot be detached) and an owned pool would never be closed.
      if (options.pool === undefined) pool.closeAll();
      else for (const base of bases) pool.close(`${dir}/${segmentStem(base)}.log`);
      throw err;
    }
    const first = segments[0] as Segment;
    const last = segments[segments.length - 1] as Segment;
    const logStart = Math.min(Math.max(checkpoint ?? 0, first.baseOffset), last.nextOffset);
    return new PartitionLog(
      dir,
      config,
      pool,
      options.pool === undefined,
      clock,
      warn,
      segments,
      logStart,
    );
  }

  /** First offset held. */
  get logStartOffset(): number {
    return this.#logStart;
  }

  /**
   * Base offset of the first stored segment (<= logStartOffset): a batch boundary. Records
   * between it and the log start were deleted (DeleteRecords) but their segment remains.
   */
  get storedStartOffset(): number {
    return (this.#segments[0] as Segment).baseOffset;
  }

  /** Offset the next appended record receives. */
  get logEndOffset(): number {
    return this.#active.nextOffset;
  }

  /** Offsets below this are durable on disk. */
  get flushedOffset(): number {
    return this.#flushed;
  }

  /** Bytes held by all segments. */
  get sizeBytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.size;
    return n;
  }

  /** Number of segments. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1] as Segment;
  }

  /**
   * Validates and appends one RecordBatch v2, assigning its base offset (the bytes are changed
   * in place: base offset, and timestamps for LogAppendTime). Resolves once durable per the
   * policy.
   * @throws {StorageError} "corrupt" for a malformed batch or bad CRC, "record_too_large",
   *   "invalid_argument" for a wrong expected offset, "no_space"/"io" for disk failures,
   *   "failed" after an earlier fsync failure, "closed".
   */
  append(batch: Uint8Array, options: AppendOptions = {}): Promise<AppendResult> {
    try {
      const result = this.#appendNow(batch, options);
      const wait = options.waitForSync ?? this.config.fsync === "always";
      if (!wait) return Promise.resolve(result);
      return this.#whenDurable(result.lastOffset + 1).then(() => result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #appendNow(batch: Uint8Array, options: AppendOptions): AppendResult {
    if (this.#closed) {
      throw new StorageError("closed", `Cannot append to "${this.dir}": log is closed`);
    }
    if (this.#failure) {
      throw new StorageError("failed", `Cannot append to "${this.dir}": ${this.#failure.message}`, {
        cause: this.#failure,
      });
    }
    const h = this.#validate(batch, options.crcVerified === true);
    const base = this.logEndOffset;
    if (options.expectedBaseOffset !== undefined && options.expectedBaseOffset !== base) {
      throw new StorageError(
        "invalid_argument",
        `Cannot append to "${this.dir}" at offset "${options.expectedBaseOffset}": log ends at "${base}"`,
      );
    }
    const now = this.#clock.nowMs();
    // A sealed active segment is left by a roll that sealed it but could not create the next
    // one (a full disk): it must not be written again, so the roll is retried first.
    if (this.#active.sealed || this.#shouldRoll(batch.length, now)) this.#roll(now);
    setBaseOffset(batch, base);
    let logAppendTimeMs = -1;
    if (options.logAppendTime) {
      stampLogAppendTime(batch, now);
      logAppendTimeMs = now;
    }
    const header: BatchHeader = {
      ...h,
      baseOffset: base,
      maxTimestamp: logAppendTimeMs >= 0 ? now : h.maxTimestamp,
    };
    this.#active.append(batch, header);
    this.#unflushedBytes += batch.length;
    if (
      this.config.fsync === "interval" && this.#unflushedBytes >= this.config.flushIntervalBytes
    ) {
      this.#backgroundFlush();
    }
    return { baseOffset: base, lastOffset: base + h.lastOffsetDelta, logAppendTimeMs };
  }

  #validate(batch: Uint8Array, crcVerified: boolean): BatchHeader {
    let h: BatchHeader;
    try {
      h = readBatchHeader(batch);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      throw new StorageError("corrupt", `Cannot append to "${this.dir}": ${err.message}`);
    }
    if (batchSize(h) !== batch.length) {
      throw new StorageError(
        "corrupt",
        `Cannot append to "${this.dir}": batch length "${
          batchSize(h)
        }" does not match "${batch.length}" bytes`,
      );
    }
    if (batch.length > this.config.maxBatchBytes) {
      throw new StorageError(
        "record_too_large",
        `Cannot append to "${this.dir}": batch of ${batch.length} bytes exceeds ${this.config.maxBatchBytes}`,
      );
    }
    if (!crcVerified && !verifyBatchCrc(batch)) {
      throw new StorageError("corrupt", `Cannot append to "${this.dir}": CRC mismatch`);
    }
    return h;
  }

  #shouldRoll(incomingBytes: number, nowMs: number): boolean {
    const a = this.#active;
    if (a.size === 0) return false;
    return a.size + incomingBytes > this.config.segmentBytes ||
      nowMs - a.createdMs >= this.config.segmentMs;
  }

  /** Seals the active segment (synced unless fsync=never) and starts a new one at the end. */
  #roll(nowMs: number): void {
    const old = this.#active;
    const sync = this.config.fsync !== "never";
    if (!old.sealed) {
      old.seal(sync);
      if (sync) this.#markFlushed(old.nextOffset);
      else this.#unsyncedSealed.push(old);
    }
    this.#segments.push(
      Segment.create(this.dir, old.nextOffset, this.#pool, this.config.indexIntervalBytes, nowMs),
    );
    old.close();
  }

  /**
   * Reads whole batches from `offset` up to about `maxBytes`.
   * @throws {StorageError} "corrupt" when stored data fails its CRC.
   */
  read(offset: number, maxBytes: number, options: ReadOptions = {}): ReadResult {
    const end = this.logEndOffset;
    const start = options.belowLogStart === true ? this.storedStartOffset : this.#logStart;
    if (offset < start || offset > end) {
      return { type: "offsetOutOfRange", logStartOffset: this.#logStart, logEndOffset: end };
    }
    const limit = Math.min(options.maxOffsetExclusive ?? end, end);
    const seg = this.#segmentFor(offset);
    if (offset >= limit || !seg) {
      return { type: "ok", bytes: new Uint8Array(0), nextOffset: offset };
    }
    const r = seg.read(offset, Math.max(0, maxBytes), limit, options.minOneBatch ?? true);
    return { type: "ok", bytes: r.bytes, nextOffset: r.nextOffset };
  }

  /** The first batch holding a record with a timestamp >= `timestampMs`, or null. */
  findByTimestamp(timestampMs: number): TimestampHit | null {
    for (const seg of this.#segments) {
      if (seg.nextOffset <= this.#logStart) continue;
      const hit = seg.findByTimestamp(timestampMs);
      if (hit && hit.header.baseOffset + hit.header.lastOffsetDelta >= this.#logStart) return hit;
    }
    return null;
  }

  /** Last segment whose base offset is <= offset. */
  #segmentFor(offset: number): Segment | undefined {
    let lo = 0, hi = this.#segments.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#segments[mid] as Segment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : this.#segments[found];
  }

  /**
   * Removes every record at or after `offset` (a batch boundary), as a replica does when its
   * log diverges from the leader's. Appends waiting for a sync past the cut are rejected.
   * @throws {StorageError} "invalid_argument" when the offset is below the log start or not a
   *   batch boundary.
   */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    if (this.#syncing) this.#cutDuringSync = Math.min(this.#cutDuringSync ?? offset, offset);
    if (offset < this.#logStart) {
      throw new StorageError(
        "invalid_argument",
        `Cannot truncate "${this.dir}" to "${offset}": below log start "${this.#logStart}"`,
      );
    }
    // Drop whole segments at or after the cut, newest first.
    while (this.#segments.length > 1 && this.#active.baseOffset >= offset) {
      const gone = this.#segments.pop() as Segment;
      gone.remove();
    }
    let active = this.#active;
    if (active.baseOffset >= offset) {
      active.remove();
      this.#segments.pop();
      active = Segment.create(
        this.dir,
        offset,
        this.#pool,
        this.config.indexIntervalBytes,
        this.#clock.nowMs(),
      );
      this.#segments.push(active);
    } else if (active.sealed) {
      // Reopen a sealed segment as the writable one: its index files no longer describe it.
      fs.rmSync(active.indexPath, { force: true });
      fs.rmSync(active.timeIndexPath, { force: true });
      const reopened = Segment.recoverActive(
        this.dir,
        active.baseOffset,
        this.#pool,
        this.config.indexIntervalBytes,
        this.#clock.nowMs(),
      ).segment;
      this.#segments[this.#segments.length - 1] = reopened;
      active = reopened;
    }
    active.truncateTo(offset);
    this.#flushed = Math.min(this.#flushed, this.logEndOffset);
    const cut = this.logEndOffset;
    const keep: SyncWaiter[] = [];
    for (const w of this.#waiters) {
      if (w.offset > cut) {
        w.reject(
          new StorageError("truncated", `Append to "${this.dir}" was truncated at "${cut}"`),
        );
      } else keep.push(w);
    }
    this.#waiters = keep;
  }

  /**
   * Makes `offset` the first offset of the log (Kafka DeleteRecords) unless the start is
   * already past it, and deletes every segment wholly below it. The new start is
   * checkpointed before any file is removed.
   * @throws {StorageError} "offset_out_of_range" when `offset` is past the log end.
   */
  deleteRecordsBefore(offset: number): void {
    if (offset > this.logEndOffset) {
      throw new StorageError(
        "offset_out_of_range",
        `Cannot delete records of "${this.dir}" before "${offset}": log ends at "${this.logEndOffset}"`,
      );
    }
    if (offset <= this.storedStartOffset) return;
    if (offset > this.#logStart) {
      this.#logStart = offset;
      writeFileAtomic(this.dir, LOG_START_FILE, new TextEncoder().encode(`${offset}\n`));
    }
    if (this.#active.size > 0 && this.#active.nextOffset <= offset) this.#roll(this.#clock.nowMs());
    while (this.#segments.length > 1 && (this.#segments[0] as Segment).nextOffset <= offset) {
      (this.#segments.shift() as Segment).remove();
    }
  }

  /**
   * Deletes closed segments past the retention time or beyond the retention size.
   * Returns how many segments were deleted.
   */
  applyRetention(nowMs: number = this.#clock.nowMs()): number {
    const { start, segments } = this.#retention(nowMs);
    if (segments > 0) this.deleteRecordsBefore(start);
    return segments;
  }

  /**
   * The first offset retention would keep now: a segment boundary (so a batch boundary),
   * `storedStartOffset` when no segment is due, computed without deleting anything: for
   * owners that must order the deletion themselves (a replicated partition's Raft group).
   * Only segments that end at or below `upTo` may go (Kafka deletes only segments wholly
   * below the high watermark).
   */
  retentionStart(nowMs: number = this.#clock.nowMs(), upTo = Infinity): number {
    return this.#retention(nowMs, upTo).start;
  }

  /** Whole closed segments past retention.ms / retention.bytes, and the start after them. */
  #retention(nowMs: number, upTo = Infinity): { start: number; segments: number } {
    const { retentionMs, retentionBytes } = this.config;
    // A segment boundary (a batch boundary), even when the log start lies inside a batch.
    let start = this.storedStartOffset;
    let segments = 0;
    let total = this.sizeBytes;
    // Bounded by the number of segments; the active segment is never deleted here.
    for (let i = 0; i + 1 < this.#segments.length; i++) {
      const seg = this.#segments[i] as Segment;
      const expired = retentionMs >= 0 && nowMs - seg.maxTimestamp > retentionMs;
      const oversize = retentionBytes >= 0 && total - seg.size >= retentionBytes;
      const next = (this.#segments[i + 1] as Segment).baseOffset;
      if ((!expired && !oversize) || next > upTo) break;
      start = Math.max(start, next);
      total -= seg.size;
      segments++;
    }
    return { start, segments };
  }

  /** Makes everything appended so far durable. */
  flush(): Promise<void> {
    return this.#whenDurable(this.logEndOffset);
  }

  /** With fsync=interval: flushes when the interval has passed since the last flush. */
  flushIfDue(): void {
    if (this.#unflushedBytes > 0 || this.#flushed < this.logEndOffset) this.#backgroundFlush();
  }

  /**
   * Discards the whole log and restarts it empty at `offset` (a follower too far behind
   * the leader's log start is reset to it).
   */
  reset(offset: number): void {
    if (this.#syncing) this.#cutDuringSync = Math.min(this.#cutDuringSync ?? offset, offset);
    assert(Number.isSafeInteger(offset) && offset >= 0, "reset offset is a valid offset");
    writeFileAtomic(this.dir, LOG_START_FILE, new TextEncoder().encode(`${offset}\n`));
    for (const s of this.#segments) s.remove();
    this.#segments = [
      Segment.create(
        this.dir,
        offset,
        this.#pool,
        this.config.indexIntervalBytes,
        this.#clock.nowMs(),
      ),
    ];
    this.#logStart = offset;
    this.#flushed = offset;
    for (const w of this.#waiters) {
      w.reject(new StorageError("truncated", `Append to "${this.dir}" was discarded by a reset`));
    }
    this.#waiters = [];
  }

  /** Flushes (unless fsync=never), seals nothing, closes descriptors. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.config.fsync !== "never" && !this.#failure) await this.flush();
    else if (this.#syncing) await this.#syncing;
    this.#closed = true;
    for (const s of this.#segments) s.close();
    if (this.#ownsPool) this.#pool.closeAll();
  }

  #backgroundFlush(): void {
    this.flush().catch((err) => {
      // The failure is kept in #failure and fails every later append; the log line tells why.
      this.#warn(`Background flush of "${this.dir}" failed: ${(err as Error).message}`);
    });
  }

  #markFlushed(offset: number): void {
    if (offset > this.#flushed) this.#flushed = offset;
  }

  /** Group commit: resolves once an fdatasync started after the append covers `offset`. */
  #whenDurable(offset: number): Promise<void> {
    if (this.#flushed >= offset) return Promise.resolve();
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ offset, resolve, reject });
      this.#syncing ??= this.#syncLoop();
    });
  }

  async #syncLoop(): Promise<void> {
    // Each round syncs everything written before it started; appends that arrive during
    // the round wait for the next one. Bounded: a round only runs while waiters remain.
    while (this.#waiters.length > 0 && !this.#failure) {
      // Let every append that is ready to run (the appenders the last round acknowledged,
      // the rest of a burst) write before the round fixes its end. Starting at once synced
      // only the appends made during the previous round: busy appenders split into two
      // cohorts taking turns, halving the batching.
      await nextTurn();
      const seg = this.#active;
      const upTo = seg.nextOffset;
      const older = this.#unsyncedSealed;
      this.#unsyncedSealed = [];
      this.#unflushedBytes = 0;
      this.#cutDuringSync = null;
      try {
        for (const s of [...older, seg]) await this.#syncSegment(s);
        // A truncation while the sync ran may have removed offsets below `upTo`, and appends
        // after it are not covered by this sync; the prefix below the cut is durable (the
        // truncation syncs it), so the flushed end is the lower of the two.
        const cut = this.#cutDuringSync as number | null;
        this.#markFlushed(cut === null ? upTo : Math.min(upTo, cut));
      } catch (err) {
        this.#failure = wrapIoError(`Cannot sync "${seg.logPath}"`, err);
      }
      const pending: SyncWaiter[] = [];
      for (const w of this.#waiters) {
        if (this.#failure) w.reject(this.#failure);
        else if (w.offset <= this.#flushed) w.resolve();
        else pending.push(w);
      }
      this.#waiters = pending;
    }
    this.#syncing = null;
  }

  async #syncSegment(seg: Segment): Promise<void> {
    const fd = this.#pool.pin(seg.logPath);
    const start = this.#clock.monotonicMs();
    try {
      await fdatasync(fd);
    } finally {
      this.#pool.unpin(seg.logPath);
    }
    this.onSyncMs?.(this.#clock.monotonicMs() - start);
  }
}

/** Resolves after pending promise callbacks have run (one turn of the event loop). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Opens the segments with base offsets `bases` (sorted): all but the last sealed, the last
 * recovered (its torn or corrupt tail cut off); creates an empty one at `startOffset` when
 * there is none.
 * @throws {StorageError} when a file cannot be read or a sealed segment is corrupt.
 */
function loadSegments(
  dir: string,
  bases: number[],
  startOffset: number,
  pool: FilePool,
  config: LogConfig,
  now: number,
  warn: (message: string) => void,
): Segment[] {
  const segments: Segment[] = [];
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i] as number;
    const next = bases[i + 1];
    if (next !== undefined) {
      // A segment with a successor is sealed: #roll seals it (data synced, index files
      // written) before the successor is created. Its index is loaded, or rebuilt by a
      // verifying scan when missing or stale, and damage is refused as "corrupt" rather
      // than cut off, which would also discard every later (intact, acknowledged) segment.
      segments.push(Segment.openSealed(dir, base, next, pool, config.indexIntervalBytes, now));
      continue;
    }
    // The last segment may end in a torn or corrupt tail (a crash mid-write): cut it off.
    const { segment, truncated } = Segment.recoverActive(
      dir,
      base,
      pool,
      config.indexIntervalBytes,
      now,
    );
    if (truncated) warn(`Recovered log "${dir}": truncated ${truncated}`);
    segments.push(segment);
  }
  if (segments.length === 0) {
    segments.push(
      Segment.create(dir, startOffset, pool, config.indexIntervalBytes, now),
    );
  }
  return segments;
}

function readLogStart(dir: string): number | null {
  try {
    const text = fs.readFileSync(`${dir}/${LOG_START_FILE}`, "utf8").trim();
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  } catch {
    // No checkpoint yet: the first segment's base is the start.
    return null;
  }
}
