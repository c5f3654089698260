/**
 * Benchmark of partition replication (src/cluster/replication, issue #6): three `RaftGroup`
 * replicas of one partition in ONE process, over `TcpTransport` on loopback, each with its
 * own `PartitionLog` in a temporary directory. Prints one JSON object per line:
 *
 * - `durability: "sync"`: the partition log syncs (fdatasync, group commit) before a
 *   replica acknowledges an append (Raft's contract, §5.3 with stable storage); a proposal
 *   settles once W = 2 replicas hold it synced (acks=all). fsync "always" semantics.
 * - `durability: "writeCaching"`: the log is written to the page cache (PartitionLog fsync
 *   "never"), a 5 ms background flush reports synced ends; a proposal settles once W
 *   replicas hold it in memory (Redpanda's write caching; W simultaneous crashes may lose it).
 *
 * For each mode, 100-byte records in 100- and 1000-record batches with a bounded window of
 * proposals in flight (50,000 records), then 100-record batches one at a time (unloaded
 * latency): acknowledged records/s and propose→ack latency p50/p99. Issue #6's target is >= 300,000 records/s with write caching across 3 nodes on
 * one machine; all three nodes share one process (and one event loop) here.
 *
 * Run: deno run --allow-all bench/replication_bench.ts [--quick]
 */
import { parseArgs } from "node:util";
import type { Durability } from "../src/raft/mod.ts";
import { buildBatch } from "../src/records/mod.ts";
import { GroupRouter, RaftGroup } from "../src/cluster/replication/mod.ts";
import { realScheduler, TcpTransport } from "../src/cluster/transport/mod.ts";
import { createPrng, nodeId } from "../src/util/mod.ts";

const args = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
const QUICK = args.values.quick === true;
const DURATION_MS = QUICK ? 1000 : 3000;
const WARMUP_MS = QUICK ? 200 : 500;
const RECORD_BYTES = 100;
const TICK_MS = 10;
/** Offsets in flight per run (bounds the window: batches = this / records per batch). */
const INFLIGHT_RECORDS = 50_000;
const ELECTION_DEADLINE_MS = 10_000;

interface Cluster {
  groups: RaftGroup[];
  close(): Promise<void>;
}

async function startCluster(durability: Durability): Promise<Cluster> {
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  const transports = ids.map((id) =>
    TcpTransport.listen({
      nodeId: id,
      clusterId: "bench",
      port: 0,
      prng: createPrng(id),
      log: () => {},
      maxQueueBytes: 256 * 1024 * 1024,
      maxQueueFrames: 65_536,
    })
  );
  for (const t of transports) {
    for (const p of transports) {
      if (p !== t) t.addPeer(p.nodeId, { hostname: "127.0.0.1", port: p.addr.port });
    }
  }
  const dirs: string[] = [];
  const groups: RaftGroup[] = [];
  for (const [i, t] of transports.entries()) {
    const dir = await Deno.makeTempDir({ prefix: "pyralog-repl-bench-" });
    dirs.push(dir);
    const g = RaftGroup.open({
      groupId: "bench-0",
      nodeId: t.nodeId,
      dir,
      logConfig: { fsync: durability === "sync" ? "always" : "never" },
      membership: { voters: ids, learners: [] },
      transport: t,
      scheduler: realScheduler,
      prng: createPrng(1000 + i),
      tickMs: TICK_MS,
      durability,
    });
    new GroupRouter(t).add(g);
    groups.push(g);
  }
  return {
    groups,
    close: async () => {
      for (const g of groups) await g.close();
      await Promise.all(transports.map((t) => t.close()));
      for (const d of dirs) await Deno.remove(d, { recursive: true });
    },
  };
}

async function leaderOf(c: Cluster): Promise<RaftGroup> {
  const deadline = Date.now() + ELECTION_DEADLINE_MS;
  // Bounded by the deadline.
  while (Date.now() < deadline) {
    const l = c.groups.find((g) => g.role === "leader");
    if (l !== undefined) return l;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("No leader elected");
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function run(
  durability: Durability,
  recordsPerBatch: number,
  window: number,
): Promise<void> {
  const c = await startCluster(durability);
  try {
    const leader = await leaderOf(c);
    const value = new Uint8Array(RECORD_BYTES).fill(0x61);
    const batch = buildBatch({
      records: Array.from({ length: recordsPerBatch }, () => ({ value, timestampMs: 0 })),
    });
    const latencies: number[] = [];
    let records = 0;
    let failures = 0;
    let measuring = false;
    let stop = false;
    const worker = async () => {
      // Bounded by the run's duration.
      while (!stop) {
        const t0 = performance.now();
        const r = await leader.propose(batch);
        if (r.type !== "ok") {
          failures++;
          if (failures > 1000) return;
          continue;
        }
        if (measuring) {
          latencies.push(performance.now() - t0);
          records += recordsPerBatch;
        }
      }
    };
    const workers = Array.from({ length: window }, worker);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    measuring = true;
    const start = performance.now();
    await new Promise((r) => setTimeout(r, DURATION_MS));
    measuring = false;
    const elapsedMs = performance.now() - start;
    stop = true;
    await Promise.all(workers);
    latencies.sort((a, b) => a - b);
    console.log(JSON.stringify({
      bench: "replication",
      replicas: 3,
      processes: 1,
      transport: "tcp-loopback",
      durability,
      logFsync: durability === "sync" ? "always" : "never (5 ms background flush)",
      recordBytes: RECORD_BYTES,
      recordsPerBatch,
      inflightBatches: window,
      durationMs: Math.round(elapsedMs),
      recordsPerSec: Math.round(records / (elapsedMs / 1000)),
      mbPerSec: Number((records * RECORD_BYTES / 1e6 / (elapsedMs / 1000)).toFixed(1)),
      proposeToAckP50Ms: Number(quantile(latencies, 0.5).toFixed(2)),
      proposeToAckP99Ms: Number(quantile(latencies, 0.99).toFixed(2)),
      failures,
      leaderCommitOffset: leader.commitOffset,
    }));
  } finally {
    await c.close();
  }
}

for (const durability of ["writeCaching", "sync"] as const) {
  // Throughput: a deep window of proposals (latency then includes queueing, Little's law).
  for (const recordsPerBatch of [100, 1000]) {
    await run(durability, recordsPerBatch, Math.floor(INFLIGHT_RECORDS / recordsPerBatch));
  }
  // Latency: one proposal in flight at a time (the unloaded propose→ack round trip).
  await run(durability, 100, 1);
}
