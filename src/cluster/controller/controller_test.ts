/**
 * Controller decisions with a fake quorum that commits every proposal at once: registration
 * and fencing of stale incarnations, heartbeats and session expiry on a passed-in clock,
 * leader election from the ISR, topic creation with copyset placement, configs, partitions,
 * and followers answering notController.
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
import type { MetadataRecord } from "./metadata_record.ts";

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
    records.forEach((r, i) => this.image.apply(r, base + i));
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
  const h = await controller.brokerHeartbeat({ brokerId: nodeId(5), brokerEpoch: 1 }, 20);
  assert.deepEqual(h, { type: "ok", isFenced: false });
  assert.equal(quorum.image.broker(nodeId(5))?.fenced, false);
  assert.equal(quorum.image.broker(nodeId(5))?.lastHeartbeatMs, 20);
});

Deno.test("Controller refuses a second live incarnation and fences a stale one out", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 1);
  const old = epochs.get(nodeId(1)) as number;
  const dup = await controller.registerBroker(
    { brokerId: nodeId(1), incarnation: "new", endpoints: endpoints(1) },
    500,
  );
  assert.equal(dup.type === "error" && dup.kind, "duplicate_broker_registration");
  // Once the old process's session expired, the new one registers with a higher epoch.
  const r = await controller.registerBroker(
    { brokerId: nodeId(1), incarnation: "new", endpoints: endpoints(1) },
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

Deno.test("Controller fences a silent broker after the session and moves its leaderships", async () => {
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
    assert.ok(p.leader !== undefined && p.leader !== nodeId(2));
    assert.equal(p.leaderEpoch, led.includes(p.partition) ? 1 : 0, "epoch bumped on a move");
  }
  // Broker 2 comes back: it heartbeats with its epoch and is unfenced.
  const back = await controller.brokerHeartbeat(
    { brokerId: nodeId(2), brokerEpoch: epochs.get(nodeId(2)) as number },
    SESSION_MS + 200,
  );
  assert.deepEqual(back, { type: "ok", isFenced: false });
});

Deno.test("Controller leaves a partition leaderless when its whole ISR is fenced, then re-elects", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 2);
  await controller.tick(0);
  await controller.createTopic({ name: "solo", numPartitions: 1, replicationFactor: 1 });
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
  assert.equal(p1?.leaderEpoch, 1);
  await controller.brokerHeartbeat(
    { brokerId: owner, brokerEpoch: epochs.get(owner) as number },
    SESSION_MS + 2,
  );
  const p2 = quorum.image.describeTopic("solo")?.partitions[0];
  assert.equal(p2?.leader, owner);
  assert.equal(p2?.leaderEpoch, 2);
});

Deno.test("Controller: a controlled shutdown (wantFence) moves leaderships at once", async () => {
  const { quorum, controller } = setup();
  const epochs = await brokers(controller, 3);
  await controller.createTopic({ name: "t", numPartitions: 3, replicationFactor: 3 });
  const r = await controller.brokerHeartbeat(
    { brokerId: nodeId(1), brokerEpoch: epochs.get(nodeId(1)) as number, wantFence: true },
    5,
  );
  assert.deepEqual(r, { type: "ok", isFenced: true });
  assert.deepEqual(quorum.image.partitionsLedBy(nodeId(1)), []);
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
