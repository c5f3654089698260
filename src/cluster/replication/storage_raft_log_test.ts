/** Tests of StorageRaftLog: the RaftLog contract (shared with MemoryLog) and restarts. */
import assert from "node:assert/strict";
import { MemoryLog } from "../../raft/mod.ts";
import { PartitionLog } from "../../storage/mod.ts";
import { setBaseOffset, setPartitionLeaderEpoch } from "../../records/mod.ts";
import { offset, term } from "../../util/mod.ts";
import { dataEntry, leaderChangeEntry, raftLogContract } from "./raft_log_contract.ts";
import {
  batchFor,
  deleteRecordsBatch,
  deleteRecordsTarget,
  entryOf,
  EPOCH_CHECKPOINT_FILE,
  StorageRaftLog,
} from "./storage_raft_log.ts";

raftLogContract("MemoryLog", () => {
  const log = new MemoryLog();
  return Promise.resolve({ log, close: () => Promise.resolve() });
});

raftLogContract("StorageRaftLog", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  const partition = PartitionLog.open(dir, { config: { fsync: "never" } });
  const log = StorageRaftLog.open(partition);
  return {
    log,
    close: async () => {
      await partition.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
});

Deno.test("StorageRaftLog rebuilds terms and the term before its start after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  try {
    let partition = PartitionLog.open(dir, { config: { fsync: "never", segmentBytes: 1024 } });
    let log = StorageRaftLog.open(partition);
    // Enough entries to roll segments, so a prefix deletion removes whole files.
    const entries = [leaderChangeEntry(0, 1)];
    for (let i = 0; i < 40; i++) entries.push(dataEntry(1 + i * 5, 5, i < 20 ? 1 : 2));
    log.append(entries);
    log.setStart(offset(101), term(1), false);
    assert.deepEqual(log.termBoundaries().map((b) => [b.start, b.term]), [[101, 2]]);
    await partition.close();

    partition = PartitionLog.open(dir, { config: { fsync: "never", segmentBytes: 1024 } });
    log = StorageRaftLog.open(partition);
    assert.equal(log.startOffset(), 101);
    assert.equal(log.startTerm(), 1);
    assert.equal(log.endOffset(), 201);
    assert.equal(log.termAt(offset(150)), 2);
    assert.equal(log.entryAt(offset(150)).base, 146);
    assert.equal(log.entries(offset(101), 1 << 20).length, 20);
    await partition.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StorageRaftLog reads entries from disk beyond its in-memory tail", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  try {
    const partition = PartitionLog.open(dir, { config: { fsync: "never" } });
    const writer = StorageRaftLog.open(partition);
    const entries = [];
    for (let i = 0; i < 1500; i++) entries.push(dataEntry(i * 2, 2, 1 + Math.floor(i / 500)));
    writer.append(entries);
    // The tail cache holds at most 1024 entries: offset 1 is read from disk.
    assert.equal(writer.entryAt(offset(1)).base, 0);
    assert.equal(writer.entryAt(offset(1001)).term, 2);
    assert.deepEqual(writer.termBoundaries().map((b) => [b.start, b.term]), [
      [0, 1],
      [1000, 2],
      [2000, 3],
    ]);
    const some = writer.entries(offset(0), 10_000);
    assert.ok(some.length >= 1 && some.length < 1500);
    assert.equal(some[0]?.base, 0);
    await partition.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StorageRaftLog refuses to open when the term before its log start is unknown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  try {
    let partition = PartitionLog.open(dir, { config: { fsync: "never", segmentBytes: 1024 } });
    const log = StorageRaftLog.open(partition);
    const entries = [];
    for (let i = 0; i < 30; i++) entries.push(dataEntry(i * 5, 5, 1));
    log.append(entries);
    // Retention outside Raft, then the checkpoint is lost: the term before 100 is unknown.
    partition.deleteRecordsBefore(100);
    await partition.close();
    await Deno.remove(`${dir}/${EPOCH_CHECKPOINT_FILE}`);
    partition = PartitionLog.open(dir, { config: { fsync: "never", segmentBytes: 1024 } });
    // The Raft log starts at the first stored batch, the base of the segment holding 100.
    const stored = partition.storedStartOffset;
    assert.ok(stored > 0 && stored <= 100, `stored start ${stored}`);
    assert.throws(
      () => StorageRaftLog.open(partition),
      new RegExp(`term before log start "${stored}" is unknown`),
    );
    await partition.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StorageRaftLog knows the term before a start moved by retention outside Raft", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  try {
    let partition = PartitionLog.open(dir, { config: { fsync: "never", segmentBytes: 1024 } });
    const log = StorageRaftLog.open(partition);
    const entries = [];
    for (let i = 0; i < 30; i++) entries.push(dataEntry(i * 5, 5, i < 10 ? 1 : 2));
    log.append(entries);
    // The checkpoint's term boundaries still cover offsets below the new start. The Raft log
    // starts at the first stored batch: the base of the segment holding offset 100, whose
    // batches below 100 are still stored (and served to Raft, never to clients).
    partition.deleteRecordsBefore(100);
    const stored = partition.storedStartOffset;
    assert.ok(stored > 50 && stored <= 100 && stored % 5 === 0, `stored start ${stored}`);
    assert.equal(partition.logStartOffset, 100);
    assert.equal(log.startOffset(), stored);
    assert.equal(log.startTerm(), 2);
    assert.equal(log.entryAt(offset(stored)).base, stored);
    await partition.close();
    partition = PartitionLog.open(dir, { config: { fsync: "never", segmentBytes: 1024 } });
    const reopened = StorageRaftLog.open(partition);
    assert.equal(reopened.startOffset(), stored);
    assert.equal(reopened.startTerm(), 2);
    assert.equal(partition.logStartOffset, 100);
    await partition.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A delete-records entry at `at` in term `t` that deletes before `before`. */
function deleteEntry(at: number, before: number, t: number) {
  const bytes = deleteRecordsBatch(before);
  setBaseOffset(bytes, at);
  setPartitionLeaderEpoch(bytes, t);
  return { base: offset(at), last: offset(at), term: term(t), payload: entryOf(bytes).payload };
}

Deno.test("StorageRaftLog applies a delete-records entry only once it is committed, inside a batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  const config = { fsync: "never" as const, segmentBytes: 1024, retentionMs: -1 };
  try {
    let partition = PartitionLog.open(dir, { config });
    const log = StorageRaftLog.open(partition);
    const entries = [];
    for (let i = 0; i < 30; i++) entries.push(dataEntry(i * 5, 5, 1));
    log.append(entries);
    // 102 lies inside the batch [100, 104].
    log.append([deleteEntry(150, 102, 1), dataEntry(151, 5, 1)]);
    assert.equal(log.applyCommitted(offset(150)), false, "not committed: nothing moves");
    assert.equal(partition.logStartOffset, 0);
    assert.equal(log.applyCommitted(offset(151)), true);
    assert.equal(partition.logStartOffset, 102);
    assert.equal(partition.read(101, 100).type, "offsetOutOfRange");
    // The Raft log still starts at a batch boundary, below the Kafka start.
    const stored = partition.storedStartOffset;
    assert.ok(stored <= 100 && stored > 0, `stored start ${stored}`);
    assert.equal(log.startOffset(), stored);
    assert.equal(log.entryAt(offset(stored)).base, stored);
    assert.equal(log.applyCommitted(offset(156)), false, "applied once");
    // Retention through Raft moves the Raft start to a boundary and keeps the Kafka start.
    log.setStart(offset(100), term(1), false);
    assert.equal(log.startOffset(), 100);
    assert.equal(partition.logStartOffset, 102);
    await partition.close();
    partition = PartitionLog.open(dir, { config });
    const reopened = StorageRaftLog.open(partition);
    assert.equal(reopened.startOffset(), 100);
    assert.equal(reopened.startTerm(), 1);
    assert.equal(partition.logStartOffset, 102);
    // Applying the entry found again after the restart changes nothing.
    assert.equal(reopened.applyCommitted(offset(156)), false);
    assert.equal(partition.logStartOffset, 102);
    await partition.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("StorageRaftLog forgets a delete-records entry that a new leader overwrote", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-raftlog-" });
  const config = { fsync: "never" as const, retentionMs: -1 };
  try {
    let partition = PartitionLog.open(dir, { config });
    let log = StorageRaftLog.open(partition);
    log.append([dataEntry(0, 10, 1), deleteEntry(10, 5, 1)]);
    // A restart finds the uncommitted entry again; then the new leader's log replaces it.
    await partition.close();
    partition = PartitionLog.open(dir, { config });
    log = StorageRaftLog.open(partition);
    log.append([dataEntry(10, 3, 2)]);
    assert.equal(log.applyCommitted(offset(13)), false);
    assert.equal(partition.logStartOffset, 0);
    // And a truncation drops it as well.
    log.append([deleteEntry(13, 5, 2)]);
    log.truncateTo(offset(13));
    assert.equal(log.applyCommitted(offset(13)), false);
    assert.equal(partition.logStartOffset, 0);
    await partition.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deleteRecordsTarget reads only delete-records control batches", () => {
  assert.equal(deleteRecordsTarget(deleteRecordsBatch(42)), 42);
  const d = dataEntry(0, 2, 1);
  assert.equal(d.payload.type === "data" ? deleteRecordsTarget(d.payload.bytes) : 0, undefined);
  assert.equal(deleteRecordsTarget(batchFor(leaderChangeEntry(3, 1))), undefined);
  assert.throws(() => deleteRecordsBatch(-1), /offset/);
});
