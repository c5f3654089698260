/**
 * An in-memory `RaftLog`, used by tests, the simulator and the benchmark. It keeps the
 * invariants every log implementation must keep: entries are adjacent (each base is the
 * previous last + 1), they cover exactly [startOffset, endOffset), and an append may only
 * replace a suffix starting at an entry boundary.
 */
import { assert, type Offset, offset, type Term, term } from "../util/mod.ts";
import { type Entry, entryBytes } from "./entry.ts";
import type { RaftLog } from "./raft_log.ts";

/** A `RaftLog` held in an array. */
export class MemoryLog implements RaftLog {
  #entries: Entry[] = [];
  #start: Offset;
  #startTerm: Term;

  constructor(start: Offset = offset(0), startTerm: Term = term(0)) {
    this.#start = start;
    this.#startTerm = startTerm;
  }

  startOffset(): Offset {
    return this.#start;
  }

  startTerm(): Term {
    return this.#startTerm;
  }

  endOffset(): Offset {
    const tail = this.#entries.at(-1);
    return tail === undefined ? this.#start : offset(tail.last + 1);
  }

  /** Number of entries held. */
  get length(): number {
    return this.#entries.length;
  }

  entryAt(at: Offset): Entry {
    return this.#entryOrThrow(this.#indexOf(at));
  }

  entries(from: Offset, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = this.#indexOf(from); i < this.#entries.length; i++) {
      const entry = this.#entryOrThrow(i);
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /** All entries, oldest first (a copy). */
  all(): Entry[] {
    return [...this.#entries];
  }

  /**
   * Appends entries, first removing any held entries at or after `entries[0].base`
   * (the suffix a leader overwrote, §5.3).
   */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(
      first.base >= this.#start && first.base <= this.endOffset(),
      `append base ${first.base} outside [${this.#start}, ${this.endOffset()}]`,
    );
    if (first.base < this.endOffset()) {
      const i = this.#indexOf(first.base);
      assert(this.#entryOrThrow(i).base === first.base, `append base ${first.base} mid-entry`);
      this.#entries.length = i;
    }
    let expected = first.base;
    for (const entry of entries) {
      assert(entry.base === expected && entry.last >= entry.base, "appended entries not adjacent");
      this.#entries.push(entry);
      expected = offset(entry.last + 1);
    }
  }

  /** Removes entries at or after `end`, which must be an entry boundary (crash loss). */
  truncateTo(end: Offset): void {
    if (end >= this.endOffset()) return;
    assert(end >= this.#start, `truncate to ${end} below log start ${this.#start}`);
    const i = this.#indexOf(end);
    assert(this.#entryOrThrow(i).base === end, `truncate point ${end} mid-entry`);
    this.#entries.length = i;
  }

  /**
   * Moves the log start to `start`. With `discard` every entry goes (a follower reset to
   * its leader's log start); otherwise only entries before `start` go (retention).
   */
  setStart(start: Offset, startTerm: Term, discard: boolean): void {
    if (discard || start >= this.endOffset()) {
      this.#entries = [];
    } else {
      assert(start >= this.#start, `log start ${start} moves back from ${this.#start}`);
      if (start > this.#start) {
        const i = this.#indexOf(start);
        assert(this.#entryOrThrow(i).base === start, `log start ${start} mid-entry`);
        this.#entries = this.#entries.slice(i);
      }
    }
    this.#start = start;
    this.#startTerm = startTerm;
  }

  /** Index of the entry covering `at` (binary search). */
  #indexOf(at: Offset): number {
    assert(at >= this.#start && at < this.endOffset(), `offset ${at} not in log`);
    let lo = 0;
    let hi = this.#entries.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#entryOrThrow(mid).base <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #entryOrThrow(i: number): Entry {
    const entry = this.#entries[i];
    assert(entry !== undefined, `entry index ${i} out of range`);
    return entry;
  }
}
