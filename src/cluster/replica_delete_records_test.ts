/**
 * DeleteRecords on replicated partitions in seeded simulation: three nodes over a
 * `SimNetwork` on virtual time (`_test_replica_cluster.ts`), the leader's `AdminService`
 * appending a delete-records entry that every replica applies once it is committed. Every
 * assertion names its seed; SIM_SEEDS="1,2" runs others.
 *
 * Covered: the low watermark lands inside a batch on every replica (reads below it are out
 * of range, the bytes from it on identical); only the leader deletes (NOT_LEADER elsewhere),
 * past the high watermark is out of range and -1 means the high watermark; a follower that
 * was down during the deletion applies it after its restart, and a new leader after the old
 * one crashes keeps it; a cut-off leader's deletion is never applied anywhere, answers an
 * error after healing, and the records stay readable.
 */
import assert from "node:assert/strict";
import { textBatch } from "../testing/temp_dir.ts";
import { type NodeId, nodeId } from "../util/mod.ts";
import { type AdminError, AdminService, type TopicController } from "./admin_service.ts";
import { SimReplicaCluster, TOPIC } from "./_test_replica_cluster.ts";
import type { ProduceOutcome } from "./log_service.ts";

/** Fixed seeds; SIM_SEEDS="1,2,3" runs others (a failure prints its seed). */
const SEEDS = (Deno.env.get("SIM_SEEDS") ?? "1,2,3,4,5,6,7,8").split(",").map(Number);
const ALL: NodeId[] = [nodeId(1), nodeId(2), nodeId(3)];
const READ_BYTES = 1 << 20;

/** The controller is not asked for a deletion: any call is a test failure. */
const NO_CONTROLLER = new Proxy({}, {
  get: (_t, name) => () => {
    throw new Error(`the controller was asked for ${String(name)}`);
  },
}) as TopicController;

type DeleteAnswer = { type: "ok"; lowWatermark: number } | AdminError;

function okOffset(o: ProduceOutcome, what: string): number {
  assert.equal(o.type, "ok", `${what}: ${o.type === "error" ? `${o.kind} ${o.message}` : ""}`);
  return o.type === "ok" ? o.baseOffset : -1;
}

/** Runs DeleteRecords on node `id`'s AdminService until it answers (or `maxMs` pass). */
async function deleteOn(
  c: SimReplicaCluster,
  id: NodeId,
  offset: number,
  maxMs = 5_000,
): Promise<DeleteAnswer | undefined> {
  const node = c.node(id);
  const admin = new AdminService(node.store, node.logs, { nodeId: id, controller: NO_CONTROLLER });
  let out: DeleteAnswer | undefined;
  const p = admin.deleteRecords(TOPIC, 0, offset).then((r) => (out = r));
  await c.runUntil(() => out !== undefined, maxMs);
  if (out !== undefined) await p;
  return out;
}

/** Node `id`'s Kafka log start, or -1 when it hosts no replica. */
function startOf(c: SimReplicaCluster, id: NodeId): number {
  return c.group(id)?.log.partitionLog.logStartOffset ?? -1;
}

/** Produces `n` batches of 4 records on the leader; returns their base offsets. */
async function produceBatches(c: SimReplicaCluster, leader: NodeId, n: number, tag: string) {
  const bases: number[] = [];
  for (let i = 0; i < n; i++) {
    bases.push(okOffset(await c.produce(leader, textBatch(`${tag}${i}`, 4)), `${tag} ${i}`));
  }
  return bases;
}

/** Every replica in `ids` holds `start` as its log start and the same bytes from it. */
function assertDeletedEverywhere(c: SimReplicaCluster, ids: NodeId[], start: number): void {
  let reference: Uint8Array | undefined;
  for (const id of ids) {
    const log = c.group(id)?.log.partitionLog;
    assert.ok(log !== undefined, `seed ${c.seed}: node ${id} hosts the partition`);
    assert.equal(log.logStartOffset, start, `seed ${c.seed}: node ${id} log start`);
    assert.equal(
      log.read(start - 1, READ_BYTES).type,
      "offsetOutOfRange",
      `seed ${c.seed}: node ${id} serves below the start`,
    );
    const bytes = c.logBytes(id);
    reference ??= bytes;
    assert.deepEqual(bytes, reference, `seed ${c.seed}: node ${id} bytes from the start`);
  }
}

Deno.test("DeleteRecords on a replicated partition moves every replica's start inside a batch", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 3) } });
    try {
      const leader = await c.settledLeader();
      const bases = await produceBatches(c, leader, 6, `s${seed}-`);
      const target = (bases[2] as number) + 1 + (seed % 3); // inside the third batch
      const follower = ALL.find((id) => id !== leader) as NodeId;
      const refused = await deleteOn(c, follower, target);
      assert.equal(refused?.type === "error" && refused.kind, "not_leader", `seed ${seed}`);
      const hw = c.group(leader)?.commitOffset ?? 0;
      const past = await deleteOn(c, leader, hw + 1);
      assert.equal(past?.type === "error" && past.kind, "offset_out_of_range", `seed ${seed}`);
      assert.deepEqual(ALL.map((id) => startOf(c, id)), [0, 0, 0], `seed ${seed}: nothing yet`);

      const answer = await deleteOn(c, leader, target);
      assert.deepEqual(answer, { type: "ok", lowWatermark: target }, `seed ${seed}`);
      const applied = await c.runUntil(() => ALL.every((id) => startOf(c, id) === target), 3_000);
      assert.ok(applied, `seed ${seed}: starts ${ALL.map((id) => startOf(c, id))}`);
      assertDeletedEverywhere(c, ALL, target);
      // The leader serves clients from the start only; the batch holding it is whole.
      const below = c.node(leader).logs.fetch(TOPIC, 0, target - 1, READ_BYTES, true);
      assert.equal(below.type === "error" && below.kind, "offset_out_of_range", `seed ${seed}`);
      // Deleting below the start changes nothing; -1 deletes up to the high watermark.
      const again = await deleteOn(c, leader, target - 1);
      assert.deepEqual(again, { type: "ok", lowWatermark: target }, `seed ${seed}`);
      // The start is the high watermark the request saw (the entry itself stays, after it).
      const hwThen = c.group(leader)?.commitOffset ?? -1;
      // The first deletion's entry took one offset after the last batch.
      assert.equal(hwThen, (bases[5] as number) + 5, `seed ${seed}`);
      const all = await deleteOn(c, leader, -1);
      assert.deepEqual(all, { type: "ok", lowWatermark: hwThen }, `seed ${seed}`);
      const emptied = await c.runUntil(() => ALL.every((id) => startOf(c, id) === hwThen), 3_000);
      assert.ok(emptied, `seed ${seed}: starts ${ALL.map((id) => startOf(c, id))}`);
      // Producing goes on after everything was deleted.
      okOffset(await c.produce(leader, textBatch("after", 2)), `seed ${seed} after`);
      assert.deepEqual(c.violations, [], `seed ${seed}`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("DeleteRecords reaches a restarted follower and survives the leader's crash", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 3) } });
    try {
      const leader = await c.settledLeader();
      const bases = await produceBatches(c, leader, 5, `s${seed}-`);
      const down = ALL.find((id) => id !== leader) as NodeId;
      await c.crash(down);
      const target = (bases[3] as number) + 2;
      const answer = await deleteOn(c, leader, target);
      assert.deepEqual(answer, { type: "ok", lowWatermark: target }, `seed ${seed}`);
      c.restart(down);
      const caughtUp = await c.runUntil(() => startOf(c, down) === target, 5_000);
      assert.ok(caughtUp, `seed ${seed}: restarted follower start ${startOf(c, down)}`);
      await c.crash(leader);
      const next = await c.settledLeader();
      assert.notEqual(next, leader, `seed ${seed}`);
      const more = okOffset(await c.produce(next, textBatch("later", 3)), `seed ${seed} later`);
      assert.ok(more > target, `seed ${seed}`);
      c.restart(leader);
      const back = await c.runUntil(
        () =>
          ALL.every((id) => startOf(c, id) === target && c.group(id)?.commitOffset === more + 3),
        5_000,
      );
      assert.ok(back, `seed ${seed}: starts ${ALL.map((id) => startOf(c, id))}`);
      assertDeletedEverywhere(c, ALL, target);
      assert.deepEqual(c.violations, [], `seed ${seed}`);
    } finally {
      await c.close();
    }
  }
});

Deno.test("DeleteRecords on a cut-off leader is never applied and answers an error after healing", async () => {
  for (const seed of SEEDS) {
    const c = await SimReplicaCluster.start({ seed, faults: { delayMaxMs: 1 + (seed % 3) } });
    try {
      const old = await c.settledLeader();
      const bases = await produceBatches(c, old, 4, `s${seed}-`);
      await c.runUntil(
        () => ALL.every((id) => c.group(id)?.commitOffset === (bases[3] as number) + 4),
        3_000,
      );
      c.isolate(old);
      const node = c.node(old);
      const admin = new AdminService(node.store, node.logs, {
        nodeId: old,
        controller: NO_CONTROLLER,
      });
      let out: DeleteAnswer | undefined;
      const pending = admin.deleteRecords(TOPIC, 0, (bases[2] as number) + 1).then((
        r,
      ) => (out = r));
      await c.runUntil(() => c.leadersOf().some((id) => id !== old), 10_000);
      await c.runFor(500);
      assert.equal(out, undefined, `seed ${seed}: a cut-off leader cannot commit a deletion`);
      assert.deepEqual(ALL.map((id) => startOf(c, id)), [0, 0, 0], `seed ${seed}`);
      const leader = c.leadersOf().find((id) => id !== old);
      assert.ok(leader !== undefined, `seed ${seed}: a new leader`);
      okOffset(await c.produce(leader, textBatch("new", 2)), `seed ${seed} new leader`);
      c.net.healAll();
      const answered = await c.runUntil(() => out !== undefined, 10_000);
      assert.ok(answered, `seed ${seed}: the deletion is answered after healing`);
      await pending;
      const final = out as DeleteAnswer | undefined;
      assert.equal(final?.type, "error", `seed ${seed}: ${JSON.stringify(final)}`);
      const same = await c.runUntil(
        () => ALL.every((id) => c.group(id)?.commitOffset === c.group(leader)?.commitOffset),
        5_000,
      );
      assert.ok(same, `seed ${seed}: replicas converge`);
      assert.deepEqual(ALL.map((id) => startOf(c, id)), [0, 0, 0], `seed ${seed}: nothing deleted`);
      assertDeletedEverywhere(c, ALL, 0);
    } finally {
      await c.close();
    }
  }
});
