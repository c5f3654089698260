/**
 * The controller over a real metadata Raft group: three replicas in one process over a
 * SimNetwork with real partition logs, on virtual time from a seed. Brokers register and are
 * unfenced, a topic with RF 3 is placed on copysets, every node's image agrees, a controller
 * crash hands over to a new one that keeps serving, and a silent broker is fenced within
 * bounded virtual time: its leaderships are dropped (no election by the controller) until a
 * replica's Raft group reports a new leader through alterPartition.
 */
import assert from "node:assert/strict";
import { textBatch } from "../../testing/temp_dir.ts";
import { type NodeId, nodeId } from "../../util/mod.ts";
import { BEAT_MS, SESSION_MS, SimMetadataCluster } from "./_test_metadata_cluster.ts";
import type { MetadataImage, PartitionInfo } from "./metadata_image.ts";

const SEED = 6600;
const RACKS = ["a", "b", "c", "d"];
const BROKERS = [1, 2, 3, 4].map(nodeId);

async function startWithBrokers(seed: number): Promise<SimMetadataCluster> {
  const c = await SimMetadataCluster.start(seed);
  await c.awaitActive();
  BROKERS.forEach((id, i) => c.startBroker(id, RACKS[i]));
  const ok = await c.runUntil(
    () => (c.active()?.image.unfencedBrokers().length ?? 0) === BROKERS.length,
    5_000,
  );
  assert.ok(ok, `seed ${seed}: brokers registered and unfenced`);
  return c;
}

/** Runs until every running node applied the same offset; returns their images. */
async function converged(c: SimMetadataCluster): Promise<MetadataImage[]> {
  const images = () => [...c.quorums.values()].map((q) => q.image);
  const ok = await c.runUntil(() => {
    const offsets = new Set(images().map((i) => i.nextOffset));
    return offsets.size === 1;
  }, 3_000);
  assert.ok(ok, "images reach the same offset");
  return images();
}

function assertSameImages(images: readonly MetadataImage[]): void {
  const first = images[0];
  assert.ok(first !== undefined);
  for (const image of images) assert.deepEqual(image.toRecords(), first.toRecords());
}

/** Every recorded leader is live and in its ISR; returns the partitions without a leader. */
function assertLeadersLiveOrNone(image: MetadataImage): PartitionInfo[] {
  const leaderless: PartitionInfo[] = [];
  for (const name of image.topicNames()) {
    for (const p of image.describeTopic(name)?.partitions ?? []) {
      if (p.leader === undefined) {
        leaderless.push(p);
        continue;
      }
      assert.equal(image.broker(p.leader)?.fenced, false, `${name}-${p.partition} leader is live`);
      assert.ok(p.isr.includes(p.leader), "the leader is in the ISR");
    }
  }
  return leaderless;
}

Deno.test("Metadata quorum: brokers register, a RF 3 topic is placed, every image agrees, a new controller takes over", async () => {
  const c = await startWithBrokers(SEED);
  try {
    const created = await c.request((ctl) =>
      ctl.createTopic({ name: "orders", numPartitions: 8, replicationFactor: 3 })
    );
    assert.ok(created.type === "ok", JSON.stringify(created));
    for (const replicas of created.assignments) {
      assert.equal(new Set(replicas).size, 3);
      const racks = new Set(replicas.map((id) => RACKS[id - 1]));
      assert.equal(racks.size, 3, "distinct racks");
    }
    let images = await converged(c);
    assertSameImages(images);
    const orders = images[0]?.describeTopic("orders");
    assert.equal(orders?.id, created.topicId);
    assert.deepEqual(orders?.partitions.map((p) => p.replicas), created.assignments);

    // A follower answers notController with the controller's id.
    const old = c.active();
    assert.ok(old !== undefined);
    const follower = c.ids.find((id) => id !== old.nodeId) as NodeId;
    const refused = await c.controllers.get(follower)?.deleteTopic("orders");
    assert.deepEqual(refused, { type: "notController", controllerId: old.nodeId });

    // The controller's node crashes (its broker with it): a new controller serves.
    const start = c.net.nowMs;
    await c.crash(old.nodeId);
    const next = await c.awaitActive(2_000);
    assert.notEqual(next.nodeId, old.nodeId);
    assert.ok(
      next.image.describeTopic("orders") !== undefined,
      "the new controller knows the topic",
    );
    const events = await c.request((ctl) =>
      ctl.createTopic({ name: "events", numPartitions: 3, replicationFactor: 3 })
    );
    assert.equal(events.type, "ok");
    assert.equal((await c.request((ctl) => ctl.deleteTopic("orders"))).type, "ok");
    // The crashed node's broker is fenced once its session (granted afresh) runs out.
    const fenced = await c.runUntil(
      () => next.image.broker(old.nodeId)?.fenced === true,
      SESSION_MS + 1_000,
    );
    assert.ok(fenced, "the crashed node's broker is fenced");
    assert.ok(c.net.nowMs - start <= 2_000 + SESSION_MS + 1_000);
    assert.deepEqual(next.image.partitionsLedBy(old.nodeId), []);
    // The controller elects no one: what the crashed broker led now has no recorded leader.
    for (const p of assertLeadersLiveOrNone(next.image)) {
      assert.ok(p.replicas.includes(old.nodeId) && !p.isr.includes(old.nodeId));
    }

    // The crashed node restarts and its image, replayed from its log, catches up.
    c.restart(old.nodeId);
    images = await converged(c);
    assert.equal(images.length, 3);
    assertSameImages(images);
    assert.deepEqual(images[0]?.topicNames(), ["events"]);
  } finally {
    await c.close();
  }
});

Deno.test("Metadata quorum: a silent broker is fenced and its leaderships move within bounded virtual time", async () => {
  const c = await startWithBrokers(SEED + 1);
  try {
    const created = await c.request((ctl) =>
      ctl.createTopic({ name: "t", numPartitions: 8, replicationFactor: 3 })
    );
    assert.ok(created.type === "ok");
    const silent = nodeId(4); // a broker without a metadata replica
    const image = () => c.active()?.image;
    const led = image()?.partitionsLedBy(silent) ?? [];
    assert.ok(led.length > 0, "broker 4 leads some partitions");
    const start = c.net.nowMs;
    c.stopBroker(silent);
    const early = await c.runUntil(
      () => image()?.broker(silent)?.fenced === true,
      SESSION_MS - BEAT_MS,
    );
    assert.equal(early, false, "not fenced before its session could expire");
    const moved = await c.runUntil(
      () => image()?.broker(silent)?.fenced === true,
      2 * BEAT_MS + 500,
    );
    assert.ok(moved, "fenced within the session timeout plus a heartbeat and slack");
    assert.ok(c.net.nowMs - start <= SESSION_MS + 2 * BEAT_MS + 500);
    const now = image();
    assert.ok(now !== undefined);
    assert.deepEqual(now.partitionsLedBy(silent), []);
    assert.deepEqual(
      assertLeadersLiveOrNone(now).map((p) => p.partition),
      led.map((p) => p.partition),
      "exactly the silent broker's partitions lost their leader",
    );
    for (const p of led) {
      const after: PartitionInfo | undefined = now.describeTopic("t")?.partitions[p.partition];
      assert.equal(after?.leaderEpoch, p.leaderEpoch, "the same leader epoch: no election");
      assert.ok(after !== undefined && !after.isr.includes(silent));
    }
    assertSameImages(await converged(c));
    // Each such partition's Raft group elects a surviving replica at the next term; it reports.
    for (const p of led) {
      const winner = p.isr.find((id) => id !== silent) as NodeId;
      const brokerEpoch = c.brokers.get(winner)?.epoch;
      assert.ok(brokerEpoch !== undefined);
      const isr = p.isr.filter((id) => id !== silent);
      const r = await c.request((ctl) =>
        ctl.alterPartition({
          brokerId: winner,
          brokerEpoch,
          topicId: p.topicId,
          partition: p.partition,
          leaderEpoch: p.leaderEpoch + 1,
          isr,
        })
      );
      assert.deepEqual(r, { type: "ok", leaderEpoch: p.leaderEpoch + 1 });
    }
    const reported = await converged(c);
    assertSameImages(reported);
    for (const img of reported) assert.deepEqual(assertLeadersLiveOrNone(img), []);
    // The broker comes back as a new process: it registers anew and is unfenced.
    c.startBroker(silent, RACKS[3]);
    const back = await c.runUntil(() => image()?.broker(silent)?.fenced === false, 3_000);
    assert.ok(back, "the restarted broker is unfenced");
    assert.ok((image()?.broker(silent)?.epoch ?? 0) > 4);
  } finally {
    await c.close();
  }
});

/** Loss, duplication and reordering, a controller crash mid-run, then a heal: images agree. */
async function faultyRun(seed: number): Promise<{ log: Uint8Array; nowMs: number }> {
  const c = await SimMetadataCluster.start(seed);
  try {
    c.net.setFaults({
      lossRate: 0.05,
      duplicateRate: 0.05,
      reorder: true,
      delayMinMs: 1,
      delayMaxMs: 8,
    });
    await c.awaitActive();
    for (const id of BROKERS) c.startBroker(id);
    const up = await c.runUntil(
      () => (c.active()?.image.unfencedBrokers().length ?? 0) === BROKERS.length,
      8_000,
    );
    assert.ok(up, `seed ${seed}: brokers unfenced`);
    for (let i = 0; i < 5; i++) {
      const r = await c.request(
        (ctl) => ctl.createTopic({ name: `t${i}`, numPartitions: 4, replicationFactor: 3 }),
        8_000,
      );
      // A request cut off by the crash may be answered notController, as a client would see.
      assert.ok(
        r.type === "ok" || r.type === "notController",
        `seed ${seed}: ${JSON.stringify(r)}`,
      );
      const active = c.active();
      if (i === 2 && active !== undefined) await c.crash(active.nodeId);
    }
    c.net.setFaults({ lossRate: 0, duplicateRate: 0, reorder: false });
    for (const id of c.ids) if (!c.quorums.has(id)) c.restart(id);
    await c.awaitActive(3_000);
    const images = await converged(c);
    assert.equal(images.length, c.ids.length);
    assertSameImages(images);
    for (const image of images) assertLeadersLiveOrNone(image);
    const log = c.quorum(nodeId(1)).group.log.partitionLog;
    const r = log.read(log.logStartOffset, 16 * 1024 * 1024);
    assert.ok(r.type === "ok");
    return { log: r.bytes.slice(), nowMs: c.net.nowMs };
  } finally {
    await c.close();
  }
}

Deno.test("Metadata quorum under message loss, duplication, reordering and a crash keeps images equal", async () => {
  for (const seed of [SEED + 10, SEED + 11, SEED + 12]) await faultyRun(seed);
});

Deno.test("Metadata quorum: a run replays exactly from its seed", async () => {
  const a = await faultyRun(SEED + 20);
  const b = await faultyRun(SEED + 20);
  assert.equal(a.nowMs, b.nowMs);
  assert.deepEqual(a.log, b.log);
});

Deno.test("MetadataQuorum stops applying at a committed batch it cannot decode", async () => {
  const c = await SimMetadataCluster.start(SEED + 30);
  try {
    const active = await c.awaitActive();
    const quorum = c.quorum(active.nodeId);
    let settled = false;
    const p = quorum.group.propose(textBatch("not metadata", 1)).then(() => (settled = true));
    await c.runUntil(() => settled, 2_000);
    await p;
    await c.runUntil(() => [...c.quorums.values()].every((q) => q.failure !== undefined), 1_000);
    for (const q of c.quorums.values()) {
      assert.match(String(q.failure?.message), /Cannot decode metadata record/);
      assert.equal(q.isActive(), false);
    }
    const r = await active.createTopic({ name: "t", numPartitions: 1, replicationFactor: 1 });
    assert.equal(r.type, "notController");
  } finally {
    await c.close();
  }
});
