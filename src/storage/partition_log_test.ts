import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { decodeBatch, iterateBatches } from "../records/record_batch.ts";
import { ManualClock, StorageError } from "../util/mod.ts";
import { textBatch, withTempDir } from "../testing/temp_dir.ts";
import { FilePool } from "./file_pool.ts";
import { PartitionLog, type ReadResult } from "./partition_log.ts";

const dec = new TextDecoder();

/** Decodes every record value in a read result. */
function values(r: ReadResult): string[] {
  if (r.type !== "ok") throw new Error(`expected ok, got ${r.type}`);
  const out: string[] = [];
  for (const f of iterateBatches(r.bytes)) {
    for (const rec of decodeBatch(f.bytes).records) {
      out.push(dec.decode(rec.value ?? new Uint8Array()));
    }
  }
  return out;
}

function offsetsOf(r: ReadResult): number[] {
  if (r.type !== "ok") throw new Error(`expected ok, got ${r.type}`);
  const out: number[] = [];
  for (const f of iterateBatches(r.bytes)) {
    for (const rec of decodeBatch(f.bytes).records) out.push(rec.offset);
  }
  return out;
}

Deno.test("PartitionLog assigns contiguous offsets and reads them back", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "never" } });
    const a = await log.append(textBatch("a", 3));
    const b = await log.append(textBatch("b", 2));
    deepStrictEqual([a.baseOffset, a.lastOffset, b.baseOffset, b.lastOffset], [0, 2, 3, 4]);
    strictEqual(log.logEndOffset, 5);
    deepStrictEqual(values(log.read(0, 1 << 20)), ["a-0", "a-1", "a-2", "b-0", "b-1"]);
    deepStrictEqual(offsetsOf(log.read(3, 1 << 20)), [3, 4]);
    // An offset inside a batch returns the whole batch, as Kafka does.
    deepStrictEqual(offsetsOf(log.read(1, 1 << 20)), [0, 1, 2, 3, 4]);
    const atEnd = log.read(5, 100);
    ok(atEnd.type === "ok" && atEnd.bytes.length === 0);
    strictEqual(log.read(6, 100).type, "offsetOutOfRange");
    await log.close();
  });
});

Deno.test("PartitionLog read honours maxBytes, minOneBatch and a high watermark", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "never" } });
    for (let i = 0; i < 10; i++) await log.append(textBatch(`b${i}`, 2));
    const one = log.read(0, 1);
    deepStrictEqual(offsetsOf(one), [0, 1], "at least one batch when minOneBatch");
    const none = log.read(0, 1, { minOneBatch: false });
    ok(none.type === "ok" && none.bytes.length === 0);
    const hw = log.read(0, 1 << 20, { maxOffsetExclusive: 6 });
    deepStrictEqual(offsetsOf(hw), [0, 1, 2, 3, 4, 5]);
    ok(hw.type === "ok" && hw.nextOffset === 6);
    await log.close();
  });
});

Deno.test("PartitionLog rolls segments by size and reopens with the same content", async () => {
  await withTempDir(async (dir) => {
    const config = { fsync: "never" as const, segmentBytes: 1024, indexIntervalBytes: 100 };
    const log = PartitionLog.open(dir, { config });
    for (let i = 0; i < 50; i++) await log.append(textBatch(`r${i}`, 3));
    ok(log.segmentCount > 5, `segments: ${log.segmentCount}`);
    const before = values(log.read(0, 1 << 20));
    await log.close();
    const again = PartitionLog.open(dir, { config });
    strictEqual(again.logEndOffset, 150);
    strictEqual(again.segmentCount, log.segmentCount);
    // Reads cross segment boundaries by calling again from nextOffset.
    const all: string[] = [];
    let at = 0;
    for (let guard = 0; guard < 200 && at < again.logEndOffset; guard++) {
      const r = again.read(at, 1 << 20);
      all.push(...values(r));
      if (r.type !== "ok") break;
      at = r.nextOffset;
    }
    deepStrictEqual(all.length, 150);
    deepStrictEqual(all.slice(0, before.length), before);
    deepStrictEqual(offsetsOf(again.read(77, 10)), [75, 76, 77]);
    await again.append(textBatch("after", 1));
    strictEqual(again.logEndOffset, 151);
    await again.close();
  });
});

Deno.test("PartitionLog rolls a segment by age", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    const log = PartitionLog.open(dir, { clock, config: { fsync: "never", segmentMs: 1000 } });
    await log.append(textBatch("a", 1));
    clock.advance(999);
    await log.append(textBatch("b", 1));
    strictEqual(log.segmentCount, 1);
    clock.advance(1);
    await log.append(textBatch("c", 1));
    strictEqual(log.segmentCount, 2);
    await log.close();
  });
});

Deno.test("PartitionLog finds the first batch at or after a timestamp", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, {
      config: { fsync: "never", segmentBytes: 2048, indexIntervalBytes: 64 },
    });
    for (let i = 0; i < 40; i++) await log.append(textBatch(`t${i}`, 2, 1000 + i * 10));
    const hit = log.findByTimestamp(1000 + 205);
    ok(hit);
    strictEqual(hit.header.baseOffset, 42, "batch 21 holds timestamps 1210-1211");
    strictEqual(log.findByTimestamp(1000)?.header.baseOffset, 0);
    strictEqual(log.findByTimestamp(999_999), null);
    await log.close();
  });
});

Deno.test("PartitionLog truncates after an offset, inside and across segments", async () => {
  await withTempDir(async (dir) => {
    const config = { fsync: "never" as const, segmentBytes: 1024 };
    const log = PartitionLog.open(dir, { config });
    for (let i = 0; i < 30; i++) await log.append(textBatch(`r${i}`, 2));
    const segs = log.segmentCount;
    log.truncateTo(40);
    strictEqual(log.logEndOffset, 40);
    ok(log.segmentCount < segs);
    throws(() => log.truncateTo(39), (e: unknown) => e instanceof StorageError);
    log.truncateTo(10);
    strictEqual(log.logEndOffset, 10);
    const r = await log.append(textBatch("new", 1));
    strictEqual(r.baseOffset, 10);
    await log.close();
    const again = PartitionLog.open(dir, { config });
    strictEqual(again.logEndOffset, 11);
    deepStrictEqual(values(again.read(10, 1000)), ["new-0"]);
    await again.close();
  });
});

Deno.test("PartitionLog deleteRecordsBefore moves the log start durably", async () => {
  await withTempDir(async (dir) => {
    const config = { fsync: "never" as const, segmentBytes: 1024 };
    const log = PartitionLog.open(dir, { config });
    for (let i = 0; i < 30; i++) await log.append(textBatch(`r${i}`, 2));
    log.deleteRecordsBefore(25);
    strictEqual(log.logStartOffset, 25);
    strictEqual(log.read(24, 100).type, "offsetOutOfRange");
    ok(offsetsOf(log.read(25, 100)).includes(25));
    throws(() => log.deleteRecordsBefore(1000), (e: unknown) => e instanceof StorageError);
    await log.close();
    const again = PartitionLog.open(dir, { config });
    strictEqual(again.logStartOffset, 25);
    strictEqual(again.logEndOffset, 60);
    // Deleting everything leaves an empty log that continues at the same offset.
    again.deleteRecordsBefore(60);
    strictEqual((await again.append(textBatch("x", 1))).baseOffset, 60);
    await again.close();
  });
});

Deno.test("PartitionLog keeps the batches of a segment below a mid-batch start for replication only", async () => {
  await withTempDir(async (dir) => {
    const config = {
      fsync: "never" as const,
      segmentBytes: 1024,
      retentionMs: -1,
      retentionBytes: -1,
    };
    const log = PartitionLog.open(dir, { config });
    for (let i = 0; i < 30; i++) await log.append(textBatch(`r${i}`, 2));
    // 25 lies inside the batch [24, 25]: clients see 25 on, the segment holding it stays.
    log.deleteRecordsBefore(25);
    const stored = log.storedStartOffset;
    ok(stored > 0 && stored <= 24 && stored % 2 === 0, `stored start ${stored}`);
    strictEqual(log.read(stored, 100).type, "offsetOutOfRange");
    strictEqual(offsetsOf(log.read(stored, 100, { belowLogStart: true }))[0], stored);
    strictEqual(log.read(stored - 1, 100, { belowLogStart: true }).type, "offsetOutOfRange");
    // Retention plans from segment boundaries, never from the start inside a batch.
    strictEqual(log.retentionStart(), stored);
    // Deleting below the start removes whole segments only and keeps the start.
    log.deleteRecordsBefore(24);
    strictEqual(log.logStartOffset, 25);
    strictEqual(log.storedStartOffset, stored);
    await log.close();
    const again = PartitionLog.open(dir, { config });
    strictEqual(again.logStartOffset, 25);
    strictEqual(again.storedStartOffset, stored);
    // Once the start passes a segment's end, that segment goes even though the start was
    // already inside it.
    const r = again.read(25, 1 << 20, { belowLogStart: true });
    ok(r.type === "ok");
    again.deleteRecordsBefore(59);
    ok(again.storedStartOffset > stored && again.storedStartOffset <= 58);
    await again.close();
  });
});

Deno.test("PartitionLog retention by time deletes closed segments older than retention.ms", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock(10_000);
    const log = PartitionLog.open(dir, {
      clock,
      config: { fsync: "never", segmentBytes: 1024, retentionMs: 5000 },
    });
    for (let i = 0; i < 40; i++) await log.append(textBatch(`old${i}`, 2, 1000));
    for (let i = 0; i < 20; i++) await log.append(textBatch(`new${i}`, 2, 9000));
    ok(log.applyRetention(10_000) > 0);
    // Every surviving record is new except at most those sharing the first kept segment.
    const kept = values(log.read(log.logStartOffset, 1 << 20));
    ok(kept.length > 0);
    ok(log.logStartOffset >= 60, `log start ${log.logStartOffset}`);
    strictEqual(log.read(0, 10).type, "offsetOutOfRange");
    deepStrictEqual(values(log.read(log.logEndOffset - 2, 1000)), ["new19-0", "new19-1"]);
    strictEqual(log.applyRetention(10_000), 0, "nothing more is old enough");
    await log.close();
  });
});

Deno.test("PartitionLog retention by size keeps the log near retention.bytes", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, {
      config: { fsync: "never", segmentBytes: 1024, retentionBytes: 4096, retentionMs: -1 },
    });
    for (let i = 0; i < 100; i++) await log.append(textBatch(`r${i}`, 2));
    ok(log.sizeBytes > 8000);
    ok(log.applyRetention() > 0);
    ok(log.sizeBytes >= 4096 - 1024 && log.sizeBytes <= 4096 + 1024, `size ${log.sizeBytes}`);
    deepStrictEqual(values(log.read(198, 1000)), ["r99-0", "r99-1"]);
    await log.close();
  });
});

Deno.test("PartitionLog refuses malformed and oversized batches and wrong offsets", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "never", maxBatchBytes: 200 } });
    const good = textBatch("g", 1);
    const flipped = good.slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    await rejects(
      log.append(flipped),
      (e: unknown) => e instanceof StorageError && e.code === "corrupt",
    );
    await rejects(
      log.append(good.subarray(0, 40)),
      (e: unknown) => e instanceof StorageError && e.code === "corrupt",
    );
    await rejects(
      log.append(good.subarray(0, good.length - 1)),
      (e: unknown) => e instanceof StorageError,
    );
    await rejects(
      log.append(textBatch("big", 20)),
      (e: unknown) => e instanceof StorageError && e.code === "record_too_large",
    );
    await rejects(
      log.append(good.slice(), { expectedBaseOffset: 5 }),
      (e: unknown) => e instanceof StorageError && e.code === "invalid_argument",
    );
    strictEqual(log.logEndOffset, 0, "nothing was appended");
    strictEqual((await log.append(good.slice(), { expectedBaseOffset: 0 })).baseOffset, 0);
    await log.close();
  });
});

Deno.test("PartitionLog with fsync=always acknowledges only synced appends and groups syncs", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "always" } });
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => log.append(textBatch(`c${i}`, 1))),
    );
    deepStrictEqual(
      results.map((r) => r.baseOffset).sort((a, b) => a - b),
      Array.from({ length: 64 }, (_, i) => i),
    );
    strictEqual(log.flushedOffset, 64);
    await log.close();
  });
});

Deno.test("PartitionLog write caching: ack before sync, flushedOffset catches up", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "always" } });
    await log.append(textBatch("a", 1), { waitForSync: false });
    strictEqual(log.flushedOffset, 0);
    await log.flush();
    strictEqual(log.flushedOffset, 1);
    await log.close();
  });
});

Deno.test("PartitionLog reset discards the log and restarts at an offset", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "never" } });
    for (let i = 0; i < 3; i++) await log.append(textBatch(`r${i}`, 1));
    log.reset(1000);
    strictEqual(log.logStartOffset, 1000);
    strictEqual((await log.append(textBatch("x", 1))).baseOffset, 1000);
    await log.close();
    const again = PartitionLog.open(dir, { config: { fsync: "never" } });
    deepStrictEqual([again.logStartOffset, again.logEndOffset], [1000, 1001]);
    await again.close();
  });
});

Deno.test("PartitionLog keeps 2,000 partitions usable within a bounded number of open files", async () => {
  await withTempDir(async (dir) => {
    const pool = new FilePool(128);
    // Count only descriptors pointing into this test's directory: parallel test files share
    // the process, so a global count would also see their files and sockets.
    const ours = () =>
      [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(dir);
        } catch {
          return false; // closed between listing and reading: not ours
        }
      }).length;
    const logs: PartitionLog[] = [];
    for (let p = 0; p < 2000; p++) {
      const log = PartitionLog.open(`${dir}/t-${p}`, { pool, config: { fsync: "never" } });
      await log.append(textBatch(`p${p}`, 1));
      logs.push(log);
    }
    ok(pool.openCount <= 128);
    const open = ours();
    ok(open <= 128, `descriptors open in the log directories: ${open}`);
    for (let p = 0; p < 2000; p += 97) {
      deepStrictEqual(values((logs[p] as PartitionLog).read(0, 1000)), [`p${p}-0`]);
    }
    for (const log of logs) await log.close();
    pool.closeAll();
  });
});

Deno.test("PartitionLog: a truncation during a running sync never lets flushedOffset cover unsynced data", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, { config: { fsync: "never" } });
    for (let i = 0; i < 10; i++) await log.append(textBatch(`a${i}`, 1));
    // The flush's fdatasync runs in the background; the cut rejects the flush's waiter.
    const flushing = log.flush().then(() => null, (e: unknown) => e);
    // Let the sync round fix its end and start its fdatasync before the cut.
    await new Promise((r) => setImmediate(r));
    log.truncateTo(4);
    for (let i = 0; i < 10; i++) await log.append(textBatch(`b${i}`, 1), { waitForSync: false });
    const outcome = await flushing;
    ok(outcome instanceof StorageError && outcome.code === "truncated", String(outcome));
    // With fsync=never, close waits for the sync round still running and flushes nothing more.
    await log.close();
    ok(
      log.flushedOffset <= 4,
      `flushedOffset ${log.flushedOffset} covers records written after the cut`,
    );
  });
});

Deno.test("PartitionLog retentionStart names the start applyRetention moves to, deleting nothing", async () => {
  await withTempDir(async (dir) => {
    const log = PartitionLog.open(dir, {
      config: { fsync: "never", segmentBytes: 1024, retentionBytes: 4096, retentionMs: -1 },
    });
    for (let i = 0; i < 100; i++) await log.append(textBatch(`r${i}`, 2));
    const before = { start: log.logStartOffset, segments: log.segmentCount };
    const planned = log.retentionStart();
    ok(planned > before.start, `planned start ${planned}`);
    strictEqual(log.logStartOffset, before.start, "nothing deleted by asking");
    strictEqual(log.segmentCount, before.segments);
    ok(log.applyRetention() > 0);
    strictEqual(log.logStartOffset, planned, "applyRetention moves exactly there");
    strictEqual(log.retentionStart(), planned, "and then wants nothing more");
    await log.close();
  });
});
