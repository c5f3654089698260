/** Tests of MemoryLog, the in-memory RaftLog. */
import assert from "node:assert/strict";
import { offset, term } from "../util/mod.ts";
import type { Entry } from "./entry.ts";
import { MemoryLog } from "./memory_log.ts";

function entry(base: number, last: number, t: number): Entry {
  return {
    base: offset(base),
    last: offset(last),
    term: term(t),
    payload: { type: "leaderChange" },
  };
}

Deno.test("MemoryLog appends adjacent batches and finds the entry covering an offset", () => {
  const log = new MemoryLog();
  log.append([entry(0, 4, 1), entry(5, 5, 1), entry(6, 9, 2)]);
  assert.equal(log.startOffset(), 0);
  assert.equal(log.endOffset(), 10);
  assert.equal(log.entryAt(offset(3)).base, 0);
  assert.equal(log.entryAt(offset(7)).term, 2);
  assert.deepEqual(log.entries(offset(5), 1 << 20).map((e) => e.base), [5, 6]);
  // A byte budget below one entry still returns one entry.
  assert.equal(log.entries(offset(0), 1).length, 1);
});

Deno.test("MemoryLog append replaces a suffix at an entry boundary and refuses gaps", () => {
  const log = new MemoryLog();
  log.append([entry(0, 4, 1), entry(5, 9, 1)]);
  log.append([entry(5, 6, 2)]);
  assert.equal(log.endOffset(), 7);
  assert.equal(log.entryAt(offset(6)).term, 2);
  assert.throws(() => log.append([entry(9, 9, 2)]), /outside/);
  assert.throws(() => log.append([entry(3, 3, 2)]), /mid-entry/);
});

Deno.test("MemoryLog can start after offset 0, move its start and reset", () => {
  const log = new MemoryLog(offset(100), term(3));
  assert.equal(log.endOffset(), 100);
  log.append([entry(100, 109, 3), entry(110, 119, 4)]);
  log.setStart(offset(110), term(3), false);
  assert.equal(log.startOffset(), 110);
  assert.equal(log.startTerm(), 3);
  assert.equal(log.length, 1);
  log.setStart(offset(200), term(5), true);
  assert.equal(log.startOffset(), 200);
  assert.equal(log.endOffset(), 200);
  assert.throws(() => log.entryAt(offset(110)), /not in log/);
});

Deno.test("MemoryLog truncateTo drops a suffix (crash loss of unsynced writes)", () => {
  const log = new MemoryLog();
  log.append([entry(0, 4, 1), entry(5, 9, 1)]);
  log.truncateTo(offset(5));
  assert.equal(log.endOffset(), 5);
  assert.throws(() => log.truncateTo(offset(2)), /mid-entry/);
});
