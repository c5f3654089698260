/**
 * LogService in cluster mode (issue #6) over ReplicaManagers in seeded simulation: three
 * nodes on a `SimNetwork` with virtual time, real partition logs in temporary directories.
 * Every assertion names its seed; SIM_SEEDS="1,2" runs others.
 *
 * Covered: produce only on the leader (NOT_LEADER elsewhere) with increasing offsets; fetch
 * and ListOffsets on the leader up to the commit end, byte-identical replicas; acks=all with
 * min.insync.replicas against the leader's in-sync set; an idempotent retry sent to a new
 * leader after a crash answered as a duplicate at its original offset; and the replication
 * quorum W (`replication.quorum`) deciding what commits with replicas cut off. Regressions
 * (b5b5cfa): a new leader neither counting nor reporting a crashed, fenced broker; an
 * idempotent retry after timed_out answered as a duplicate; ListOffsets latest never going
 * back on a new leader (OFFSET_NOT_AVAILABLE until it commits in its term).
 */
import assert from "node:assert/strict";
import { buildBatch } from "../records/mod.ts";
import { textBatch } from "../testing/temp_dir.ts";
import { type NodeId, nodeId } from "../util/mod.ts";
import {
  type DataBatch,
  dataBatches,
  EPOCH_MS,
  SimReplicaCluster,
  TOPIC,
  TOPIC_ID,
} from "./_test_replica_cluster.ts";
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ProduceOutcome } from "./log_service.ts";

/** Fixed seeds; SIM_SEEDS="1,2,3" runs others (a failure prints its seed). */
const SEEDS = (Deno.env.get("SIM_SEEDS") ?? "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20")
  .split(",").map(Number);
const ALL: NodeId[] = [nodeId(1), nodeId(2), nodeId(3)];
/**
 * ListOffsets' answer while a new leader's high watermark is unknown (KIP-207). Typed wide so
 * this file also compiles against code from before the kind existed (to check a regression
 * test fails there).
 */
const NOT_AVAILABLE: string = "offset_not_available";
/** Fetch bound large enough for every scenario's log. */
const FETCH_BYTES = 1 << 20;

const enc = new TextEncoder();

/** An idempotent batch of `count` records `${tag}-${i}` from producer `pid` at `seq`. */
function idempotentBatch(tag: string, count: number, pid: bigint, seq: number): Uint8Array {
  return buildBatch({
    records: Array.from({ length: count }, (_, i) => ({
      value: enc.encode(`${tag}-${i}`),
      timestampMs: EPOCH_MS + i,
    })),
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
  });
}

function values(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}`);
}

function okOffset(o: ProduceOutcome, what: string): number {
  assert.equal(o.type, "ok", `${what}: ${o.type === "error" ? `${o.kind} ${o.message}` : ""}`);
  return o.type === "ok" ? o.baseOffset : -1;
}

/** The data batches node `id`'s LogService serves from offset 0. */
function fetched(c: SimReplicaCluster, id: NodeId): { batches: DataBatch[]; hw: number } {
  const f = c.node(id).logs.fetch(TOPIC, 0, 0, FETCH_BYTES, true);
  assert.equal(f.type, "ok", `seed ${c.seed}: fetch on ${id}: ${f.type === "error" && f.message}`);
  return f.type === "ok" ? { batches: dataBatches(f.records), hw: f.highWatermark } : {
    batches: [],
    hw: -1,
  };
}

function isrOf(c: SimReplicaCluster): readonly NodeId[] {
  return c.image.topicById(TOPIC_ID)?.partitions[0]?.isr ?? [];
}

Deno.test("LogService cluster mode: produce on the leader, NOT_LEADER elsewhere, fetch up to the commit end", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 5), duplicateRate: 0.02 },
    });
    try {
      const leader = await c.settledLeader();
      const followers = ALL.filter((id) => id !== leader);
      const acked: DataBatch[] = [];
      let next = 0;
      for (let i = 0; i < 4; i++) {
        const count = 1 + ((seed + i) % 3);
        const tag = `s${seed}-${i}`;
        const base = okOffset(
          await c.produce(leader, textBatch(tag, count), { acksAll: i % 2 === 0 }),
          `seed ${seed} batch ${i}`,
        );
        assert.ok(base >= next, `seed ${seed}: offset ${base} after ${next}`);
        next = base + count;
        acked.push({ baseOffset: base, values: values(tag, count) });
      }
      // Several in flight at once are committed in the order they were proposed.
      const inFlight: Array<Promise<ProduceOutcome>> = [];
      for (let i = 0; i < 3; i++) {
        inFlight.push(c.node(leader).logs.produce(TOPIC, 0, textBatch(`s${seed}-p${i}`, 2), true));
      }
      const settled: ProduceOutcome[] = [];
      const all = Promise.all(inFlight).then((r) => settled.push(...r));
      assert.ok(await c.runUntil(() => settled.length === 3, 5_000), `seed ${seed}: pipelined`);
      await all;
      for (const [i, o] of settled.entries()) {
        const base = okOffset(o, `seed ${seed} pipelined ${i}`);
        assert.ok(base >= next, `seed ${seed}: pipelined offset ${base} after ${next}`);
        next = base + 2;
        acked.push({ baseOffset: base, values: values(`s${seed}-p${i}`, 2) });
      }
      // Followers refuse produce, fetch and ListOffsets, naming the leader.
      for (const f of followers) {
        const p = await c.produce(f, textBatch("nope", 1));
        assert.equal(p.type === "error" && p.kind, "not_leader", `seed ${seed}: produce on ${f}`);
        assert.match(p.type === "error" ? p.message : "", new RegExp(`node ${leader} leads`));
        const fe = c.node(f).logs.fetch(TOPIC, 0, 0, FETCH_BYTES, true);
        assert.equal(fe.type === "error" && fe.kind, "not_leader", `seed ${seed}: fetch on ${f}`);
        const lo = c.node(f).logs.listOffset(TOPIC, 0, LATEST_TIMESTAMP);
        assert.equal(lo.type === "error" && lo.kind, "not_leader", `seed ${seed}: offsets ${f}`);
      }
      // The leader serves exactly what was acknowledged, up to its commit end.
      const g = c.group(leader);
      const { batches, hw } = fetched(c, leader);
      assert.equal(hw, g?.commitOffset, `seed ${seed}: high watermark`);
      assert.deepEqual(batches, acked, `seed ${seed}: fetched batches`);
      const latest = c.node(leader).logs.listOffset(TOPIC, 0, LATEST_TIMESTAMP);
      assert.deepEqual(
        latest,
        { type: "ok", offset: hw, timestampMs: -1, leaderEpoch: g?.term },
        `seed ${seed}: latest`,
      );
      const earliest = c.node(leader).logs.listOffset(TOPIC, 0, EARLIEST_TIMESTAMP);
      assert.equal(earliest.type === "ok" && earliest.offset, 0, `seed ${seed}: earliest`);
      // Followers hold the same bytes once replicated.
      const caughtUp = await c.runUntil(
        () => followers.every((f) => (c.group(f)?.commitOffset ?? -1) >= hw),
        5_000,
      );
      assert.ok(caughtUp, `seed ${seed}: followers did not catch up`);
      for (const f of followers) {
        assert.deepEqual(c.logBytes(f, 0, hw), c.logBytes(leader, 0, hw), `seed ${seed}: ${f}`);
        // Asked to (the HTTP API), a follower serves reads up to its own commit end.
        const read = c.node(f).logs.fetch(TOPIC, 0, 0, FETCH_BYTES, true, { fromFollower: true });
        assert.equal(read.type, "ok", `seed ${seed}: follower read on ${f}`);
        if (read.type === "ok") {
          assert.equal(read.highWatermark, c.group(f)?.commitOffset, `seed ${seed}: ${f} hw`);
          assert.deepEqual(dataBatches(read.records), acked, `seed ${seed}: ${f} batches`);
        }
      }
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("LogService cluster mode: a corrupt batch is refused even where LogAppendTime rewrites the CRC", async () => {
  for (const seed of SEEDS.slice(0, 3)) {
    const c = await SimReplicaCluster.start({
      seed,
      configs: { "message.timestamp.type": "LogAppendTime" },
    });
    try {
      const leader = await c.settledLeader();
      const end = c.group(leader)?.logEndOffset;
      // Regression: the stamp recomputed the CRC before the proposal checked it, so a batch
      // damaged in transit was stored as valid.
      const damaged = textBatch(`s${seed}`, 2);
      damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0xff;
      const refused = await c.produce(leader, damaged);
      assert.equal(refused.type === "error" && refused.kind, "corrupt", `seed ${seed}`);
      await c.runFor(50);
      assert.equal(c.group(leader)?.logEndOffset, end, `seed ${seed}: nothing appended`);
      const ok = await c.produce(leader, textBatch(`s${seed}-ok`, 2));
      assert.ok(
        ok.type === "ok" && ok.logAppendTimeMs >= EPOCH_MS,
        `seed ${seed}: ${JSON.stringify(ok)}`,
      );
    } finally {
      await c.close();
    }
  }
});

Deno.test("LogService cluster mode: acks=all against min.insync.replicas as the ISR shrinks and grows", async () => {
  const lagMs = 300;
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, isrLagMs: lagMs });
    try {
      const leader = await c.settledLeader();
      const cut = ALL.filter((id) => id !== leader)[seed % 2] as NodeId;
      c.isolate(cut);
      // W = 2: committed without the cut-off follower.
      okOffset(await c.produce(leader, textBatch(`s${seed}-a`, 1)), `seed ${seed} cut`);
      assert.ok(await c.runUntil(() => isrOf(c).length === 2, 5 * lagMs), `seed ${seed}: ISR`);
      c.setConfig("min.insync.replicas", "3");
      const mirrored = await c.runUntil(
        () => c.node(leader).store.topic(TOPIC)?.configs["min.insync.replicas"] === "3",
        1_000,
      );
      assert.ok(mirrored, `seed ${seed}: config not mirrored`);
      const endBefore = c.group(leader)?.logEndOffset;
      const refused = await c.produce(leader, textBatch(`s${seed}-b`, 1), { acksAll: true });
      assert.equal(
        refused.type === "error" && refused.kind,
        "not_enough_replicas",
        `seed ${seed}: acks=all with 2 in sync`,
      );
      assert.equal(c.group(leader)?.logEndOffset, endBefore, `seed ${seed}: refused but written`);
      // acks=1 does not look at min.insync.replicas.
      okOffset(
        await c.produce(leader, textBatch(`s${seed}-c`, 1), { acksAll: false }),
        `seed ${seed} acks=1`,
      );
      c.net.healAll();
      assert.ok(await c.runUntil(() => isrOf(c).length === 3, 5 * lagMs), `seed ${seed}: regrow`);
      okOffset(
        await c.produce(leader, textBatch(`s${seed}-d`, 1), { acksAll: true }),
        `seed ${seed} acks=all healed`,
      );
      const got = fetched(c, leader).batches.flatMap((b) => b.values);
      assert.deepEqual(got, [`s${seed}-a-0`, `s${seed}-c-0`, `s${seed}-d-0`], `seed ${seed}`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("LogService cluster mode: after a leader crash, acknowledged batches survive and a retry is a duplicate", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 4) } });
    try {
      const old = await c.settledLeader();
      const pid = BigInt(1000 + seed);
      const acked: DataBatch[] = [];
      let last: Uint8Array = new Uint8Array();
      let lastBase = -1;
      for (let i = 0; i < 3; i++) {
        last = idempotentBatch(`s${seed}-${i}`, 2, pid, 2 * i);
        lastBase = okOffset(await c.produce(old, last), `seed ${seed} batch ${i}`);
        acked.push({ baseOffset: lastBase, values: values(`s${seed}-${i}`, 2) });
      }
      await c.crash(old);
      const next = await c.settledLeader();
      // The new leader's first entry (its leader change) commits every earlier one (§5.4.2).
      const committed = await c.runUntil(
        () => c.group(next)?.commitOffset === c.group(next)?.logEndOffset,
        5_000,
      );
      assert.ok(committed, `seed ${seed}: new leader did not commit its term`);
      assert.deepEqual(fetched(c, next).batches, acked, `seed ${seed}: acknowledged batches`);
      const endBefore = c.group(next)?.logEndOffset;
      const retry = await c.produce(next, last);
      assert.deepEqual(
        retry.type === "ok" && [retry.baseOffset, retry.duplicate],
        [lastBase, true],
        `seed ${seed}: retry ${JSON.stringify(retry)}`,
      );
      await c.runFor(100);
      assert.equal(c.group(next)?.logEndOffset, endBefore, `seed ${seed}: retry appended`);
      assert.deepEqual(fetched(c, next).batches, acked, `seed ${seed}: after the retry`);
      // The producer goes on where it left off; a gap in its sequence is refused.
      const gap = await c.produce(next, idempotentBatch("gap", 1, pid, 9));
      assert.equal(gap.type === "error" && gap.kind, "out_of_order_sequence", `seed ${seed}`);
      const more = await c.produce(next, idempotentBatch(`s${seed}-3`, 1, pid, 6));
      assert.ok(okOffset(more, `seed ${seed} next`) >= (endBefore ?? 0), `seed ${seed}`);
      assert.equal(more.type === "ok" && more.duplicate, false, `seed ${seed}`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("LogService cluster mode: an idempotent batch sent twice at once is appended once", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 5) } });
    try {
      const leader = await c.settledLeader();
      const pid = BigInt(2000 + seed);
      const batch = idempotentBatch(`s${seed}`, 2, pid, 0);
      // The second waits for the first (batches of one producer are chained per partition).
      const first = c.node(leader).logs.produce(TOPIC, 0, batch, true);
      const second = await c.produce(leader, batch);
      const original = await first;
      const base = okOffset(original, `seed ${seed} original`);
      assert.equal(original.type === "ok" && original.duplicate, false, `seed ${seed}`);
      assert.deepEqual(
        second.type === "ok" && [second.baseOffset, second.duplicate],
        [base, true],
        `seed ${seed}: second ${JSON.stringify(second)}`,
      );
      await c.runFor(100);
      assert.deepEqual(
        fetched(c, leader).batches,
        [{ baseOffset: base, values: values(`s${seed}`, 2) }],
        `seed ${seed}: log`,
      );
    } finally {
      await c.close();
    }
  }
});

Deno.test("LogService cluster mode: replication.quorum=3 commits nothing with a replica cut off", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, configs: { "replication.quorum": "3" } });
    try {
      const leader = await c.settledLeader();
      okOffset(await c.produce(leader, textBatch(`s${seed}-a`, 1)), `seed ${seed} all up`);
      const cut = ALL.filter((id) => id !== leader)[seed % 2] as NodeId;
      await c.runUntil(
        () => ALL.every((id) => c.group(id)?.commitOffset === c.group(leader)?.commitOffset),
        1_000,
      );
      const maxCommit = () => Math.max(...ALL.map((id) => c.group(id)?.commitOffset ?? -1));
      const before = maxCommit();
      c.isolate(cut);
      // Virtual time stands still while the (wall-clock) produce timeout runs out.
      const timedOut = await c.node(leader).logs.produce(
        TOPIC,
        0,
        textBatch(`s${seed}-b`, 1),
        true,
        { timeoutMs: 20 },
      );
      assert.equal(timedOut.type === "error" && timedOut.kind, "timed_out", `seed ${seed}`);
      // W = 3: no replica's commit end moves while one of the three is cut off.
      const moved = await c.runUntil(() => maxCommit() > before, 1_000);
      assert.ok(!moved, `seed ${seed}: commit moved from ${before} to ${maxCommit()}`);
      // Healed, the partition commits again.
      c.net.healAll();
      const l2 = await c.settledLeader();
      okOffset(await c.produce(l2, textBatch(`s${seed}-c`, 1)), `seed ${seed} healed`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("LogService cluster mode: replication.quorum=1 commits on the leader alone", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, configs: { "replication.quorum": "1" } });
    try {
      const leader = await c.settledLeader();
      c.isolate(leader);
      const base = okOffset(
        await c.produce(leader, textBatch(`s${seed}-a`, 2), { acksAll: true }),
        `seed ${seed} isolated leader`,
      );
      const { batches, hw } = fetched(c, leader);
      assert.deepEqual(batches, [{ baseOffset: base, values: values(`s${seed}-a`, 2) }]);
      assert.equal(hw, base + 2, `seed ${seed}: high watermark`);
      for (const f of ALL.filter((id) => id !== leader)) {
        assert.ok((c.group(f)?.logEndOffset ?? 0) <= base, `seed ${seed}: ${f} has it`);
      }
      c.net.healAll();
      const caughtUp = await c.runUntil(
        () => ALL.every((id) => (c.group(id)?.commitOffset ?? -1) >= hw),
        5_000,
      );
      assert.ok(caughtUp, `seed ${seed}: followers did not catch up`);
      for (const f of ALL) {
        assert.deepEqual(c.logBytes(f, 0, hw), c.logBytes(leader, 0, hw), `seed ${seed}: ${f}`);
      }
    } finally {
      await c.close();
    }
  }
});

// Regression (b5b5cfa): a new leader gave every voter a grace period, so for isrLagMs it
// listed the crashed, fenced leader in its ISR, reported it, and acknowledged acks=all
// under min.insync.replicas=3 with two live replicas.
Deno.test("LogService cluster mode: a new leader neither counts nor reports a crashed, fenced broker", async () => {
  const lagMs = 300;
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      isrLagMs: lagMs,
      configs: { "min.insync.replicas": "3" },
      faults: { delayMaxMs: 1 + (seed % 4) },
    });
    try {
      const old = await c.settledLeader();
      assert.ok(await c.runUntil(() => isrOf(c).length === 3, 5 * lagMs), `seed ${seed}: ISR`);
      okOffset(
        await c.produce(old, textBatch(`s${seed}-a`, 1), { acksAll: true }),
        `seed ${seed} acks=all with three in sync`,
      );
      const oldTerm = c.group(old)?.term ?? -1;
      const reportsBefore = c.reports.length;
      await c.crash(old);
      const live = ALL.filter((id) => id !== old);
      assert.deepEqual([...isrOf(c)], live, `seed ${seed}: recorded ISR after fencing`);
      // After every step: no live node's view counts or lists the fenced broker.
      const seen: string[] = [];
      const watch = () => {
        for (const id of live) {
          const n = c.node(id);
          const set = n.manager.inSyncSet(TOPIC, 0);
          const counted = n.manager.replica(TOPIC, 0)?.inSyncReplicas ?? 0;
          const listed = n.view.placement(TOPIC, 1)[0]?.isr ?? [];
          if (set?.includes(old) || counted > live.length || listed.includes(old)) {
            seen.push(`${c.net.nowMs} ms: node ${id} [${set}] ${counted} [${listed}]`);
          }
        }
        if (isrOf(c).includes(old)) seen.push(`${c.net.nowMs} ms: recorded [${isrOf(c)}]`);
      };
      const elected = await c.runUntil(() => {
        watch();
        const l = c.leaderOf();
        return l !== undefined && (c.group(l)?.term ?? -1) > oldTerm;
      }, 5_000);
      const next = c.leaderOf();
      assert.ok(elected && next !== undefined, `seed ${seed}: no new leader`);
      // At once, while a grace period would still count the fenced broker.
      const endBefore = c.group(next)?.logEndOffset;
      const refused = await c.produce(next, textBatch(`s${seed}-b`, 1), { acksAll: true });
      assert.equal(
        refused.type === "error" && refused.kind,
        "not_enough_replicas",
        `seed ${seed}: acks=all on the new leader ${JSON.stringify(refused)}`,
      );
      assert.equal(c.group(next)?.logEndOffset, endBefore, `seed ${seed}: refused but written`);
      // Past the grace period a new leader used to give every voter.
      await c.runUntil(() => {
        watch();
        return false;
      }, 2 * lagMs);
      assert.deepEqual(
        seen.slice(0, 5),
        [],
        `seed ${seed}: the fenced broker ${old} counted or listed at ${seen.length} steps`,
      );
      const reports = c.reports.slice(reportsBefore).filter((r) => r.from === next);
      assert.deepEqual(
        reports.filter((r) => r.isr.includes(old)).map((r) => `${r.atMs} ms [${r.isr}]`),
        [],
        `seed ${seed}: reports naming the fenced broker ${old}`,
      );
      assert.ok(reports.some((r) => r.accepted), `seed ${seed}: no accepted report of ${next}`);
      assert.deepEqual([...isrOf(c)], live, `seed ${seed}: recorded ISR`);
      const again = await c.produce(next, textBatch(`s${seed}-c`, 1), { acksAll: true });
      assert.equal(again.type === "error" && again.kind, "not_enough_replicas", `seed ${seed}`);
      okOffset(
        await c.produce(next, textBatch(`s${seed}-d`, 1), { acksAll: false }),
        `seed ${seed} acks=1`,
      );
      // Back and caught up, the broker counts again.
      c.restart(old);
      assert.ok(await c.runUntil(() => isrOf(c).length === 3, 10 * lagMs), `seed ${seed}: regrow`);
      okOffset(
        await c.produce(next, textBatch(`s${seed}-e`, 1), { acksAll: true }),
        `seed ${seed} acks=all after the restart`,
      );
      const got = fetched(c, next).batches.flatMap((b) => b.values);
      assert.deepEqual(got, [`s${seed}-a-0`, `s${seed}-d-0`, `s${seed}-e-0`], `seed ${seed}`);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

// Regression (b5b5cfa): a timed-out idempotent batch still committed, and its retry, checked
// against a producer table that never saw it, was appended a second time.
Deno.test("LogService cluster mode: an idempotent batch retried after timed_out is a duplicate at its original offset", async () => {
  const pid = 77n;
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 4) } });
    try {
      const leader = await c.settledLeader();
      const batch = idempotentBatch(`s${seed}`, 2, pid, 0);
      // Virtual time stands still while the (wall-clock) timeout of 0 ms runs out, so no
      // follower acknowledges first.
      const first = await c.node(leader).logs.produce(TOPIC, 0, batch, true, { timeoutMs: 0 });
      assert.equal(
        first.type === "error" && first.kind,
        "timed_out",
        `seed ${seed}: first answer ${JSON.stringify(first)}`,
      );
      // Odd seeds retry at once (the original not committed yet), even ones after it was.
      if (seed % 2 === 0) await c.runFor(100);
      const retry = await c.produce(leader, batch);
      await c.runFor(100);
      assert.equal(c.leaderOf(), leader, `seed ${seed}: leadership moved`);
      const { batches } = fetched(c, leader);
      const base = batches[0]?.baseOffset ?? -1;
      assert.deepEqual(
        batches,
        [{ baseOffset: base, values: values(`s${seed}`, 2) }],
        `seed ${seed}: log`,
      );
      assert.deepEqual(
        retry.type === "ok" && [retry.baseOffset, retry.duplicate],
        [base, true],
        `seed ${seed}: retry ${JSON.stringify(retry)}`,
      );
      // The producer goes on with its next sequence.
      const more = await c.produce(leader, idempotentBatch(`s${seed}-next`, 1, pid, 2));
      assert.ok(okOffset(more, `seed ${seed} next`) >= base + 2, `seed ${seed}: next offset`);
      assert.equal(more.type === "ok" && more.duplicate, false, `seed ${seed}: next duplicate`);
    } finally {
      await c.close();
    }
  }
});

// Regression (b5b5cfa): before it committed an entry of its own term, a new leader answered
// ListOffsets latest from a commit end that could lag what its predecessor acknowledged.
Deno.test("LogService cluster mode: ListOffsets latest never goes back after a leader change", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 4) } });
    try {
      const old = await c.settledLeader();
      let acked = 0;
      for (let i = 0; i < 3; i++) {
        const base = okOffset(await c.produce(old, textBatch(`s${seed}-${i}`, 2)), `seed ${seed}`);
        acked = base + 2;
      }
      const before = c.node(old).logs.listOffset(TOPIC, 0, LATEST_TIMESTAMP);
      assert.equal(before.type === "ok" && before.offset, acked, `seed ${seed}: latest before`);
      const oldTerm = c.group(old)?.term ?? -1;
      await c.crash(old);
      const live = ALL.filter((id) => id !== old);
      // After every step, every live node answers latest at or past the acknowledged end,
      // OFFSET_NOT_AVAILABLE (a leader yet to commit in its term) or NOT_LEADER.
      const problems: string[] = [];
      let unavailable = 0;
      const check = (): boolean => {
        let answered = false;
        for (const id of live) {
          const r = c.node(id).logs.listOffset(TOPIC, 0, LATEST_TIMESTAMP);
          const g = c.group(id);
          const at =
            `${c.net.nowMs} ms: node ${id} (${g?.role} term ${g?.term} commit ${g?.commitOffset})`;
          if (r.type === "ok") {
            answered = true;
            if (r.offset < acked) problems.push(`${at}: latest ${r.offset} < ${acked}`);
            if (r.leaderEpoch <= oldTerm) problems.push(`${at}: epoch ${r.leaderEpoch}`);
          } else if (r.kind === NOT_AVAILABLE) {
            unavailable++;
            if (g?.role !== "leader") problems.push(`${at}: offset_not_available off a leader`);
          } else if (r.kind !== "not_leader") {
            problems.push(`${at}: ${r.kind} ${r.message}`);
          }
        }
        return answered;
      };
      const answered = await c.runUntil(check, 5_000);
      assert.deepEqual(problems, [], `seed ${seed}: ListOffsets latest after the crash`);
      assert.ok(answered, `seed ${seed}: no leader answered latest`);
      assert.ok(unavailable > 0, `seed ${seed}: the new leader never answered not available`);
      const next = c.leaderOf();
      assert.ok(next !== undefined, `seed ${seed}: no leader`);
      const after = c.node(next).logs.listOffset(TOPIC, 0, LATEST_TIMESTAMP);
      assert.ok(
        after.type === "ok" && after.offset >= acked &&
          after.offset === c.group(next)?.commitOffset,
        `seed ${seed}: latest ${JSON.stringify(after)} after ${acked}`,
      );
      // The earliest offset does not depend on the commit end; it is always answered.
      const earliest = c.node(next).logs.listOffset(TOPIC, 0, EARLIEST_TIMESTAMP);
      assert.equal(earliest.type === "ok" && earliest.offset, 0, `seed ${seed}: earliest`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("a re-elected leader counts no in-sync replica from its earlier term", async () => {
  // Seeds 1-10: in 3, 5, 7, 8 and 10 the first leader wins again after the preferred one
  // crashes, and counted its earlier term's ISR (3) until its first sample of the new term.
  for (const seed of SEEDS.slice(0, 10)) {
    const c = await SimReplicaCluster.start({
      seed,
      preferredLeaderDelayMs: 200,
      configs: { "min.insync.replicas": "3" },
    });
    try {
      const preferred = nodeId(1);
      c.isolate(preferred);
      await c.settledLeader();
      c.net.healAll();
      const moved = await c.runUntil(
        () =>
          c.leaderOf() === preferred &&
          c.image.topicById(TOPIC_ID)?.partitions[0]?.leader === preferred,
        5000,
      );
      assert.ok(moved, `seed ${seed}: leadership back on the preferred replica`);
      const term = c.group(preferred)?.term ?? -1;
      await c.crash(preferred);
      const elected = await c.runUntil(() => {
        const l = c.leaderOf();
        return l !== undefined && (c.group(l)?.term ?? -1) > term;
      }, 5000);
      assert.ok(elected, `seed ${seed}: a new leader`);
      const next = c.leaderOf() as NodeId;
      const counted = c.manager(next).replica(TOPIC, 0)?.inSyncReplicas ?? -1;
      assert.ok(counted <= 2, `seed ${seed}: node ${next} counts ${counted} in sync with 1 dead`);
      const o = await c.produce(next, textBatch(`s${seed}`, 1), { acksAll: true });
      assert.equal(
        o.type === "error" ? o.kind : o.type,
        "not_enough_replicas",
        `seed ${seed}: acks=all with min.insync.replicas=3 and a dead replica`,
      );
    } finally {
      await c.close();
    }
  }
});
