/**
 * A network partition in a three-node cluster, each node in its own network namespace: the
 * leader of a partition is cut off from both peers (the test's clients in the root
 * namespace still reach it). A producer that only knows the cut-off leader gets no
 * acknowledgement for writes made after the cut, while the two others elect a new leader at
 * a higher epoch and acknowledge writes. After healing, the old leader follows the new one
 * and catches up, and every record the majority acknowledged is readable exactly once;
 * records the minority never acknowledged may be absent.
 *
 * Needs root, iproute2 and iptables (see tests/helpers/netns.ts). Every wait is bounded; a
 * failure prints every node's log tail.
 */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { startCluster } from "./helpers/cluster_process.ts";
import {
  AGREE_MS,
  checkReplicasIdentical,
  createTopicCli,
  describeViews,
  duplicates,
  partitionView,
  producePython,
  readAllKcat,
  READY_MS,
  waitAgreedFullIsr,
  waitFor,
  withLogs,
} from "./cluster_support.ts";

/** The majority elects and reports a new leader within this. */
const FAILOVER_MS = 10_000;
/** After healing, the old leader follows and catches up within this. */
const HEAL_MS = 20_000;
/** How long the minority producer waits for an acknowledgement per record. */
const MINORITY_TIMEOUT_MS = 4_000;

Deno.test("cluster partition: a leader cut off from its peers acknowledges nothing; the majority goes on", async () => {
  await using cluster = await startCluster({ nodes: 3, netns: true, fsync: "never" });
  const lab = cluster.netns;
  ok(lab);
  await withLogs(cluster, async () => {
    await cluster.waitReady("all", READY_MS);
    const topic = "split";
    const created = await createTopicCli(cluster.bootstrap, topic, 1, 3);
    deepStrictEqual(created.map((r) => [r.topic, r.error]), [[topic, null]]);
    const early = await producePython(cluster.bootstrap, topic, 0, 20, 20_000);
    strictEqual(early.acked.length, 20, JSON.stringify(early));
    // The leader that acknowledged them, as every node sees it.
    const [before] = await waitAgreedFullIsr(cluster, topic, 1, AGREE_MS);
    ok(before && before.leader !== null);
    const old = before.leader;
    const majority = [1, 2, 3].filter((id) => id !== old);
    const majorityBootstrap = majority.map((id) => cluster.node(id).kafka).join(",");

    await cluster.cutFromPeers(old);
    // The clients in the root namespace still reach the cut-off leader.
    strictEqual((await cluster.probe(old, "/healthz", 5_000)).type, "status");

    const [minority, elected] = await Promise.all([
      // Bootstrapped to the old leader only: it can only learn of itself as the leader.
      producePython(cluster.node(old).kafka, topic, 1000, 20, MINORITY_TIMEOUT_MS),
      waitFor("the majority to elect a new leader at a higher epoch", FAILOVER_MS, async () => {
        const [a, b] = await Promise.all(majority.map((id) => partitionView(cluster, id, topic)));
        if (!a || !b || a.leader === null || a.leader === old) return null;
        if (a.leader !== b.leader || a.leader_epoch !== b.leader_epoch) return null;
        return a.leader_epoch > before.leader_epoch ? a : null;
      }, () => describeViews(cluster, topic)),
    ]);
    deepStrictEqual(minority.acked, [], "the cut-off leader acknowledges nothing");
    strictEqual(minority.errors.length + minority.undelivered, 20, JSON.stringify(minority));
    ok(elected.leader !== null && majority.includes(elected.leader));

    const accepted = await producePython(majorityBootstrap, topic, 2000, 50, 20_000);
    strictEqual(
      accepted.acked.length,
      50,
      `the majority acknowledges: ${JSON.stringify(accepted)}`,
    );

    await lab.heal();
    await waitFor(`node ${old} to follow and catch up after healing`, HEAL_MS, async () => {
      const views = await Promise.all([1, 2, 3].map((id) => partitionView(cluster, id, topic)));
      if (views.some((v) => v === null)) return false;
      const leader = views[0]?.leader;
      if (leader === null || leader === undefined || leader === old) return false;
      if (!views.every((v) => v?.leader === leader)) return false;
      const onLeader = views[leader - 1];
      const own = views[old - 1];
      if (!onLeader || !own) return false;
      return onLeader.high_watermark !== null &&
        onLeader.in_sync_replicas.includes(old) &&
        own.log_end_offset === onLeader.high_watermark;
    }, () => describeViews(cluster, topic));
    // The old leader dropped the suffix it could not commit: every replica holds the same.
    await checkReplicasIdentical(cluster, topic, 1, HEAL_MS);

    const read = await readAllKcat(cluster.bootstrap, topic);
    deepStrictEqual(duplicates(read), []);
    const values = new Set(read.map((r) => Number(r.value)));
    const lost = [...early.acked, ...accepted.acked].filter(([v]) => !values.has(v));
    deepStrictEqual(lost, [], "every record the majority acknowledged is readable");
  });
});
