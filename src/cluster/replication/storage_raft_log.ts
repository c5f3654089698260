/**
 * A `RaftLog` over a `PartitionLog`: the consensus core reads the partition's own storage log
 * (DESIGN.md "Consensus and replication": every partition is a Raft group whose log is the
 * partition log, no offset translation). One Raft entry is one stored RecordBatch v2: it
 * covers [baseOffset, baseOffset + lastOffsetDelta] and its term is the batch's
 * partitionLeaderEpoch field, as in KRaft (KIP-595). Entries without client records are
 * control batches: a leader-change batch (control type 2, KRaft's LeaderChangeMessage, the
 * no-op entry of Raft §8) and a voters batch (control type 6, KIP-853's KRaftVoters) whose
 * value is the membership as JSON. They are built deterministically (no timestamp), so every
 * replica stores the same bytes.
 *
 * Kafka's DeleteRecords is an entry too, so every replica deletes the same prefix: a
 * delete-records control batch (a type of our own, `DELETE_RECORDS_CONTROL_TYPE`, whose value
 * is the new log start as an int64), which is data to the consensus core. The log remembers
 * the ones it holds and `applyCommitted` moves the partition log's start once one commits.
 * That start may lie inside a batch, so the Raft log starts at the first stored batch
 * (`storedStartOffset`), not at the Kafka log start; whole segments below are deleted at once.
 *
 * Term lookups never decode records. The log keeps Kafka's leader-epoch cache
 * (KIP-101/KIP-279): the list of (startOffset, term) where the term changes, so its memory
 * is bounded by the number of terms, not batches. It is rebuilt on open by scanning batch
 * headers and checkpointed (atomically) when it changes, so the term just before the log
 * start survives a prefix deletion and a restart (the consistency check of §5.3 at the log
 * start needs it, like a snapshot's last term, §7). Batch boundaries come from the storage
 * index, except for a bounded cache of the most recent entries, where the core's lookups
 * (prevTerm of the next append, lastTerm of a vote) land in steady state.
 *
 * Writes come only from the runtime applying a `Ready` (the core never writes): `append`
 * writes entries at exact offsets, first truncating a conflicting suffix (§5.3); `truncateTo`
 * drops a suffix; `setStart` deletes a prefix or resets the whole log to a leader's log start.
 * This file must not sync on its own: durability is the runtime's call (`flush`).
 */
import {
  ATTR,
  batchSize,
  buildBatch,
  decodeBatch,
  decodeControlRecordKey,
  iterateBatches,
  readBatchHeader,
} from "../../records/mod.ts";
import { type PartitionLog, writeFileAtomic } from "../../storage/mod.ts";
import { entryBytes, type Membership, type RaftLog } from "../../raft/mod.ts";
import type { Entry, EntryPayload } from "../../raft/mod.ts";
import {
  assert,
  FrameDecodeError,
  nodeId,
  type Offset,
  offset,
  StorageError,
  type Term,
  term,
} from "../../util/mod.ts";

/** Control record type of a leader-change batch (KRaft's LEADER_CHANGE). */
export const LEADER_CHANGE_CONTROL_TYPE = 2;
/** Control record type of a membership batch (KIP-853's KRAFT_VOTERS). */
export const VOTERS_CONTROL_TYPE = 6;
/**
 * Control record type of a delete-records batch (DeleteRecords replicated as an entry). Not a
 * Kafka type: clients skip control batches they do not know, as they skip a leader change.
 */
export const DELETE_RECORDS_CONTROL_TYPE = 0x7064;
/** Name of the leader-epoch checkpoint file in the partition directory. */
export const EPOCH_CHECKPOINT_FILE = "raft-epoch-checkpoint";

/** Recent entries kept in memory (count bound of the tail cache). */
const RECENT_ENTRIES_MAX = 1024;
/** Recent entries kept in memory (byte bound of the tail cache). */
const RECENT_BYTES_MAX = 8 * 1024 * 1024;
/** Bytes read per step when scanning or serving entries from disk. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Largest checkpoint file accepted (a few bytes per term). */
const CHECKPOINT_BYTES_MAX = 4 * 1024 * 1024;

/** One leader-epoch cache entry: from `start` on, batches carry `term`. */
export interface TermBoundary {
  readonly start: Offset;
  readonly term: Term;
}

interface Checkpoint {
  readonly logStart: number;
  readonly startTerm: number;
  readonly epochs: ReadonlyArray<readonly [number, number]>;
}

/** The partition log seen as a Raft log (see the file comment). */
export class StorageRaftLog implements RaftLog {
  readonly #log: PartitionLog;
  /** Term changes in ascending start order; covers [startOffset, endOffset). */
  #epochs: TermBoundary[] = [];
  #startTerm: Term;
  /** The log start at which #startTerm was learned. */
  #startAt: number;
  /**
   * The Raft log start last set (`setStart`, or the checkpoint's): entries below it are gone
   * for Raft even where their segment remains. The start is the later of it and the first
   * stored batch, which moves when the partition log deletes whole segments on its own.
   */
  #start: number;
  /** The newest entries, adjacent, ending at endOffset (bounded). */
  #recent: Entry[] = [];
  #recentBytes = 0;
  /** The checkpoint text last written, so an unchanged cache is not rewritten. */
  #written = "";
  /** Batches whose CRC the leader verified when they were proposed (not computed twice). */
  readonly #crcVerified = new WeakSet<Uint8Array>();
  /** Delete-records entries held and not yet applied, in offset order. */
  #deletes: Array<{ readonly at: Offset; readonly before: number }> = [];

  private constructor(log: PartitionLog, start: number, startTerm: Term) {
    this.#log = log;
    this.#start = start;
    this.#startTerm = startTerm;
    this.#startAt = start;
  }

  /**
   * Wraps an open partition log, rebuilding the leader-epoch cache from its batch headers.
   * @throws {StorageError} "corrupt" when the term before a non-zero log start is unknown
   *   (no checkpoint covers it) or stored terms decrease.
   */
  static open(log: PartitionLog): StorageRaftLog {
    const cp = readCheckpoint(log.dir);
    // The checkpoint's start, unless whole segments past it are gone; never past the Kafka
    // log start (a checkpoint written before a crash may lag it, never lead it).
    const start = Math.max(
      log.storedStartOffset,
      Math.min(cp?.logStart ?? 0, log.logStartOffset),
    );
    let startTerm = 0;
    if (start > 0) {
      const known = cp === undefined ? undefined : termBefore(cp, start);
      if (known === undefined) {
        throw new StorageError(
          "corrupt",
          `Cannot open Raft log "${log.dir}": the term before log start "${start}" is unknown`,
        );
      }
      startTerm = known;
    }
    const raftLog = new StorageRaftLog(log, start, term(startTerm));
    raftLog.#scan();
    raftLog.#checkpoint();
    return raftLog;
  }

  /** The underlying partition log (for reads by offset and metrics; writes go through here). */
  get partitionLog(): PartitionLog {
    return this.#log;
  }

  /** The last leader-epoch cache entry: where the newest term held starts (no copy). */
  lastTermBoundary(): TermBoundary | undefined {
    return this.#epochs.at(-1);
  }

  /** The leader-epoch cache (a copy). */
  termBoundaries(): TermBoundary[] {
    return [...this.#epochs];
  }

  startOffset(): Offset {
    return offset(Math.max(this.#start, this.#log.storedStartOffset));
  }

  startTerm(): Term {
    const start = this.startOffset();
    if (start === this.#startAt) return this.#startTerm;
    // The partition log's own retention moved the start (Kafka retention, DeleteRecords):
    // the leader-epoch cache still holds the boundary covering the offset before it.
    const i = floorIndex(this.#epochs, start - 1, (b) => b.start);
    const b = this.#epochs[i];
    assert(b !== undefined && b.start < start, `term before log start ${start} unknown`);
    return b.term;
  }

  endOffset(): Offset {
    return offset(this.#log.logEndOffset);
  }

  /** Offsets below this are synced to disk. */
  get flushedOffset(): Offset {
    return offset(Math.min(this.#log.flushedOffset, this.#log.logEndOffset));
  }

  /** Term of the batch covering `at`, from the leader-epoch cache (no disk read). */
  termAt(at: Offset): Term {
    assert(at >= this.startOffset() && at < this.endOffset(), `offset ${at} not in log`);
    const i = floorIndex(this.#epochs, at, (b) => b.start);
    const b = this.#epochs[i];
    assert(b !== undefined, `no term boundary at or below ${at}`);
    return b.term;
  }

  entryAt(at: Offset): Entry {
    assert(at >= this.startOffset() && at < this.endOffset(), `offset ${at} not in log`);
    const cached = this.#recentAt(at);
    if (cached !== undefined) return cached;
    const first = this.#readFrom(at, 1)[0];
    assert(first !== undefined && first.base <= at && at <= first.last, `no batch covers ${at}`);
    return first;
  }

  entries(from: Offset, maxBytes: number): Entry[] {
    assert(from >= this.startOffset() && from < this.endOffset(), `offset ${from} not in log`);
    const out: Entry[] = [];
    let bytes = 0;
    let at = from;
    const end = this.endOffset();
    // Bounded: every round adds at least one entry (advancing `at`) or stops.
    while (at < end) {
      const cached = this.#recentAt(at);
      const batch = cached !== undefined ? [cached] : this.#readFrom(at, maxBytes - bytes);
      if (batch.length === 0) break;
      for (const entry of batch) {
        bytes += entryBytes(entry);
        if (out.length > 0 && bytes > maxBytes) return out;
        out.push(entry);
        at = offset(entry.last + 1);
      }
    }
    return out;
  }

  /**
   * Writes entries at their exact offsets, first removing any held entries at or after
   * `entries[0].base` (the suffix a new leader overwrote, §5.3). Data batches must already
   * carry their base offset and term; they are stored untouched.
   * @throws {StorageError} when the partition log refuses a write.
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const end = this.endOffset();
    assert(
      first.base >= this.startOffset() && first.base <= end,
      `append base ${first.base} outside [${this.startOffset()}, ${end}]`,
    );
    if (first.base < end) {
      assert(this.entryAt(first.base).base === first.base, `append base ${first.base} mid-entry`);
      this.truncateTo(first.base);
    }
    for (const entry of entries) this.#appendOne(entry);
    this.#checkpoint();
  }

  #appendOne(entry: Entry): void {
    assert(entry.base === this.endOffset(), "appended entries not adjacent");
    assert(entry.last >= entry.base, `entry last ${entry.last} below base ${entry.base}`);
    const tail = this.#epochs.at(-1);
    const prevTerm = tail?.term ?? this.#startTerm;
    assert(entry.term >= prevTerm, `term ${entry.term} after term ${prevTerm}`);
    const bytes = batchFor(entry);
    const h = readBatchHeader(bytes);
    assert(
      h.baseOffset === entry.base && h.lastOffsetDelta === entry.last - entry.base &&
        h.partitionLeaderEpoch === entry.term,
      `batch header (${h.baseOffset}, +${h.lastOffsetDelta}, term ${h.partitionLeaderEpoch}) does not match entry [${entry.base}, ${entry.last}] term ${entry.term}`,
    );
    if ((h.attributes & ATTR.control) !== 0) this.#noteDelete(entry.base, bytes);
    let failure: unknown;
    const done = this.#log.append(bytes, {
      expectedBaseOffset: entry.base,
      waitForSync: false,
      crcVerified: this.#crcVerified.has(bytes),
    });
    // Without waitForSync the promise settles at once; a refused write leaves the end put.
    done.catch((err: unknown) => (failure = err));
    if (this.#log.logEndOffset !== entry.last + 1) {
      throw new StorageError("io", `Cannot append entry at "${entry.base}" to "${this.#log.dir}"`, {
        cause: failure,
      });
    }
    if (tail === undefined || tail.term !== entry.term) {
      this.#epochs.push({ start: entry.base, term: entry.term });
    }
    this.#remember(entry);
  }

  /** Removes entries at or after `end`, an entry boundary (§5.3 conflict, or crash loss). */
  truncateTo(end: Offset): void {
    if (end >= this.endOffset()) return;
    assert(end >= this.startOffset(), `truncate to ${end} below log start ${this.startOffset()}`);
    assert(this.entryAt(end).base === end, `truncate point ${end} mid-entry`);
    this.#log.truncateTo(end);
    while ((this.#deletes.at(-1)?.at ?? -1) >= end) this.#deletes.pop();
    while ((this.#epochs.at(-1)?.start ?? -1) >= end) this.#epochs.pop();
    while ((this.#recent.at(-1)?.base ?? -1) >= end) {
      const gone = this.#recent.pop();
      if (gone !== undefined) this.#recentBytes -= entryBytes(gone);
    }
    this.#checkpoint();
  }

  /**
   * Moves the log start to `start` (whose preceding entry has `startTerm`). With `discard`
   * (or a start at or past the end) the whole log is reset to start empty there (a follower
   * behind its leader's log start, §7); otherwise only the prefix goes (retention).
   */
  setStart(start: Offset, startTerm: Term, discard: boolean): void {
    if (discard || start >= this.endOffset()) {
      this.#log.reset(start);
      this.#deletes = [];
      this.#epochs = [];
      this.#recent = [];
      this.#recentBytes = 0;
    } else {
      assert(start >= this.startOffset(), `log start ${start} moves back`);
      if (start === this.startOffset()) return;
      assert(this.entryAt(start).base === start, `log start ${start} mid-entry`);
      const covering = this.termAt(start);
      // Entries below the start are committed (§7): apply the deletions they hold first.
      this.#applyDeletes(start);
      this.#log.deleteRecordsBefore(start);
      // Keep the boundaries at or after the new start, and one at the start itself.
      this.#epochs = this.#epochs.filter((b) => b.start > start);
      this.#epochs.unshift({ start, term: covering });
      while ((this.#recent[0]?.base ?? Infinity) < start) {
        const gone = this.#recent.shift();
        if (gone !== undefined) this.#recentBytes -= entryBytes(gone);
      }
    }
    this.#start = start;
    this.#startTerm = startTerm;
    this.#startAt = start;
    this.#checkpoint();
  }

  /**
   * Applies the delete-records entries below `commit` (committed): the partition log's start
   * moves to each one's offset, and segments wholly below it are deleted. Returns whether
   * the Kafka log start moved. Applying one again (after a restart) changes nothing.
   */
  applyCommitted(commit: Offset): boolean {
    if (this.#deletes.length === 0 || (this.#deletes[0] as { at: Offset }).at >= commit) {
      return false;
    }
    const before = this.#log.logStartOffset;
    this.#applyDeletes(commit);
    return this.#log.logStartOffset !== before;
  }

  #applyDeletes(below: Offset): void {
    let done = 0;
    for (const d of this.#deletes) {
      if (d.at >= below) break;
      this.#log.deleteRecordsBefore(Math.min(d.before, d.at));
      done++;
    }
    if (done > 0) this.#deletes.splice(0, done);
  }

  /** Remembers a delete-records entry at `at` (a control batch of that type). */
  #noteDelete(at: Offset, bytes: Uint8Array): void {
    const before = deleteRecordsTarget(bytes);
    if (before !== undefined) this.#deletes.push({ at, before });
  }

  /**
   * Notes that `bytes` (a proposal's own copy) passed its CRC check, so appending it as an
   * entry does not compute the CRC again. Other bytes (a follower's) are always checked.
   */
  markCrcVerified(bytes: Uint8Array): void {
    this.#crcVerified.add(bytes);
  }

  /** Syncs everything written so far (group commit in the partition log). */
  flush(): Promise<void> {
    return this.#log.flush();
  }

  #recentAt(at: Offset): Entry | undefined {
    const r = this.#recent;
    const head = r[0];
    if (head === undefined || at < head.base) return undefined;
    return r[floorIndex(r, at, (e) => e.base)];
  }

  #remember(entry: Entry): void {
    const p = entry.payload;
    // A follower's batches are views into the transport's read chunks; keeping one would
    // keep its whole chunk alive, so the cache holds a copy of such views.
    if (p.type === "data" && p.bytes.byteLength !== p.bytes.buffer.byteLength) {
      entry = { ...entry, payload: { type: "data", bytes: p.bytes.slice() } };
    }
    this.#recent.push(entry);
    this.#recentBytes += entryBytes(entry);
    while (
      this.#recent.length > RECENT_ENTRIES_MAX ||
      (this.#recent.length > 1 && this.#recentBytes > RECENT_BYTES_MAX)
    ) {
      const gone = this.#recent.shift();
      if (gone !== undefined) this.#recentBytes -= entryBytes(gone);
    }
  }

  /** Entries read from disk starting with the batch covering `at` (at least one). */
  #readFrom(at: Offset, maxBytes: number): Entry[] {
    const r = this.#log.read(at, Math.max(1, Math.min(maxBytes, READ_CHUNK_BYTES)), {
      minOneBatch: true,
      belowLogStart: true,
    });
    assert(r.type === "ok", `offset ${at} out of the partition log's range`);
    const out: Entry[] = [];
    for (const frame of iterateBatches(r.bytes)) out.push(entryOf(frame.bytes));
    return out;
  }

  /** Rebuilds the leader-epoch cache from the stored batch headers (once, at open). */
  #scan(): void {
    let at: number = this.startOffset();
    const end = this.#log.logEndOffset;
    let last = this.#startTerm;
    // Bounded: every round advances `at` by at least one batch.
    while (at < end) {
      const r = this.#log.read(at, READ_CHUNK_BYTES, { minOneBatch: true, belowLogStart: true });
      assert(r.type === "ok" && r.nextOffset > at, `cannot scan the log at ${at}`);
      for (const { header: h, bytes } of iterateBatches(r.bytes)) {
        if ((h.attributes & ATTR.control) !== 0) this.#noteDelete(offset(h.baseOffset), bytes);
        const t = h.partitionLeaderEpoch;
        if (t < last) {
          throw new StorageError(
            "corrupt",
            `Cannot open Raft log "${this.#log.dir}": term "${t}" at offset "${h.baseOffset}" follows term "${last}"`,
          );
        }
        if (this.#epochs.length === 0 || t !== last) {
          this.#epochs.push({ start: offset(h.baseOffset), term: term(t) });
        }
        last = term(t);
      }
      at = r.nextOffset;
    }
  }

  /** Writes the leader-epoch checkpoint when it changed (KIP-101's leader-epoch-checkpoint). */
  #checkpoint(): void {
    const cp: Checkpoint = {
      logStart: this.startOffset(),
      startTerm: this.startTerm(),
      epochs: this.#epochs.map((b) => [b.start, b.term] as const),
    };
    const text = JSON.stringify(cp);
    if (text === this.#written) return;
    writeFileAtomic(this.#log.dir, EPOCH_CHECKPOINT_FILE, new TextEncoder().encode(text));
    this.#written = text;
  }
}

/** The stored bytes of an entry: a data batch as is, a control batch built for the others. */
export function batchFor(entry: Entry): Uint8Array {
  const p = entry.payload;
  if (p.type === "data") return p.bytes;
  const key = new Uint8Array(4);
  const dv = new DataView(key.buffer);
  dv.setInt16(0, 0);
  dv.setInt16(2, p.type === "leaderChange" ? LEADER_CHANGE_CONTROL_TYPE : VOTERS_CONTROL_TYPE);
  const value = p.type === "config"
    ? new TextEncoder().encode(JSON.stringify(membershipJson(p.membership)))
    : new Uint8Array(0);
  assert(entry.last === entry.base, "control entries cover one offset");
  return buildBatch({
    records: [{ key, value, timestampMs: 0 }],
    baseOffset: entry.base,
    isControl: true,
    partitionLeaderEpoch: entry.term,
    baseTimestampMs: 0,
  });
}

/**
 * A delete-records control batch (see the file comment): the leader proposes it, and every
 * replica moves its log start to `before` once it commits. Base offset and term are stamped
 * by the proposal.
 */
export function deleteRecordsBatch(before: number): Uint8Array {
  assert(Number.isSafeInteger(before) && before >= 0, "delete-records target is an offset");
  const key = new Uint8Array(4);
  const kv = new DataView(key.buffer);
  kv.setInt16(0, 0);
  kv.setInt16(2, DELETE_RECORDS_CONTROL_TYPE);
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigInt64(0, BigInt(before));
  return buildBatch({
    records: [{ key, value, timestampMs: 0 }],
    baseOffset: 0,
    isControl: true,
    baseTimestampMs: 0,
  });
}

/** The target of a delete-records control batch, or undefined for any other batch. */
export function deleteRecordsTarget(bytes: Uint8Array): number | undefined {
  const h = readBatchHeader(bytes);
  if ((h.attributes & ATTR.control) === 0 || h.recordCount !== 1) return undefined;
  let record: ReturnType<typeof decodeBatch>["records"][number] | undefined;
  try {
    record = decodeBatch(bytes).records[0];
    const key = decodeControlRecordKey(record?.key ?? null);
    if (key.typeId !== DELETE_RECORDS_CONTROL_TYPE) return undefined;
  } catch (err) {
    // A control batch of another kind that does not decode is not a deletion.
    if (err instanceof FrameDecodeError) return undefined;
    throw err;
  }
  if (record?.value?.length !== 8) return undefined;
  const before = new DataView(record.value.buffer, record.value.byteOffset, 8).getBigInt64(0);
  return before >= 0n && before <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(before) : undefined;
}

/** The entry a stored batch represents (the inverse of `batchFor`). */
export function entryOf(bytes: Uint8Array): Entry {
  const h = readBatchHeader(bytes);
  assert(batchSize(h) === bytes.length, "entry bytes hold exactly one batch");
  const base = offset(h.baseOffset);
  const last = offset(h.baseOffset + h.lastOffsetDelta);
  const t = term(Math.max(0, h.partitionLeaderEpoch));
  return { base, last, term: t, payload: payloadOf(bytes, h.attributes) };
}

function payloadOf(bytes: Uint8Array, attributes: number): EntryPayload {
  if ((attributes & ATTR.control) === 0) return { type: "data", bytes };
  const record = decodeBatch(bytes).records[0];
  const key = decodeControlRecordKey(record?.key ?? null);
  if (key.typeId === LEADER_CHANGE_CONTROL_TYPE) return { type: "leaderChange" };
  if (key.typeId === VOTERS_CONTROL_TYPE && record?.value) {
    return { type: "config", membership: parseMembership(record.value) };
  }
  // Other control batches (transaction markers) are data to Raft.
  return { type: "data", bytes };
}

function membershipJson(m: Membership): Record<string, unknown> {
  return {
    voters: [...m.voters],
    learners: [...m.learners],
    w: m.replicationQuorum ?? null,
    e: m.electionQuorum ?? null,
  };
}

function parseMembership(value: Uint8Array): Membership {
  const j: unknown = JSON.parse(new TextDecoder().decode(value));
  assert(typeof j === "object" && j !== null, "voters record is an object");
  const o = j as Record<string, unknown>;
  const ids = (v: unknown) => {
    assert(Array.isArray(v), "voters record lists ids");
    return v.map((n: unknown) => nodeId(Number(n)));
  };
  return {
    voters: ids(o.voters),
    learners: ids(o.learners),
    ...(typeof o.w === "number" ? { replicationQuorum: o.w } : {}),
    ...(typeof o.e === "number" ? { electionQuorum: o.e } : {}),
  };
}

/** Index of the last element whose key is <= at (elements sorted by key, non-empty). */
function floorIndex<T>(list: readonly T[], at: number, keyOf: (item: T) => number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const item = list[mid];
    const s = item === undefined ? Infinity : keyOf(item);
    if (s <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The term of the entry just before `start` according to a checkpoint, if it knows. */
function termBefore(cp: Checkpoint, start: number): number | undefined {
  if (cp.logStart === start) return cp.startTerm;
  let found: number | undefined;
  for (const [s, t] of cp.epochs) if (s < start) found = t;
  return found;
}

function readCheckpoint(dir: string): Checkpoint | undefined {
  let text: string;
  try {
    const bytes = Deno.readFileSync(`${dir}/${EPOCH_CHECKPOINT_FILE}`);
    if (bytes.length > CHECKPOINT_BYTES_MAX) return undefined;
    text = new TextDecoder().decode(bytes);
  } catch (err) {
    // No checkpoint yet (a new log): the scan alone rebuilds the cache.
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new StorageError("io", `Cannot read "${dir}/${EPOCH_CHECKPOINT_FILE}"`, { cause: err });
  }
  const j: unknown = JSON.parse(text);
  assert(typeof j === "object" && j !== null, "epoch checkpoint is an object");
  const o = j as Record<string, unknown>;
  const epochs = Array.isArray(o.epochs)
    ? o.epochs.map((p: unknown) => {
      assert(Array.isArray(p) && p.length === 2, "epoch checkpoint pairs");
      return [Number(p[0]), Number(p[1])] as const;
    })
    : [];
  return { logStart: Number(o.logStart), startTerm: Number(o.startTerm), epochs };
}
