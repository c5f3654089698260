/** MetadataImage: each record type, records that do not fit, queries, snapshots, replay. */
import assert from "node:assert/strict";
import { createPrng, nodeId } from "../../util/mod.ts";
import { MetadataImage } from "./metadata_image.ts";
import type { MetadataRecord } from "./metadata_record.ts";

const T1 = "00000000-0000-4000-8000-000000000001";
const T2 = "00000000-0000-4000-8000-000000000002";
const [N1, N2, N3] = [nodeId(1), nodeId(2), nodeId(3)];

function register(id: number, epoch: number, rack?: string): MetadataRecord {
  return {
    type: "registerBroker",
    brokerId: nodeId(id),
    brokerEpoch: epoch,
    incarnation: `inc-${id}-${epoch}`,
    rack,
    endpoints: [{ name: "kafka", host: `h${id}`, port: 9092 }],
  };
}

function partition(
  topicId: string,
  p: number,
  leader: number | undefined,
  epoch = 0,
): MetadataRecord {
  return {
    type: "partition",
    topicId,
    partition: p,
    replicas: [N1, N2, N3],
    isr: [N1, N2, N3],
    leader: leader === undefined ? undefined : nodeId(leader),
    leaderEpoch: epoch,
  };
}

function imageOf(records: readonly MetadataRecord[]): MetadataImage {
  const image = new MetadataImage();
  records.forEach((r, i) => image.apply(r, i));
  return image;
}

const CLUSTER: MetadataRecord[] = [
  register(1, 1, "a"),
  register(2, 2, "b"),
  register(3, 3, "c"),
  { type: "unfenceBroker", brokerId: N1, brokerEpoch: 1 },
  { type: "unfenceBroker", brokerId: N2, brokerEpoch: 2 },
  { type: "brokerHeartbeat", brokerId: N2, brokerEpoch: 2, timeMs: 500 },
  { type: "topic", name: "orders", topicId: T1 },
  partition(T1, 0, 1),
  partition(T1, 1, 2),
  { type: "topic", name: "events", topicId: T2 },
  partition(T2, 0, 1),
  {
    type: "config",
    resourceType: "topic",
    resourceName: "orders",
    name: "retention.ms",
    value: "9",
  },
  { type: "config", resourceType: "broker", resourceName: "1", name: "log.dirs", value: "/d" },
];

Deno.test("MetadataImage registers brokers fenced, unfences, fences and records heartbeats", () => {
  const image = imageOf(CLUSTER);
  assert.deepEqual(image.brokers().map((b) => [b.id, b.epoch, b.fenced, b.rack]), [
    [1, 1, false, "a"],
    [2, 2, false, "b"],
    [3, 3, true, "c"],
  ]);
  assert.equal(image.broker(N2)?.lastHeartbeatMs, 500);
  assert.equal(image.broker(N1)?.lastHeartbeatMs, -1);
  assert.deepEqual(image.unfencedBrokers().map((b) => b.id), [N1, N2]);
  image.apply({ type: "fenceBroker", brokerId: N1, brokerEpoch: 1 }, 100);
  assert.equal(image.broker(N1)?.fenced, true);
  assert.equal(image.nextOffset, 101);
});

Deno.test("MetadataImage skips fencing and heartbeats of a stale broker epoch", () => {
  const image = imageOf(CLUSTER);
  image.apply(register(1, 4), 50); // a new incarnation of broker 1
  assert.equal(image.broker(N1)?.epoch, 4);
  assert.equal(image.broker(N1)?.fenced, true);
  image.apply({ type: "unfenceBroker", brokerId: N1, brokerEpoch: 1 }, 51);
  assert.equal(image.broker(N1)?.fenced, true, "the old epoch cannot unfence");
  image.apply(register(1, 2), 52);
  assert.equal(image.broker(N1)?.epoch, 4, "an older registration changes nothing");
  assert.equal(image.skippedRecords, 2);
});

Deno.test("MetadataImage holds topics by name and id with their partitions", () => {
  const image = imageOf(CLUSTER);
  assert.deepEqual(image.topicNames(), ["events", "orders"]);
  const orders = image.describeTopic("orders");
  assert.equal(orders?.id, T1);
  assert.equal(image.topicById(T1), orders);
  assert.deepEqual(orders?.partitions.map((p) => p.leader), [N1, N2]);
  assert.deepEqual(image.partitionsLedBy(N1).map((p) => [p.topicId, p.partition]), [
    [T2, 0],
    [T1, 0],
  ]);
  assert.deepEqual(image.brokerLoads().get(N1), { replicas: 3, leaders: 2 });
  assert.equal(image.describeTopic("nope"), undefined);
});

Deno.test("MetadataImage replaces a partition's state and keeps old values intact", () => {
  const image = imageOf(CLUSTER);
  const before = image.describeTopic("orders");
  image.apply({ ...partition(T1, 0, 3, 1), isr: [N3] } as MetadataRecord, 100);
  const after = image.describeTopic("orders");
  assert.equal(after?.partitions[0]?.leader, N3);
  assert.equal(after?.partitions[0]?.leaderEpoch, 1);
  assert.deepEqual(after?.partitions[0]?.isr, [N3]);
  assert.equal(before?.partitions[0]?.leader, N1, "a value handed out never changes");
  assert.ok(Object.isFrozen(after?.partitions[0]));
});

Deno.test("MetadataImage skips partitions of unknown topics or with gaps, and duplicate topics", () => {
  const image = imageOf(CLUSTER);
  const n = image.skippedRecords;
  image.apply(partition("00000000-0000-4000-8000-0000000000ff", 0, 1), 100);
  image.apply(partition(T1, 5, 1), 101);
  image.apply(
    { type: "topic", name: "orders", topicId: "00000000-0000-4000-8000-0000000000fe" },
    102,
  );
  image.apply({ type: "topic", name: "other", topicId: T1 }, 103);
  assert.equal(image.skippedRecords, n + 4);
  assert.equal(image.describeTopic("orders")?.partitions.length, 2);
  assert.equal(image.describeTopic("other"), undefined);
});

Deno.test("MetadataImage sets and removes configs; removeTopic drops the topic and its configs", () => {
  const image = imageOf(CLUSTER);
  assert.deepEqual(image.configs("topic", "orders"), { "retention.ms": "9" });
  assert.deepEqual(image.configs("broker", "1"), { "log.dirs": "/d" });
  image.apply(
    { type: "config", resourceType: "broker", resourceName: "1", name: "log.dirs", value: null },
    100,
  );
  assert.deepEqual(image.configs("broker", "1"), {});
  image.apply({ type: "removeTopic", topicId: T1 }, 101);
  assert.equal(image.describeTopic("orders"), undefined);
  assert.equal(image.topicById(T1), undefined);
  assert.deepEqual(image.configs("topic", "orders"), {});
  assert.deepEqual(image.partitionsLedBy(N2), []);
  image.apply({ type: "removeTopic", topicId: T1 }, 102);
  assert.equal(image.skippedRecords, 1);
});

Deno.test("MetadataImage refuses records out of offset order", () => {
  const image = imageOf(CLUSTER);
  assert.throws(() => image.apply({ type: "removeTopic", topicId: T1 }, 3));
});

Deno.test("MetadataImage snapshot rebuilds the same state", () => {
  const image = imageOf(CLUSTER);
  const copy = MetadataImage.fromRecords(image.toRecords(), image.nextOffset);
  assert.deepEqual(copy.toRecords(), image.toRecords());
  assert.deepEqual(copy.brokers(), image.brokers());
  assert.deepEqual(copy.describeTopic("orders"), image.describeTopic("orders"));
  assert.deepEqual(copy.configs("broker", "1"), image.configs("broker", "1"));
  assert.equal(copy.nextOffset, image.nextOffset);
  // A snapshot continues like the original.
  const next: MetadataRecord = { type: "fenceBroker", brokerId: N2, brokerEpoch: 2 };
  copy.apply(next, 100);
  image.apply(next, 100);
  assert.deepEqual(copy.toRecords(), image.toRecords());
});

Deno.test("MetadataImage replay of a seeded random log is deterministic", () => {
  const prng = createPrng(6060);
  const log: MetadataRecord[] = [...CLUSTER];
  const ids = [T1, T2, "00000000-0000-4000-8000-000000000003"];
  for (let i = 0; i < 2_000; i++) {
    const id = nodeId(prng.int(1, 4));
    const t = ids[prng.int(0, 2)] as string;
    const k = prng.int(0, 6);
    if (k === 0) log.push(register(id, prng.int(1, 50)));
    else if (k === 1) log.push({ type: "fenceBroker", brokerId: id, brokerEpoch: prng.int(1, 50) });
    else if (k === 2) {
      log.push({ type: "unfenceBroker", brokerId: id, brokerEpoch: prng.int(1, 50) });
    } else if (k === 3) log.push({ type: "topic", name: `t${prng.int(0, 5)}`, topicId: t });
    else if (k === 4) log.push(partition(t, prng.int(0, 3), prng.int(1, 3), prng.int(0, 9)));
    else if (k === 5) log.push({ type: "removeTopic", topicId: t });
    else {
      log.push({
        type: "config",
        resourceType: "topic",
        resourceName: `t${prng.int(0, 5)}`,
        name: "retention.ms",
        value: prng.chance(0.3) ? null : `${prng.int(1, 9)}`,
      });
    }
  }
  const a = imageOf(log);
  const b = imageOf(log);
  assert.deepEqual(a.toRecords(), b.toRecords());
  assert.equal(a.skippedRecords, b.skippedRecords);
  // And a snapshot taken halfway, then the rest, reaches the same state.
  const half = imageOf(log.slice(0, 1_000));
  const resumed = MetadataImage.fromRecords(half.toRecords(), half.nextOffset);
  log.slice(1_000).forEach((r, i) => resumed.apply(r, 1_000 + i));
  assert.deepEqual(resumed.toRecords(), a.toRecords());
});
