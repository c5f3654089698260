/**
 * Benchmarks of the Raft core (src/raft), printing one JSON object per line:
 *
 * - `raft_throughput`: committed entries/s of a 3-node group on `MemoryLog` in one loop
 *   with instant delivery (wall clock; measures the core, not I/O).
 * - `raft_election`: time from a leader crash to a new leader, and from the first expired
 *   election timeout to a new leader, in simulated ms with a 150-300 ms timeout
 *   (p50/p90/p99 over many seeded runs).
 * - `raft_messages_per_entry`: messages sent per committed entry at steady state
 *   (heartbeats included), for a few proposal rates.
 *
 * Run: deno run --allow-all bench/raft_bench.ts [--quick]
 */
import { parseArgs } from "node:util";
import { createPrng, type NodeId, nodeId, type Prng } from "../src/util/mod.ts";
import { type Membership, MemoryLog, type Message, RaftNode } from "../src/raft/mod.ts";
import { EventQueue } from "../tests/sim/event_queue.ts";

const TICK_MS = 10;
const ELECTION_TICKS = 15; // 150-300 ms
const HEARTBEAT_TICKS = 3; // 30 ms

interface Replica {
  raft: RaftNode;
  log: MemoryLog;
  up: boolean;
}

function makeGroup(n: number, prng: Prng): Map<NodeId, Replica> {
  const voters = Array.from({ length: n }, (_, i) => nodeId(i + 1));
  const membership: Membership = { voters, learners: [] };
  const group = new Map<NodeId, Replica>();
  for (const id of voters) {
    const log = new MemoryLog();
    const raft = new RaftNode({
      id,
      log,
      prng: prng.fork(),
      membership,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      maxInflight: 256,
    });
    group.set(id, { raft, log, up: true });
  }
  return group;
}

/** Applies every Ready of one replica; returns its messages. */
function drain(r: Replica, out: Message[]): void {
  while (r.raft.hasReady()) {
    const rd = r.raft.ready();
    if (rd.logStart?.discard === true) r.log.setStart(rd.logStart.offset, rd.logStart.term, true);
    r.log.append(rd.entries);
    for (const m of rd.messages) out.push(m);
    r.raft.advance(rd);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

// ---------------------------------------------------------------- throughput

function throughput(batch: number, payloadBytes: number, seconds: number): void {
  const group = makeGroup(3, createPrng(1));
  const queue: Message[] = [];
  const deliverAll = () => {
    for (const r of group.values()) drain(r, queue);
    while (queue.length > 0) {
      const batchMsgs = queue.splice(0, queue.length);
      for (const m of batchMsgs) {
        const r = group.get(m.to);
        if (r === undefined) continue;
        r.raft.step(m);
        drain(r, queue);
      }
    }
  };
  const leader = group.get(nodeId(1));
  if (leader === undefined) throw new Error("no node 1");
  for (let i = 0; i < 100 && leader.raft.role !== "leader"; i++) {
    leader.raft.tick();
    deliverAll();
  }
  const payload = new Uint8Array(payloadBytes);
  const startHw = leader.raft.highWatermark;
  let entries = 0;
  let messages = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let i = 0; i < batch; i++) {
      if (leader.raft.propose(payload, 1).type === "ok") entries++;
    }
    for (const r of group.values()) drain(r, queue);
    while (queue.length > 0) {
      const msgs = queue.splice(0, queue.length);
      messages += msgs.length;
      for (const m of msgs) {
        const r = group.get(m.to);
        if (r === undefined) continue;
        r.raft.step(m);
        drain(r, queue);
      }
    }
    // Keep the in-memory logs bounded: drop the committed prefix now and then.
    if (leader.log.length > 50_000) {
      for (const r of group.values()) {
        const hw = r.raft.highWatermark;
        if (hw > r.raft.logStart && r.raft.compact(hw)) {
          const rd = r.raft.ready();
          if (rd.logStart !== undefined) {
            r.log.setStart(rd.logStart.offset, rd.logStart.term, false);
          }
          for (const m of rd.messages) queue.push(m);
          r.raft.advance(rd);
        }
      }
    }
    elapsed = performance.now() - t0;
  }
  const committed = leader.raft.highWatermark - startHw;
  console.log(JSON.stringify({
    bench: "raft_throughput",
    nodes: 3,
    log: "MemoryLog",
    delivery: "instant, one loop",
    proposalsPerRound: batch,
    payloadBytes,
    seconds: +(elapsed / 1000).toFixed(2),
    proposed: entries,
    committedEntries: committed,
    entriesPerSec: Math.round(committed / (elapsed / 1000)),
    messagesPerEntry: +(messages / Math.max(1, committed)).toFixed(2),
  }));
}

// ---------------------------------------------------------------- simulated cluster

type Ev =
  | { type: "tick"; node: NodeId }
  | { type: "deliver"; msg: Message }
  | { type: "client" };

interface SimRun {
  nowMs: number;
  messages: number;
  group: Map<NodeId, Replica>;
  leader(): Replica | undefined;
  runUntil(ms: number, stop?: () => boolean): void;
}

/** A small event loop: ticks, delayed delivery, optional client proposals. */
function simulate(
  n: number,
  seed: number,
  delayMs: [number, number],
  clientEveryMs: number,
): SimRun {
  const prng = createPrng(seed);
  const group = makeGroup(n, prng);
  const queue = new EventQueue<Ev>();
  for (const id of group.keys()) queue.push(prng.int(0, TICK_MS - 1), { type: "tick", node: id });
  if (clientEveryMs > 0) queue.push(clientEveryMs, { type: "client" });
  const payload = new Uint8Array(100);
  const run: SimRun = {
    nowMs: 0,
    messages: 0,
    group,
    leader() {
      let best: Replica | undefined;
      for (const r of group.values()) {
        if (
          r.up && r.raft.role === "leader" && (best === undefined || r.raft.term > best.raft.term)
        ) {
          best = r;
        }
      }
      return best;
    },
    runUntil(ms, stop) {
      const out: Message[] = [];
      const flush = () => {
        for (const m of out) {
          run.messages++;
          queue.push(run.nowMs + prng.int(delayMs[0], delayMs[1]), { type: "deliver", msg: m });
        }
        out.length = 0;
      };
      for (;;) {
        const ev = queue.pop();
        if (ev === undefined || ev.atMs > ms) {
          if (ev !== undefined) queue.push(ev.atMs, ev.value);
          run.nowMs = ms;
          return;
        }
        run.nowMs = ev.atMs;
        const e = ev.value;
        if (e.type === "tick") {
          queue.push(run.nowMs + TICK_MS, e);
          const r = group.get(e.node);
          if (r === undefined || !r.up) continue;
          r.raft.tick();
          drain(r, out);
        } else if (e.type === "deliver") {
          const r = group.get(e.msg.to);
          if (r === undefined || !r.up) continue;
          r.raft.step(e.msg);
          drain(r, out);
        } else {
          queue.push(run.nowMs + clientEveryMs, e);
          const l = run.leader();
          if (l !== undefined && l.raft.propose(payload, 1).type === "ok") drain(l, out);
        }
        flush();
        if (stop?.()) return;
      }
    },
  };
  return run;
}

function elections(runs: number, n: number, delayMs: [number, number]): void {
  const fromCrash: number[] = [];
  const fromTimeout: number[] = [];
  for (let seed = 1; seed <= runs; seed++) {
    const sim = simulate(n, seed, delayMs, 0);
    sim.runUntil(1_000, () => sim.leader() !== undefined);
    sim.runUntil(sim.nowMs + 200 + (seed % 97)); // settle, then crash at a varied phase
    const old = sim.leader();
    if (old === undefined) continue;
    old.up = false;
    const crashMs = sim.nowMs;
    const oldTerm = old.raft.term;
    let firstTimeoutMs: number | undefined;
    sim.runUntil(crashMs + 5_000, () => {
      if (firstTimeoutMs === undefined) {
        for (const r of sim.group.values()) {
          if (r.up && r.raft.role !== "follower") firstTimeoutMs = sim.nowMs;
        }
      }
      const l = sim.leader();
      return l !== undefined && l.raft.term > oldTerm;
    });
    if (sim.leader() === undefined) continue;
    fromCrash.push(sim.nowMs - crashMs);
    fromTimeout.push(sim.nowMs - (firstTimeoutMs ?? crashMs));
  }
  fromCrash.sort((a, b) => a - b);
  fromTimeout.sort((a, b) => a - b);
  const stats = (xs: number[]) => ({
    p50: percentile(xs, 0.5),
    p90: percentile(xs, 0.9),
    p99: percentile(xs, 0.99),
    max: xs.at(-1),
  });
  console.log(JSON.stringify({
    bench: "raft_election",
    nodes: n,
    electionTimeoutMs: [ELECTION_TICKS * TICK_MS, 2 * ELECTION_TICKS * TICK_MS],
    heartbeatMs: HEARTBEAT_TICKS * TICK_MS,
    delayMs,
    preVote: true,
    runs,
    elected: fromCrash.length,
    crashToLeaderMs: stats(fromCrash),
    firstTimeoutToLeaderMs: stats(fromTimeout),
  }));
}

function messagesPerEntry(n: number, clientEveryMs: number): void {
  const sim = simulate(n, 42, [1, 5], clientEveryMs);
  sim.runUntil(2_000);
  const l0 = sim.leader();
  if (l0 === undefined) throw new Error("no leader");
  const hw0 = l0.raft.highWatermark;
  const msgs0 = sim.messages;
  sim.runUntil(12_000);
  const l1 = sim.leader();
  if (l1 !== l0) throw new Error("leadership changed at steady state");
  const committed = l1.raft.highWatermark - hw0;
  console.log(JSON.stringify({
    bench: "raft_messages_per_entry",
    nodes: n,
    proposalsPerSec: 1000 / clientEveryMs,
    heartbeatMs: HEARTBEAT_TICKS * TICK_MS,
    delayMs: [1, 5],
    windowSimMs: 10_000,
    committedEntries: committed,
    messages: sim.messages - msgs0,
    messagesPerEntry: +((sim.messages - msgs0) / committed).toFixed(2),
  }));
}

const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
const quick = values.quick === true;
for (const batch of [1, 16, 256]) throughput(batch, 100, quick ? 0.5 : 3);
elections(quick ? 100 : 1_000, 3, [1, 5]);
elections(quick ? 100 : 1_000, 5, [1, 5]);
for (const every of [100, 10, 1]) messagesPerEntry(3, every);
messagesPerEntry(5, 10);
