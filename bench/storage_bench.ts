/**
 * Benchmarks of the storage engine (issue #2), printing one JSON object a line:
 *
 * - `append`: throughput of sequential appends of 100-byte records in batches of 1, 10, 100
 *   and 1,000 records under each durability policy (always / interval / never);
 * - `read`: sequential read throughput over a log of `--read-mb` MiB from the page cache,
 *   the first pass after a reopen (CRCs of sealed segments checked) and the steady state;
 * - `group_commit`: fsync=always with 1 and with 64 concurrent appenders, and the ratio;
 * - `latency`: append latency percentiles (µs) for each policy, one appender.
 *
 * Every case runs for about `--duration-ms` (default 1500) after a short warm-up; batches are
 * built before the timed loop and reused (append rewrites only the base offset, outside the
 * CRC). The log lives in a fresh directory under `--dir` (default: the system temp dir, so
 * fsync costs are those of that disk) and is removed afterwards.
 *
 * Run: deno run --allow-all bench/storage_bench.ts [--duration-ms=N] [--read-mb=N] [--dir=PATH]
 *   [--only=append,read,group_commit,latency] [--fsync=always,interval,never] [--records=1,1000]
 */
import { type FsyncPolicy, type LogConfig, PartitionLog } from "../src/storage/mod.ts";
import { sizedBatch } from "../src/testing/temp_dir.ts";

const VALUE_BYTES = 100;
const ALL_BATCH_RECORDS = [1, 10, 100, 1000];
const ALL_POLICIES: FsyncPolicy[] = ["always", "interval", "never"];
/** Distinct pre-built batches cycled through by a timed loop. */
const BATCH_POOL = 8;
const CONCURRENT_APPENDERS = 64;
const GROUP_COMMIT_REPS = 3;
/** Read size of one fetch in the read benchmark (a typical max.partition.fetch.bytes). */
const READ_MAX_BYTES = 1024 * 1024;
/** Segment size of the read log: several sealed segments plus an active one. */
const READ_SEGMENT_BYTES = 64 * 1024 * 1024;
const MIB = 1024 * 1024;

function arg(name: string, fallback: string): string {
  const found = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : found.slice(name.length + 3);
}

const DURATION_MS = Number(arg("duration-ms", "1500"));
/** `--fsync=never,always` and `--records=1000` narrow the append and latency cases. */
const POLICIES = arg("fsync", ALL_POLICIES.join(",")).split(",") as FsyncPolicy[];
const BATCH_RECORDS = arg("records", ALL_BATCH_RECORDS.join(",")).split(",").map(Number);
const READ_MB = Number(arg("read-mb", "256"));
const BASE_DIR = arg("dir", Deno.env.get("TMPDIR") ?? "/tmp");
const common = { deno: Deno.version.deno, dir: BASE_DIR };

function emit(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ ...fields, ...common }));
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Runs `fn` with a log in a fresh directory, removed afterwards. */
async function withLog<T>(
  config: Partial<LogConfig>,
  fn: (log: PartitionLog, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ dir: BASE_DIR, prefix: "pyralog-bench-" });
  const log = PartitionLog.open(dir, { config });
  try {
    return await fn(log, dir);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function batchPool(records: number): Uint8Array[] {
  return Array.from({ length: BATCH_POOL }, () => sizedBatch(records, VALUE_BYTES));
}

/**
 * Appends from `appenders` concurrent loops for `durationMs` (after a warm-up of a quarter of
 * it); returns the counts and, when `latencies` is given, each append's latency in µs.
 */
async function appendFor(
  log: PartitionLog,
  pool: Uint8Array[],
  appenders: number,
  latencies: number[] | null,
  durationMs = DURATION_MS,
): Promise<{ appends: number; bytes: number; seconds: number }> {
  let appends = 0, bytes = 0, timing = false;
  const warmEnd = performance.now() + durationMs / 4;
  const end = warmEnd + durationMs;
  const loop = async (id: number) => {
    // Bounded by the deadline.
    for (let i = id; performance.now() < end; i++) {
      const batch = pool[i % pool.length] as Uint8Array;
      const t0 = performance.now();
      await log.append(batch);
      const t1 = performance.now();
      if (!timing) {
        timing = t1 >= warmEnd;
        continue;
      }
      appends++;
      bytes += batch.length;
      latencies?.push((t1 - t0) * 1000);
    }
  };
  await Promise.all(Array.from({ length: appenders }, (_, id) => loop(id)));
  return { appends, bytes, seconds: (end - warmEnd) / 1000 };
}

async function benchAppend(): Promise<void> {
  for (const fsync of POLICIES) {
    for (const records of BATCH_RECORDS) {
      const pool = batchPool(records);
      const r = await withLog({ fsync }, (log) => appendFor(log, pool, 1, null));
      emit({
        bench: "append",
        fsync,
        recordsPerBatch: records,
        valueBytes: VALUE_BYTES,
        appenders: 1,
        appendsPerSec: round(r.appends / r.seconds),
        recordsPerSec: Math.round((r.appends * records) / r.seconds),
        mbPerSec: round(r.bytes / MIB / r.seconds),
      });
    }
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

async function benchLatency(): Promise<void> {
  for (const fsync of POLICIES) {
    for (const records of [1, 100]) {
      const pool = batchPool(records);
      const latencies: number[] = [];
      const r = await withLog({ fsync }, (log) => appendFor(log, pool, 1, latencies));
      latencies.sort((a, b) => a - b);
      emit({
        bench: "latency",
        fsync,
        recordsPerBatch: records,
        valueBytes: VALUE_BYTES,
        appends: r.appends,
        p50Us: percentile(latencies, 0.5),
        p99Us: percentile(latencies, 0.99),
        p999Us: percentile(latencies, 0.999),
        maxUs: round(latencies[latencies.length - 1] ?? NaN),
      });
    }
  }
}

/**
 * fsync=always with 1 and with 64 appenders. The disk's fdatasync latency drifts (other
 * tenants, journal commits), so the two are measured alternately, GROUP_COMMIT_REPS times
 * each for a share of DURATION_MS, and the medians compared.
 */
async function benchGroupCommit(): Promise<void> {
  const pool = batchPool(1);
  const runs = new Map<number, number[]>([[1, []], [CONCURRENT_APPENDERS, []]]);
  for (let rep = 0; rep < GROUP_COMMIT_REPS; rep++) {
    for (const [appenders, perSec] of runs) {
      const r = await withLog(
        { fsync: "always" },
        (log) => appendFor(log, pool, appenders, null, DURATION_MS / GROUP_COMMIT_REPS),
      );
      perSec.push(r.appends / r.seconds);
    }
  }
  const medians: number[] = [];
  for (const [appenders, perSec] of runs) {
    perSec.sort((a, b) => a - b);
    const median = perSec[perSec.length >> 1] ?? NaN;
    medians.push(median);
    emit({
      bench: "group_commit",
      fsync: "always",
      recordsPerBatch: 1,
      valueBytes: VALUE_BYTES,
      appenders,
      appendsPerSec: round(median),
      runs: perSec.map((x) => Math.round(x)),
    });
  }
  emit({
    bench: "group_commit_ratio",
    appenders: CONCURRENT_APPENDERS,
    ratio: round((medians[1] ?? 0) / (medians[0] ?? 1), 2),
  });
}

/** Reads the whole log once from its start; returns the bytes and records read. */
function readPass(log: PartitionLog): { bytes: number; records: number } {
  let at = log.logStartOffset, bytes = 0;
  const end = log.logEndOffset;
  // Bounded: every read advances (a stalled read throws below).
  while (at < end) {
    const r = log.read(at, READ_MAX_BYTES);
    if (r.type !== "ok" || r.nextOffset <= at) throw new Error(`Read stalled at offset "${at}"`);
    bytes += r.bytes.length;
    at = r.nextOffset;
  }
  return { bytes, records: end - log.logStartOffset };
}

async function benchRead(): Promise<void> {
  const config = { fsync: "never" as const, segmentBytes: READ_SEGMENT_BYTES };
  const dir = await Deno.makeTempDir({ dir: BASE_DIR, prefix: "pyralog-bench-" });
  try {
    const pool = batchPool(1000);
    const writer = PartitionLog.open(dir, { config });
    const target = READ_MB * MIB;
    for (let i = 0; writer.sizeBytes < target; i++) {
      await writer.append(pool[i % pool.length] as Uint8Array);
    }
    await writer.close();
    // Reopen: sealed segments are verified (CRC) on their first read, as after a restart.
    const log = PartitionLog.open(dir, { config });
    try {
      let t0 = performance.now();
      const first = readPass(log);
      let seconds = (performance.now() - t0) / 1000;
      emit({
        bench: "read",
        pass: "first after reopen",
        logMb: round(first.bytes / MIB),
        readMaxBytes: READ_MAX_BYTES,
        mbPerSec: round(first.bytes / MIB / seconds),
        recordsPerSec: Math.round(first.records / seconds),
      });
      let bytes = 0, records = 0;
      t0 = performance.now();
      // Bounded by the deadline (at least one pass).
      do {
        const pass = readPass(log);
        bytes += pass.bytes;
        records += pass.records;
        seconds = (performance.now() - t0) / 1000;
      } while (seconds * 1000 < DURATION_MS);
      emit({
        bench: "read",
        pass: "steady",
        logMb: round(first.bytes / MIB),
        readMaxBytes: READ_MAX_BYTES,
        mbPerSec: round(bytes / MIB / seconds),
        recordsPerSec: Math.round(records / seconds),
      });
    } finally {
      await log.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const only = arg("only", "append,read,group_commit,latency").split(",");
if (only.includes("append")) await benchAppend();
if (only.includes("read")) await benchRead();
if (only.includes("group_commit")) await benchGroupCommit();
if (only.includes("latency")) await benchLatency();
