/**
 * `ClusterNode` on a `SimNetwork` in virtual time (three nodes, real metadata logs in temporary
 * directories): every broker registers and is unfenced through the controller RPC; a topic
 * created by a follower's client is placed with RF 3 in every node's image; the controller's
 * node crashes, another is elected, the survivors keep heartbeating through it and the dead
 * broker is fenced within a bounded time; the crashed node restarts from its directory and
 * registers with a higher epoch; a controlled shutdown fences its broker; a partition leader's
 * `reportPartition` reaches every image (and is refused before registration). Then three nodes over
 * `TcpTransport` on loopback (port 0) register and agree on the image in real time.
 */
import assert from "node:assert/strict";
import { type SimFaults, SimNetwork } from "../../testing/sim_network.ts";
import { type Clock, createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { type PeerAddress, realScheduler, TcpTransport, type Transport } from "../transport/mod.ts";
import { systemClock } from "../../util/mod.ts";
import { ClusterNode } from "./cluster_node.ts";

const TICK_MS = 10;
const TOPIC_ID = "00000000-0000-4000-8000-000000000001";
const SESSION_MS = 2_000;
/** Events one `runUntil` processes at most (a livelock guard). */
const EVENTS_MAX = 200_000;

/** Three ClusterNodes on a SimNetwork; runs are a function of the seed. */
class SimCluster {
  readonly net: SimNetwork;
  readonly ids = [nodeId(1), nodeId(2), nodeId(3)];
  readonly dirs = new Map<NodeId, string>();
  readonly nodes = new Map<NodeId, ClusterNode>();
  readonly #seed: number;
  readonly #clock: Clock;
  #starts = 0;

  constructor(seed: number, faults: Partial<SimFaults> = {}) {
    this.#seed = seed;
    this.net = new SimNetwork({ seed, faults });
    this.#clock = { nowMs: () => this.net.nowMs, monotonicMs: () => this.net.nowMs };
  }

  async start(): Promise<void> {
    for (const id of this.ids) {
      this.dirs.set(id, await Deno.makeTempDir({ prefix: `pyralog-node-${id}-` }));
      this.net.addNode(id);
    }
    for (const id of this.ids) await this.#open(id, this.net.transport(id));
  }

  async #open(id: NodeId, transport: Transport): Promise<void> {
    const dir = this.dirs.get(id);
    assert(dir !== undefined);
    const peers = new Map<NodeId, PeerAddress>(
      this.ids.filter((p) => p !== id).map((p) => [p, { hostname: `node${p}`, port: 9093 }]),
    );
    const node = await ClusterNode.start({
      nodeId: id,
      dataDir: dir,
      peers,
      transport,
      scheduler: this.net.scheduler,
      clock: this.#clock,
      prng: createPrng(this.#seed * 31 + id * 7 + 1000 * this.#starts++),
      rack: `rack-${id}`,
      endpoints: [{ name: "kafka", host: `node${id}`, port: 9092 }],
      tickMs: TICK_MS,
      sessionTimeoutMs: SESSION_MS,
      logConfig: { fsync: "never" },
      onWarning: () => {},
    });
    this.nodes.set(id, node);
  }

  node(id: NodeId): ClusterNode {
    const n = this.nodes.get(id);
    assert(n !== undefined, `node ${id} is down`);
    return n;
  }

  active(): ClusterNode | undefined {
    return [...this.nodes.values()].find((n) => n.isActiveController);
  }

  async crash(id: NodeId): Promise<void> {
    const n = this.node(id);
    this.nodes.delete(id);
    this.net.crash(id);
    await n.close();
  }

  async restart(id: NodeId): Promise<void> {
    await this.#open(id, this.net.restart(id));
  }

  async #settle(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.quorum.group.idle()));
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }

  /** Runs events (each followed by the I/O it caused) until `cond` or `maxMs` pass. */
  async runUntil(cond: () => boolean, maxMs: number): Promise<boolean> {
    return await this.net.runSettled(
      cond,
      maxMs,
      () => this.#settle(),
      EVENTS_MAX,
      `seed ${this.#seed}`,
    );
  }

  /** Runs until `p` settles; returns its value. */
  async run<T>(p: Promise<T>, maxMs: number): Promise<T> {
    let out: { v: T } | undefined;
    p.then((v) => (out = { v }));
    await this.runUntil(() => out !== undefined, maxMs);
    assert(out !== undefined, `seed ${this.#seed}: no answer within ${maxMs} ms`);
    return out.v;
  }

  async close(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.crash(id);
    await this.net.close();
    for (const dir of this.dirs.values()) await Deno.remove(dir, { recursive: true });
  }
}

/** True when every running node's image shows `ids` registered and unfenced. */
function allUnfenced(c: SimCluster, ids: readonly NodeId[]): boolean {
  return [...c.nodes.values()].every((n) =>
    ids.every((id) => n.image.broker(id)?.fenced === false)
  );
}

for (const seed of [42, 7, 1234]) {
  Deno.test(`ClusterNode: register via RPC, follower creates a topic, controller failover, restart (seed ${seed})`, async () => {
    await failoverScenario(seed);
  });
}

async function failoverScenario(seed: number): Promise<void> {
  const c = new SimCluster(seed);
  try {
    await c.start();
    // Before its registration a node's report is refused without a call.
    const early = await c.node(nodeId(1)).reportPartition(TOPIC_ID, 0, 1, [nodeId(1)]);
    assert.equal(early.type === "error" && early.kind, "unknown_broker");
    assert(await c.runUntil(() => allUnfenced(c, c.ids), 10_000), "all brokers unfenced");
    for (const n of c.nodes.values()) {
      assert.equal(n.registrations, 1);
      assert.equal(n.isFenced, false);
      assert.equal(n.image.broker(n.nodeId)?.rack, `rack-${n.nodeId}`);
    }
    const ctl = c.active();
    assert(ctl !== undefined);
    for (const n of c.nodes.values()) assert.equal(n.controllerId, ctl.nodeId);
    // The followers registered and heartbeat over the transport, not by a direct call.
    assert(ctl.server.receivedRequests >= 2 * 2, `seed ${seed}: requests reached the server`);

    // A follower's client reaches the active controller over the transport.
    const follower = [...c.nodes.values()].find((n) => n !== ctl);
    assert(follower !== undefined);
    const created = await c.run(
      follower.client.createTopic({ name: "orders", numPartitions: 3, replicationFactor: 3 }),
      5_000,
    );
    assert.equal(created.type, "ok", JSON.stringify(created));
    assert.equal(follower.client.controllerId, ctl.nodeId);
    const placed = () =>
      [...c.nodes.values()].every((n) => {
        const t = n.image.describeTopic("orders");
        return t !== undefined && t.partitions.length === 3 &&
          t.partitions.every((p) => new Set(p.replicas).size === 3 && p.isr.length === 3);
      });
    assert(await c.runUntil(placed, 2_000), "every image shows orders with RF 3");

    // The follower's Raft group of orders-0 wins term 1: it reports, and every image learns it.
    assert(created.type === "ok");
    const reported = await c.run(
      follower.reportPartition(created.topicId, 0, 1, [follower.nodeId]),
      5_000,
    );
    assert.deepEqual(reported, { type: "ok", leaderEpoch: 1 });
    const learned = () =>
      [...c.nodes.values()].every((n) => {
        const p = n.image.describeTopic("orders")?.partitions[0];
        return p?.leader === follower.nodeId && p.leaderEpoch === 1 &&
          p.isr.length === 1;
      });
    assert(await c.runUntil(learned, 2_000), "every image shows the reported leader");

    // The controller's node crashes: a new controller, the dead broker fenced in bounded time.
    const dead = ctl.nodeId;
    const oldEpoch = ctl.brokerEpoch;
    assert(oldEpoch !== undefined);
    await c.crash(dead);
    const crashedAt = c.net.nowMs;
    const fencedByNew = () => {
      const a = c.active();
      return a !== undefined && a.nodeId !== dead &&
        [...c.nodes.values()].every((n) => n.image.broker(dead)?.fenced === true);
    };
    // Election (~10-20 ticks) + a full session granted by the new controller + slack.
    assert(await c.runUntil(fencedByNew, SESSION_MS * 3), "the dead broker is fenced");
    assert(c.net.nowMs - crashedAt <= SESSION_MS * 3);
    const survivors = c.ids.filter((id) => id !== dead);
    // The survivors keep heartbeating through the new controller: still unfenced after
    // several sessions, and their clients point at it.
    await c.runUntil(() => false, SESSION_MS * 2);
    assert(allUnfenced(c, survivors), "survivors stay unfenced");
    const next = c.active();
    assert(next !== undefined);
    for (const id of survivors) {
      if (id !== next.nodeId) assert.equal(c.node(id).client.controllerId, next.nodeId);
    }
    for (const n of c.nodes.values()) {
      const t = n.image.describeTopic("orders");
      assert(t?.partitions.every((p) => p.leader !== dead && !p.isr.includes(dead)));
    }

    // The crashed node restarts from its directory and registers with a higher epoch.
    await c.restart(dead);
    const back = c.node(dead);
    const rejoined = () => {
      const e = back.brokerEpoch;
      // The restarted image replays its log once the leader tells it the commit offset.
      return e !== undefined && e > oldEpoch && allUnfenced(c, c.ids) &&
        back.image.describeTopic("orders") !== undefined &&
        [...c.nodes.values()].every((n) => n.image.broker(dead)?.epoch === e);
    };
    assert(await c.runUntil(rejoined, SESSION_MS * 3), "the restarted broker rejoins");

    // A controlled shutdown of a follower fences its broker at once (well before a session).
    const leaving = [...c.nodes.values()].find((n) => !n.isActiveController);
    assert(leaving !== undefined);
    const leavingId = leaving.nodeId;
    const started = c.net.nowMs;
    await c.run(leaving.shutdown(), 5_000);
    c.nodes.delete(leavingId);
    c.net.crash(leavingId);
    assert(
      await c.runUntil(
        () => [...c.nodes.values()].every((n) => n.image.broker(leavingId)?.fenced === true),
        SESSION_MS / 2,
      ),
      "a controlled shutdown fences the broker",
    );
    assert(c.net.nowMs - started < SESSION_MS);
  } finally {
    await c.close();
  }
}

Deno.test("ClusterNode: registration and a topic through loss, duplication and reordering", async () => {
  const seed = 5;
  const c = new SimCluster(seed, {
    delayMinMs: 1,
    delayMaxMs: 20,
    lossRate: 0.05,
    duplicateRate: 0.05,
    reorder: true,
  });
  try {
    await c.start();
    assert(await c.runUntil(() => allUnfenced(c, c.ids), 20_000), `seed ${seed}: all unfenced`);
    const follower = [...c.nodes.values()].find((n) => !n.isActiveController);
    assert(follower !== undefined);
    const created = await c.run(
      follower.client.createTopic({ name: "t", numPartitions: 2, replicationFactor: 3 }),
      10_000,
    );
    // A retried request whose first answer was lost may find the topic it created.
    assert(
      created.type === "ok" || (created.type === "error" && created.kind === "topic_exists"),
      `seed ${seed}: ${JSON.stringify(created)}`,
    );
    const agreed = () => {
      const offsets = [...c.nodes.values()].map((n) => n.image.nextOffset);
      return [...c.nodes.values()].every((n) =>
        n.image.describeTopic("t")?.partitions.length === 2
      ) && offsets.every((o) => o === offsets[0]);
    };
    assert(await c.runUntil(agreed, 10_000), `seed ${seed}: images agree`);
  } finally {
    await c.close();
  }
});

/** Polls `cond` every few ms until it holds or `deadline` (real time) passes. */
async function waitFor(cond: () => boolean, deadline: number): Promise<boolean> {
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

Deno.test("ClusterNode over TcpTransport: three nodes register and agree on the image", async () => {
  const deadline = Date.now() + 10_000;
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  const transports = ids.map((id) =>
    TcpTransport.listen({
      nodeId: id,
      clusterId: "cluster-node-tcp-test",
      port: 0,
      prng: createPrng(id),
      log: () => {},
    })
  );
  const dirs: string[] = [];
  const nodes: ClusterNode[] = [];
  try {
    const addrs = new Map<NodeId, PeerAddress>(
      transports.map((t) => [t.nodeId, { hostname: "127.0.0.1", port: t.addr.port }]),
    );
    for (const t of transports) {
      const dir = await Deno.makeTempDir({ prefix: "pyralog-node-tcp-" });
      dirs.push(dir);
      const peers = new Map([...addrs].filter(([id]) => id !== t.nodeId));
      for (const [id, addr] of peers) t.addPeer(id, addr);
      nodes.push(
        await ClusterNode.start({
          nodeId: t.nodeId,
          dataDir: dir,
          peers,
          transport: t,
          scheduler: realScheduler,
          clock: systemClock,
          prng: createPrng(100 + t.nodeId),
          endpoints: [{ name: "kafka", host: "127.0.0.1", port: 9092 }],
          tickMs: 20,
          sessionTimeoutMs: 3_000,
          logConfig: { fsync: "never" },
          onWarning: () => {},
        }),
      );
    }
    const agreed = () =>
      nodes.every((n) =>
        ids.every((id) => n.image.broker(id)?.fenced === false) &&
        n.image.nextOffset === nodes[0]?.image.nextOffset
      );
    assert(await waitFor(agreed, deadline), "three brokers unfenced in every image");
    const active = nodes.filter((n) => n.isActiveController);
    assert.equal(active.length, 1);
  } finally {
    for (const n of nodes) await n.close();
    for (const t of transports) await t.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
