/**
 * Retention of replicated partitions (issue #6) in seeded simulation: three nodes over a
 * `SimNetwork` on virtual time (`_test_replica_cluster.ts`), each applying
 * `ReplicaManager.applyRetention()` to its own replica, as Kafka replicas do. Every assertion
 * names its seed; SIM_SEEDS="1,2" runs others.
 *
 * Covered: retention.bytes and retention.ms move every replica's log start to the segment
 * boundary the storage rule names (computed here from the segment files and the bytes they
 * hold), never past the replica's commit end; the deleted segments leave the disk and the size
 * left ends within one segment of retention.bytes; reads below the new start are out of range,
 * everything acknowledged above it reads back byte-identical on every replica; and a follower
 * cut off while the others delete past its log end is reset to the leader's log start after
 * healing (Raft §7, installSnapshot), then replicates identical bytes again. A replica with an
 * uncommitted tail (a cut-off leader) moves its start no further than its commit end; the tail
 * is replaced by the new leader's log after healing and nothing acknowledged is lost there.
 * (Not asserted: that this start is a segment boundary. Clamped to the commit end it need not
 * be; see the commit message.)
 */
import assert from "node:assert/strict";
import { buildBatch, iterateBatches } from "../records/mod.ts";
import { type NodeId, nodeId } from "../util/mod.ts";
import {
  type DataBatch,
  dataBatches,
  SimReplicaCluster,
  TICK_MS,
  TOPIC,
  TOPIC_ID,
} from "./_test_replica_cluster.ts";
import { EARLIEST_TIMESTAMP } from "./log_service.ts";

/** Fixed seeds; SIM_SEEDS="1,2,3" runs others (a failure prints its seed). */
const SEEDS = (Deno.env.get("SIM_SEEDS") ?? "1,2,3,4,5,6,7,8,9,10").split(",").map(Number);
const ALL: NodeId[] = [nodeId(1), nodeId(2), nodeId(3)];
/** The smallest segment.bytes the topic configs allow: a few batches per segment. */
const SEGMENT_BYTES = 1024;
/** Four segments' worth. */
const RETENTION_BYTES = 4096;
/** Virtual ms a record lives under the retention.ms scenario. */
const RETENTION_MS = 1_000;
/** Pads record values so that two or three batches fill a segment. */
const PAD = "x".repeat(150);
/** Read bound large enough for every scenario's log. */
const READ_BYTES = 1 << 20;

const enc = new TextEncoder();

/** A batch of `count` records `${tag}-${i}` (padded) stamped `timestampMs`. */
function paddedBatch(tag: string, count: number, timestampMs: number): Uint8Array {
  return buildBatch({
    records: Array.from({ length: count }, (_, i) => ({
      key: enc.encode(`k${i}`),
      value: enc.encode(`${tag}-${i}.${PAD}`),
      timestampMs,
    })),
  });
}

/** The decoded values of `paddedBatch(tag, count, ...)`. */
function paddedValues(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}.${PAD}`);
}

/** Produces `batches` acks=all batches on the current leader; returns what was acknowledged. */
async function produceMany(
  c: SimReplicaCluster,
  tag: string,
  batches: number,
): Promise<DataBatch[]> {
  const acked: DataBatch[] = [];
  for (let i = 0; i < batches; i++) {
    const leader = c.leaderOf();
    assert.ok(leader !== undefined, `seed ${c.seed}: no leader for ${tag}-${i}`);
    const count = 1 + ((c.seed + i) % 2);
    const name = `s${c.seed}-${tag}${i}`;
    const o = await c.produce(leader, paddedBatch(name, count, c.clock.nowMs()));
    assert.equal(o.type, "ok", `seed ${c.seed}: produce ${name}: ${JSON.stringify(o)}`);
    if (o.type === "ok") {
      acked.push({ baseOffset: o.baseOffset, values: paddedValues(name, count) });
    }
  }
  return acked;
}

/** Runs until every running replica of partition 0 committed the leader's whole log. */
async function allCommitted(c: SimReplicaCluster, ids: readonly NodeId[]): Promise<void> {
  const ok = await c.runUntil(() => {
    const l = c.leaderOf();
    const end = l === undefined ? -1 : c.group(l)?.logEndOffset;
    return end !== undefined && end > 0 && ids.every((id) => c.group(id)?.commitOffset === end);
  }, 5_000);
  assert.ok(ok, `seed ${c.seed}: [${ids}] did not commit the leader's log`);
}

/** The base offsets of the segment files of node `id`'s replica of partition 0, ascending. */
function segmentBases(c: SimReplicaCluster, id: NodeId): number[] {
  const dir = `${c.dirs.get(id)}/${TOPIC}-0`;
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.name.endsWith(".log"))
    .map((e) => Number(e.name.slice(0, -".log".length)))
    .sort((a, b) => a - b);
}

/** One segment as its bytes show it: base offset, size, newest record timestamp. */
interface SegmentInfo {
  readonly base: number;
  readonly bytes: number;
  readonly maxTimestampMs: number;
}

/** Node `id`'s segments of partition 0 (from its files, sized by the batches they hold). */
function segments(c: SimReplicaCluster, id: NodeId): SegmentInfo[] {
  const log = c.group(id)?.log.partitionLog;
  assert.ok(log !== undefined, `seed ${c.seed}: node ${id} hosts partition 0`);
  const bases = segmentBases(c, id);
  return bases.map((base, i) => {
    const end = bases[i + 1] ?? log.logEndOffset;
    const r = log.read(base, READ_BYTES, { maxOffsetExclusive: end });
    assert.ok(r.type === "ok", `seed ${c.seed}: node ${id} reads segment ${base}`);
    let maxTimestampMs = -1;
    for (const f of iterateBatches(r.bytes)) {
      maxTimestampMs = Math.max(maxTimestampMs, f.header.maxTimestamp);
    }
    return { base, bytes: r.bytes.length, maxTimestampMs };
  });
}

/**
 * The log start retention should reach, by Kafka's rule written out independently of the
 * storage code: drop whole closed segments from the oldest while they are past retention.ms,
 * or while the log without them still holds retention.bytes; never the active segment.
 */
function expectedStart(
  segs: readonly SegmentInfo[],
  rule: { bytes?: number; ms?: number; nowMs?: number },
): number {
  let total = segs.reduce((n, s) => n + s.bytes, 0);
  let start = segs[0]?.base ?? 0;
  for (let i = 0; i + 1 < segs.length; i++) {
    const s = segs[i] as SegmentInfo;
    const expired = rule.ms !== undefined && (rule.nowMs ?? 0) - s.maxTimestampMs > rule.ms;
    const oversize = rule.bytes !== undefined && total - s.bytes >= rule.bytes;
    if (!expired && !oversize) break;
    total -= s.bytes;
    start = (segs[i + 1] as SegmentInfo).base;
  }
  return start;
}

/** Runs node `id`'s `applyRetention()` to its end; returns how many replicas moved. */
async function retain(c: SimReplicaCluster, id: NodeId): Promise<number> {
  let moved: number | undefined;
  const p = c.manager(id).applyRetention().then((n) => (moved = n));
  const done = await c.runUntil(() => moved !== undefined, 1_000);
  assert.ok(done, `seed ${c.seed}: applyRetention on ${id} unfinished`);
  await p;
  // Settle the prefix deletion's I/O.
  await c.runUntil(() => true, 0);
  return moved ?? -1;
}

/**
 * Checks node `id`'s replica after retention: its start `start`, what it serves from there
 * is `acked` above the start, and reads below the start are out of range.
 */
function checkReplica(
  c: SimReplicaCluster,
  id: NodeId,
  start: number,
  acked: readonly DataBatch[],
): void {
  const seed = c.seed;
  const g = c.group(id);
  assert.ok(g !== undefined, `seed ${seed}: node ${id} hosts partition 0`);
  assert.equal(g.logStartOffset, start, `seed ${seed}: node ${id} Raft log start`);
  assert.equal(g.log.partitionLog.logStartOffset, start, `seed ${seed}: node ${id} log start`);
  assert.ok(start <= g.commitOffset, `seed ${seed}: node ${id} start past its commit end`);
  const isLeader = c.leaderOf() === id;
  const opts = isLeader ? {} : { fromFollower: true };
  const logs = c.node(id).logs;
  for (const below of start > 0 ? [0, start - 1] : []) {
    const f = logs.fetch(TOPIC, 0, below, READ_BYTES, true, opts);
    assert.equal(
      f.type === "error" && f.kind,
      "offset_out_of_range",
      `seed ${seed}: node ${id} fetch at ${below} below start ${start}`,
    );
    assert.equal(f.logStartOffset, start, `seed ${seed}: node ${id} fetch names the start`);
  }
  // A read stops at a segment's end: read on until the high watermark (bounded by batches).
  const got: DataBatch[] = [];
  let at = start;
  for (let i = 0; i < acked.length + 1; i++) {
    const f = logs.fetch(TOPIC, 0, at, READ_BYTES, true, opts);
    assert.ok(f.type === "ok", `seed ${seed}: node ${id} fetch at ${at} (start ${start})`);
    got.push(...dataBatches(f.records));
    if (f.nextOffset >= f.highWatermark || f.nextOffset <= at) break;
    at = f.nextOffset;
  }
  const kept = acked.filter((b) => b.baseOffset >= start);
  assert.deepEqual(got, kept, `seed ${seed}: node ${id} batches from ${start}`);
  if (isLeader) {
    const earliest = logs.listOffset(TOPIC, 0, EARLIEST_TIMESTAMP);
    assert.equal(earliest.type === "ok" && earliest.offset, start, `seed ${seed}: earliest`);
  }
}

/**
 * Node `id`'s stored bytes of partition 0 from its log start to `end`, segment after segment
 * (one read stops at a segment's end; `SimReplicaCluster.logBytes` reads one); from `from`
 * when given.
 */
function storedBytes(c: SimReplicaCluster, id: NodeId, end: number, from?: number): Uint8Array {
  const log = c.group(id)?.log.partitionLog;
  assert.ok(log !== undefined, `seed ${c.seed}: node ${id} hosts partition 0`);
  const parts: Uint8Array[] = [];
  let at = from ?? log.logStartOffset;
  // Bounded: every read moves past at least one batch, or the loop stops.
  for (let i = 0; i < end && at < end; i++) {
    const r = log.read(at, READ_BYTES, { maxOffsetExclusive: end });
    assert.ok(r.type === "ok", `seed ${c.seed}: node ${id} reads at ${at}`);
    if (r.nextOffset <= at) break;
    parts.push(r.bytes);
    at = r.nextOffset;
  }
  assert.equal(at, end, `seed ${c.seed}: node ${id} read up to ${at} of ${end}`);
  const out = new Uint8Array(parts.reduce((n, b) => n + b.length, 0));
  let pos = 0;
  for (const b of parts) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

/** Every running replica holds the same bytes from the log start to the leader's commit end. */
function checkIdentical(c: SimReplicaCluster, ids: readonly NodeId[]): void {
  const l = c.leaderOf();
  assert.ok(l !== undefined, `seed ${c.seed}: leader`);
  const end = c.group(l)?.commitOffset ?? -1;
  const want = storedBytes(c, l, end);
  assert.ok(want.length > 0, `seed ${c.seed}: nothing stored`);
  for (const id of ids) {
    assert.equal(c.group(id)?.logStartOffset, c.group(l)?.logStartOffset, `seed ${c.seed}: ${id}`);
    assert.deepEqual(storedBytes(c, id, end), want, `seed ${c.seed}: node ${id} bytes vs ${l}`);
  }
}

Deno.test("Replica retention.bytes moves every replica's start to the same segment boundary within its commit end", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      configs: {
        "segment.bytes": String(SEGMENT_BYTES),
        "retention.bytes": String(RETENTION_BYTES),
      },
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 4) },
    });
    try {
      await c.settledLeader();
      const acked = await produceMany(c, "a", 30 + (seed % 5));
      await allCommitted(c, ALL);
      const before = ALL.map((id) => segments(c, id));
      // Every replica rolled at the same offsets: they appended the same batches.
      for (const [i, segs] of before.entries()) {
        assert.deepEqual(segs, before[0], `seed ${seed}: node ${ALL[i]} segments`);
      }
      const segs = before[0] ?? [];
      assert.ok(segs.length >= 10, `seed ${seed}: only ${segs.length} segments rolled`);
      const start = expectedStart(segs, { bytes: RETENTION_BYTES });
      assert.ok(start > 0, `seed ${seed}: retention deletes nothing`);
      assert.ok(acked.some((b) => b.baseOffset < start), `seed ${seed}: nothing acked below`);

      for (const id of ALL) {
        const commitBefore = c.group(id)?.commitOffset ?? -1;
        assert.equal(await retain(c, id), 1, `seed ${seed}: node ${id} moved replicas`);
        assert.ok(start <= commitBefore, `seed ${seed}: node ${id} start past commit end`);
        // Applied twice, nothing more moves.
        assert.equal(await retain(c, id), 0, `seed ${seed}: node ${id} moved again`);
      }
      const kept = segs.filter((s) => s.base >= start);
      const keptBytes = kept.reduce((n, s) => n + s.bytes, 0);
      const oldest = kept[0]?.bytes ?? 0;
      for (const id of ALL) {
        checkReplica(c, id, start, acked);
        const log = c.group(id)?.log.partitionLog;
        // The deleted segments left the disk; what is left holds retention.bytes, and would
        // not without its oldest segment.
        assert.deepEqual(segmentBases(c, id), kept.map((s) => s.base), `seed ${seed}: ${id} files`);
        assert.equal(log?.sizeBytes, keptBytes, `seed ${seed}: node ${id} size`);
        assert.ok(keptBytes >= RETENTION_BYTES, `seed ${seed}: ${id} kept ${keptBytes} bytes`);
        assert.ok(
          keptBytes - oldest < RETENTION_BYTES,
          `seed ${seed}: node ${id} kept ${keptBytes} bytes, the oldest segment ${oldest}`,
        );
      }
      checkIdentical(c, ALL);

      // The compacted group keeps replicating.
      const more = await produceMany(c, "b", 3);
      await allCommitted(c, ALL);
      for (const id of ALL) checkReplica(c, id, start, [...acked, ...more]);
      checkIdentical(c, ALL);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("Replica retention.ms deletes the segments older than the fixture's wall clock allows", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      configs: { "segment.bytes": String(SEGMENT_BYTES), "retention.ms": String(RETENTION_MS) },
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 4) },
    });
    try {
      await c.settledLeader();
      const old = await produceMany(c, "old", 10 + (seed % 4));
      await allCommitted(c, ALL);
      // Past retention.ms for every record so far (virtual time moves the wall clock).
      await c.runFor(RETENTION_MS + 200 + 10 * seed);
      const young = await produceMany(c, "new", 6);
      await allCommitted(c, ALL);
      const segs = segments(c, nodeId(1));
      for (const id of ALL) assert.deepEqual(segments(c, id), segs, `seed ${seed}: ${id}`);
      const nowMs = c.clock.nowMs();
      const start = expectedStart(segs, { ms: RETENTION_MS, nowMs });
      // The rule drops old segments only: every young batch stays, some old ones go.
      assert.ok(start > (old[0]?.baseOffset ?? 0), `seed ${seed}: nothing expired`);
      assert.ok(start <= (young[0]?.baseOffset ?? -1), `seed ${seed}: young batches expire`);

      for (const id of ALL) {
        // applyRetention reads the manager's nowMs (the fixture's clock) at once.
        assert.equal(c.clock.nowMs(), nowMs, `seed ${seed}: the clock moved`);
        let moved: number | undefined;
        const p = c.manager(id).applyRetention().then((n) => (moved = n));
        assert.ok(await c.runUntil(() => moved !== undefined, 1_000), `seed ${seed}: ${id}`);
        await p;
        await c.runUntil(() => true, 0);
        assert.equal(moved, 1, `seed ${seed}: node ${id} moved replicas`);
      }
      for (const id of ALL) {
        checkReplica(c, id, start, [...old, ...young]);
        assert.deepEqual(
          segmentBases(c, id),
          segs.filter((s) => s.base >= start).map((s) => s.base),
          `seed ${seed}: node ${id} files`,
        );
      }
      checkIdentical(c, ALL);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("Replica retention past a cut-off follower's log end resets it to the leader's start (§7) after healing", async () => {
  const lagMs = 300;
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      isrLagMs: lagMs,
      configs: {
        "segment.bytes": String(SEGMENT_BYTES),
        "retention.bytes": String(RETENTION_BYTES),
      },
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 4) },
    });
    try {
      const leader = await c.settledLeader();
      const followers = ALL.filter((id) => id !== leader);
      const cut = followers[seed % 2] as NodeId;
      const other = followers[(seed + 1) % 2] as NodeId;
      const acked = await produceMany(c, "a", 4);
      await allCommitted(c, ALL);
      c.isolate(cut);
      const cutEnd = c.group(cut)?.logEndOffset ?? -1;
      const cutCommit = c.group(cut)?.commitOffset ?? -1;
      acked.push(...await produceMany(c, "b", 30 + (seed % 5)));
      await allCommitted(c, [leader, other]);
      assert.equal(c.group(cut)?.logEndOffset, cutEnd, `seed ${seed}: ${cut} not cut off`);

      const segs = segments(c, leader);
      const start = expectedStart(segs, { bytes: RETENTION_BYTES });
      assert.ok(start > cutEnd, `seed ${seed}: retention at ${start}, ${cut} ends at ${cutEnd}`);
      for (const id of [leader, other]) {
        assert.equal(await retain(c, id), 1, `seed ${seed}: node ${id} moved`);
        checkReplica(c, id, start, acked);
      }
      // The cut-off follower applies retention too, bounded by what it committed.
      await retain(c, cut);
      const cutStart = c.group(cut)?.logStartOffset ?? -1;
      assert.ok(cutStart <= cutCommit, `seed ${seed}: ${cut} start ${cutStart} > ${cutCommit}`);

      c.net.healAll();
      const reset = await c.runUntil(() => {
        const l = c.leaderOf();
        const g = c.group(cut);
        return l !== undefined && g !== undefined && g.logStartOffset === start &&
          g.commitOffset === c.group(l)?.commitOffset;
      }, 5_000);
      assert.ok(
        reset,
        `seed ${seed}: ${cut} at [${c.group(cut)?.logStartOffset}, ${c.group(cut)?.logEndOffset})` +
          ` after healing, leader's start ${start}`,
      );
      // Reset, not caught up from its old end: its log starts where the leader's does, with
      // nothing of its own prefix left on disk.
      assert.equal(segmentBases(c, cut)[0], start, `seed ${seed}: ${cut} first segment`);
      checkReplica(c, cut, start, acked);
      checkIdentical(c, ALL);

      // And it replicates as before: new batches land on all three, identically.
      acked.push(...await produceMany(c, "c", 3));
      await allCommitted(c, ALL);
      for (const id of ALL) checkReplica(c, id, start, acked);
      checkIdentical(c, ALL);
      const full = await c.runUntil(
        () => c.image.topicById(TOPIC_ID)?.partitions[0]?.isr.length === 3,
        5 * lagMs,
      );
      assert.ok(full, `seed ${seed}: ${cut} not back in the ISR`);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("Replica retention on a replica with an uncommitted tail stops at its commit end; the tail is cut, nothing acknowledged is", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      configs: {
        "segment.bytes": String(SEGMENT_BYTES),
        "retention.bytes": String(RETENTION_BYTES),
      },
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 4) },
    });
    try {
      const old = await c.settledLeader();
      const acked = await produceMany(c, "a", 2 + (seed % 3));
      await allCommitted(c, ALL);
      // Cut off, the leader still takes proposals for a while: many segments' worth that
      // cannot commit.
      c.isolate(old);
      const handle = c.manager(old).replica(TOPIC, 0);
      assert.ok(handle?.isLeader, `seed ${seed}: ${old} leads`);
      const outcomes: string[] = [];
      const tail = Array.from(
        { length: 30 },
        (_, i) =>
          handle.propose(paddedBatch(`s${seed}-u${i}`, 2, c.clock.nowMs())).then((o) =>
            outcomes.push(o.type)
          ),
      );
      await c.runFor(TICK_MS);
      const g = c.group(old);
      assert.ok(g !== undefined, `seed ${seed}: ${old} hosts partition 0`);
      const commit = g.commitOffset;
      assert.ok(g.logEndOffset > commit + 30, `seed ${seed}: tail [${commit}, ${g.logEndOffset})`);
      const wanted = g.log.partitionLog.retentionStart(c.clock.nowMs());
      assert.ok(wanted > commit, `seed ${seed}: retention wants ${wanted}, commit end ${commit}`);

      assert.equal(await retain(c, old), 1, `seed ${seed}: ${old} moved`);
      const start = g.logStartOffset;
      assert.ok(start > 0 && start <= commit, `seed ${seed}: start ${start}, commit end ${commit}`);
      // Only whole segments below the commit end go (Kafka's rule below the high watermark).
      assert.equal(segmentBases(c, old)[0], start, `seed ${seed}: ${old} starts on a segment`);
      checkReplica(c, old, start, acked);

      // The others elect a leader, which acknowledges more; healed, the old leader's tail is
      // replaced by the new leader's log (§5.3), from its own (later) start.
      const moved = await c.runUntil(() => {
        const l = c.leaderOf();
        return l !== undefined && l !== old;
      }, 5_000);
      assert.ok(moved, `seed ${seed}: no new leader`);
      const leader = c.leaderOf() as NodeId;
      acked.push(...await produceMany(c, "b", 3));
      c.net.healAll();
      const healed = await c.runUntil(
        () =>
          outcomes.length === tail.length &&
          g.commitOffset === c.group(leader)?.commitOffset &&
          g.logEndOffset === c.group(leader)?.logEndOffset,
        5_000,
      );
      assert.ok(healed, `seed ${seed}: ${old} at ${g.commitOffset}, ${outcomes.length} answered`);
      await Promise.all(tail);
      assert.ok(!outcomes.includes("ok"), `seed ${seed}: cut-off proposals ${outcomes}`);
      assert.equal(g.logStartOffset, start, `seed ${seed}: ${old} start moved`);
      checkReplica(c, old, start, acked);
      const end = c.group(leader)?.commitOffset ?? -1;
      assert.deepEqual(
        storedBytes(c, old, end),
        storedBytes(c, leader, end, start),
        `seed ${seed}: ${old} bytes from ${start}`,
      );
      // The replicas that applied no retention still hold everything acknowledged.
      for (const id of ALL.filter((id) => id !== old)) checkReplica(c, id, 0, acked);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});
