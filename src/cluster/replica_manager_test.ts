/**
 * ReplicaManager in seeded simulation (issue #6): three nodes over a `SimNetwork` on virtual
 * time, each mirroring one shared metadata image, with a fake controller applying the
 * controller's report rule. Every assertion names its seed; SIM_SEEDS="1,2" runs others.
 *
 * Covered: one leader per partition whose report (epoch = Raft term, ISR = every replica)
 * the image and every node's view show; the in-sync set shrinking after `isrLagMs` when a
 * follower is cut off and growing back after it heals; a new leader at a higher epoch after
 * the leader crashes; preferred-leader rebalancing (and none when it is off); the mirror
 * keeping local data when started from an image older than its MIRROR_FILE and dropping it
 * from a newer one; and runs replaying exactly from their seed. Regressions (b5b5cfa): the
 * ISR staying whole under steady load with frequent reads, and a restart from an image naming
 * an earlier topic of the same name never opening that topic's group over the current data.
 */
import assert from "node:assert/strict";
import { TopicStore } from "../storage/mod.ts";
import { SimNetwork } from "../testing/sim_network.ts";
import { textBatch } from "../testing/temp_dir.ts";
import { createPrng, type NodeId, nodeId } from "../util/mod.ts";
import { SimReplicaCluster, TOPIC, TOPIC_ID } from "./_test_replica_cluster.ts";
import { MetadataImage, type MetadataRecord } from "./controller/mod.ts";
import { MIRROR_FILE, ReplicaManager } from "./replica_manager.ts";
import { GroupRouter } from "./replication/mod.ts";

/** Fixed seeds; SIM_SEEDS="1,2,3" runs others (a failure prints its seed). */
const SEEDS = (Deno.env.get("SIM_SEEDS") ?? "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20")
  .split(",").map(Number);
const ALL: NodeId[] = [nodeId(1), nodeId(2), nodeId(3)];
/** Replica lists rotating the preferred leader over the nodes. */
const ROTATED = [[1, 2, 3], [2, 3, 1], [3, 1, 2]];

Deno.test("ReplicaManager elects one leader per partition, which reports epoch and full ISR", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({
      seed,
      partitions: ROTATED,
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 5) },
    });
    try {
      const converged = await c.runUntil(() =>
        [0, 1, 2].every((p) => {
          const l = c.leaderOf(p);
          const rec = c.image.topicById(TOPIC_ID)?.partitions[p];
          return l !== undefined && rec?.leader === l && rec.isr.length === 3 &&
            rec.leaderEpoch === c.group(l, p)?.term;
        }), 5_000);
      assert.ok(converged, `seed ${seed}: partitions did not converge`);
      for (const p of [0, 1, 2]) {
        const leaders = c.leadersOf(p);
        assert.equal(leaders.length, 1, `seed ${seed} p${p}: leaders [${leaders}]`);
        const l = leaders[0] as NodeId;
        const term = c.group(l, p)?.term ?? -1;
        assert.ok(term >= 1, `seed ${seed} p${p}: term ${term}`);
        for (const id of ALL) {
          assert.equal(c.group(id, p)?.term, term, `seed ${seed} p${p}: node ${id} term`);
          assert.equal(c.group(id, p)?.leader, l, `seed ${seed} p${p}: node ${id} leader`);
        }
        const accepted = c.reports.filter((r) => r.partition === p && r.accepted);
        const last = accepted.at(-1);
        assert.ok(last !== undefined, `seed ${seed} p${p}: no accepted report`);
        assert.deepEqual(
          // The ISR comes in replica order, as the controller records it; compared as a set.
          [last.from, last.leaderEpoch, [...last.isr].sort((a, b) => a - b)],
          [l, term, ALL],
          `seed ${seed} p${p}: last report`,
        );
        // Only leaders report, and never at a term they did not lead.
        for (const r of c.reports.filter((r) => r.partition === p)) {
          assert.ok(r.leaderEpoch >= 1, `seed ${seed} p${p}: report at epoch ${r.leaderEpoch}`);
        }
        assert.deepEqual(
          sorted(c.manager(l).inSyncSet(TOPIC, p)),
          ALL,
          `seed ${seed} p${p}: inSyncSet`,
        );
      }
      // Every node's view gives the same placement: the leaders and epochs reported.
      // ISRs compare as sets: the leader's view lists its in-sync set in id order, the other
      // nodes' views the image's ISR in replica order.
      const views = ALL.map((id) =>
        c.node(id).view.placement(TOPIC, 3).map((pl) => ({ ...pl, isr: [...pl.isr].sort() }))
      );
      for (const v of views) assert.deepEqual(v, views[0], `seed ${seed}: views differ`);
      for (const [p, pl] of (views[0] ?? []).entries()) {
        assert.equal(pl.leader, c.leaderOf(p), `seed ${seed} p${p}: view leader`);
        assert.deepEqual([...pl.isr].sort(), ALL, `seed ${seed} p${p}: view isr`);
        assert.deepEqual(pl.replicas, ROTATED[p], `seed ${seed} p${p}: view replicas`);
      }
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

/** The replica list of partition 0 as recorded. */
function recorded(c: SimReplicaCluster) {
  const p = c.image.topicById(TOPIC_ID)?.partitions[0];
  assert.ok(p !== undefined, `seed ${c.seed}: partition 0 recorded`);
  return p;
}

Deno.test("ReplicaManager drops a cut-off follower from the ISR after isrLagMs and takes it back once healed", async () => {
  const lagMs = 300;
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, isrLagMs: lagMs });
    try {
      const leader = await c.settledLeader();
      const followers = ALL.filter((id) => id !== leader);
      const cut = followers[seed % 2] as NodeId;
      const kept = ALL.filter((id) => id !== cut);
      const first = await c.produce(leader, textBatch(`s${seed}-a`, 2));
      assert.equal(first.type, "ok", `seed ${seed}: first produce`);
      c.isolate(cut);
      const cutAtMs = c.net.nowMs;
      // W = 2 of 3: the leader and the other follower still commit.
      const second = await c.produce(leader, textBatch(`s${seed}-b`, 2));
      assert.equal(second.type, "ok", `seed ${seed}: produce with ${cut} cut off`);
      const producedAtMs = c.net.nowMs;
      const shrunk = await c.runUntil(
        () => recorded(c).isr.length === 2 && !recorded(c).isr.includes(cut),
        5 * lagMs,
      );
      assert.ok(shrunk, `seed ${seed}: ISR still ${recorded(c).isr} after cutting ${cut}`);
      const report = c.reports.find((r) => r.accepted && !r.isr.includes(cut));
      assert.ok(report !== undefined, `seed ${seed}: no report without ${cut}`);
      assert.deepEqual([...report.isr], kept, `seed ${seed}: shrunk ISR`);
      assert.equal(report.from, leader, `seed ${seed}: reporter`);
      // Not before the lag bound from the cut; within it (plus two reconcile periods) after
      // the first write the follower missed.
      assert.ok(
        report.atMs - cutAtMs > lagMs,
        `seed ${seed}: dropped after ${report.atMs - cutAtMs} ms`,
      );
      assert.ok(
        report.atMs - producedAtMs <= lagMs + 100,
        `seed ${seed}: dropped ${report.atMs - producedAtMs} ms after the write`,
      );
      assert.deepEqual(
        sorted(c.manager(leader).inSyncSet(TOPIC, 0)),
        kept,
        `seed ${seed}: inSyncSet`,
      );
      assert.equal(c.manager(leader).replica(TOPIC, 0)?.inSyncReplicas, 2, `seed ${seed}`);
      // Heal: the follower catches up and is reported in sync again.
      c.net.healAll();
      const grown = await c.runUntil(() => recorded(c).isr.length === 3, 5 * lagMs);
      assert.ok(grown, `seed ${seed}: ISR ${recorded(c).isr} after healing`);
      assert.equal(c.leaderOf(), leader, `seed ${seed}: leadership moved`);
      const end = c.group(leader)?.commitOffset ?? -1;
      assert.ok((c.group(cut)?.logEndOffset ?? -1) >= end, `seed ${seed}: ${cut} caught up`);
      assert.deepEqual(c.logBytes(cut, 0, end), c.logBytes(leader, 0, end), `seed ${seed}: bytes`);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("ReplicaManager: after the leader crashes a new one reports a higher epoch", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 4) } });
    try {
      const old = await c.settledLeader();
      const oldEpoch = c.group(old)?.term ?? -1;
      assert.equal((await c.produce(old, textBatch(`s${seed}`, 3))).type, "ok", `seed ${seed}`);
      await c.crash(old);
      assert.equal(recorded(c).leader, undefined, `seed ${seed}: fenced leader still recorded`);
      const next = await c.settledLeader();
      assert.notEqual(next, old, `seed ${seed}`);
      const epoch = c.group(next)?.term ?? -1;
      assert.ok(epoch > oldEpoch, `seed ${seed}: epoch ${epoch} after ${oldEpoch}`);
      assert.equal(recorded(c).leaderEpoch, epoch, `seed ${seed}: recorded epoch`);
      // No report of the deposed leader's epoch was accepted after the new one.
      const accepted = c.reports.filter((r) => r.accepted).map((r) => r.leaderEpoch);
      assert.deepEqual(accepted, [...accepted].sort((a, b) => a - b), `seed ${seed}: epochs`);
      const views = [...c.nodes.values()].map((n) => n.view.placement(TOPIC, 1)[0]?.leader);
      assert.deepEqual(views, [next, next], `seed ${seed}: views`);
      // The crashed node restarts from its directory and rejoins as a follower.
      c.restart(old);
      const back = await c.runUntil(
        () =>
          c.group(old)?.leader === next &&
          (c.group(old)?.commitOffset ?? -1) >= (c.group(next)?.commitOffset ?? 0),
        5_000,
      );
      assert.ok(back, `seed ${seed}: ${old} did not rejoin`);
      const end = c.group(next)?.commitOffset ?? -1;
      assert.deepEqual(c.logBytes(old, 0, end), c.logBytes(next, 0, end), `seed ${seed}: bytes`);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("ReplicaManager hands leadership back to the preferred replica once it is in sync", async () => {
  const delayMs = 200;
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, preferredLeaderDelayMs: delayMs });
    try {
      const preferred = nodeId(1);
      // Cut off from the start, the preferred replica cannot win the first election.
      c.isolate(preferred);
      const first = await c.settledLeader();
      assert.notEqual(first, preferred, `seed ${seed}`);
      const firstEpoch = c.group(first)?.term ?? -1;
      assert.equal((await c.produce(first, textBatch(`s${seed}`, 2))).type, "ok", `seed ${seed}`);
      // Out of sync, it is not given leadership.
      await c.runFor(4 * delayMs);
      assert.equal(c.leaderOf(), first, `seed ${seed}: moved to an out-of-sync replica`);
      c.net.healAll();
      const healedAtMs = c.net.nowMs;
      const moved = await c.runUntil(
        () => c.leaderOf() === preferred && recorded(c).leader === preferred,
        10 * delayMs,
      );
      assert.ok(moved, `seed ${seed}: leader ${c.leaderOf()} after healing`);
      assert.ok(c.net.nowMs - healedAtMs >= delayMs, `seed ${seed}: moved too soon`);
      assert.ok(recorded(c).leaderEpoch > firstEpoch, `seed ${seed}: epoch`);
      // And it stays there.
      await c.runFor(4 * delayMs);
      assert.equal(c.leaderOf(), preferred, `seed ${seed}: leadership left the preferred`);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("ReplicaManager leaves leadership where it is when rebalancing is off", async () => {
  for (const seed of SEEDS.slice(0, 5)) {
    const c = await SimReplicaCluster.start({ seed, preferredLeaderDelayMs: 0 });
    try {
      c.isolate(nodeId(1));
      const first = await c.settledLeader();
      c.net.healAll();
      await c.runFor(2_000);
      assert.equal(c.leaderOf(), first, `seed ${seed}`);
    } finally {
      await c.close();
    }
  }
});

/** What a run did, in order: the determinism witness. */
async function trace(seed: number): Promise<string> {
  const c = await SimReplicaCluster.start({
    seed,
    partitions: ROTATED,
    isrLagMs: 200,
    faults: { delayMinMs: 1, delayMaxMs: 6, lossRate: 0.02, reorder: true },
  });
  try {
    const lines: string[] = [];
    const l = await c.settledLeader(0);
    const r = await c.produce(l, textBatch(`s${seed}`, 2));
    lines.push(`${c.net.nowMs} produce ${JSON.stringify(r)}`);
    c.isolate(l);
    await c.runFor(1_000);
    c.net.healAll();
    await c.runFor(1_000);
    for (const x of c.reports) lines.push(JSON.stringify(x));
    for (const id of ALL) {
      for (const p of [0, 1, 2]) {
        const g = c.group(id, p);
        lines.push(`${id}/${p} ${g?.role} ${g?.term} ${g?.commitOffset} ${g?.logEndOffset}`);
      }
    }
    return lines.join("\n");
  } finally {
    await c.close();
  }
}

Deno.test("ReplicaManager simulation replays exactly from its seed", async () => {
  for (const seed of SEEDS.slice(0, 3)) {
    const a = await trace(seed);
    const b = await trace(seed);
    assert.equal(b, a, `seed ${seed}: two runs differ`);
  }
});

// Regression (b5b5cfa): every read (produce's replica(), inSyncSet(), Metadata's placement)
// re-sampled the ISR and moved the bar to the log end of that instant, so under steady load
// no follower ever held it and the ISR collapsed to the leader after isrLagMs.
Deno.test("ReplicaManager keeps every replica in sync under steady load and frequent reads", async () => {
  const lagMs = 300;
  const produceEveryMs = 2;
  const runMs = 1_000;
  for (const seed of SEEDS.slice(0, 5)) {
    const c = await SimReplicaCluster.start({
      seed,
      isrLagMs: lagMs,
      faults: { delayMinMs: 3, delayMaxMs: 5 },
    });
    let stopped = false;
    try {
      const leader = await c.settledLeader();
      const full = await c.runUntil(() => recorded(c).isr.length === 3, 5 * lagMs);
      assert.ok(full, `seed ${seed}: ISR ${recorded(c).isr} before the load`);
      const node = c.node(leader);
      // What the produce, fetch and Metadata paths read, several times between produces.
      const read = () => {
        node.manager.replica(TOPIC, 0);
        node.manager.inSyncSet(TOPIC, 0);
        node.view.placement(TOPIC, 1);
      };
      const pending: Array<Promise<unknown>> = [];
      const failures: string[] = [];
      let answered = 0;
      const produceNext = () => {
        if (stopped) return;
        const tag = `s${seed}-${pending.length}`;
        pending.push(
          node.logs.produce(TOPIC, 0, textBatch(tag, 1), false).then((o) => {
            answered++;
            if (o.type === "error") failures.push(`${tag}: ${o.kind} ${o.message}`);
          }),
        );
        read();
        c.net.scheduler.setTimer(produceNext, produceEveryMs);
      };
      produceNext();
      let shrunk: string | undefined;
      await c.runUntil(() => {
        read();
        const own = sorted(node.manager.inSyncSet(TOPIC, 0));
        const rec = recorded(c);
        const ok = rec.isr.length === 3 && own?.length === 3 && rec.leader === leader;
        shrunk ??= ok
          ? undefined
          : `at ${c.net.nowMs} ms: recorded [${rec.isr}] (leader ${rec.leader}), leader's [${own}]`;
        return false;
      }, runMs);
      stopped = true;
      assert.equal(shrunk, undefined, `seed ${seed}: ISR under load`);
      assert.ok(pending.length >= runMs / produceEveryMs / 2, `seed ${seed}: ${pending.length}`);
      const drained = await c.runUntil(() => answered === pending.length, 5_000);
      assert.ok(drained, `seed ${seed}: ${pending.length - answered} produces unanswered`);
      await Promise.all(pending);
      assert.deepEqual(failures, [], `seed ${seed}: produce failures`);
      assert.equal(node.manager.replica(TOPIC, 0)?.inSyncReplicas, 3, `seed ${seed}: counted`);
      assert.deepEqual(c.violations, [], `seed ${seed}: violations`);
    } finally {
      stopped = true;
      await c.close();
    }
  }
});

/** A one-node replica manager over `dir`, following `image`, on a one-node SimNetwork. */
function soloManager(net: SimNetwork, dir: string, image: () => MetadataImage) {
  let manager: ReplicaManager | undefined = undefined;
  const store = TopicStore.open(dir, {
    logDefaults: { fsync: "never" },
    background: false,
    resolveLog: (t, p) => manager?.logOf(t, p) ?? "absent",
  });
  const transport = net.transport(nodeId(1));
  manager = new ReplicaManager({
    nodeId: nodeId(1),
    dataDir: dir,
    store,
    image,
    router: new GroupRouter(transport),
    transport,
    scheduler: net.scheduler,
    prng: createPrng(1),
    clock: () => net.nowMs,
    tickMs: 10,
    durability: "sync",
    report: () => Promise.resolve({ type: "ok" }),
    preferredLeaderDelayMs: 0,
    onWarning: () => {},
  });
  return { store, manager };
}

const SOLO_ID = "00000000-0000-4000-8000-00000000000a";

/** Records of a one-broker image with topic "t" on node 1 (offsets 0..). */
function soloRecords(topicId = SOLO_ID): MetadataRecord[] {
  const b = nodeId(1);
  return [
    {
      type: "registerBroker",
      brokerId: b,
      brokerEpoch: 1,
      incarnation: "x",
      rack: undefined,
      endpoints: [],
    },
    { type: "unfenceBroker", brokerId: b, brokerEpoch: 1 },
    { type: "topic", name: TOPIC, topicId },
    {
      type: "config",
      resourceType: "topic",
      resourceName: TOPIC,
      name: "retention.ms",
      value: "-1",
    },
    {
      type: "partition",
      topicId,
      partition: 0,
      replicas: [b],
      isr: [b],
      leader: b,
      leaderEpoch: 0,
    },
  ];
}

function imageOf(records: readonly MetadataRecord[]): MetadataImage {
  const image = new MetadataImage();
  for (const r of records) image.apply(r, image.nextOffset);
  return image;
}

/** Elects the single replica and commits one batch through it; returns the log's bytes. */
async function writeSolo(net: SimNetwork, manager: ReplicaManager, seed: number) {
  const idle = async () => {
    for (const h of manager.hosted()) await h.group.idle();
  };
  for (let i = 0; i < 10_000 && manager.replica(TOPIC, 0)?.isLeader !== true; i++) {
    await idle();
    net.runUntil(() => false, 10);
  }
  const r = manager.replica(TOPIC, 0);
  assert.ok(r?.isLeader, `seed ${seed}: solo replica did not lead`);
  let done = false;
  const p = r.propose(textBatch(`s${seed}`, 3)).then((x) => (done = x.type === "ok"));
  for (let i = 0; i < 10_000 && !done; i++) {
    await idle();
    await Promise.resolve();
    net.runUntil(() => false, 10);
  }
  await p;
  assert.ok(done, `seed ${seed}: solo proposal not committed`);
  const log = r.log;
  const read = log.read(0, 1 << 20);
  assert.ok(read.type === "ok" && read.bytes.length > 0, `seed ${seed}: nothing written`);
  return read.bytes;
}

function segmentFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(`${dir}/${TOPIC}-0`)].map((e) => e.name).filter((n) =>
      n.endsWith(".log")
    );
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

Deno.test("ReplicaManager keeps local topics from an image older than its mirror, drops them from a newer one", async () => {
  for (const seed of SEEDS.slice(0, 5)) {
    const net = new SimNetwork({ seed });
    net.addNode(nodeId(1));
    const dir = await Deno.makeTempDir({ prefix: "pyralog-mirror-" });
    try {
      const records = soloRecords();
      const full = imageOf(records);
      let node = soloManager(net, dir, () => full);
      await node.manager.reconcile();
      const mirrored = JSON.parse(Deno.readTextFileSync(`${dir}/${MIRROR_FILE}`)).image_offset;
      assert.equal(mirrored, full.nextOffset, `seed ${seed}: MIRROR_FILE`);
      const bytes = await writeSolo(net, node.manager, seed);
      await node.manager.close();
      await node.store.close();

      // Restarted with an image replayed only up to the brokers (older than the mirror).
      const older = imageOf(records.slice(0, 2));
      node = soloManager(net, dir, () => older);
      await node.manager.reconcile();
      assert.ok(node.store.topic(TOPIC) !== undefined, `seed ${seed}: topic dropped`);
      assert.ok(segmentFiles(dir).length > 0, `seed ${seed}: data files removed`);
      assert.equal(node.manager.logOf(TOPIC, 0), "absent", `seed ${seed}: hosted too early`);
      // The image catches up: the replica opens on the kept data.
      for (const r of records.slice(2)) older.apply(r, older.nextOffset);
      await node.manager.reconcile();
      const back = node.manager.replica(TOPIC, 0)?.log.read(0, 1 << 20);
      assert.ok(back?.type === "ok", `seed ${seed}: replica reopened`);
      assert.deepEqual(back.bytes, bytes, `seed ${seed}: data changed`);

      // A newer image without the topic: it was deleted, so its data goes.
      older.apply({ type: "removeTopic", topicId: SOLO_ID }, older.nextOffset);
      await node.manager.reconcile();
      assert.equal(node.store.topic(TOPIC), undefined, `seed ${seed}: topic kept`);
      assert.deepEqual(segmentFiles(dir), [], `seed ${seed}: data kept`);
      assert.equal(node.manager.logOf(TOPIC, 0), "absent", `seed ${seed}: still hosted`);
      const now = JSON.parse(Deno.readTextFileSync(`${dir}/${MIRROR_FILE}`)).image_offset;
      assert.equal(now, older.nextOffset, `seed ${seed}: MIRROR_FILE after the drop`);
      await node.manager.close();
      await node.store.close();
    } finally {
      await net.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
});

/** An in-sync set (replica order) as ids in ascending order, or undefined. */
function sorted(ids: readonly number[] | undefined): number[] | undefined {
  return ids === undefined ? undefined : [...ids].sort((a, b) => a - b);
}

const SOLO_NEXT_ID = "00000000-0000-4000-8000-00000000000b";

// Regression (b5b5cfa): an image older than the mirror named the earlier topic "t" (id X),
// and the manager opened Raft group "X/0" over the directory holding the later "t" (id Y).
Deno.test("ReplicaManager restarted from an image naming an earlier topic of the same name reopens the current one", async () => {
  for (const seed of SEEDS.slice(0, 5)) {
    const net = new SimNetwork({ seed });
    net.addNode(nodeId(1));
    const dir = await Deno.makeTempDir({ prefix: "pyralog-mirror-" });
    try {
      // "t" is created with id X, deleted, and created again with id Y.
      const first = soloRecords(SOLO_ID);
      const records: MetadataRecord[] = [
        ...first,
        { type: "removeTopic", topicId: SOLO_ID },
        ...soloRecords(SOLO_NEXT_ID).slice(2),
      ];
      const full = imageOf(records);
      let node = soloManager(net, dir, () => full);
      await node.manager.reconcile();
      assert.equal(node.store.topic(TOPIC)?.id, SOLO_NEXT_ID, `seed ${seed}: mirrored id`);
      assert.deepEqual(groupIds(node.manager), [`${SOLO_NEXT_ID}/0`], `seed ${seed}: groups`);
      const bytes = await writeSolo(net, node.manager, seed);
      await node.manager.close();
      await node.store.close();

      // Restarted with an image replayed only up to where "t" is X (older than the mirror).
      const older = imageOf(records.slice(0, first.length));
      assert.equal(older.describeTopic(TOPIC)?.id, SOLO_ID, `seed ${seed}: older image`);
      node = soloManager(net, dir, () => older);
      await node.manager.reconcile();
      assert.equal(node.store.topic(TOPIC)?.id, SOLO_NEXT_ID, `seed ${seed}: local id changed`);
      assert.ok(segmentFiles(dir).length > 0, `seed ${seed}: data files removed`);
      assert.deepEqual(groupIds(node.manager), [], `seed ${seed}: a group over Y's data`);
      // The image catches up: Y's group opens on Y's data, X's never did.
      for (const r of records.slice(first.length)) older.apply(r, older.nextOffset);
      await node.manager.reconcile();
      assert.deepEqual(groupIds(node.manager), [`${SOLO_NEXT_ID}/0`], `seed ${seed}: reopened`);
      const back = node.manager.replica(TOPIC, 0)?.log.read(0, 1 << 20);
      assert.ok(back?.type === "ok", `seed ${seed}: replica reopened`);
      assert.deepEqual(back.bytes, bytes, `seed ${seed}: data changed`);
      await node.manager.close();
      await node.store.close();
    } finally {
      await net.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
});

/** The Raft group ids a manager hosts, sorted. */
function groupIds(manager: ReplicaManager): string[] {
  return manager.hosted().map((h) => h.group.groupId).sort();
}

Deno.test("ReplicaManager hands every leadership to an in-sync follower before it shuts down", async () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const c = await SimReplicaCluster.start({
      seed,
      partitions: ROTATED,
      faults: { delayMinMs: 1, delayMaxMs: 1 + (seed % 5) },
    });
    try {
      const settled = await c.runUntil(
        () =>
          [0, 1, 2].every((p) => {
            const l = c.leaderOf(p);
            return l !== undefined && c.manager(l).inSyncSet(TOPIC, p)?.length === 3;
          }),
        5_000,
      );
      assert.ok(settled, `seed ${seed}: leaders with a full ISR`);
      // The node leading partition `seed % 3` shuts down in a controlled way.
      const x = c.leaderOf(seed % 3) as NodeId;
      const terms = [0, 1, 2].map((p) => c.group(x, p)?.term ?? -1);
      let left: number | undefined;
      const handing = c.manager(x).handOffLeaderships(2_000).then((n) => (left = n));
      const done = await c.runUntil(() => left !== undefined, 5_000);
      assert.ok(done, `seed ${seed}: hand-off unfinished`);
      await handing;
      assert.equal(left, 0, `seed ${seed}: ${x} still leads ${left}`);
      for (const p of [0, 1, 2]) {
        assert.notEqual(c.group(x, p)?.role, "leader", `seed ${seed} p${p}: ${x} leads`);
        const l = c.leaderOf(p);
        assert.ok(l !== undefined && l !== x, `seed ${seed} p${p}: a new leader at once`);
        if (terms[p] !== undefined && c.group(l, p)?.term !== terms[p]) {
          assert.ok((c.group(l, p)?.term ?? -1) > (terms[p] ?? -1), `seed ${seed} p${p}: term`);
        }
      }
    } finally {
      await c.close();
    }
  }
});
