/**
 * Disk-full test for the storage engine (issue #2), on a 256 KiB tmpfs mounted for the test
 * (root only, as CI runs; a failed mount fails the test). The log is appended to until the
 * disk is full, for each durability policy:
 *
 * - the failing append rejects with StorageError "no_space" and a message naming the file
 *   and the cause;
 * - every acknowledged record stays readable, each batch also on its own (the index is in
 *   step), and no partial batch or temporary file is left behind;
 * - the log reopens with its end offset equal to the acknowledged count and nothing to
 *   repair;
 * - once space is freed (a ballast file deleted) appends succeed again, at the right offset.
 *
 * A second test fills the inode table instead, so that a segment roll fails after the old
 * segment was sealed but before the new one exists.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import fs from "node:fs";
import { buildBatch } from "../src/records/mod.ts";
import { type FsyncPolicy, type OpenLogOptions, PartitionLog } from "../src/storage/mod.ts";
import { StorageError } from "../src/util/mod.ts";
import { readAll, recordsOf, type RecordView } from "./helpers/log_check.ts";
import { withTmpfs } from "./helpers/mounts.ts";

const TMPFS_OPTIONS = "size=256k";
const BALLAST_BYTES = 64 * 1024;
/** Small segments, so the disk fills across several rolls. */
const SEGMENT_BYTES = 32 * 1024;
const RECORDS_PER_BATCH = 10;
const VALUE_BYTES = 100;
/** 256 KiB holds ~200 batches of ~1.2 KiB; the loop stops long before this bound. */
const APPENDS_MAX = 2000;

const enc = new TextEncoder();

/** Batch `n`: RECORDS_PER_BATCH values of VALUE_BYTES, each naming its batch and record. */
function batchValues(n: number, records = RECORDS_PER_BATCH): string[] {
  return Array.from({ length: records }, (_, r) => `n${n}-r${r}-`.padEnd(VALUE_BYTES, "."));
}

function batchOf(values: string[]): Uint8Array {
  return buildBatch({
    records: values.map((v) => ({ value: enc.encode(v), timestampMs: 1_700_000_000_000 })),
  });
}

/** True for the failure a full disk must produce. */
function isNoSpace(err: unknown): err is StorageError {
  return err instanceof StorageError && err.code === "no_space";
}

/** Checks the log against the acknowledged batches: all of them, each alone, nothing more. */
function checkAcked(log: PartitionLog, acked: Array<{ base: number; values: string[] }>) {
  const expected: RecordView[] = acked.flatMap((a) =>
    a.values.map((value, i) => ({ offset: a.base + i, value }))
  );
  strictEqual(log.logEndOffset, expected.length, "end offset is the acknowledged count");
  deepStrictEqual(readAll(log), expected, "every acknowledged record is readable");
  for (const a of acked) {
    const r = log.read(a.base + RECORDS_PER_BATCH - 1, 1);
    ok(r.type === "ok", `read of batch ${a.base}`);
    deepStrictEqual(recordsOf(r.bytes).map((x) => x.offset)[0], a.base, `index finds ${a.base}`);
  }
}

/** Bytes of every segment file, and names that are neither segment files nor the ballast. */
function dirState(dir: string): { logBytes: number; strays: string[] } {
  let logBytes = 0;
  const strays: string[] = [];
  for (const name of fs.readdirSync(`${dir}/log`)) {
    if (name.endsWith(".log")) logBytes += fs.statSync(`${dir}/log/${name}`).size;
    else if (!/^\d{20}\.(index|timeindex)$/.test(name)) strays.push(name);
  }
  return { logBytes, strays };
}

/** Runs `fn` with an opener whose logs are all closed afterwards, even when `fn` fails. */
async function withLogs(
  fn: (open: (dir: string, options: OpenLogOptions) => PartitionLog) => Promise<void>,
): Promise<void> {
  const logs: PartitionLog[] = [];
  try {
    await fn((dir, options) => {
      const log = PartitionLog.open(dir, options);
      logs.push(log);
      return log;
    });
  } finally {
    // Descriptors left open would keep the tmpfs busy; close() is idempotent.
    for (const log of logs) await log.close();
  }
}

async function fillThenFree(fsync: FsyncPolicy): Promise<void> {
  await withTmpfs(TMPFS_OPTIONS, (mnt) =>
    withLogs(async (openLog) => {
      fs.writeFileSync(`${mnt}/ballast`, new Uint8Array(BALLAST_BYTES).fill(1));
      const config = { fsync, segmentBytes: SEGMENT_BYTES };
      const warnings: string[] = [];
      const onWarning = (m: string) => warnings.push(m);
      const log = openLog(`${mnt}/log`, { config, onWarning });
      const acked: Array<{ base: number; values: string[] }> = [];
      let ackedBytes = 0;
      let failure: unknown = null;
      for (let n = 0; n < APPENDS_MAX && failure === null; n++) {
        const values = batchValues(n);
        const batch = batchOf(values);
        try {
          const r = await log.append(batch);
          acked.push({ base: r.baseOffset, values });
          ackedBytes += batch.length;
        } catch (err) {
          failure = err;
        }
      }
      ok(isNoSpace(failure), `the append failed with no_space, got: ${failure}`);
      ok(
        /^Cannot [^"]+ "[^"]+\/log\/\d{20}\.(log|index|timeindex)": (ENOSPC: )?no space left on device/i
          .test(failure.message),
        `a clear message: ${failure.message}`,
      );
      ok(acked.length > 50, `${acked.length} batches fitted before the disk filled`);
      checkAcked(log, acked);
      const state = dirState(mnt);
      strictEqual(state.logBytes, ackedBytes, "no partial batch is left in a segment file");
      deepStrictEqual(state.strays, [], "no temporary file is left behind");
      // Still full: another append fails the same way and changes nothing.
      const again = await log.append(batchOf(batchValues(9999))).then(() => null, (e) => e);
      ok(isNoSpace(again), `a second append fails too: ${again}`);
      checkAcked(log, acked);
      await log.close();

      const reopened = openLog(`${mnt}/log`, { config, onWarning });
      checkAcked(reopened, acked);
      deepStrictEqual(warnings, [], "recovery found nothing to repair");
      fs.rmSync(`${mnt}/ballast`);
      const resumeAt = acked.length;
      for (let n = resumeAt; n < resumeAt + 20; n++) {
        const values = batchValues(n);
        const r = await reopened.append(batchOf(values));
        strictEqual(r.baseOffset, n * RECORDS_PER_BATCH, `append ${n} after freeing space`);
        acked.push({ base: r.baseOffset, values });
      }
      checkAcked(reopened, acked);
      await reopened.close();
      const last = openLog(`${mnt}/log`, { config, onWarning });
      checkAcked(last, acked);
      await last.close();
      deepStrictEqual(warnings, [], "no recovery was ever needed");
    }));
}

Deno.test("storage ENOSPC: a full disk fails appends cleanly (fsync=never)", async () => {
  await fillThenFree("never");
});

Deno.test("storage ENOSPC: a full disk fails appends cleanly (fsync=always)", async () => {
  await fillThenFree("always");
});

Deno.test("storage ENOSPC: a full disk fails appends cleanly (fsync=interval)", async () => {
  await fillThenFree("interval");
});

/** Creates empty files in `dir` until the file system has no inode left; returns their paths. */
function exhaustInodes(dir: string): string[] {
  const made: string[] = [];
  // Bounded: the tmpfs is mounted with INODES_MAX inodes.
  for (let i = 0; i <= INODES_MAX; i++) {
    const path = `${dir}/filler-${i}`;
    try {
      fs.writeFileSync(path, new Uint8Array(0));
    } catch (err) {
      ok((err as { code?: string }).code === "ENOSPC", `inode exhaustion: ${err}`);
      return made;
    }
    made.push(path);
  }
  throw new Error(`Created ${INODES_MAX + 1} files on a tmpfs of ${INODES_MAX} inodes`);
}

const INODES_MAX = 64;

for (const fsync of ["never", "always"] as const) {
  Deno.test(`storage ENOSPC: a roll that cannot create the next segment fails cleanly (fsync=${fsync})`, async () => {
    await withTmpfs(`size=1m,nr_inodes=${INODES_MAX}`, (mnt) =>
      withLogs(async (openLog) => {
        // 4 KiB segments hold three ~1.2 KiB batches; the fourth append rolls.
        const config = { fsync, segmentBytes: 4096 };
        const log = openLog(`${mnt}/log`, { config, onWarning: () => {} });
        const acked: Array<{ base: number; values: string[] }> = [];
        for (let n = 0; n < 3; n++) {
          const values = batchValues(n);
          acked.push({ base: (await log.append(batchOf(values))).baseOffset, values });
        }
        // Leave exactly two inodes: sealing writes .index and .timeindex, then creating the
        // next segment's .log finds none.
        const fillers = exhaustInodes(mnt);
        for (const path of fillers.splice(0, 2)) fs.rmSync(path);
        const rolled = await log.append(batchOf(batchValues(3))).then(() => null, (e) => e);
        ok(isNoSpace(rolled), `the rolling append fails with no_space: ${rolled}`);
        checkAcked(log, acked);
        // A batch small enough to fit the old segment must not be written into it: it is
        // sealed now (its index files describe it as it is).
        const small = await log.append(batchOf(batchValues(3, 1))).then(() => null, (e) => e);
        ok(isNoSpace(small), `a small append fails with no_space too: ${small}`);
        checkAcked(log, acked);
        for (const path of fillers) fs.rmSync(path);
        for (let n = 3; n < 8; n++) {
          const values = batchValues(n);
          const r = await log.append(batchOf(values));
          strictEqual(r.baseOffset, n * RECORDS_PER_BATCH, `append ${n} after freeing inodes`);
          acked.push({ base: r.baseOffset, values });
        }
        checkAcked(log, acked);
        await log.close();
        const again = openLog(`${mnt}/log`, { config, onWarning: () => {} });
        checkAcked(again, acked);
      }));
  });
}
