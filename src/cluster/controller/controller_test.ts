/**
 * Controller decisions with a fake quorum that commits every proposal at once: registration
 * and fencing of stale incarnations, heartbeats and session expiry on a passed-in clock,
 * fencing that drops leaderships without electing, partition leaders reporting through
 * alterPartition (its accept and refuse rules, epochs included), topic creation with copyset
 * placement, configs (replication.quorum against the replication factor), partitions, and
 * followers answering notController.
 */
import assert from "node:assert/strict";
import { createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { CopysetPlacement } from "../placement/mod.ts";
import {
  Controller,
  type ControllerOptions,
  type ControllerQuorum,
  type QuorumProposeResult,
} from "./controller.ts";
import { MetadataImage } from "./metadata_image.ts";
import { encodeMetadataBatch, type MetadataRecord } from "./metadata_record.ts";

const SESSION_MS = 1_000;

class FakeQuorum implements ControllerQuorum {
  readonly image = new MetadataImage();
  active = true;
  leader: NodeId | undefined = nodeId(1);
  proposals: MetadataRecord[][] = [];
  refuse: string | undefined;

  isActive(): boolean {
    return this.active;
  }
  leaderId(): NodeId | undefined {
    return this.leader;
  }
  propose(records: readonly MetadataRecord[]): Promise<QuorumProposeResult> {
    if (!this.active) return Promise.resolve({ type: "notLeader", leader: this.leader });
    if (this.refuse !== undefined) return Promise.resolve({ type: "refused", reason: this.refuse });
    this.proposals.push([...records]);
    const base = this.image.nextOffset;
    this.image.applyAll(records.map((record, i) => ({ record, offset: base + i })));
    return Promise.resolve({ type: "ok", lastOffset: base + records.length - 1 });
  }
}

function setup(options: Partial<ControllerOptions> = {}) {
  const quorum = new FakeQuorum();
  const controller = new Controller({
    nodeId: nodeId(1),
    quorum,
    prng: createPrng(1),
    sessionTimeoutMs: SESSION_MS,
    ...options,
  });
  return { quorum, controller };
}

function endpoints(id: number) {
  return [{ name: "kafka", host: `h${id}`, port: 9092 }];
}

/** Registers and unfences brokers 1..n (racks r0, r1, r2 when `racks`); returns their epochs. */
async function brokers(c: Controller, n: number, nowMs = 0, racks = false) {
  const epochs = new Map<NodeId, number>();
  for (let i = 1; i <= n; i++) {
    const r = await c.registerBroker({
      brokerId: nodeId(i),
      incarnation: `inc-${i}`,
      ...(racks ? { rack: `r${i % 3}` } : {}),
      endpoints: endpoints(i),
    }, nowMs);
    assert.equal(r.type, "ok");
    if (r.type !== "ok") continue;
    epochs.set(nodeId(i), r.brokerEpoch);
    const h = await c.brokerHeartbeat({ brokerId: nodeId(i), brokerEpoch: r.brokerEpoch }, nowMs);
    assert.deepEqual(h, { type: "ok", isFenced: false });
  }
  return epochs;
}

Deno.test("Controller registers a broker fenced and its first heartbeat unfences it", async () => {
  const { quorum, controller } = setup();
  const r = await controller.registerBroker(
    { brokerId: nodeId(5), incarnation: "a", rack: "r1", endpoints: endpoints(5) },
    0,
  );
  assert.deepEqual(r, { type: "ok", brokerEpoch: 1 });
  assert.equal(quorum.image.broker(nodeId(5))?.fenced, true);
  const again = await controller.registerBroker(
    { brokerId: nodeId(5), incarnation: "a", rack: "r1", endpoints: endpoints(5) },
    10,
  );
  assert.deepEqual(again, { type: "ok", brokerEpoch: 1 }, "a retry keeps its epoch");
  assert.equal(quorum.proposals.length, 1);
  // The runtime's clock is monotonic milliseconds with a fraction.
  const h = await controller.brokerHeartbeat({ brokerId: nodeId(5), brokerEpoch: 1 }, 20.25);
  assert.deepEqual(h, { type: "ok", isFenced: false });
  assert.equal(quorum.image.broker(nodeId(5))?.fenced, false);
  assert.deepEqual(quorum.proposals.at(-1), [
    { type: "unfenceBroker", brokerId: nodeId(5), brokerEpoch: 1 },
  ], "the first heartbeat writes the unfencing only");
  // Regression: the heartbeat record carried that fractional time, its batch could not be
  // encoded, and the real quorum refused every first heartbeat (a 2.25 s later unfencing).
  for (const p of quorum.proposals) assert.doesNotThrow(() => encodeMetadataBatch(p));
  // Steady heartbeats write nothing: an idle cluster's metadata log does not grow.
  const written = quorum.proposals.length;
  for (let t = 30.5; t < 100_000; t += 1_000) {
    const beat = await controller.brokerHeartbeat({ brokerId: nodeId(5), brokerEpoch: 1 }, t);
    assert.deepEqual(beat, { type: "ok", isFenced: false });
  }
  assert.equal(quorum.proposals.length, written);
});

Deno.test("Controller refuses a second live incarnation and fences a stale one out", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 1);
  const old = epochs.get(nodeId(1)) as number;
  // Another process with the same id on other listeners, while the old one heartbeats.
  const elsewhere = [{ name: "kafka", host: "10.9.9.9", port: 9092 }];
  const dup = await controller.registerBroker(
    { brokerId: nodeId(1), incarnation: "new", endpoints: elsewhere },
    500,
  );
  assert.equal(dup.type === "error" && dup.kind, "duplicate_broker_registration");
  // Once the old process's session expired, the new one registers with a higher epoch.
  const r = await controller.registerBroker(
    { brokerId: nodeId(1), incarnation: "new", endpoints: elsewhere },
    SESSION_MS + 1,
  );
  assert.ok(r.type === "ok" && r.brokerEpoch > old);
  const stale = await controller.brokerHeartbeat(
    { brokerId: nodeId(1), brokerEpoch: old },
    SESSION_MS + 2,
  );
  assert.equal(stale.type === "error" && stale.kind, "stale_broker_epoch");
  const unknown = await controller.brokerHeartbeat({ brokerId: nodeId(9), brokerEpoch: 1 }, 0);
  assert.equal(unknown.type === "error" && unknown.kind, "unknown_broker");
  assert.equal(quorum.image.broker(nodeId(1))?.incarnation, "new");
});

Deno.test("Controller lets a restarted process on the same listeners replace its live session", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 1);
  const old = epochs.get(nodeId(1)) as number;
  // kill -9 and a restart within the session: the new process bound the same addresses,
  // so the old one cannot be alive; waiting out the session would only delay readiness.
  const r = await controller.registerBroker(
    { brokerId: nodeId(1), incarnation: "restarted", endpoints: endpoints(1) },
    500,
  );
  assert.ok(r.type === "ok" && r.brokerEpoch > old, JSON.stringify(r));
  assert.equal(quorum.image.broker(nodeId(1))?.incarnation, "restarted");
  const stale = await controller.brokerHeartbeat({ brokerId: nodeId(1), brokerEpoch: old }, 600);
  assert.equal(stale.type === "error" && stale.kind, "stale_broker_epoch");
});

Deno.test("Controller creates a topic with copyset placement over the live brokers and racks", async () => {
  const { quorum, controller } = setup();
  await brokers(controller, 6, 0, true);
  const r = await controller.createTopic({
    name: "orders",
    numPartitions: 12,
    replicationFactor: 3,
    configs: { "retention.ms": "1000" },
  });
  assert.ok(r.type === "ok");
  const t = quorum.image.describeTopic("orders");
  assert.equal(t?.id, r.topicId);
  assert.equal(t?.partitions.length, 12);
  // Every replica set is a copyset of the family over the same brokers and seed.
  const family = CopysetPlacement.create({
    nodes: quorum.image.brokers().map((b) => ({ id: b.id, rack: b.rack })),
    replicationFactor: 3,
    scatterWidth: 4,
    prng: createPrng(0x6c6f67 + 3),
  });
  const copysets = new Set(family.copysets.map((s) => s.join(",")));
  for (const p of t?.partitions ?? []) {
    assert.equal(p.leader, p.replicas[0]);
    assert.deepEqual(p.isr, p.replicas);
    assert.equal(p.leaderEpoch, 0);
    assert.ok(copysets.has([...p.replicas].sort((a, b) => a - b).join(",")), "a copyset");
    const racks = new Set(p.replicas.map((id) => quorum.image.broker(id)?.rack));
    assert.equal(racks.size, 3, "replicas on distinct racks");
  }
  // Leaders are balanced: 12 partitions over 6 brokers, 2 each.
  for (let i = 1; i <= 6; i++) assert.equal(quorum.image.partitionsLedBy(nodeId(i)).length, 2);
  assert.deepEqual(quorum.image.configs("topic", "orders"), { "retention.ms": "1000" });
});

Deno.test("Controller refuses bad topic requests as values", async () => {
  const { controller } = setup();
  await brokers(controller, 2);
  const kinds = [
    await controller.createTopic({ name: "bad/name", numPartitions: 1, replicationFactor: 1 }),
    await controller.createTopic({ name: "t", numPartitions: 0, replicationFactor: 1 }),
    await controller.createTopic({ name: "t", numPartitions: 1, replicationFactor: 3 }),
    await controller.createTopic({
      name: "t",
      numPartitions: 1,
      replicationFactor: 1,
      configs: { "no.such": "1" },
    }),
    await controller.deleteTopic("missing"),
    await controller.createPartitions("missing", 3),
  ].map((r) => (r.type === "error" ? r.kind : r.type));
  assert.deepEqual(kinds, [
    "invalid_topic",
    "invalid_partitions",
    "invalid_replication_factor",
    "invalid_config",
    "unknown_topic",
    "unknown_topic",
  ]);
  assert.equal(
    (await controller.createTopic({ name: "t", numPartitions: 1, replicationFactor: 2 })).type,
    "ok",
  );
  const dup = await controller.createTopic({ name: "t", numPartitions: 1, replicationFactor: 1 });
  assert.equal(dup.type === "error" && dup.kind, "topic_exists");
});

Deno.test("Controller serializes decisions: concurrent creates of one topic make one topic", async () => {
  const { quorum, controller } = setup();
  await brokers(controller, 3);
  const results = await Promise.all(
    [1, 2, 3].map(() =>
      controller.createTopic({ name: "x", numPartitions: 2, replicationFactor: 3 })
    ),
  );
  assert.deepEqual(results.map((r) => (r.type === "error" ? r.kind : r.type)), [
    "ok",
    "topic_exists",
    "topic_exists",
  ]);
  assert.deepEqual(quorum.image.topicNames(), ["x"]);
});

Deno.test("Controller adds partitions, alters configs and deletes topics", async () => {
  const { quorum, controller } = setup();
  await brokers(controller, 3);
  assert.equal(
    (await controller.createTopic({ name: "t", numPartitions: 2, replicationFactor: 2 })).type,
    "ok",
  );
  const grown = await controller.createPartitions("t", 5);
  assert.ok(grown.type === "ok" && grown.assignments.length === 3);
  assert.equal(quorum.image.describeTopic("t")?.partitions.length, 5);
  assert.ok(quorum.image.describeTopic("t")?.partitions.every((p) => p.replicas.length === 2));
  const shrink = await controller.createPartitions("t", 4);
  assert.equal(shrink.type === "error" && shrink.kind, "invalid_partitions");
  const set = await controller.alterConfigs({
    resourceType: "topic",
    resourceName: "t",
    changes: [{ name: "retention.ms", value: "5" }],
  });
  assert.equal(set.type, "ok");
  assert.deepEqual(quorum.image.configs("topic", "t"), { "retention.ms": "5" });
  const bad = await controller.alterConfigs({
    resourceType: "topic",
    resourceName: "t",
    changes: [{ name: "retention.ms", value: "soon" }],
  });
  assert.equal(bad.type === "error" && bad.kind, "invalid_config");
  await controller.alterConfigs({
    resourceType: "topic",
    resourceName: "t",
    changes: [{ name: "retention.ms", value: null }],
  });
  assert.deepEqual(quorum.image.configs("topic", "t"), {});
  const del = await controller.deleteTopic("t");
  assert.equal(del.type, "ok");
  assert.deepEqual(quorum.image.topicNames(), []);
});

Deno.test("Controller fences a silent broker after the session and elects no new leader", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 3);
  await controller.tick(0);
  const r = await controller.createTopic({ name: "t", numPartitions: 6, replicationFactor: 3 });
  assert.ok(r.type === "ok");
  const led = quorum.image.partitionsLedBy(nodeId(2)).map((p) => p.partition);
  assert.ok(led.length > 0);
  // Brokers 1 and 3 keep heartbeating; broker 2 falls silent.
  for (let t = 100; t <= SESSION_MS + 100; t += 100) {
    for (const id of [1, 3]) {
      await controller.brokerHeartbeat(
        { brokerId: nodeId(id), brokerEpoch: epochs.get(nodeId(id)) as number },
        t,
      );
    }
    await controller.tick(t);
    if (t <= SESSION_MS) assert.equal(quorum.image.broker(nodeId(2))?.fenced, false, `at ${t}`);
  }
  assert.equal(quorum.image.broker(nodeId(2))?.fenced, true);
  assert.deepEqual(quorum.image.partitionsLedBy(nodeId(2)), []);
  for (const p of quorum.image.describeTopic("t")?.partitions ?? []) {
    assert.ok(!p.isr.includes(nodeId(2)), "the fenced broker left the ISR");
    assert.equal(p.leaderEpoch, 0, "the leader epoch is the Raft term: only a report moves it");
    if (led.includes(p.partition)) assert.equal(p.leader, undefined, "no election");
    else assert.equal(p.leader, p.replicas[0], "other leaderships stay");
  }
  // The partition's Raft group elects broker 3 at term 1, which reports itself.
  const p0 = quorum.image.describeTopic("t")?.partitions[led[0] as number];
  assert.ok(p0 !== undefined && r.type === "ok");
  const report = await controller.alterPartition({
    brokerId: nodeId(3),
    brokerEpoch: epochs.get(nodeId(3)) as number,
    topicId: r.topicId,
    partition: p0.partition,
    leaderEpoch: 1,
    isr: [nodeId(3), nodeId(1)],
  });
  assert.deepEqual(report, { type: "ok", leaderEpoch: 1 });
  const p1 = quorum.image.describeTopic("t")?.partitions[p0.partition];
  assert.equal(p1?.leader, nodeId(3));
  assert.equal(p1?.leaderEpoch, 1);
  // Broker 2 comes back: it heartbeats with its epoch and is unfenced; no partition changes.
  const before = quorum.image.describeTopic("t");
  const back = await controller.brokerHeartbeat(
    { brokerId: nodeId(2), brokerEpoch: epochs.get(nodeId(2)) as number },
    SESSION_MS + 200,
  );
  assert.deepEqual(back, { type: "ok", isFenced: false });
  assert.deepEqual(quorum.image.describeTopic("t"), before, "unfencing changes no partition");
});

Deno.test("Controller keeps the last ISR member when the whole ISR is fenced, and unfencing elects no one", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 2);
  await controller.tick(0);
  const created = await controller.createTopic({
    name: "solo",
    numPartitions: 1,
    replicationFactor: 1,
  });
  assert.ok(created.type === "ok");
  const p0 = quorum.image.describeTopic("solo")?.partitions[0];
  assert.ok(p0?.leader !== undefined);
  const owner = p0.leader;
  const other = owner === nodeId(1) ? nodeId(2) : nodeId(1);
  await controller.brokerHeartbeat(
    { brokerId: other, brokerEpoch: epochs.get(other) as number },
    SESSION_MS,
  );
  await controller.tick(SESSION_MS + 1);
  const p1 = quorum.image.describeTopic("solo")?.partitions[0];
  assert.equal(p1?.leader, undefined);
  assert.deepEqual(p1?.isr, [owner], "the last ISR member stays");
  assert.equal(p1?.leaderEpoch, 0, "same leader epoch");
  const ownerEpoch = epochs.get(owner) as number;
  // While fenced, the owner's report is refused.
  const report = {
    brokerId: owner,
    brokerEpoch: ownerEpoch,
    topicId: created.topicId,
    partition: 0,
    leaderEpoch: 0,
    isr: [owner],
  };
  const refused = await controller.alterPartition(report);
  assert.equal(refused.type === "error" && refused.kind, "fenced_broker");
  await controller.brokerHeartbeat({ brokerId: owner, brokerEpoch: ownerEpoch }, SESSION_MS + 2);
  assert.deepEqual(quorum.image.describeTopic("solo")?.partitions[0], p1, "no election");
  // Its Raft group still leads at term 0 (no other voter): the same-epoch report is accepted.
  assert.deepEqual(await controller.alterPartition(report), { type: "ok", leaderEpoch: 0 });
  const p2 = quorum.image.describeTopic("solo")?.partitions[0];
  assert.equal(p2?.leader, owner);
  assert.equal(p2?.leaderEpoch, 0);
});

Deno.test("Controller: a controlled shutdown (wantFence) drops the broker's leaderships at once", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 3);
  await controller.createTopic({ name: "t", numPartitions: 3, replicationFactor: 3 });
  const led = quorum.image.partitionsLedBy(nodeId(1));
  assert.ok(led.length > 0);
  const r = await controller.brokerHeartbeat(
    { brokerId: nodeId(1), brokerEpoch: epochs.get(nodeId(1)) as number, wantFence: true },
    5,
  );
  assert.deepEqual(r, { type: "ok", isFenced: true });
  assert.deepEqual(quorum.image.partitionsLedBy(nodeId(1)), []);
  for (const p of led) {
    const now = quorum.image.describeTopic("t")?.partitions[p.partition];
    assert.equal(now?.leader, undefined);
    assert.equal(now?.leaderEpoch, p.leaderEpoch);
    assert.deepEqual(now?.isr, p.isr.filter((id) => id !== nodeId(1)));
  }
});

/** Three live brokers and topic "t" (one partition, replicas 1..3); returns its id and epochs. */
async function reportRig() {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 3);
  const r = await controller.createTopic({ name: "t", numPartitions: 1, replicationFactor: 3 });
  assert.ok(r.type === "ok");
  const p = quorum.image.describeTopic("t")?.partitions[0];
  assert.ok(p !== undefined);
  const epochOf = (id: NodeId) => epochs.get(id) as number;
  /** A report by `id` at `leaderEpoch` with `isr` (defaults: all replicas). */
  const report = (id: NodeId, leaderEpoch: number, isr: readonly NodeId[] = p.replicas) => ({
    brokerId: id,
    brokerEpoch: epochOf(id),
    topicId: r.topicId,
    partition: 0,
    leaderEpoch,
    isr,
  });
  const partition = () => quorum.image.describeTopic("t")?.partitions[0];
  return {
    quorum,
    controller,
    replicas: p.replicas,
    epochOf,
    report,
    partition,
    topicId: r.topicId,
  };
}

function kindOf(r: { type: string; kind?: string }): string {
  return r.type === "error" ? (r.kind ?? "") : r.type;
}

Deno.test("Controller.alterPartition records the reported leader, epoch and ISR in replica order", async () => {
  const { quorum, controller, replicas, report, partition } = await reportRig();
  const [a, b, c] = replicas as [NodeId, NodeId, NodeId];
  const proposals = quorum.proposals.length;
  const r = await controller.alterPartition(report(b, 3, [c, b]));
  assert.deepEqual(r, { type: "ok", leaderEpoch: 3 });
  assert.deepEqual(partition(), {
    topicId: partition()?.topicId,
    partition: 0,
    replicas,
    isr: [b, c],
    leader: b,
    leaderEpoch: 3,
  });
  assert.equal(quorum.proposals.length, proposals + 1, "one record");
  // A repeat (a retry after a lost answer), even reordered, changes nothing and proposes nothing.
  assert.deepEqual(await controller.alterPartition(report(b, 3, [b, c])), {
    type: "ok",
    leaderEpoch: 3,
  });
  assert.equal(quorum.proposals.length, proposals + 1, "no proposal for an unchanged partition");
  // The same leader grows its ISR at the same epoch, then a new term elects a.
  assert.equal((await controller.alterPartition(report(b, 3, [a, b, c]))).type, "ok");
  assert.deepEqual(partition()?.isr, [a, b, c]);
  assert.equal((await controller.alterPartition(report(a, 4, [a]))).type, "ok");
  assert.equal(partition()?.leader, a);
  assert.deepEqual(partition()?.isr, [a]);
  assert.equal(quorum.proposals.length, proposals + 3);
});

Deno.test("Controller.alterPartition refuses older epochs and another leader at the same epoch", async () => {
  const { controller, replicas, report, partition } = await reportRig();
  const [a, b] = replicas as [NodeId, NodeId, NodeId];
  // Created with leader a at epoch 0: b may not claim epoch 0, a may.
  assert.equal(kindOf(await controller.alterPartition(report(b, 0))), "stale_leader_epoch");
  assert.equal(kindOf(await controller.alterPartition(report(a, 0))), "ok");
  assert.equal(kindOf(await controller.alterPartition(report(b, 2))), "ok");
  assert.equal(kindOf(await controller.alterPartition(report(a, 1))), "stale_leader_epoch");
  assert.equal(kindOf(await controller.alterPartition(report(a, 2))), "stale_leader_epoch");
  assert.equal(kindOf(await controller.alterPartition(report(b, 1))), "stale_leader_epoch");
  assert.equal(partition()?.leader, b);
  assert.equal(partition()?.leaderEpoch, 2);
});

Deno.test("Controller.alterPartition: a leaderless partition takes a report at the same epoch", async () => {
  const { controller, replicas, report, partition, epochOf } = await reportRig();
  const [a, b] = replicas as [NodeId, NodeId, NodeId];
  // a shuts down: the partition has no recorded leader at epoch 0.
  await controller.brokerHeartbeat({ brokerId: a, brokerEpoch: epochOf(a), wantFence: true }, 1);
  assert.equal(partition()?.leader, undefined);
  assert.equal(partition()?.leaderEpoch, 0);
  // With no leader recorded, a replica's report at the recorded epoch fills the gap (the
  // Raft group guarantees one leader per term); another replica at that epoch is then refused.
  assert.equal(kindOf(await controller.alterPartition(report(b, 0, [b]))), "ok");
  assert.equal(partition()?.leader, b);
  const c = replicas[2] as NodeId;
  assert.equal(kindOf(await controller.alterPartition(report(c, 0, [c]))), "stale_leader_epoch");
});

Deno.test("Controller.alterPartition refuses bad reports as values", async () => {
  const { quorum, controller, replicas, report, epochOf } = await reportRig();
  const [a, b, c] = replicas as [NodeId, NodeId, NodeId];
  const stranger = await controller.registerBroker(
    { brokerId: nodeId(9), incarnation: "x", endpoints: endpoints(9) },
    0,
  );
  assert.ok(stranger.type === "ok");
  await controller.brokerHeartbeat({ brokerId: nodeId(9), brokerEpoch: stranger.brokerEpoch }, 0);
  const outsider = { ...report(a, 1), brokerId: nodeId(9), brokerEpoch: stranger.brokerEpoch };
  const cases: Array<[string, Parameters<Controller["alterPartition"]>[0]]> = [
    ["unknown_broker", { ...report(a, 1), brokerId: nodeId(42) }],
    ["stale_broker_epoch", { ...report(a, 1), brokerEpoch: epochOf(a) + 100 }],
    ["unknown_topic", { ...report(a, 1), topicId: "00000000-0000-4000-8000-000000000009" }],
    ["unknown_topic", { ...report(a, 1), partition: 1 }],
    ["unknown_topic", { ...report(a, 1), partition: -1 }],
    ["invalid_request", outsider],
    ["invalid_request", { ...outsider, isr: [nodeId(9)] }],
    ["invalid_request", report(a, 1, [])],
    ["invalid_request", report(a, 1, [a, a])],
    ["invalid_request", report(a, 1, [a, nodeId(9)])],
    ["invalid_request", report(a, 1, [b, c])],
    ["invalid_request", report(a, -1)],
    ["invalid_request", report(a, 1.5)],
    ["invalid_request", report(a, 2 ** 31)],
  ];
  const proposals = quorum.proposals.length;
  for (const [kind, req] of cases) {
    assert.equal(kindOf(await controller.alterPartition(req)), kind, JSON.stringify(req));
  }
  // A fenced replica's report is refused, however new its epoch.
  await controller.brokerHeartbeat({ brokerId: b, brokerEpoch: epochOf(b), wantFence: true }, 1);
  const fencedAt = quorum.proposals.length;
  assert.equal(kindOf(await controller.alterPartition(report(b, 9, [b]))), "fenced_broker");
  assert.equal(quorum.proposals.length, fencedAt);
  assert.equal(fencedAt, proposals + 1, "only the fencing was proposed");
});

Deno.test("Controller.alterPartition on a follower answers notController", async () => {
  const { quorum, controller, report, replicas } = await reportRig();
  quorum.active = false;
  quorum.leader = nodeId(3);
  const r = await controller.alterPartition(report(replicas[0] as NodeId, 1));
  assert.deepEqual(r, { type: "notController", controllerId: nodeId(3) });
});

Deno.test("Controller refuses a replication.quorum above the replication factor, or changed", async () => {
  const { quorum, controller } = setup();
  await brokers(controller, 3);
  const create = (name: string, rf: number, w: string) =>
    controller.createTopic({
      name,
      numPartitions: 1,
      replicationFactor: rf,
      configs: { "replication.quorum": w },
    });
  const tooBig = await create("a", 2, "3");
  assert.equal(kindOf(tooBig), "invalid_config");
  assert.match(tooBig.type === "error" ? tooBig.message : "", /replication\.quorum "3" exceeds/);
  assert.equal(kindOf(await create("a", 3, "0")), "invalid_config");
  assert.equal(kindOf(await create("a", 3, "two")), "invalid_config");
  assert.equal(kindOf(await create("a", 2, "2")), "ok");
  assert.deepEqual(quorum.image.configs("topic", "a"), { "replication.quorum": "2" });
  const alter = (value: string | null) =>
    controller.alterConfigs({
      resourceType: "topic",
      resourceName: "a",
      changes: [{ name: "replication.quorum", value }],
    });
  assert.equal(kindOf(await alter("3")), "invalid_config");
  // W is part of each partition group's membership, fixed at creation: no change, no removal.
  const fixed = await alter("1");
  assert.equal(kindOf(fixed), "invalid_config");
  assert.match(fixed.type === "error" ? fixed.message : "", /fixed when the topic is created/);
  assert.equal(kindOf(await alter(null)), "invalid_config");
  assert.equal(kindOf(await alter("2")), "ok", "setting the same value changes nothing");
  assert.deepEqual(quorum.image.configs("topic", "a"), { "replication.quorum": "2" });
  // A config recorded past the controller's checks (an older version) blocks new partitions.
  const offset = quorum.image.nextOffset;
  quorum.image.apply({
    type: "config",
    resourceType: "topic",
    resourceName: "a",
    name: "replication.quorum",
    value: "5",
  }, offset);
  const grow = await controller.createPartitions("a", 2);
  assert.equal(kindOf(grow), "invalid_config");
});

Deno.test("Controller on a follower answers notController with the known leader", async () => {
  const { quorum, controller } = setup({ nodeId: nodeId(2) });
  quorum.active = false;
  quorum.leader = nodeId(3);
  const r = await controller.createTopic({ name: "t", numPartitions: 1, replicationFactor: 1 });
  assert.deepEqual(r, { type: "notController", controllerId: nodeId(3) });
  const h = await controller.brokerHeartbeat({ brokerId: nodeId(1), brokerEpoch: 1 }, 0);
  assert.deepEqual(h, { type: "notController", controllerId: nodeId(3) });
  assert.equal(quorum.proposals.length, 0);
});

Deno.test("Controller grants every broker a fresh session when it becomes active", async () => {
  const { quorum, controller } = setup();
  await brokers(controller, 2);
  quorum.active = false;
  await controller.tick(100);
  quorum.active = true;
  // Long after the last heartbeat, but this controller only just took over.
  await controller.tick(10 * SESSION_MS);
  assert.equal(quorum.image.unfencedBrokers().length, 2);
  await controller.tick(11 * SESSION_MS + 1);
  assert.equal(quorum.image.unfencedBrokers().length, 0);
});

Deno.test("Controller maps a refused proposal and a full queue to errors", async () => {
  const { quorum, controller } = setup({ queueMax: 1 });
  await brokers(controller, 1);
  quorum.refuse = "too big";
  const r = await controller.createTopic({ name: "t", numPartitions: 1, replicationFactor: 1 });
  assert.deepEqual(r, { type: "error", kind: "refused", message: "too big" });
  quorum.refuse = undefined;
  const a = controller.createTopic({ name: "a", numPartitions: 1, replicationFactor: 1 });
  const b = await controller.createTopic({ name: "b", numPartitions: 1, replicationFactor: 1 });
  assert.equal(b.type === "error" && b.kind, "busy");
  assert.equal((await a).type, "ok");
});

Deno.test("Controller refuses a registration it could not record", async () => {
  const { quorum, controller } = setup();
  const base = { brokerId: nodeId(1), incarnation: "a", endpoints: endpoints(1) };
  const bad = [
    { ...base, incarnation: "" },
    { ...base, rack: "" },
    { ...base, endpoints: [] },
    { ...base, endpoints: [{ name: "kafka", host: "h", port: 70_000 }] },
    { ...base, endpoints: Array.from({ length: 17 }, () => ({ name: "k", host: "h", port: 1 })) },
  ];
  for (const req of bad) {
    const r = await controller.registerBroker(req, 0);
    assert.equal(r.type === "error" && r.kind, "invalid_request", JSON.stringify(req));
  }
  assert.equal(quorum.proposals.length, 0);
});

Deno.test("Controller writes a snapshot every N records after the last; a refused one waits N more", async () => {
  const warnings: string[] = [];
  const { quorum, controller } = setup({
    snapshotEveryRecords: 10,
    onWarning: (m) => warnings.push(m),
  });
  await brokers(controller, 3);
  const topic = (name: string) =>
    controller.createTopic({ name, numPartitions: 4, replicationFactor: 3 });
  assert.equal((await topic("a")).type, "ok");
  assert.ok(quorum.image.nextOffset >= 10);
  const state = quorum.image.toRecords();
  await controller.tick(0);
  const snapshot = quorum.proposals.at(-1);
  assert.deepEqual(snapshot, [{ type: "snapshot" }, ...state], "the whole image after a marker");
  assert.equal(quorum.image.snapshotEnd, quorum.image.nextOffset);
  assert.deepEqual(quorum.image.toRecords(), state, "applying it changes nothing");
  // Counted from the end of the snapshot, not its start: no snapshot follows a snapshot.
  const written = quorum.proposals.length;
  await controller.tick(1);
  assert.equal(quorum.proposals.length, written);

  // A refused snapshot is reported, and the next try waits as many records again.
  assert.equal((await topic("b")).type, "ok");
  assert.equal((await topic("c")).type, "ok");
  quorum.refuse = "batch too large";
  await controller.tick(2);
  assert.equal(warnings.length, 1, warnings.join("; "));
  quorum.refuse = undefined;
  await controller.tick(3);
  assert.equal(quorum.proposals.length, written + 2, "no retry at once");
  assert.equal((await topic("d")).type, "ok");
  assert.equal((await topic("e")).type, "ok");
  await controller.tick(4);
  assert.equal(quorum.proposals.at(-1)?.[0]?.type, "snapshot");
  assert.deepEqual(quorum.image.topicNames(), ["a", "b", "c", "d", "e"]);
});
