/**
 * A three-node `pyralog serve --peers` cluster on loopback, driven by real clients:
 * - replicated produce and consume: a topic with replication factor 3 made through Kafka
 *   CreateTopics (`pyralog topic create`), records produced with kcat acks=all through one
 *   node and read with kcat through another, each exactly once; every node's HTTP view and
 *   librdkafka's Metadata agree on the leaders and a full ISR, and every replica's log ends
 *   at the leader's high watermark;
 * - a cluster stopped with SIGTERM and started again on its data directories keeps its
 *   topics and every acknowledged record;
 * - kafkajs DeleteRecords on a replicated partition: every replica's log start moves there
 *   (through a leader restart too), and kcat reads exactly the acknowledged records from it.
 *
 * Failover, flexible quorums and network partitions are in cluster_failover_test.ts and
 * cluster_partition_test.ts. Every wait is bounded; a failure prints every node's log tail.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { startCluster } from "./helpers/cluster_process.ts";
import { runCommand } from "./clients/kafka_ops.ts";
import {
  AGREE_MS,
  checkReplicasIdentical,
  COMMAND_TIMEOUT_MS,
  createTopicCli,
  duplicates,
  metadataPython,
  partitionView,
  producePython,
  readAllKcat,
  READY_MS,
  sameSet,
  waitAgreedFullIsr,
  waitFor,
  withLogs,
} from "./cluster_support.ts";

Deno.test("cluster: kcat produces through one node with acks=all and reads through another", async () => {
  await using cluster = await startCluster({ nodes: 3, fsync: "never" });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const topic = "replicated";
    const partitions = 3;
    const created = await createTopicCli(cluster.node(1).kafka, topic, partitions, 3);
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [[topic, null]]);
    const agreed = await waitAgreedFullIsr(cluster, topic, partitions, AGREE_MS);
    for (const p of agreed) strictEqual(p.replicas.length, 3);

    const n = 300;
    const lines = Array.from({ length: n }, (_, i) => `k${i}:v${i}`).join("\n") + "\n";
    const produced = await runCommand("kcat", [
      ...["-P", "-b", cluster.node(1).kafka, "-t", topic, "-K:"],
      ...["-X", "acks=all", "-X", "linger.ms=20", "-X", "message.timeout.ms=30000"],
    ], { stdin: lines, timeoutMs: COMMAND_TIMEOUT_MS });
    strictEqual(produced.code, 0, produced.stderr);
    ok(!/fail|error/i.test(produced.stderr), produced.stderr);

    // Read through node 2's listener only: every record once, in order per partition.
    const read = await readAllKcat(cluster.node(2).kafka, topic);
    deepStrictEqual(duplicates(read), []);
    deepStrictEqual(
      read.map((r) => `${r.key}:${r.value}`).sort(),
      Array.from({ length: n }, (_, i) => `k${i}:v${i}`).sort(),
    );
    const used = new Set(read.map((r) => r.partition));
    strictEqual(used.size, partitions, `keys spread over every partition: ${[...used]}`);
    for (let p = 0; p < partitions; p++) {
      const offsets = read.filter((r) => r.partition === p).map((r) => r.offset);
      deepStrictEqual(offsets, [...offsets].sort((a, b) => a - b), `partition ${p} in order`);
    }

    // Same leaders and a full ISR on every node; every replica holds the whole log.
    const after = await waitAgreedFullIsr(cluster, topic, partitions, AGREE_MS);
    // Every replica holds the same records up to its leader's high watermark.
    await checkReplicasIdentical(cluster, topic, partitions, AGREE_MS);

    // librdkafka's Metadata (from node 3) reports the same placement.
    const md = await metadataPython(cluster.node(3).kafka, topic);
    strictEqual(Object.keys(md).length, partitions);
    for (const p of after) {
      const m = md[String(p.partition)];
      ok(m, `metadata lacks partition ${p.partition}: ${JSON.stringify(md)}`);
      strictEqual(m.leader, p.leader, JSON.stringify(md));
      strictEqual(m.replicas.length, 3, JSON.stringify(md));
      strictEqual(m.isrs.length, 3, JSON.stringify(md));
      ok(sameSet(m.replicas, p.replicas) && sameSet(m.isrs, p.replicas), JSON.stringify(md));
    }
  });
});

Deno.test("cluster: SIGTERM all three nodes, restart them, topics and acknowledged records remain", async () => {
  await using cluster = await startCluster({ nodes: 3, fsync: "never" });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const topic = "durable";
    const partitions = 2;
    const created = await createTopicCli(cluster.bootstrap, topic, partitions, 3);
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [[topic, null]]);
    await waitAgreedFullIsr(cluster, topic, partitions, AGREE_MS);
    const out = await producePython(cluster.bootstrap, topic, 0, 200, 30_000);
    deepStrictEqual(out.errors, []);
    strictEqual(out.acked.length, 200);

    for (const node of cluster.nodes) {
      const status = await cluster.stop(node.id);
      strictEqual(status.code, 0, `node ${node.id} exits cleanly on SIGTERM`);
    }
    for (const node of cluster.nodes) await cluster.start(node.id);
    await cluster.waitReady("all", READY_MS);
    await waitAgreedFullIsr(cluster, topic, partitions, AGREE_MS);
    for (const node of cluster.nodes) {
      const res = await fetch(`http://${node.http}/v1/topics`, {
        signal: AbortSignal.timeout(5_000),
      });
      const body = await res.json() as { topics: Array<{ name: string; partitions: number }> };
      ok(
        body.topics.some((t) => t.name === topic && t.partitions === partitions),
        `node ${node.id} lists ${JSON.stringify(body)}`,
      );
    }

    const read = await readAllKcat(cluster.node(3).kafka, topic);
    deepStrictEqual(duplicates(read), []);
    const values = new Set(read.map((r) => Number(r.value)));
    const lost = out.acked.filter(([v]) => !values.has(v)).map(([v]) => v);
    deepStrictEqual(lost, [], "every acknowledged record is readable after the restart");
    // Each acknowledged record is at the offset its acknowledgement named.
    const at = new Map(read.map((r) => [`${r.partition}/${r.offset}`, Number(r.value)]));
    for (const [v, p, o] of out.acked) strictEqual(at.get(`${p}/${o}`), v, `record ${v}`);
    await checkReplicasIdentical(cluster, topic, partitions, AGREE_MS);
  });
});

Deno.test("cluster: kafkajs DeleteRecords moves every replica's log start, through a leader restart", async () => {
  await using cluster = await startCluster({ nodes: 3, fsync: "never" });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const topic = "purged";
    const created = await createTopicCli(cluster.bootstrap, topic, 1, 3);
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [[topic, null]]);
    const [agreed] = await waitAgreedFullIsr(cluster, topic, 1, AGREE_MS);
    const out = await producePython(cluster.bootstrap, topic, 0, 120, 30_000, { "linger.ms": 20 });
    deepStrictEqual(out.errors, []);
    strictEqual(out.acked.length, 120);
    const offsets = out.acked.map(([, , o]) => o).sort((a, b) => a - b);
    const target = offsets[50] as number;

    const kafka = new Kafka({
      clientId: "cluster-delete-records",
      brokers: cluster.bootstrap.split(","),
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      // kafkajs finds the leader in topic metadata it already loaded.
      const [before] = await admin.fetchTopicOffsets(topic);
      strictEqual(before?.low, "0", JSON.stringify(before));
      await admin.deleteTopicRecords({
        topic,
        partitions: [{ partition: 0, offset: `${target}` }],
      });
      const [p0] = await admin.fetchTopicOffsets(topic);
      strictEqual(p0?.low, `${target}`, JSON.stringify(p0));
    } finally {
      await admin.disconnect();
    }
    const starts = () =>
      Promise.all(
        cluster.nodes.map(async (n) =>
          (await partitionView(cluster, n.id, topic))?.log_start_offset
        ),
      );
    await waitFor(
      `every replica's log start at ${target}`,
      AGREE_MS,
      async () => (await starts()).every((s) => s === target),
      async () => JSON.stringify(await starts()),
    );

    const expected = out.acked.filter(([, , o]) => o >= target).map(([v, , o]) => `${o}:${v}`);
    const readFrom = async (id: number) =>
      (await readAllKcat(cluster.node(id).kafka, topic)).map((r) => `${r.offset}:${r.value}`);
    deepStrictEqual(await readFrom(2), expected, "kcat reads from the new start, nothing before");

    // The leader restarts: the deletion stays on every replica, and the restarted node applies
    // nothing twice.
    const leader = agreed?.leader ?? 1;
    await cluster.restart(leader);
    await cluster.waitReady("all", READY_MS);
    await waitAgreedFullIsr(cluster, topic, 1, AGREE_MS);
    await waitFor(
      `every replica's log start still at ${target} after node ${leader} restarted`,
      AGREE_MS,
      async () => (await starts()).every((s) => s === target),
      async () => JSON.stringify(await starts()),
    );
    deepStrictEqual(await readFrom(3), expected, "and reads the same after the restart");
    await checkReplicasIdentical(cluster, topic, 1, AGREE_MS);
  });
});
