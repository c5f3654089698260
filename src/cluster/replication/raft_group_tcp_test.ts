/**
 * RaftGroup over real TCP on 127.0.0.1 (port 0) with real time: three replicas in one
 * process elect a leader (Raft §5.2), commit 100 proposals (§5.3-§5.4) and end with
 * byte-identical logs. Bounded
 * by a deadline of a few seconds; everything is closed so Deno's leak checks pass.
 */
import assert from "node:assert/strict";
import { realScheduler, TcpTransport } from "../transport/mod.ts";
import { textBatch } from "../../testing/temp_dir.ts";
import { createPrng, nodeId } from "../../util/mod.ts";
import { GroupRouter } from "./group_router.ts";
import { RaftGroup } from "./raft_group.ts";

const DEADLINE_MS = 8_000;
const POLL_MS = 5;

/** Waits (polling every few ms) until `cond` holds; false at the deadline. */
async function waitFor(cond: () => boolean, deadline: number): Promise<boolean> {
  // Bounded by the deadline.
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

Deno.test("RaftGroup over TcpTransport: elect, commit 100 batches, three equal logs", async () => {
  const deadline = Date.now() + DEADLINE_MS;
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  const transports = ids.map((id) =>
    TcpTransport.listen({ nodeId: id, clusterId: "raft-tcp-test", port: 0, prng: createPrng(id) })
  );
  const dirs: string[] = [];
  const groups: RaftGroup[] = [];
  try {
    for (const [i, t] of transports.entries()) {
      for (const [j, peer] of transports.entries()) {
        if (i !== j) t.addPeer(peer.nodeId, { hostname: "127.0.0.1", port: peer.addr.port });
      }
    }
    for (const [i, t] of transports.entries()) {
      const dir = await Deno.makeTempDir({ prefix: "pyralog-raft-tcp-" });
      dirs.push(dir);
      const group = RaftGroup.open({
        groupId: "orders-0",
        nodeId: t.nodeId,
        dir,
        logConfig: { fsync: "never" },
        membership: { voters: ids, learners: [] },
        transport: t,
        scheduler: realScheduler,
        prng: createPrng(100 + i),
        tickMs: 10,
      });
      new GroupRouter(t).add(group);
      groups.push(group);
    }
    const leaderOf = () => groups.find((g) => g.role === "leader");
    assert.ok(await waitFor(() => leaderOf() !== undefined, deadline), "a leader is elected");
    const leader = leaderOf();
    assert.ok(leader !== undefined);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => leader.propose(textBatch(`t${i}`, 10))),
    );
    for (const r of results) assert.equal(r.type, "ok");
    const end = leader.logEndOffset;
    assert.ok(end >= 1000);
    assert.ok(
      await waitFor(() => groups.every((g) => g.commitOffset === end), deadline),
      "every replica learns the commit end",
    );
    const bytes = groups.map((g) => {
      const r = g.log.partitionLog.read(0, 64 * 1024 * 1024);
      assert.ok(r.type === "ok");
      return r.bytes;
    });
    for (const b of bytes) assert.deepEqual(b, bytes[0]);
  } finally {
    for (const g of groups) await g.close();
    await Promise.all(transports.map((t) => t.close()));
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
