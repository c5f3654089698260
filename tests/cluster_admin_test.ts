/**
 * Topic administration on a three-node `pyralog serve --peers` cluster, each step through a
 * different node, with real clients: configs changed with `pyralog topic alter-config`
 * (Kafka IncrementalAlterConfigs) reach every node's view; partitions added with kafkajs
 * `createPartitions` become replicated partitions that take writes (kcat); a topic deleted
 * with kafkajs `deleteTopics` leaves every node's listing and data directory, and a topic
 * created again under its name starts empty. With a small `--metadata-snapshot-records`,
 * the metadata log is snapshotted and compacted on every node, and after all nodes restart
 * the topics (and the deletions) are as before. Every wait is bounded; a failure prints every
 * node's log tail.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { PartitionLog } from "../src/storage/mod.ts";
import { startCluster } from "./helpers/cluster_process.ts";
import { runCommand } from "./clients/kafka_ops.ts";
import {
  AGREE_MS,
  COMMAND_TIMEOUT_MS,
  createTopicCli,
  pyralogCli,
  readAllKcat,
  READY_MS,
  topicView,
  waitAgreedFullIsr,
  waitFor,
  withLogs,
} from "./cluster_support.ts";

/** Produces `values` to partition `p` of `topic` with kcat (acks=all) through `bootstrap`. */
async function kcatProduce(bootstrap: string, topic: string, p: number, values: string[]) {
  const r = await runCommand("kcat", [
    ...["-P", "-b", bootstrap, "-t", topic, "-p", String(p)],
    ...["-X", "acks=all", "-X", "message.timeout.ms=30000"],
  ], { stdin: values.join("\n") + "\n", timeoutMs: COMMAND_TIMEOUT_MS });
  strictEqual(r.code, 0, r.stderr);
}

Deno.test("cluster admin: configs, added partitions and deletion through different nodes", async () => {
  await using cluster = await startCluster({ nodes: 3, fsync: "never" });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const topic = "admin-ops";
    const [n1, n2, n3] = [cluster.node(1), cluster.node(2), cluster.node(3)];
    const created = await createTopicCli(n1.kafka, topic, 1, 3);
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [[topic, null]]);
    await waitAgreedFullIsr(cluster, topic, 1, AGREE_MS);
    await kcatProduce(n2.kafka, topic, 0, ["a0", "a1", "a2"]);

    // A config changed through node 3 shows on every node.
    const altered = await pyralogCli([
      ...["topic", "alter-config", topic, "--set", "retention.ms=86400001"],
      ...["--brokers", n3.kafka],
    ]);
    strictEqual(altered.code, 0, `${altered.stdout}\n${altered.stderr}`);
    await waitFor("retention.ms=86400001 on every node", AGREE_MS, async () => {
      const views = await Promise.all(cluster.nodes.map((n) => topicView(cluster, n.id, topic)));
      return views.every((v) => v?.configs["retention.ms"] === "86400001");
    });

    const kafka = new Kafka({
      clientId: "cluster-admin-test",
      brokers: [n2.kafka],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Two partitions added through node 2 become replicated partitions that take writes.
      await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
      const agreed = await waitAgreedFullIsr(cluster, topic, 3, AGREE_MS);
      for (const p of agreed) strictEqual(p.replicas.length, 3, JSON.stringify(p));
      await kcatProduce(n1.kafka, topic, 1, ["b0", "b1"]);
      await kcatProduce(n3.kafka, topic, 2, ["c0"]);
      const read = await readAllKcat(n2.kafka, topic);
      deepStrictEqual(
        read.map((r) => `${r.partition}:${r.value}`).sort(),
        ["0:a0", "0:a1", "0:a2", "1:b0", "1:b1", "2:c0"],
      );

      // Deleted through node 2: gone from every node's listing and data directory.
      await admin.deleteTopics({ topics: [topic], timeout: 15_000 });
      await waitFor(`"${topic}" gone from every node`, AGREE_MS, async () => {
        for (const n of cluster.nodes) {
          const res = await fetch(`http://${n.http}/v1/topics`, {
            signal: AbortSignal.timeout(5_000),
          });
          const body = await res.json() as { topics: Array<{ name: string }> };
          if (body.topics.some((t) => t.name === topic)) return false;
          for (const e of Deno.readDirSync(n.dataDir)) {
            if (e.name.startsWith(`${topic}-`)) return false;
          }
        }
        return true;
      });
    } finally {
      await admin.disconnect();
    }

    // Created again under the same name: a new, empty topic.
    const again = await createTopicCli(n3.kafka, topic, 2, 3);
    deepStrictEqual(again.map((r) => [r.topic, r.error]), [[topic, null]]);
    await waitAgreedFullIsr(cluster, topic, 2, AGREE_MS);
    deepStrictEqual(await readAllKcat(n1.kafka, topic), [], "the new topic starts empty");
    await kcatProduce(n1.kafka, topic, 1, ["d0", "d1"]);
    const fresh = await readAllKcat(n2.kafka, topic);
    deepStrictEqual(fresh.map((r) => `${r.partition}:${r.value}`), ["1:d0", "1:d1"]);
    ok(fresh.every((r) => r.offset >= 1), JSON.stringify(fresh));
  });
});

Deno.test("cluster admin: the metadata log is snapshotted and compacted; a full restart keeps the topics", async () => {
  await using cluster = await startCluster({
    nodes: 3,
    fsync: "never",
    extraArgs: ["--metadata-snapshot-records", "20"],
  });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    // Each topic is a few records (topic, partitions, leader and ISR reports): dozens in all.
    for (let i = 0; i < 8; i++) {
      const created = await createTopicCli(cluster.node(1 + (i % 3)).kafka, `snap-${i}`, 2, 3);
      deepStrictEqual(created.map((r) => r.error), [null]);
    }
    const kafka = new Kafka({
      clientId: "cluster-snapshot-test",
      brokers: [cluster.node(1).kafka],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: ["snap-0", "snap-1"], timeout: 15_000 });
    } finally {
      await admin.disconnect();
    }
    const kept = Array.from({ length: 6 }, (_, i) => `snap-${i + 2}`);
    await waitAgreedFullIsr(cluster, "snap-7", 2, AGREE_MS);
    await kcatProduce(cluster.node(2).kafka, "snap-7", 1, ["kept"]);

    for (const n of cluster.nodes) strictEqual((await cluster.stop(n.id)).code, 0);
    for (const n of cluster.nodes) {
      const log = PartitionLog.open(`${n.dataDir}/__cluster_metadata-0`, {
        config: { fsync: "never" },
      });
      try {
        ok(log.logStartOffset > 0, `node ${n.id}: metadata log not compacted`);
      } finally {
        await log.close();
      }
    }
    for (const n of cluster.nodes) await cluster.start(n.id);
    await cluster.waitReady("all", READY_MS);
    await waitFor("every node lists exactly the kept topics", AGREE_MS, async () => {
      const views = await Promise.all(cluster.nodes.map(async (n) => {
        const res = await fetch(`http://${n.http}/v1/topics`, {
          signal: AbortSignal.timeout(5_000),
        });
        const body = await res.json() as { topics: Array<{ name: string }> };
        return body.topics.map((t) => t.name).filter((t) => t.startsWith("snap-")).sort();
      }));
      return views.every((v) => JSON.stringify(v) === JSON.stringify(kept));
    });
    await waitAgreedFullIsr(cluster, "snap-7", 2, AGREE_MS);
    const read = await readAllKcat(cluster.node(3).kafka, "snap-7");
    deepStrictEqual(read.map((r) => `${r.partition}:${r.value}`), ["1:kept"]);
  });
});
