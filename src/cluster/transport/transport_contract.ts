/**
 * The `Transport` contract suite, in hono's manner: one set of tests that every
 * implementation must pass, run against `TcpTransport` (tcp_transport_test.ts) and the
 * simulated network (src/testing/sim_network_test.ts), so the simulator that proves the
 * cluster code behaves like the real wire where it matters.
 *
 * A factory builds a small cluster; the suite only talks to it through `ContractCluster`,
 * whose `waitFor` lets real time pass (TCP) or advances virtual time (simulation). No test
 * sleeps for a fixed time: each waits for a condition, bounded by the cluster.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type NodeId, nodeId } from "../../util/mod.ts";
import type { Envelope, PeerStatus, Transport } from "./transport.ts";

/** Per-node settings a contract test may ask for. */
export interface ContractNodeOptions {
  readonly clusterId?: string;
  readonly maxFrameBytes?: number;
  readonly maxQueueFrames?: number;
  readonly maxQueueBytes?: number;
}

/** A cluster of transports under test. */
export interface ContractCluster {
  /** Starts node `id`; every started node is a peer of every other (full mesh). */
  start(id: NodeId, options?: ContractNodeOptions): Promise<Transport>;
  /** Stops node `id` abruptly; its peers keep its address and redial. */
  crash(id: NodeId): Promise<void>;
  /** Starts node `id` again, on the same address and with the same options. */
  restart(id: NodeId): Promise<Transport>;
  /** The log lines node `id` wrote so far (all its incarnations). */
  logs(id: NodeId): readonly string[];
  /** Live timers and sockets of node `id`'s current transport. */
  openHandles(id: NodeId): number;
  /** Lets time pass until `cond()` holds. @throws when a bound passes first (names `what`). */
  waitFor(cond: () => boolean, what: string): Promise<void>;
  /** Closes every node. */
  close(): Promise<void>;
}

/** Builds a fresh cluster for one test. */
export type ContractFactory = () => ContractCluster;

/** What a node received. */
interface Inbox {
  readonly messages: { from: NodeId; groupId: string; payload: Uint8Array }[];
  readonly heartbeatFrames: { from: NodeId; beats: readonly Envelope[] }[];
}

function record(t: Transport): Inbox {
  const inbox: Inbox = { messages: [], heartbeatFrames: [] };
  t.onMessage((from, e) => inbox.messages.push({ from, ...e }));
  t.onHeartbeats((from, beats) => inbox.heartbeatFrames.push({ from, beats }));
  return inbox;
}

function peer(t: Transport, id: NodeId): PeerStatus {
  const p = t.peers().find((s) => s.id === id);
  ok(p !== undefined, `node ${t.nodeId} has no peer ${id}`);
  return p;
}

function isConnected(t: Transport, id: NodeId): boolean {
  return peer(t, id).state === "connected";
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array) => dec.decode(b);

const N1 = nodeId(1);
const N2 = nodeId(2);
const N3 = nodeId(3);

async function connectAll(c: ContractCluster, ts: readonly Transport[]): Promise<void> {
  await c.waitFor(
    () => ts.every((a) => ts.every((b) => a === b || isConnected(a, b.nodeId))),
    "every node connected to every other",
  );
}

/** Runs `body` on a fresh cluster and closes it, whatever happens. */
function withCluster(
  factory: ContractFactory,
  body: (c: ContractCluster) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const c = factory();
    try {
      await body(c);
    } finally {
      await c.close();
    }
  };
}

/** Registers the contract tests for one implementation. */
export function transportContract(name: string, factory: ContractFactory): void {
  const test = (title: string, body: (c: ContractCluster) => Promise<void>) =>
    Deno.test(`${name} contract: ${title}`, withCluster(factory, body));

  test("delivers messages in order per pair, payloads intact and copied", async (c) => {
    const t1 = await c.start(N1);
    const t2 = await c.start(N2);
    const t3 = await c.start(N3);
    const [in1, in2] = [record(t1), record(t2)];
    record(t3);
    await connectAll(c, [t1, t2, t3]);
    const COUNT = 300;
    for (let i = 0; i < COUNT; i++) {
      const payload = bytes(`from1-${i}`);
      deepStrictEqual(t1.send(N2, { groupId: `topic-${i % 10}`, payload }), { type: "queued" });
      payload.fill(0); // the transport must have taken a copy
      deepStrictEqual(
        t3.send(N2, { groupId: "__cluster_metadata-0", payload: bytes(`from3-${i}`) }),
        {
          type: "queued",
        },
      );
      if (i % 3 === 0) t2.send(N1, { groupId: "back", payload: bytes(`from2-${i}`) });
    }
    await c.waitFor(() => in2.messages.length === 2 * COUNT, "node 2 received every message");
    await c.waitFor(() => in1.messages.length === COUNT / 3, "node 1 received every message");
    const from1 = in2.messages.filter((m) => m.from === N1);
    const from3 = in2.messages.filter((m) => m.from === N3);
    deepStrictEqual(
      from1.map((m) => text(m.payload)),
      [...Array(COUNT).keys()].map((i) => `from1-${i}`),
    );
    deepStrictEqual(
      from1.map((m) => m.groupId),
      [...Array(COUNT).keys()].map((i) => `topic-${i % 10}`),
    );
    deepStrictEqual(
      from3.map((m) => text(m.payload)),
      [...Array(COUNT).keys()].map((i) => `from3-${i}`),
    );
    ok(from3.every((m) => m.groupId === "__cluster_metadata-0"));
    deepStrictEqual(
      in1.messages.map((m) => text(m.payload)),
      [...Array(COUNT / 3).keys()].map((i) => `from2-${i * 3}`),
    );
    strictEqual(peer(t2, N1).receivedFrames, COUNT);
    strictEqual(peer(t1, N2).sentFrames, COUNT);
  });

  test("refuses unknown peers, oversized frames and long group ids as values", async (c) => {
    const t1 = await c.start(N1, { maxFrameBytes: 4096 });
    await c.start(N2);
    deepStrictEqual(t1.send(nodeId(9), { groupId: "g", payload: bytes("x") }), {
      type: "dropped",
      reason: "unknown_peer",
    });
    deepStrictEqual(t1.heartbeat(nodeId(9), "g", bytes("x")), {
      type: "dropped",
      reason: "unknown_peer",
    });
    deepStrictEqual(t1.send(N2, { groupId: "g", payload: new Uint8Array(5000) }), {
      type: "dropped",
      reason: "too_large",
    });
    deepStrictEqual(t1.heartbeat(N2, "g", new Uint8Array(5000)), {
      type: "dropped",
      reason: "too_large",
    });
    deepStrictEqual(t1.send(N2, { groupId: "g".repeat(2000), payload: bytes("x") }), {
      type: "dropped",
      reason: "too_large",
    });
  });

  test("bounds the queue of a down peer, then delivers it in order after a restart", async (c) => {
    const t1 = await c.start(N1, { maxQueueFrames: 5, maxQueueBytes: 1000 });
    await c.start(N2);
    await connectAll(c, [t1]);
    await c.crash(N2);
    await c.waitFor(() => !isConnected(t1, N2), "node 1 notices node 2 is down");
    const small = (i: number) => ({ groupId: "g", payload: bytes(`m${i}`.padEnd(100, ".")) });
    for (let i = 0; i < 3; i++) deepStrictEqual(t1.send(N2, small(i)), { type: "queued" });
    // The byte bound: 3 queued frames of ~108 bytes plus 700 more would pass 1000.
    deepStrictEqual(t1.send(N2, { groupId: "g", payload: new Uint8Array(700) }), {
      type: "dropped",
      reason: "queue_full",
    });
    for (let i = 3; i < 5; i++) deepStrictEqual(t1.send(N2, small(i)), { type: "queued" });
    // The frame bound: 5 frames.
    deepStrictEqual(t1.send(N2, small(5)), { type: "dropped", reason: "queue_full" });
    const st = peer(t1, N2);
    strictEqual(st.queuedFrames, 5);
    ok(st.queuedBytes > 500 && st.queuedBytes <= 1000, `queued bytes ${st.queuedBytes}`);
    strictEqual(st.droppedFrames, 2);
    const t2 = await c.restart(N2);
    const in2 = record(t2);
    await c.waitFor(() => in2.messages.length === 5, "the queued frames reach node 2");
    deepStrictEqual(
      in2.messages.map((m) => text(m.payload).replace(/\.+$/, "")),
      ["m0", "m1", "m2", "m3", "m4"],
    );
    strictEqual(peer(t1, N2).queuedFrames, 0);
  });

  test("reconnects both ways after a peer restarts", async (c) => {
    const t1 = await c.start(N1);
    let t2 = await c.start(N2);
    const in1 = record(t1);
    let in2 = record(t2);
    await connectAll(c, [t1, t2]);
    t1.send(N2, { groupId: "g", payload: bytes("before") });
    await c.waitFor(() => in2.messages.length === 1, "first message");
    for (let round = 0; round < 2; round++) {
      await c.crash(N2);
      await c.waitFor(() => !isConnected(t1, N2), "node 1 notices the crash");
      t2 = await c.restart(N2);
      in2 = record(t2);
      await connectAll(c, [t1, t2]);
      t1.send(N2, { groupId: "g", payload: bytes(`after-${round}`) });
      t2.send(N1, { groupId: "g", payload: bytes(`back-${round}`) });
      await c.waitFor(() => in2.messages.length === 1, "message to the restarted node");
      await c.waitFor(() => in1.messages.length === round + 1, "message from the restarted node");
      strictEqual(text(in2.messages[0]?.payload ?? new Uint8Array()), `after-${round}`);
    }
    strictEqual(peer(t1, N2).failedAttempts, 0);
  });

  test("refuses a peer of another cluster, with a log line on both sides", async (c) => {
    const t1 = await c.start(N1, { clusterId: "alpha" });
    const t2 = await c.start(N2, { clusterId: "beta" });
    const in2 = record(t2);
    t1.send(N2, { groupId: "g", payload: bytes("must not arrive") });
    await c.waitFor(
      () =>
        c.logs(N1).some((l) => l.includes(`cluster id "beta" differs from ours "alpha"`)) &&
        c.logs(N2).some((l) => l.includes(`cluster id "alpha" differs from ours "beta"`)),
      "both nodes log the refusal",
    );
    ok(!isConnected(t1, N2) && !isConnected(t2, N1));
    await c.waitFor(() => peer(t1, N2).failedAttempts >= 2, "node 1 keeps backing off");
    strictEqual(in2.messages.length, 0);
    strictEqual(peer(t1, N2).queuedFrames, 1);
  });

  test("a receiver refuses a frame over its limit and the link recovers", async (c) => {
    const t1 = await c.start(N1, { maxFrameBytes: 1 << 20 });
    const t2 = await c.start(N2, { maxFrameBytes: 64 * 1024 });
    const in2 = record(t2);
    await connectAll(c, [t1, t2]);
    deepStrictEqual(t1.send(N2, { groupId: "big", payload: new Uint8Array(100 * 1024) }), {
      type: "queued",
    });
    await c.waitFor(() => c.logs(N2).some((l) => l.includes("frame size")), "refusal logged");
    await c.waitFor(
      () => c.logs(N1).some((l) => l.includes("Lost connection to peer 2")),
      "the sender sees the connection close",
    );
    await connectAll(c, [t1, t2]);
    t1.send(N2, { groupId: "small", payload: bytes("fits") });
    await c.waitFor(() => in2.messages.length > 0, "the small message arrives");
    deepStrictEqual(in2.messages.map((m) => m.groupId), ["small"]);
  });

  test("coalesces every group's heartbeats into one frame per flush", async (c) => {
    const t1 = await c.start(N1, { maxFrameBytes: 64 * 1024 });
    const t2 = await c.start(N2);
    const [in1, in2] = [record(t1), record(t2)];
    await connectAll(c, [t1, t2]);
    const GROUPS = 1000;
    for (let g = 0; g < GROUPS; g++) {
      deepStrictEqual(t1.heartbeat(N2, `topic-${g}`, bytes(`hb-${g}`)), { type: "queued" });
    }
    t1.heartbeat(N2, "topic-0", bytes("hb-0-newer")); // replaces the pending one
    strictEqual(in2.heartbeatFrames.length, 0, "nothing leaves before the flush");
    t1.flushHeartbeats();
    t1.flushHeartbeats(); // nothing pending: no frame
    t1.send(N2, { groupId: "marker", payload: bytes("after") });
    await c.waitFor(() => in2.messages.length === 1, "the marker after the heartbeats");
    strictEqual(in2.heartbeatFrames.length, 1, "one frame for all groups");
    const beats = in2.heartbeatFrames[0]?.beats ?? [];
    strictEqual(beats.length, GROUPS);
    strictEqual(text(beats[0]?.payload ?? new Uint8Array()), "hb-0-newer");
    strictEqual(text(beats[999]?.payload ?? new Uint8Array()), "hb-999");
    strictEqual(in2.heartbeatFrames[0]?.from, N1);

    // The other direction, and a batch that outgrows one frame is split at the frame limit.
    for (let g = 0; g < GROUPS; g++) t2.heartbeat(N1, `topic-${g}`, new Uint8Array(16));
    t2.flushHeartbeats();
    await c.waitFor(
      () => in1.heartbeatFrames.reduce((n, f) => n + f.beats.length, 0) === GROUPS,
      "node 1 receives every group's heartbeat",
    );
    strictEqual(in1.heartbeatFrames.length, 1);
    for (let g = 0; g < GROUPS; g++) t1.heartbeat(N2, `topic-${g}`, new Uint8Array(100));
    t1.flushHeartbeats();
    await c.waitFor(
      () => in2.heartbeatFrames.reduce((n, f) => n + f.beats.length, 0) === 2 * GROUPS,
      "node 2 receives the large batch",
    );
    strictEqual(in2.heartbeatFrames.length, 3, "~110 KB of heartbeats at a 64 KiB limit: 2 frames");

    // Heartbeats for a peer that is down are discarded at the flush, not queued.
    await c.crash(N2);
    await c.waitFor(() => !isConnected(t1, N2), "node 1 notices the crash");
    const dropped = peer(t1, N2).droppedFrames;
    t1.heartbeat(N2, "topic-1", bytes("stale"));
    t1.flushHeartbeats();
    strictEqual(peer(t1, N2).queuedFrames, 0);
    strictEqual(peer(t1, N2).droppedFrames, dropped + 1);
  });

  test("close() stops timers and sockets and refuses further sends", async (c) => {
    const t1 = await c.start(N1);
    await c.start(N2);
    await connectAll(c, [t1]);
    await c.crash(N2);
    await c.waitFor(() => peer(t1, N2).state === "backing_off", "node 1 backs off");
    t1.send(N2, { groupId: "g", payload: bytes("queued at close") });
    t1.heartbeat(N2, "g", bytes("pending at close"));
    ok(c.openHandles(N1) > 0, "a redial timer is pending");
    await t1.close();
    await t1.close(); // idempotent
    strictEqual(c.openHandles(N1), 0);
    deepStrictEqual(t1.send(N2, { groupId: "g", payload: bytes("x") }), {
      type: "dropped",
      reason: "closed",
    });
    deepStrictEqual(t1.heartbeat(N2, "g", bytes("x")), { type: "dropped", reason: "closed" });
    ok(t1.peers().every((p) => p.state === "closed" && p.queuedFrames === 0));
  });
}
