/**
 * Tests of `TcpTransport`: the `Transport` contract suite on 127.0.0.1 (port 0, reused
 * across restarts), plus what only TCP has: garbage and bad hellos from raw sockets, and
 * the reconnect back-off driven through an injected scheduler. Deno's sanitizers check
 * that no test leaks a timer or a socket.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { type Scheduler, type Timer } from "./scheduler.ts";
import { TcpTransport, type TcpTransportOptions } from "./tcp_transport.ts";
import type { Transport } from "./transport.ts";
import {
  type ContractCluster,
  type ContractNodeOptions,
  transportContract,
} from "./transport_contract.ts";
import { encodeHello } from "./transport_frame.ts";

/** Longest a TCP test waits for a condition. */
const WAIT_MS = 5000;
const POLL_MS = 2;

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface Node {
  transport: TcpTransport;
  port: number;
  options: ContractNodeOptions;
  logs: string[];
}

function tcpCluster(): ContractCluster {
  const nodes = new Map<NodeId, Node>();
  let seed = 1;
  const open = (id: NodeId, port: number, options: ContractNodeOptions, logs: string[]) => {
    const peers: [NodeId, { hostname: string; port: number }][] = [];
    for (const [pid, n] of nodes) {
      if (pid !== id) peers.push([pid, { hostname: "127.0.0.1", port: n.port }]);
    }
    const t = TcpTransport.listen({
      nodeId: id,
      clusterId: options.clusterId ?? "test-cluster",
      port,
      peers,
      prng: createPrng(seed++),
      log: (level, message) => logs.push(`${level}: ${message}`),
      backoffBaseMs: 10,
      backoffMaxMs: 100,
      ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
      ...(options.maxQueueFrames === undefined ? {} : { maxQueueFrames: options.maxQueueFrames }),
      ...(options.maxQueueBytes === undefined ? {} : { maxQueueBytes: options.maxQueueBytes }),
    });
    return t;
  };
  return {
    start(id, options = {}) {
      const logs: string[] = [];
      const t = open(id, 0, options, logs);
      nodes.set(id, { transport: t, port: t.addr.port, options, logs });
      for (const [pid, n] of nodes) {
        if (pid !== id) n.transport.addPeer(id, { hostname: "127.0.0.1", port: t.addr.port });
      }
      return Promise.resolve(t);
    },
    async crash(id) {
      await nodes.get(id)?.transport.close();
    },
    restart(id) {
      const n = nodes.get(id);
      ok(n !== undefined, `node ${id} was never started`);
      n.transport = open(id, n.port, n.options, n.logs);
      return Promise.resolve(n.transport);
    },
    logs: (id) => nodes.get(id)?.logs ?? [],
    openHandles: (id) => nodes.get(id)?.transport.openHandles ?? 0,
    waitFor,
    async close() {
      await Promise.all([...nodes.values()].map((n) => n.transport.close()));
    },
  };
}

transportContract("TcpTransport", tcpCluster);

function recordInto(t: Transport, out: string[]): void {
  const dec = new TextDecoder();
  t.onMessage((_from, e) => out.push(dec.decode(e.payload)));
}

function pair(extra: Partial<TcpTransportOptions> = {}): {
  a: TcpTransport;
  b: TcpTransport;
  logsB: string[];
} {
  const logsB: string[] = [];
  const b = TcpTransport.listen({
    nodeId: nodeId(2),
    clusterId: "c",
    port: 0,
    prng: createPrng(2),
    log: (level, m) => logsB.push(`${level}: ${m}`),
  });
  const a = TcpTransport.listen({
    nodeId: nodeId(1),
    clusterId: "c",
    port: 0,
    prng: createPrng(1),
    peers: [[nodeId(2), { hostname: "127.0.0.1", port: b.addr.port }]],
    log: () => {},
    ...extra,
  });
  return { a, b, logsB };
}

async function rawSend(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes);
    // Read until the transport closes the connection (bounded by WAIT_MS through waitFor).
    const got: number[] = [];
    const buf = new Uint8Array(1024);
    for (let i = 0; i < 1000; i++) {
      const n = await conn.read(buf);
      if (n === null) break;
      got.push(...buf.subarray(0, n));
    }
    return new Uint8Array(got);
  } finally {
    conn.close();
  }
}

Deno.test("TcpTransport: a peer sending garbage is disconnected; others are still served", async () => {
  const { a, b, logsB } = pair();
  const got: string[] = [];
  recordInto(b, got);
  try {
    // Not a frame at all: a length of 0x47455420 ("GET ") is over the limit.
    await rawSend(b.addr.port, new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    // A well-sized frame of an unknown kind.
    await rawSend(b.addr.port, new Uint8Array([0, 0, 0, 3, 99, 1, 2]));
    // A hello that claims another protocol version: b answers its hello, then closes.
    const answer = await rawSend(b.addr.port, encodeHello(2, nodeId(7), "c"));
    ok(answer.length > 0, "the acceptor answers with its hello before refusing");
    ok(logsB.some((l) => l.includes(`frame size "1195725856"`)), logsB.join("\n"));
    ok(logsB.some((l) => l.includes(`unknown kind "99"`)), logsB.join("\n"));
    ok(logsB.some((l) => l.includes(`protocol version "2" differs from ours "1"`)));
    a.send(nodeId(2), { groupId: "g", payload: new TextEncoder().encode("still served") });
    await waitFor(() => got.length === 1, "a legitimate peer is still served");
    deepStrictEqual(got, ["still served"]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("TcpTransport: a frame after a valid hello that does not decode closes only that connection", async () => {
  const { a, b, logsB } = pair();
  try {
    const hello = encodeHello(1, nodeId(9), "c");
    // A heartbeats frame that claims 1,000 entries in 4 bytes.
    const bad = new Uint8Array([0, 0, 0, 5, 3, 0, 0, 3, 232]);
    const both = new Uint8Array(hello.length + bad.length);
    both.set(hello);
    both.set(bad, hello.length);
    await rawSend(b.addr.port, both);
    ok(logsB.some((l) => l.includes(`count "1000" does not fit`)), logsB.join("\n"));
    await waitFor(() => a.peers()[0]?.state === "connected", "node 1 still connects");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** A scheduler whose timers fire only when the test says so. */
class ManualScheduler implements Scheduler {
  readonly pending: { fn: () => void; delayMs: number; live: boolean }[] = [];
  setTimer(fn: () => void, delayMs: number): Timer {
    const t = { fn, delayMs, live: true };
    this.pending.push(t);
    return { cancel: () => (t.live = false) };
  }
  live(): { fn: () => void; delayMs: number; live: boolean }[] {
    return this.pending.filter((t) => t.live);
  }
}

Deno.test("TcpTransport: reconnect back-off grows, is jittered from the seed and is capped", async () => {
  // A port nobody listens on: bind one, note it, close it.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = probe.addr.port;
  probe.close();
  const run = async (seed: number) => {
    const scheduler = new ManualScheduler();
    const t = TcpTransport.listen({
      nodeId: nodeId(1),
      clusterId: "c",
      port: 0,
      prng: createPrng(seed),
      scheduler,
      log: () => {},
      backoffBaseMs: 100,
      backoffMaxMs: 3000,
      peers: [[nodeId(2), { hostname: "127.0.0.1", port: deadPort }]],
    });
    const delays: number[] = [];
    try {
      for (let attempt = 0; attempt < 12; attempt++) {
        await waitFor(
          () => scheduler.live().some((x) => x.delayMs !== 5000),
          `redial timer ${attempt}`,
        );
        const redial = scheduler.live().find((x) => x.delayMs !== 5000);
        ok(redial !== undefined);
        redial.live = false;
        delays.push(redial.delayMs);
        strictEqual(t.peers()[0]?.state, "backing_off");
        strictEqual(t.peers()[0]?.failedAttempts, attempt + 1);
        redial.fn();
      }
    } finally {
      await t.close();
    }
    return delays;
  };
  const delays = await run(42);
  for (const [i, d] of delays.entries()) {
    const step = Math.min(3000, 100 * 2 ** i);
    ok(d >= step / 2 && d <= step, `delay ${i} = ${d} outside [${step / 2}, ${step}]`);
  }
  ok(delays.slice(6).every((d) => d >= 1500 && d <= 3000), `capped: ${delays}`);
  deepStrictEqual(await run(42), delays, "the same seed gives the same delays");
  ok(JSON.stringify(await run(43)) !== JSON.stringify(delays), "another seed, other jitter");
});

Deno.test("TcpTransport: heartbeatIntervalMs flushes coalesced heartbeats on its own", async () => {
  const { a, b } = pair({ heartbeatIntervalMs: 5 });
  const frames: number[] = [];
  b.onHeartbeats((_from, beats) => frames.push(beats.length));
  try {
    await waitFor(() => a.peers()[0]?.state === "connected", "connected");
    for (let g = 0; g < 50; g++) a.heartbeat(nodeId(2), `g${g}`, new Uint8Array(4));
    await waitFor(() => frames.length === 1, "one timed flush");
    deepStrictEqual(frames, [50]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("TcpTransport: listen on a taken port fails with a TransportError", () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    let caught: unknown;
    try {
      TcpTransport.listen({
        nodeId: nodeId(1),
        clusterId: "c",
        port: l.addr.port,
        prng: createPrng(1),
      });
    } catch (err) {
      caught = err;
    }
    ok(caught instanceof Error && caught.name === "TransportError", String(caught));
    ok(caught instanceof Error && caught.cause instanceof Error);
  } finally {
    l.close();
  }
});

Deno.test("TcpTransport: hello deadlines close silent connections on both sides", async () => {
  const logs: string[] = [];
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const t = TcpTransport.listen({
    nodeId: nodeId(1),
    clusterId: "c",
    port: 0,
    prng: createPrng(1),
    helloTimeoutMs: 30,
    backoffBaseMs: 1000,
    backoffMaxMs: 1000,
    log: (level, m) => logs.push(`${level}: ${m}`),
    peers: [[nodeId(2), { hostname: "127.0.0.1", port: silent.addr.port }]],
  });
  const accepted: Deno.Conn[] = [];
  const acceptOne = silent.accept().then((c) => accepted.push(c));
  try {
    // Outbound: the peer accepts but never answers the hello.
    await waitFor(() => logs.some((l) => l.includes("No hello from peer 2")), "dialer gives up");
    strictEqual(t.peers()[0]?.state, "backing_off");
    // Inbound: a client connects and says nothing.
    const mute = await Deno.connect({ hostname: "127.0.0.1", port: t.addr.port });
    const buf = new Uint8Array(16);
    strictEqual(await mute.read(buf), null, "the transport closes the mute connection");
    mute.close();
    ok(logs.some((l) => l.includes("no hello in 30 ms")), logs.join("\n"));
  } finally {
    await t.close();
    await acceptOne;
    for (const c of accepted) c.close();
    silent.close();
  }
});

/** Opens a raw connection that says hello as `id`; returns it after the answer arrives. */
async function rawHello(port: number, id: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encodeHello(1, nodeId(id), "c"));
  const buf = new Uint8Array(64);
  ok((await conn.read(buf) ?? 0) > 0, "hello answered");
  return conn;
}

Deno.test("TcpTransport: a second connection from the same node replaces the first", async () => {
  const { a, b, logsB } = pair();
  const first = await rawHello(b.addr.port, 9);
  try {
    const second = await rawHello(b.addr.port, 9);
    try {
      strictEqual(await first.read(new Uint8Array(8)), null, "the older connection is closed");
      ok(logsB.some((l) => l.includes("Replacing the older connection from node 9")));
    } finally {
      second.close();
    }
  } finally {
    first.close();
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("TcpTransport: a throwing handler drops that connection only; the peer redials", async () => {
  const { a, b, logsB } = pair({ backoffBaseMs: 5, backoffMaxMs: 20 });
  const got: string[] = [];
  b.onMessage((_from, e) => {
    const text = new TextDecoder().decode(e.payload);
    if (text === "boom") throw new Error("handler bug");
    got.push(text);
  });
  try {
    a.send(nodeId(2), { groupId: "g", payload: new TextEncoder().encode("boom") });
    await waitFor(() => logsB.some((l) => l.includes("handler failed")), "the bug is logged");
    await waitFor(() => a.peers()[0]?.state === "connected", "the dialer reconnects");
    await waitFor(() => {
      a.send(nodeId(2), { groupId: "g", payload: new TextEncoder().encode("ok") });
      return got.length > 0;
    }, "later messages arrive");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

Deno.test("TcpTransport: addPeer moves a peer to a new address; removePeer forgets it", async () => {
  const { a, b } = pair();
  const c = TcpTransport.listen({
    nodeId: nodeId(2),
    clusterId: "c",
    port: 0,
    prng: createPrng(3),
  });
  const got: string[] = [];
  recordInto(c, got);
  try {
    await waitFor(() => a.peers()[0]?.state === "connected", "connected to the first address");
    a.addPeer(nodeId(2), { hostname: "127.0.0.1", port: c.addr.port });
    await waitFor(() => a.peers()[0]?.state === "connected", "connected to the new address");
    a.send(nodeId(2), { groupId: "g", payload: new TextEncoder().encode("moved") });
    await waitFor(() => got.length === 1, "delivered at the new address");
    await a.removePeer(nodeId(2));
    deepStrictEqual(a.peers(), []);
    deepStrictEqual(a.send(nodeId(2), { groupId: "g", payload: new Uint8Array(1) }), {
      type: "dropped",
      reason: "unknown_peer",
    });
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});
