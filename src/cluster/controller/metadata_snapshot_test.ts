/**
 * Metadata snapshots (issue #6) over a real metadata Raft group: three replicas in one
 * process over a SimNetwork, on virtual time from a seed (`_test_metadata_cluster.ts`), with
 * a snapshot every few records and small segments. Every assertion names its seed;
 * SIM_SEEDS="1,2" runs others.
 *
 * Covered: the active controller writes snapshots and every other replica compacts its log
 * to them (files leave the disk); a node cut off while topics were created and deleted, whose
 * log ends before the others' start, is reset to the leader's start and its stale image
 * (which still lists deleted topics) becomes the others' exactly; a restarted node replays
 * from its compacted log to the same image; the controller keeps serving.
 */
import assert from "node:assert/strict";
import { nodeId } from "../../util/mod.ts";
import { SimMetadataCluster } from "./_test_metadata_cluster.ts";
import type { MetadataImage } from "./metadata_image.ts";

const SEEDS = (Deno.env.get("SIM_SEEDS") ?? "1,2,3,4,5").split(",").map(Number);
const BROKERS = [1, 2, 3].map(nodeId);

/** Runs until every running node applied the same offset; returns their images. */
async function converged(c: SimMetadataCluster, seed: number): Promise<MetadataImage[]> {
  const images = () => [...c.quorums.values()].map((q) => q.image);
  const ok = await c.runUntil(() => new Set(images().map((i) => i.nextOffset)).size === 1, 5_000);
  const state = [...c.quorums.entries()].map(([id, q]) =>
    `node ${id}: applied ${q.image.nextOffset} start ${q.group.logStartOffset} commit ${q.group.commitOffset} end ${q.group.logEndOffset} role ${q.group.role} failure ${q.failure?.message}`
  );
  assert.ok(ok, `seed ${seed}: images reach the same offset\n${state.join("\n")}`);
  return images();
}

function assertSameImages(images: readonly MetadataImage[], seed: number): void {
  const first = images[0];
  assert.ok(first !== undefined);
  for (const image of images) {
    assert.deepEqual(image.toRecords(), first.toRecords(), `seed ${seed}: images differ`);
  }
}

/** Creates topic `t<i>` (2 partitions, RF 3) and deletes `t<i-2>`, for `rounds` i from `first`. */
async function churn(c: SimMetadataCluster, first: number, rounds: number, seed: number) {
  for (let i = first; i < first + rounds; i++) {
    const created = await c.request((ctl) =>
      ctl.createTopic({ name: `t${i}`, numPartitions: 2, replicationFactor: 3 })
    );
    assert.equal(created.type, "ok", `seed ${seed}: create t${i}: ${JSON.stringify(created)}`);
    if (i >= 2) {
      const deleted = await c.request((ctl) => ctl.deleteTopic(`t${i - 2}`));
      assert.equal(deleted.type, "ok", `seed ${seed}: delete t${i - 2}`);
    }
  }
}

Deno.test("Metadata snapshots: replicas compact, a node behind the compaction and a restarted one rebuild the same image", async () => {
  for (const seed of SEEDS) {
    const c = await SimMetadataCluster.start(seed, 3, {
      snapshotEveryRecords: 12,
      segmentBytes: 1024,
    });
    try {
      await c.awaitActive();
      BROKERS.forEach((id) => c.startBroker(id));
      const up = await c.runUntil(
        () => (c.active()?.image.unfencedBrokers().length ?? 0) === BROKERS.length,
        5_000,
      );
      assert.ok(up, `seed ${seed}: brokers unfenced`);
      await churn(c, 0, 3, seed);
      await converged(c, seed);

      // A follower is cut off with topics t1 and t2 in its image; both are deleted meanwhile.
      const controller = c.active();
      assert.ok(controller !== undefined);
      const down = c.ids.find((id) => id !== controller.nodeId) ?? nodeId(1);
      const staleTopics = c.quorum(down).image.topicNames();
      assert.deepEqual(staleTopics, ["t1", "t2"], `seed ${seed}`);
      for (const id of c.ids) if (id !== down) c.net.partition(down, id);
      await churn(c, 3, 8, seed);
      const running = c.ids.filter((id) => id !== down);
      const compacted = await c.runUntil(() =>
        running.every((id) => {
          const q = c.quorum(id);
          return q.compactions > 0 && q.group.logStartOffset === q.image.snapshotOffset;
        }), 5_000);
      assert.ok(
        compacted,
        `seed ${seed}: starts ${running.map((id) => c.quorum(id).group.logStartOffset)}`,
      );
      const leaderStart = c.quorum(running[0] ?? nodeId(1)).group.logStartOffset;
      assert.ok(leaderStart > 12, `seed ${seed}: log start ${leaderStart}`);
      for (const id of running) {
        const log = c.quorum(id).group.log.partitionLog;
        assert.ok(
          log.storedStartOffset > 0,
          `seed ${seed}: node ${id} still stores offset 0`,
        );
      }

      // The cut-off node rejoins behind the leader's log start: it is reset to it, and the
      // snapshot there replaces its image (which still lists t1 and t2).
      assert.deepEqual(c.quorum(down).image.topicNames(), ["t1", "t2"], `seed ${seed}`);
      c.net.healAll();
      let images = await converged(c, seed);
      assert.equal(images.length, 3);
      assertSameImages(images, seed);
      const names = images[0]?.topicNames() ?? [];
      assert.deepEqual(names, ["t10", "t9"], `seed ${seed}: topics ${names}`);
      assert.ok(
        c.quorum(down).group.logStartOffset >= leaderStart,
        `seed ${seed}: the rejoined node was reset to the leader's start`,
      );

      // A restart replays from the compacted log; the controller keeps serving.
      const other = running.find((id) => id !== c.active()?.nodeId) ?? nodeId(1);
      await c.crash(other);
      c.restart(other);
      await churn(c, 11, 2, seed);
      images = await converged(c, seed);
      assertSameImages(images, seed);
      assert.deepEqual(images[0]?.topicNames(), ["t11", "t12"], `seed ${seed}`);
      for (const q of c.quorums.values()) assert.equal(q.failure, undefined, `seed ${seed}`);
    } finally {
      await c.close();
    }
  }
});
