/**
 * Fault injection for crash recovery of the storage engine (issue #2). A log of ~30 batches
 * over several segments is written once; every case then copies its files to a fresh
 * directory, damages them, and reopens:
 *
 * - a torn tail (the active `.log` cut at a byte position, as a crash mid-write leaves it):
 *   exactly the batches wholly before the cut survive, the file is cut back to them, a new
 *   append continues at the right offset and a second reopen changes nothing;
 * - a flipped bit in the active segment: the log recovers to exactly the valid prefix before
 *   the damaged batch;
 * - a flipped bit in a sealed segment: reading the damaged batch fails with StorageError
 *   "corrupt" and it is never served (or, for damage the index check sees, the open itself
 *   refuses); with its index files gone too (forcing a rebuild by a scan) the log refuses to
 *   open, leaks no descriptor, and no file is cut or deleted;
 * - a sealed segment cut short: refused as "corrupt", never read as an empty range;
 * - damaged or missing index files: they are rebuilt and reads (by offset and timestamp) work.
 *
 * Positions are every byte around each batch boundary plus a seeded sample across the file
 * (`createPrng(SEED)`), so a failure names its position and replays exactly.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import fs from "node:fs";
import { BATCH_FIELD, buildBatch, iterateBatches } from "../src/records/mod.ts";
import { type LogConfig, PartitionLog } from "../src/storage/mod.ts";
import { textBatch, withTempDir } from "../src/testing/temp_dir.ts";
import { createPrng, type Prng, StorageError } from "../src/util/mod.ts";
import { readAll, recordsOf, type RecordView } from "./helpers/log_check.ts";

const SEED = 0x5eed_c4a5;
const BASE_TS_MS = 1_700_000_000_000;
/** Bytes either side of a batch boundary where every position is tried (a header is 61). */
const BOUNDARY_SPAN_BYTES = 48;
/** Extra positions drawn from the PRNG across the whole file. */
const SAMPLED_POSITIONS = 100;
/**
 * Bytes 12..15 of a batch hold partitionLeaderEpoch, which Kafka's RecordBatch v2 keeps
 * outside the CRC (so a broker can stamp it without re-checksumming). A flipped bit there is
 * undetectable by design, so bit-flip cases skip those four bytes.
 */
const EPOCH_FIELD = { from: BATCH_FIELD.partitionLeaderEpoch, to: BATCH_FIELD.magic };

const enc = new TextEncoder();
const quiet = { onWarning: (_: string) => {} };

/** One batch as written: where it sits and what it holds. */
interface BatchInfo {
  file: string;
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  records: RecordView[];
  timestampMs: number;
}

/** A log written once; every case starts from a copy of its files. */
interface Fixture {
  files: Map<string, Uint8Array>;
  batches: BatchInfo[];
  activeFile: string;
  sealedFiles: string[];
}

function batchOf(prng: Prng, i: number): { bytes: Uint8Array; values: string[]; ts: number } {
  const count = prng.int(1, 4);
  const ts = BASE_TS_MS + i * 1000;
  const values = Array.from(
    { length: count },
    (_, j) => `b${i}-r${j}-${"x".repeat(prng.int(0, 40))}`,
  );
  const bytes = buildBatch({
    records: values.map((v, j) => ({ value: enc.encode(v), timestampMs: ts + j })),
  });
  return { bytes, values, ts };
}

/**
 * Writes 20 batches with 1 KiB segments (several sealed segments), then reopens with large
 * segments and writes 14 more, so the active segment holds many batches.
 */
async function buildFixture(dir: string): Promise<Fixture> {
  const prng = createPrng(SEED);
  const written: Array<{ base: number; last: number; values: string[]; ts: number }> = [];
  const phases: Array<[number, Partial<LogConfig>]> = [
    [20, { fsync: "never", segmentBytes: 1024, indexIntervalBytes: 128 }],
    [14, { fsync: "never", segmentBytes: 1 << 20, indexIntervalBytes: 128 }],
  ];
  for (const [count, config] of phases) {
    const log = PartitionLog.open(dir, { config, ...quiet });
    for (let k = 0; k < count; k++) {
      const b = batchOf(prng, written.length);
      const r = await log.append(b.bytes);
      written.push({ base: r.baseOffset, last: r.lastOffset, values: b.values, ts: b.ts });
    }
    await log.close();
  }
  const files = new Map<string, Uint8Array>();
  for (const e of Deno.readDirSync(dir)) files.set(e.name, Deno.readFileSync(`${dir}/${e.name}`));
  const logFiles = [...files.keys()].filter((n) => n.endsWith(".log")).sort();
  const batches: BatchInfo[] = [];
  for (const name of logFiles) {
    const bytes = files.get(name) ?? new Uint8Array();
    for (const f of iterateBatches(bytes)) {
      const w = written[batches.length];
      ok(w && w.base === f.header.baseOffset, `fixture batch ${batches.length} in ${name}`);
      batches.push({
        file: name,
        position: f.position,
        size: f.bytes.length,
        baseOffset: w.base,
        lastOffset: w.last,
        records: w.values.map((value, j) => ({ offset: w.base + j, value })),
        timestampMs: w.ts,
      });
    }
  }
  strictEqual(batches.length, written.length, "every written batch is in some segment");
  const activeFile = logFiles[logFiles.length - 1] ?? "";
  const sealedFiles = logFiles.slice(0, -1);
  ok(sealedFiles.length >= 3, `fixture has ${sealedFiles.length} sealed segments`);
  ok(batches.filter((b) => b.file === activeFile).length >= 14, "active segment is long");
  return { files, batches, activeFile, sealedFiles };
}

/** Writes the fixture's files into `dir`, with `edit` applied to chosen files. */
function materialise(
  fx: Fixture,
  dir: string,
  edit: (name: string, bytes: Uint8Array) => Uint8Array | null = (_, b) => b,
): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of fx.files) {
    const out = edit(name, bytes);
    if (out !== null) Deno.writeFileSync(`${dir}/${name}`, out);
  }
}

function totalRecords(fx: Fixture): number {
  return fx.batches.reduce((n, b) => n + b.records.length, 0);
}

function recordsUpTo(fx: Fixture, keep: (b: BatchInfo) => boolean): RecordView[] {
  return fx.batches.filter(keep).flatMap((b) => b.records);
}

/** Every position within the span of each batch boundary of `file`, plus a seeded sample. */
function positions(fx: Fixture, file: string, prng: Prng): number[] {
  const size = (fx.files.get(file) ?? new Uint8Array()).length;
  const set = new Set<number>();
  for (const b of fx.batches.filter((x) => x.file === file)) {
    const edges = [b.position, b.position + b.size];
    for (const edge of edges) {
      for (let p = edge - BOUNDARY_SPAN_BYTES; p <= edge + BOUNDARY_SPAN_BYTES; p++) {
        if (p >= 0 && p <= size) set.add(p);
      }
    }
  }
  for (let i = 0; i < SAMPLED_POSITIONS; i++) set.add(prng.int(0, size));
  return [...set].sort((a, b) => a - b);
}

/**
 * Opens the damaged copy and checks it holds exactly `expected`, that the active file was cut
 * back to `activeBytes`, that a second reopen is stable and an append continues at the end.
 */
async function checkRecovery(
  dir: string,
  expected: RecordView[],
  activePath: string,
  activeBytes: number,
  what: string,
): Promise<void> {
  const end = expected.length === 0 ? 0 : (expected[expected.length - 1] as RecordView).offset + 1;
  const log = PartitionLog.open(dir, { config: { fsync: "never" }, ...quiet });
  strictEqual(log.logEndOffset, end, `${what}: log end offset`);
  deepStrictEqual(readAll(log), expected, `${what}: surviving records`);
  await log.close();
  strictEqual(fs.statSync(activePath).size, activeBytes, `${what}: active file cut back`);
  const warnings: string[] = [];
  const again = PartitionLog.open(dir, {
    config: { fsync: "never" },
    onWarning: (m) => warnings.push(m),
  });
  deepStrictEqual(warnings, [], `${what}: a second reopen finds nothing to repair`);
  deepStrictEqual(readAll(again), expected, `${what}: second reopen`);
  const r = await again.append(textBatch("after", 2));
  strictEqual(r.baseOffset, end, `${what}: an append continues at the end`);
  await again.close();
  const third = PartitionLog.open(dir, { config: { fsync: "never" }, ...quiet });
  deepStrictEqual(
    readAll(third),
    [...expected, { offset: end, value: "after-0" }, { offset: end + 1, value: "after-1" }],
    `${what}: the new append is durable across a reopen`,
  );
  await third.close();
}

Deno.test("storage crash: a torn active segment keeps exactly the batches before the cut", async () => {
  await withTempDir(async (root) => {
    const fx = await buildFixture(`${root}/fixture`);
    const prng = createPrng(SEED + 1);
    const active = fx.batches.filter((b) => b.file === fx.activeFile);
    const cuts = positions(fx, fx.activeFile, prng);
    ok(cuts.length > 1000, `${cuts.length} cut positions`);
    for (const cut of cuts) {
      const dir = `${root}/case`;
      materialise(fx, dir, (name, b) => name === fx.activeFile ? b.subarray(0, cut) : b);
      const kept = active.filter((b) => b.position + b.size <= cut);
      const keptBytes = kept.length === 0 ? 0 : (kept[kept.length - 1] as BatchInfo).position +
        (kept[kept.length - 1] as BatchInfo).size;
      const expected = recordsUpTo(fx, (b) => b.file !== fx.activeFile || kept.includes(b));
      await checkRecovery(
        dir,
        expected,
        `${dir}/${fx.activeFile}`,
        keptBytes,
        `cut at ${cut} (seed ${SEED})`,
      );
    }
  });
});

Deno.test("storage crash: a flipped bit in the active segment keeps the valid prefix", async () => {
  await withTempDir(async (root) => {
    const fx = await buildFixture(`${root}/fixture`);
    const prng = createPrng(SEED + 2);
    const active = fx.batches.filter((b) => b.file === fx.activeFile);
    const size = (fx.files.get(fx.activeFile) ?? new Uint8Array()).length;
    let tried = 0;
    for (const pos of positions(fx, fx.activeFile, prng)) {
      if (pos >= size) continue;
      const damaged = active.find((b) => pos >= b.position && pos < b.position + b.size);
      ok(damaged, `position ${pos} lies in a batch`);
      const inBatch = pos - damaged.position;
      if (inBatch >= EPOCH_FIELD.from && inBatch < EPOCH_FIELD.to) continue;
      const bit = prng.int(0, 7);
      const dir = `${root}/case`;
      materialise(fx, dir, (name, b) => {
        if (name !== fx.activeFile) return b;
        const copy = b.slice();
        copy[pos] = (copy[pos] as number) ^ (1 << bit);
        return copy;
      });
      const expected = recordsUpTo(
        fx,
        (b) => b.file !== fx.activeFile || b.position < damaged.position,
      );
      await checkRecovery(
        dir,
        expected,
        `${dir}/${fx.activeFile}`,
        damaged.position,
        `bit ${bit} of byte ${pos} flipped (seed ${SEED})`,
      );
      tried++;
    }
    ok(tried > 1000, `${tried} bit flips tried`);
  });
});

/**
 * Checks a log whose sealed segment holds a damaged batch: each batch read alone is either
 * served intact or refused with "corrupt"; the damaged one is always refused; a consumer
 * reading from the start sees only intact records.
 */
function checkSealedDamage(log: PartitionLog, fx: Fixture, damaged: BatchInfo, what: string) {
  for (const b of fx.batches) {
    let served: RecordView[] | null = null;
    try {
      const r = log.read(b.baseOffset, 1);
      ok(r.type === "ok", `${what}: read of "${b.baseOffset}" in range`);
      served = recordsOf(r.bytes);
    } catch (err) {
      ok(
        err instanceof StorageError && err.code === "corrupt",
        `${what}: read of "${b.baseOffset}" failed with ${err}`,
      );
      ok(/CRC|offset|position|ends|length|runs past|batch/i.test(err.message), err.message);
    }
    if (b === damaged) {
      strictEqual(served, null, `${what}: the damaged batch "${b.baseOffset}" was served`);
    } else if (served !== null) {
      deepStrictEqual(served, b.records, `${what}: batch "${b.baseOffset}" served intact`);
    }
  }
  // A consumer from the start: everything served must be exactly what was written.
  const all = fx.batches.flatMap((b) => b.records);
  let at = 0;
  for (let guard = 0; guard <= all.length && at < log.logEndOffset; guard++) {
    let r;
    try {
      r = log.read(at, 4096);
    } catch (err) {
      ok(err instanceof StorageError && err.code === "corrupt", `${what}: ${err}`);
      ok(at <= damaged.lastOffset, `${what}: consumer stopped at "${at}" past the damage`);
      return;
    }
    ok(r.type === "ok" && r.nextOffset > at, `${what}: consumer progresses at "${at}"`);
    for (const rec of recordsOf(r.bytes)) {
      deepStrictEqual(rec, all[rec.offset], `${what}: consumer record "${rec.offset}"`);
      ok(rec.offset < damaged.baseOffset || rec.offset > damaged.lastOffset, "damage served");
    }
    at = r.nextOffset;
  }
  ok(false, `${what}: a consumer read past the damaged batch without an error`);
}

/** Files under `dir` this process holds open (Linux /proc). */
function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      if (target.startsWith(`${dir}/`)) out.push(target);
    } catch {
      // The descriptor used to list the directory is gone by the time it is read: skip it.
    }
  }
  return out;
}

/** Opens the log, or returns null when the open fails with "corrupt" naming `file`. */
function openOrCorrupt(dir: string, file: string, what: string): PartitionLog | null {
  try {
    return PartitionLog.open(dir, { config: { fsync: "never" }, ...quiet });
  } catch (err) {
    ok(err instanceof StorageError && err.code === "corrupt", `${what}: open failed: ${err}`);
    ok(err.message.includes(file), `${what}: the error names the segment: ${err.message}`);
    return null;
  }
}

Deno.test("storage crash: a flipped bit in a sealed segment is reported as corrupt, never served", async () => {
  await withTempDir(async (root) => {
    const fx = await buildFixture(`${root}/fixture`);
    const prng = createPrng(SEED + 3);
    let tried = 0, opensRefused = 0;
    // The middle sealed segment has sealed neighbours on both sides.
    for (const file of fx.sealedFiles.slice(1, 2)) {
      const original = fx.files.get(file) ?? new Uint8Array();
      for (let pos = 0; pos < original.length; pos++) {
        const damaged = fx.batches.find((b) =>
          b.file === file && pos >= b.position && pos < b.position + b.size
        );
        ok(damaged, `position ${pos} of ${file} lies in a batch`);
        const inBatch = pos - damaged.position;
        if (inBatch >= EPOCH_FIELD.from && inBatch < EPOCH_FIELD.to) continue;
        const bit = prng.int(0, 7);
        const what = `bit ${bit} of byte ${pos} of sealed ${file} (seed ${SEED})`;
        const flipped = original.slice();
        flipped[pos] = (flipped[pos] as number) ^ (1 << bit);
        const dir = `${root}/case`;
        materialise(fx, dir, (name, b) => name === file ? flipped : b);
        // Damage to the last batch's header also fails the index check on open, so the
        // segment is rescanned and the open itself refuses; either way nothing is served.
        const log = openOrCorrupt(dir, file, what);
        if (log !== null) {
          strictEqual(log.logEndOffset, totalRecords(fx), what);
          checkSealedDamage(log, fx, damaged, what);
          await log.close();
        } else opensRefused++;
        deepStrictEqual(Deno.readFileSync(`${dir}/${file}`), flipped, `${what}: left as found`);

        // Without index files the segment is rebuilt by a scan, which must refuse too, and
        // must not "repair" it by cutting it and deleting every later segment.
        const noIndex = file.replace(".log", "");
        materialise(fx, dir, (name, b) => {
          if (name === file) return flipped;
          return name.startsWith(noIndex) ? null : b;
        });
        throws(
          () => PartitionLog.open(dir, { config: { fsync: "never" }, ...quiet }),
          (err: unknown) =>
            err instanceof StorageError && err.code === "corrupt" && err.message.includes(file),
          `${what}, index removed: open refuses`,
        );
        for (const name of fx.files.keys()) {
          if (name.endsWith(".log")) ok(fs.existsSync(`${dir}/${name}`), `${what}: ${name} kept`);
        }
        deepStrictEqual(Deno.readFileSync(`${dir}/${file}`), flipped, `${what}: not truncated`);
        deepStrictEqual(openFilesUnder(dir), [], `${what}: a refused open leaks no descriptor`);
        tried++;
      }
    }
    ok(tried > 500, `${tried} bit flips tried`);
    ok(opensRefused < tried / 4, `${opensRefused} of ${tried} opens refused`);
  });
});

Deno.test("storage crash: a sealed segment cut short is refused, never served as empty", async () => {
  await withTempDir(async (root) => {
    const fx = await buildFixture(`${root}/fixture`);
    const file = fx.sealedFiles[1] ?? "";
    const original = fx.files.get(file) ?? new Uint8Array();
    const prng = createPrng(SEED + 5);
    for (const cut of positions(fx, file, prng)) {
      if (cut >= original.length) continue;
      const what = `sealed ${file} cut at ${cut} (seed ${SEED})`;
      const dir = `${root}/case`;
      materialise(fx, dir, (name, b) => name === file ? b.subarray(0, cut) : b);
      const log = openOrCorrupt(dir, file, what);
      if (log !== null) {
        // Only reachable if the index check missed the cut: then reads must refuse.
        const lost = fx.batches.filter((b) => b.file === file && b.position + b.size > cut);
        for (const b of lost) {
          throws(() => log.read(b.baseOffset, 1 << 16), StorageError, `${what}: read refused`);
        }
        await log.close();
      }
      strictEqual(fs.statSync(`${dir}/${file}`).size, cut, `${what}: left as found`);
      for (const name of fx.files.keys()) {
        if (name.endsWith(".log")) ok(fs.existsSync(`${dir}/${name}`), `${what}: ${name} kept`);
      }
    }
  });
});

Deno.test("storage crash: damaged or missing index files are rebuilt and reads still work", async () => {
  await withTempDir(async (root) => {
    const fx = await buildFixture(`${root}/fixture`);
    const prng = createPrng(SEED + 4);
    const all = fx.batches.flatMap((b) => b.records);
    const damages: Array<[string, (b: Uint8Array) => Uint8Array | null]> = [
      ["missing", () => null],
      ["empty", () => new Uint8Array(0)],
      ["torn", (b) => b.subarray(0, Math.max(0, b.length - 3))],
      ["zeroed", (b) => new Uint8Array(b.length)],
      ["random", (b) => b.map(() => prng.int(0, 255))],
      ["one entry short", (b) => b.subarray(0, b.length - (b.length % 16 === 0 ? 16 : 8))],
    ];
    for (const file of fx.sealedFiles) {
      const s = file.replace(".log", "");
      const inSegment = fx.batches.filter((b) => b.file === file);
      for (const [kind, damage] of damages) {
        for (const target of [".index", ".timeindex", "both"]) {
          const what = `${kind} ${target} of ${file}`;
          const dir = `${root}/case`;
          materialise(fx, dir, (name, b) => {
            const hit = target === "both"
              ? name === `${s}.index` || name === `${s}.timeindex`
              : name === s + target;
            return hit ? damage(b) : b;
          });
          const log = PartitionLog.open(dir, { config: { fsync: "never" }, ...quiet });
          deepStrictEqual(readAll(log), all, `${what}: every record readable`);
          for (const b of inSegment) {
            deepStrictEqual(
              recordsOf((log.read(b.lastOffset, 1) as { bytes: Uint8Array }).bytes),
              b.records,
              `${what}: read of "${b.lastOffset}" finds its batch`,
            );
            strictEqual(
              log.findByTimestamp(b.timestampMs)?.header.baseOffset,
              b.baseOffset,
              `${what}: timestamp lookup of batch "${b.baseOffset}"`,
            );
          }
          strictEqual(log.applyRetention(BASE_TS_MS + 60_000), 0, `${what}: nothing expired`);
          strictEqual((await log.append(textBatch("x", 1))).baseOffset, all.length, what);
          await log.close();
        }
      }
    }
  });
});
