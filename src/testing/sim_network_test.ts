/**
 * Tests of the simulated network: the `Transport` contract suite (the same one TCP passes)
 * on a fault-free wire, then what only the simulation offers — seeded replay, delay, loss,
 * duplication, reordering, symmetric and one-way partitions, crashes with frames in flight
 * and timed heartbeat flushes on virtual time.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type NodeId, nodeId } from "../util/mod.ts";
import {
  type ContractCluster,
  transportContract,
} from "../cluster/transport/transport_contract.ts";
import { type SimFaults, SimNetwork, type SimTransport } from "./sim_network.ts";

/** Longest virtual time a contract test waits for a condition. */
const WAIT_MS = 60_000;

function simCluster(): ContractCluster {
  const net = new SimNetwork({ seed: 7, backoffBaseMs: 10, backoffMaxMs: 100 });
  return {
    start: (id, options = {}) => Promise.resolve(net.addNode(id, options)),
    crash: (id) => Promise.resolve(net.crash(id)),
    restart: (id) => Promise.resolve(net.restart(id)),
    logs: (id) => net.logs(id),
    openHandles: (id) => net.transport(id).openHandles,
    waitFor: (cond, what) => {
      if (!net.runUntil(cond, WAIT_MS)) {
        return Promise.reject(new Error(`Timed out (virtual ${WAIT_MS} ms) waiting for: ${what}`));
      }
      return Promise.resolve();
    },
    close: () => net.close(),
  };
}

transportContract("SimNetwork", simCluster);

const N1 = nodeId(1);
const N2 = nodeId(2);
const N3 = nodeId(3);
const enc = new TextEncoder();
const dec = new TextDecoder();

function threeNodes(seed: number, faults: Partial<SimFaults> = {}): {
  net: SimNetwork;
  ts: SimTransport[];
  got: Map<NodeId, string[]>;
} {
  const net = new SimNetwork({ seed, faults, backoffBaseMs: 10, backoffMaxMs: 100 });
  const got = new Map<NodeId, string[]>();
  const ts = [N1, N2, N3].map((id) => {
    const t = net.addNode(id);
    const inbox: string[] = [];
    got.set(id, inbox);
    t.onMessage((from, e) => inbox.push(`${from}:${dec.decode(e.payload)}@${net.nowMs}`));
    return t;
  });
  ok(net.runUntil(() => ts.every((t) => t.peers().every((p) => p.state === "connected")), 10_000));
  return { net, ts, got };
}

function sendMany(t: SimTransport, to: NodeId, count: number, tag = ""): void {
  for (let i = 0; i < count; i++) t.send(to, { groupId: "g", payload: enc.encode(`${tag}${i}`) });
}

const seqOf = (line: string) => Number(line.split(":")[1]?.split("@")[0]);

Deno.test("SimNetwork: a seed replays the same deliveries at the same virtual times", async () => {
  const faults = {
    delayMinMs: 1,
    delayMaxMs: 30,
    lossRate: 0.1,
    duplicateRate: 0.1,
    reorder: true,
  };
  const run = async (seed: number) => {
    const { net, ts, got } = threeNodes(seed, faults);
    for (let round = 0; round < 20; round++) {
      for (const t of ts) for (const p of t.peers()) sendMany(t, p.id, 5, `${round}-`);
      net.runFor(7);
    }
    net.runFor(1000);
    await net.close();
    return JSON.stringify([...got.entries()]);
  };
  const a = await run(99);
  strictEqual(await run(99), a);
  ok((await run(100)) !== a);
});

Deno.test("SimNetwork: loss and duplication happen at about their rates", async () => {
  const { net, ts, got } = threeNodes(3, { lossRate: 0.2, duplicateRate: 0.2 });
  const [t1] = ts;
  ok(t1 !== undefined);
  sendMany(t1, N2, 2000);
  net.runFor(100);
  const inbox = got.get(N2) ?? [];
  const distinct = new Set(inbox.map(seqOf)).size;
  ok(distinct > 1450 && distinct < 1750, `~80% arrive: ${distinct}`);
  const dups = inbox.length - distinct;
  ok(dups > 200 && dups < 450, `~20% of survivors duplicated: ${dups}`);
  await net.close();
});

Deno.test("SimNetwork: random delays keep FIFO per link unless reordering is on", async () => {
  for (const reorder of [false, true]) {
    const { net, ts, got } = threeNodes(5, { delayMinMs: 1, delayMaxMs: 50, reorder });
    const [t1] = ts;
    ok(t1 !== undefined);
    sendMany(t1, N2, 500);
    net.runFor(200);
    const seqs = (got.get(N2) ?? []).map(seqOf);
    strictEqual(seqs.length, 500);
    const sorted = seqs.every((s, i) => i === 0 || s > (seqs[i - 1] ?? -1));
    strictEqual(sorted, !reorder, `reorder=${reorder}`);
    await net.close();
  }
});

Deno.test("SimNetwork: symmetric and one-way partitions lose frames until healed", async () => {
  const { net, ts, got } = threeNodes(11);
  const [t1, t2, t3] = ts;
  ok(t1 !== undefined && t2 !== undefined && t3 !== undefined);
  net.partition(N1, N2);
  sendMany(t1, N2, 3, "a");
  sendMany(t2, N1, 3, "b");
  sendMany(t1, N3, 3, "c");
  net.runFor(50);
  deepStrictEqual(got.get(N2), []);
  deepStrictEqual(got.get(N1), []);
  strictEqual(got.get(N3)?.length, 3, "the third node is not cut off");
  net.heal(N1, N2);
  net.partitionOneWay(N1, N2);
  sendMany(t1, N2, 3, "d");
  sendMany(t2, N1, 3, "e");
  net.runFor(50);
  deepStrictEqual(got.get(N2), []);
  deepStrictEqual(got.get(N1)?.map((l) => l.split("@")[0]), ["2:e0", "2:e1", "2:e2"]);
  net.healAll();
  sendMany(t1, N2, 1, "f");
  net.runFor(50);
  deepStrictEqual(got.get(N2)?.map((l) => l.split("@")[0]), ["1:f0"]);
  await net.close();
});

Deno.test("SimNetwork: frames in flight to a crashed node never reach its next incarnation", async () => {
  const { net, ts } = threeNodes(13, { delayMinMs: 20, delayMaxMs: 20 });
  const [t1] = ts;
  ok(t1 !== undefined);
  sendMany(t1, N2, 5);
  net.runFor(5);
  net.crash(N2);
  const t2 = net.restart(N2);
  const got: string[] = [];
  t2.onMessage((_f, e) => got.push(dec.decode(e.payload)));
  net.runFor(40);
  deepStrictEqual(got, []);
  ok(net.runUntil(() => t1.peers().find((p) => p.id === N2)?.state === "connected", 5000));
  sendMany(t1, N2, 1, "new");
  net.runFor(40);
  deepStrictEqual(got, ["new0"]);
  await net.close();
});

Deno.test("SimNetwork: heartbeatIntervalMs sends one frame per tick per peer on virtual time", async () => {
  const net = new SimNetwork({ seed: 17 });
  const a = net.addNode(N1, { heartbeatIntervalMs: 50 });
  const b = net.addNode(N2);
  const frames: number[] = [];
  b.onHeartbeats((_from, beats) => frames.push(beats.length));
  ok(net.runUntil(() => a.peers()[0]?.state === "connected", 1000));
  for (let tick = 0; tick < 20; tick++) {
    for (let g = 0; g < 1000; g++) a.heartbeat(N2, `topic-${g}`, new Uint8Array(8));
    net.runFor(50);
  }
  net.runFor(100);
  strictEqual(frames.length, 20, "1,000 groups x 20 ticks = 20 frames");
  ok(frames.every((n) => n === 1000));
  await net.close();
  strictEqual(a.openHandles, 0);
});
