/**
 * The core's view of its log: the runtime's stored log (read only) overlaid with entries
 * not yet handed to the runtime (etcd raft's "unstable" log), a pending change of the log
 * start, and the history of configuration entries (a server uses the latest configuration
 * in its log, committed or not: thesis §4.1). Private to src/raft.
 *
 * Invariants: entries are adjacent; unstable entries hide stored entries at or after the
 * first unstable base (they are the leader's overwrite of a conflicting suffix, §5.3);
 * configuration history only holds entries present in the view.
 */
import { assert, type Offset, offset, type Term, term } from "../util/mod.ts";
import { type Entry, entryBytes } from "./entry.ts";
import type { Membership } from "./membership.ts";
import type { RaftLog } from "./raft_log.ts";

/** A change of the log start the runtime must apply (see `Ready.logStart`). */
export interface LogStart {
  readonly offset: Offset;
  readonly term: Term;
  /** The configuration in force at the log start; the runtime persists it. */
  readonly membership: Membership;
  /** True: drop every entry (reset to the leader's start); false: drop the prefix only. */
  readonly discard: boolean;
}

/** Bound on entries scanned when rebuilding configuration history at start-up. */
const SCAN_BATCH_BYTES = 1 << 20;

/** Stored log + unstable suffix + configuration history. */
export class LogView {
  readonly #stable: RaftLog;
  #unstable: Entry[] = [];
  #pendingStart: LogStart | undefined;
  #startMembership: Membership;
  #configs: Array<{ base: Offset; membership: Membership }> = [];

  constructor(stable: RaftLog, startMembership: Membership) {
    this.#stable = stable;
    this.#startMembership = startMembership;
    // Rebuild configuration history from stored config entries (run once at start-up).
    let at = stable.startOffset();
    const end = stable.endOffset();
    while (at < end) {
      const batch = stable.entries(at, SCAN_BATCH_BYTES);
      for (const entry of batch) this.#noteConfig(entry);
      const tail = batch.at(-1);
      assert(tail !== undefined, "log returned no entries below its end");
      at = offset(tail.last + 1);
    }
  }

  start(): Offset {
    return this.#pendingStart?.offset ?? this.#stable.startOffset();
  }

  startTerm(): Term {
    return this.#pendingStart?.term ?? this.#stable.startTerm();
  }

  end(): Offset {
    const tail = this.#unstable.at(-1);
    if (tail !== undefined) return offset(tail.last + 1);
    if (this.#pendingStart?.discard === true) return this.#pendingStart.offset;
    return this.#stable.endOffset();
  }

  /** Term of the last entry (or of the log start when empty), for §5.4.1. */
  lastTerm(): Term {
    return this.termBefore(this.end());
  }

  /** Term of the entry just before `next` (the AppendEntries prevLogTerm). */
  termBefore(next: Offset): Term {
    if (next === this.start()) return this.startTerm();
    if (next === 0) return term(0);
    return this.entryAt(offset(next - 1)).term;
  }

  entryAt(at: Offset): Entry {
    assert(at >= this.start() && at < this.end(), `offset ${at} outside the log`);
    const first = this.#unstable[0];
    if (first !== undefined && at >= first.base) {
      return this.#unstableAt(at);
    }
    return this.#stable.entryAt(at);
  }

  /** Entries from the one covering `from`, limited by `maxBytes` (at least one). */
  entries(from: Offset, maxBytes: number): Entry[] {
    const end = this.end();
    if (from >= end) return [];
    const first = this.#unstable[0];
    let out: Entry[];
    if (first === undefined || from < first.base) {
      out = this.#stable.entries(from, maxBytes).filter((e) =>
        first === undefined || e.base < first.base
      );
      const tail = out.at(-1);
      const nextBase = tail === undefined ? from : offset(tail.last + 1);
      if (first !== undefined && nextBase === first.base) {
        let bytes = out.reduce((sum, e) => sum + entryBytes(e), 0);
        for (const entry of this.#unstable) {
          bytes += entryBytes(entry);
          if (bytes > maxBytes) break;
          out.push(entry);
        }
      }
    } else {
      out = [];
      let bytes = 0;
      for (const entry of this.#unstable) {
        if (entry.last < from) continue;
        bytes += entryBytes(entry);
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(entry);
      }
    }
    return out;
  }

  /** Appends entries, overwriting any suffix from `entries[0].base` (§5.3). */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const end = this.end();
    assert(first.base >= this.start() && first.base <= end, `append at ${first.base} not in log`);
    if (first.base < end) {
      assert(this.entryAt(first.base).base === first.base, `append at ${first.base} mid-entry`);
    }
    const unstableFirst = this.#unstable[0];
    if (unstableFirst !== undefined && first.base >= unstableFirst.base) {
      this.#unstable = this.#unstable.filter((e) => e.base < first.base);
    } else {
      this.#unstable = [];
    }
    this.#configs = this.#configs.filter((c) => c.base < first.base);
    let expected = first.base;
    for (const entry of entries) {
      assert(entry.base === expected && entry.last >= entry.base, "entries not adjacent");
      this.#unstable.push(entry);
      this.#noteConfig(entry);
      expected = offset(entry.last + 1);
    }
  }

  /** Entries the runtime has not stored yet. */
  unstableEntries(): readonly Entry[] {
    return this.#unstable;
  }

  pendingStart(): LogStart | undefined {
    return this.#pendingStart;
  }

  /** The runtime stored the unstable entries and applied the pending start. */
  markStored(): void {
    this.#unstable = [];
    this.#pendingStart = undefined;
  }

  /** Resets the log to an empty one starting at `start` (installSnapshot, §7). */
  reset(start: Offset, startTerm: Term, membership: Membership): void {
    this.#unstable = [];
    this.#configs = [];
    this.#startMembership = membership;
    this.#pendingStart = { offset: start, term: startTerm, membership, discard: true };
  }

  /** Drops entries before `start` (which must be a boundary of committed entries). */
  compact(start: Offset): void {
    assert(start > this.start() && start <= this.end(), `cannot compact to ${start}`);
    if (start < this.end()) {
      assert(this.entryAt(start).base === start, `compaction point ${start} mid-entry`);
    }
    const startTerm = this.termBefore(start);
    const membership = this.membershipAt(start);
    this.#configs = this.#configs.filter((c) => c.base >= start);
    this.#startMembership = membership;
    const discard = this.#pendingStart?.discard === true;
    this.#pendingStart = { offset: start, term: startTerm, membership, discard };
  }

  /** The configuration in force (the latest in the log). */
  membership(): Membership {
    return this.#configs.at(-1)?.membership ?? this.#startMembership;
  }

  /** Base of the latest configuration entry, if one is in the log. */
  latestConfigBase(): Offset | undefined {
    return this.#configs.at(-1)?.base;
  }

  /** The configuration in force for entries before `next`. */
  membershipAt(next: Offset): Membership {
    let found = this.#startMembership;
    for (const c of this.#configs) {
      if (c.base < next) found = c.membership;
    }
    return found;
  }

  #noteConfig(entry: Entry): void {
    if (entry.payload.type === "config") {
      this.#configs.push({ base: entry.base, membership: entry.payload.membership });
    }
  }

  #unstableAt(at: Offset): Entry {
    let lo = 0;
    let hi = this.#unstable.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const e = this.#unstable[mid];
      assert(e !== undefined, "unstable index out of range");
      if (e.base <= at) lo = mid;
      else hi = mid - 1;
    }
    const entry = this.#unstable[lo];
    assert(entry !== undefined && entry.base <= at && at <= entry.last, `no entry at ${at}`);
    return entry;
  }
}
