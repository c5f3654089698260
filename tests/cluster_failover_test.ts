/**
 * Failures of one node in a three-node cluster on loopback, with real clients:
 * - failover under load: an idempotent confluent-kafka producer (acks=all) writes numbered
 *   records without pause while the leader of the partition is killed with SIGKILL; every
 *   acknowledged record is then readable exactly once, a survivor leads at a higher leader
 *   epoch, acknowledgements continued after the kill, and the restarted node rejoins the ISR
 *   with its log caught up to the high watermark;
 * - flexible quorums (`replication.quorum` = W): with one follower stopped (SIGSTOP), W=3
 *   cannot acknowledge while W=1 can; the leader drops the silent follower from the ISR, so
 *   acks=all under min.insync.replicas=3 gets NOT_ENOUGH_REPLICAS while acks=1 succeeds;
 *   after SIGCONT the follower rejoins the ISR and W=3 acknowledges again; W above the
 *   replication factor is refused with INVALID_CONFIG.
 *
 * Every wait is bounded; a failure prints every node's log tail.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { startCluster } from "./helpers/cluster_process.ts";
import { buildBatch } from "../src/records/mod.ts";
import { produceRaw } from "./clients/kafka_ops.ts";
import { WireClient } from "./clients/wire_client.ts";
import {
  AGREE_MS,
  checkReplicasIdentical,
  createTopicCli,
  describeViews,
  duplicates,
  partitionView,
  producePython,
  pyralogCli,
  readAllKcat,
  READY_MS,
  startStreamProducer,
  waitAgreedFullIsr,
  waitFor,
  withLogs,
} from "./cluster_support.ts";

/** A survivor leads within this after the leader died (election 0.5-1 s, plus reports). */
const FAILOVER_MS = 10_000;
/** A restarted node is back in the ISR with its log caught up within this. */
const REJOIN_MS = 15_000;
/** Acknowledgements wanted before the kill, and after it. */
const ACKS_BEFORE = 200;
const ACKS_AFTER = 200;
/** A silent replica leaves the ISR (3 s lag) or a resumed one rejoins within this. */
const ISR_CHANGE_MS = 15_000;
/** Kafka error code (protocol guide, "Error Codes"). */
const NOT_ENOUGH_REPLICAS = 19;

/** A one-record batch with value `text`. */
function oneRecord(text: string): Uint8Array {
  return buildBatch({ records: [{ value: new TextEncoder().encode(text) }] });
}

/** A raw Kafka connection closed by `await using`. */
async function openWire(host: string, port: number): Promise<WireClient & AsyncDisposable> {
  const client = await WireClient.connect(host, port);
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

Deno.test("cluster failover: kill -9 of the leader under idempotent acks=all load loses no acknowledged record", async () => {
  await using cluster = await startCluster({ nodes: 3, fsync: "never" });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const topic = "failover";
    const created = await createTopicCli(cluster.bootstrap, topic, 1, 3);
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [[topic, null]]);
    await waitAgreedFullIsr(cluster, topic, 1, AGREE_MS);

    let victim = -1;
    let survivors: number[] = [];
    const producer = await startStreamProducer(cluster.bootstrap, topic, 60_000, {
      "enable.idempotence": true,
      // librdkafka refreshes metadata quickly after a lost leader.
      "topic.metadata.refresh.interval.ms": 1000,
      "retry.backoff.ms": 50,
    });
    try {
      await waitFor(
        `${ACKS_BEFORE} acknowledgements`,
        30_000,
        () => producer.acked.size >= ACKS_BEFORE,
        () => producer.stderr(),
      );
      // The leader that is acknowledging them, as every node sees it.
      const [before] = await waitAgreedFullIsr(cluster, topic, 1, AGREE_MS);
      ok(before && before.leader !== null);
      victim = before.leader;
      const dead = victim;
      survivors = cluster.nodes.map((n) => n.id).filter((id) => id !== dead);

      const killedAtMs = Date.now();
      const status = await cluster.kill(victim);
      strictEqual(status.signal, "SIGKILL");

      // Both survivors show one new leader among them at a higher epoch.
      const after = await waitFor("a survivor to lead at a higher epoch", FAILOVER_MS, async () => {
        const views = await Promise.all(survivors.map((id) => partitionView(cluster, id, topic)));
        const [a, b] = views;
        if (!a || !b || a.leader === null || a.leader === dead) return null;
        if (a.leader !== b.leader || a.leader_epoch !== b.leader_epoch) return null;
        return a.leader_epoch > before.leader_epoch ? a : null;
      }, () => describeViews(cluster, topic));
      ok(after.leader !== null && survivors.includes(after.leader));

      const ackedAfter = () => [...producer.acked.values()].filter((a) => a.atMs > killedAtMs);
      await waitFor(
        `${ACKS_AFTER} acknowledgements after the kill`,
        30_000,
        () => ackedAfter().length >= ACKS_AFTER,
        () =>
          `acked ${producer.acked.size}, after the kill ${ackedAfter().length}; ` +
          `errors ${producer.errors.slice(0, 5)}; ${producer.stderr()}`,
      );
      const undelivered = await producer.finish();
      strictEqual(undelivered, 0, `undelivered records; errors: ${producer.errors.slice(0, 5)}`);
      deepStrictEqual(producer.errors, [], "idempotent retries hide the failover");
    } finally {
      await producer.kill();
    }

    const read = await readAllKcat(survivors.map((id) => cluster.node(id).kafka).join(","), topic);
    deepStrictEqual(duplicates(read).slice(0, 20), [], "no record is stored twice");
    const values = new Set(read.map((r) => Number(r.value)));
    const lost = [...producer.acked.keys()].filter((v) => !values.has(v));
    deepStrictEqual(lost.slice(0, 20), [], `acknowledged records missing (${lost.length})`);
    // The idempotent producer keeps order: what was read is 0..k without gaps.
    const inOrder = read.map((r) => Number(r.value));
    deepStrictEqual(inOrder, Array.from({ length: inOrder.length }, (_, i) => i), "order kept");

    // The killed node comes back, rejoins the ISR on the leader and catches up.
    await cluster.restart(victim);
    await cluster.waitReady(victim, READY_MS);
    await waitFor(`node ${victim} back in the ISR with its log caught up`, REJOIN_MS, async () => {
      const leaderId = (await partitionView(cluster, survivors[0] ?? -1, topic))?.leader;
      if (leaderId === null || leaderId === undefined) return false;
      const onLeader = await partitionView(cluster, leaderId, topic);
      const own = await partitionView(cluster, victim, topic);
      if (!onLeader || !own || onLeader.leader !== leaderId) return false;
      return onLeader.in_sync_replicas.includes(victim) &&
        own.log_end_offset === onLeader.high_watermark;
    }, () => describeViews(cluster, topic));
    await checkReplicasIdentical(cluster, topic, 1, REJOIN_MS);
  });
});

Deno.test("cluster flexible quorums: W=3 waits for every replica, W=1 does not, W>RF is refused", async () => {
  await using cluster = await startCluster({ nodes: 3, fsync: "never" });
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const bad = await createTopicCli(cluster.bootstrap, "w4", 1, 3, { "replication.quorum": "4" });
    deepStrictEqual(bad.map((r) => [r.topic, r.error]), [["w4", "INVALID_CONFIG"]]);

    const created = [
      ...await createTopicCli(cluster.bootstrap, "w1", 1, 3, { "replication.quorum": "1" }),
      ...await createTopicCli(cluster.bootstrap, "w3", 1, 3, { "replication.quorum": "3" }),
    ];
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [["w1", null], ["w3", null]]);
    const [w1] = await waitAgreedFullIsr(cluster, "w1", 1, AGREE_MS);
    const [w3] = await waitAgreedFullIsr(cluster, "w3", 1, AGREE_MS);
    ok(w1 && w3);
    // A node that leads neither partition: stopping it leaves both leaders running.
    const follower = [1, 2, 3].find((id) => id !== w1.leader && id !== w3.leader);
    ok(follower !== undefined);
    const pid = cluster.node(follower).pid;
    ok(pid !== null);
    const leaders = [w1.leader, w3.leader].map((id) => cluster.node(id ?? -1).kafka).join(",");

    const w1Leader = w1.leader ?? -1;
    const w1Node = cluster.node(w1Leader);
    await using wire = await openWire(w1Node.host, w1Node.kafkaPort);

    const warm = await producePython(leaders, "w3", 0, 10, 10_000);
    strictEqual(warm.acked.length, 10, JSON.stringify(warm));

    Deno.kill(pid, "SIGSTOP");
    try {
      const [slow, fast] = await Promise.all([
        producePython(leaders, "w3", 100, 10, 3_000),
        producePython(leaders, "w1", 100, 10, 10_000),
      ]);
      deepStrictEqual(slow.acked, [], "W=3 acknowledges nothing with a replica stopped");
      strictEqual(slow.errors.length, 10, JSON.stringify(slow));
      strictEqual(fast.acked.length, 10, `W=1 acknowledges: ${JSON.stringify(fast)}`);

      // The leader drops the silent replica from the ISR, so acks=all under
      // min.insync.replicas=3 is refused while acks=1 is not.
      await waitFor(`node ${follower} to leave the ISR of w1`, ISR_CHANGE_MS, async () => {
        const v = await partitionView(cluster, w1Leader, "w1");
        return v?.leader === w1Leader && !v.in_sync_replicas.includes(follower);
      }, () => describeViews(cluster, "w1"));
      const alter = await pyralogCli([
        ...["topic", "alter-config", "w1", "--set", "min.insync.replicas=3"],
        ...["--brokers", leaders],
      ]);
      strictEqual(alter.code, 0, alter.stderr);
      await waitFor(
        "acks=all to be refused with NOT_ENOUGH_REPLICAS",
        AGREE_MS,
        async () =>
          (await produceRaw(wire, "w1", 0, oneRecord("m3"), -1)).errorCode ===
            NOT_ENOUGH_REPLICAS,
      );
      strictEqual((await produceRaw(wire, "w1", 0, oneRecord("acks1"), 1)).errorCode, 0);
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
    await waitFor(`node ${follower} to rejoin the ISR of w1`, ISR_CHANGE_MS, async () => {
      const v = await partitionView(cluster, w1Leader, "w1");
      return v?.leader === w1Leader && v.in_sync_replicas.includes(follower);
    }, () => describeViews(cluster, "w1"));
    strictEqual((await produceRaw(wire, "w1", 0, oneRecord("isr3"), -1)).errorCode, 0);
    const resumed = await producePython(leaders, "w3", 200, 10, 20_000);
    strictEqual(resumed.acked.length, 10, `W=3 acknowledges again: ${JSON.stringify(resumed)}`);
    const read = await readAllKcat(cluster.bootstrap, "w3");
    const values = new Set(read.map((r) => Number(r.value)));
    for (const [v] of [...warm.acked, ...resumed.acked]) ok(values.has(v), `w3 record ${v}`);
    await checkReplicasIdentical(cluster, "w3", 1, AGREE_MS);
    await checkReplicasIdentical(cluster, "w1", 1, AGREE_MS);
  });
});
