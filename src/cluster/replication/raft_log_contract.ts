/**
 * The behaviour every writable `RaftLog` must show, as one suite run against `MemoryLog`
 * and `StorageRaftLog` (hono-style contract tests, STYLE.md "Testing"). It checks the
 * invariants the consensus core relies on: adjacent entries covering exactly
 * [startOffset, endOffset) (Raft §5.3's Log Matching needs positions to be stable), suffix
 * replacement only at entry boundaries, a log start after offset 0 with the term before it
 * (§7), and a reset to a leader's log start. Imported by tests only.
 */
import assert from "node:assert/strict";
import { buildBatch } from "../../records/mod.ts";
import type { Entry, Membership, RaftLog } from "../../raft/mod.ts";
import { nodeId, type Offset, offset, type Term, term } from "../../util/mod.ts";

/** A `RaftLog` with the write operations a runtime applies from `Ready`. */
export interface WritableRaftLog extends RaftLog {
  append(entries: readonly Entry[]): void;
  truncateTo(end: Offset): void;
  setStart(start: Offset, startTerm: Term, discard: boolean): void;
}

/** Makes a fresh empty log; `close` releases it. */
export type LogFactory = () => Promise<{ log: WritableRaftLog; close: () => Promise<void> }>;

/** A data entry of `count` records at `base` whose batch bytes carry the offset and term. */
export function dataEntry(base: number, count: number, t: number): Entry {
  const value = new TextEncoder().encode(`v${base}`);
  const bytes = buildBatch({
    records: Array.from({ length: count }, () => ({ value, timestampMs: 1_700_000_000_000 })),
    baseOffset: base,
    partitionLeaderEpoch: t,
  });
  return {
    base: offset(base),
    last: offset(base + count - 1),
    term: term(t),
    payload: { type: "data", bytes },
  };
}

/** A leader-change (no-op) entry. */
export function leaderChangeEntry(base: number, t: number): Entry {
  return {
    base: offset(base),
    last: offset(base),
    term: term(t),
    payload: { type: "leaderChange" },
  };
}

/** A configuration entry. */
export function configEntry(base: number, t: number, voters: number[]): Entry {
  const membership: Membership = { voters: voters.map(nodeId), learners: [] };
  return {
    base: offset(base),
    last: offset(base),
    term: term(t),
    payload: { type: "config", membership },
  };
}

/** Registers the contract suite for `name`. */
export function raftLogContract(name: string, factory: LogFactory): void {
  const test = (what: string, fn: (log: WritableRaftLog) => void) =>
    Deno.test(`${name} (RaftLog contract) ${what}`, async () => {
      const { log, close } = await factory();
      try {
        fn(log);
      } finally {
        await close();
      }
    });

  test("appends adjacent batches and finds the entry covering an offset", (log) => {
    assert.equal(log.startOffset(), 0);
    assert.equal(log.endOffset(), 0);
    log.append([dataEntry(0, 5, 1), leaderChangeEntry(5, 1), dataEntry(6, 4, 2)]);
    assert.equal(log.endOffset(), 10);
    assert.equal(log.entryAt(offset(3)).base, 0);
    assert.equal(log.entryAt(offset(3)).last, 4);
    assert.equal(log.entryAt(offset(5)).payload.type, "leaderChange");
    assert.equal(log.entryAt(offset(7)).term, 2);
    assert.deepEqual(log.entries(offset(5), 1 << 20).map((e) => e.base), [5, 6]);
    assert.deepEqual(log.entries(offset(2), 1 << 20).map((e) => e.base), [0, 5, 6]);
    // A byte budget below one entry still returns one entry.
    assert.equal(log.entries(offset(0), 1).length, 1);
  });

  test("keeps data bytes and configuration entries intact", (log) => {
    const d = dataEntry(0, 3, 1);
    log.append([d, configEntry(3, 1, [1, 2, 3])]);
    const got = log.entryAt(offset(1));
    assert.equal(got.payload.type, "data");
    assert.equal(d.payload.type, "data");
    if (got.payload.type === "data" && d.payload.type === "data") {
      assert.deepEqual([...got.payload.bytes], [...d.payload.bytes]);
    }
    const c = log.entryAt(offset(3)).payload;
    assert.equal(c.type, "config");
    if (c.type === "config") assert.deepEqual(c.membership.voters, [1, 2, 3]);
  });

  test("append replaces a suffix at an entry boundary and refuses gaps", (log) => {
    log.append([dataEntry(0, 5, 1), dataEntry(5, 5, 1)]);
    log.append([dataEntry(5, 2, 2)]);
    assert.equal(log.endOffset(), 7);
    assert.equal(log.entryAt(offset(6)).term, 2);
    assert.throws(() => log.append([dataEntry(9, 1, 2)]), /outside/);
    assert.throws(() => log.append([dataEntry(3, 1, 2)]), /mid-entry/);
  });

  test("truncateTo drops a suffix (crash loss of unsynced writes)", (log) => {
    log.append([dataEntry(0, 5, 1), dataEntry(5, 5, 2)]);
    log.truncateTo(offset(5));
    assert.equal(log.endOffset(), 5);
    assert.equal(log.entryAt(offset(4)).term, 1);
    assert.throws(() => log.truncateTo(offset(2)), /mid-entry/);
    log.append([dataEntry(5, 1, 3)]);
    assert.equal(log.entryAt(offset(5)).term, 3);
  });

  test("moves its start, keeping the term before it, and resets to a later start", (log) => {
    log.append([dataEntry(0, 10, 3), dataEntry(10, 10, 4)]);
    log.setStart(offset(10), term(3), false);
    assert.equal(log.startOffset(), 10);
    assert.equal(log.startTerm(), 3);
    assert.equal(log.entryAt(offset(12)).term, 4);
    assert.throws(() => log.entryAt(offset(5)), /not in log/);
    log.setStart(offset(200), term(5), true);
    assert.equal(log.startOffset(), 200);
    assert.equal(log.startTerm(), 5);
    assert.equal(log.endOffset(), 200);
    assert.throws(() => log.entryAt(offset(10)), /not in log/);
    log.append([dataEntry(200, 2, 6)]);
    assert.equal(log.endOffset(), 202);
    assert.equal(log.entryAt(offset(201)).term, 6);
  });
}
