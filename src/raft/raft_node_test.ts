/**
 * Scenario tests of RaftNode, one group per rule of the Raft paper (section numbers in the
 * test names) plus Pyralog's extensions (flexible quorums, write caching, log start). A tiny
 * harness delivers messages instantly in FIFO order and applies each Ready per the I/O
 * contract; links can be cut to build partitions. Deterministic: fixed PRNG seeds.
 */
import assert from "node:assert/strict";
import { createPrng, type NodeId, nodeId, offset, term } from "../util/mod.ts";
import type { Entry } from "./entry.ts";
import type { Membership } from "./membership.ts";
import { MemoryLog } from "./memory_log.ts";
import type { Message } from "./message.ts";
import { type Durability, type HardState, RaftNode, type ReadState } from "./raft_node.ts";

const ELECTION_TICKS = 10;

interface TestNode {
  raft: RaftNode;
  log: MemoryLog;
}

interface ClusterOptions {
  readonly voters: number;
  readonly learners?: readonly number[];
  /** Nodes that exist but are outside the starting configuration. */
  readonly outsiders?: readonly number[];
  readonly w?: number;
  readonly e?: number;
  readonly preVote?: boolean;
  readonly durability?: Durability;
  readonly start?: number;
}

/** Instant-delivery test cluster. */
class Cluster {
  readonly nodes = new Map<number, TestNode>();
  readonly cut = new Set<string>();
  /** Message types dropped everywhere. */
  readonly dropTypes = new Set<Message["type"]>();
  readonly sent: Message[] = [];
  readonly reads: ReadState[] = [];
  #queue: Message[] = [];

  constructor(readonly options: ClusterOptions) {
    const voters = Array.from({ length: options.voters }, (_, i) => nodeId(i + 1));
    const membership: Membership = {
      voters,
      learners: (options.learners ?? []).map(nodeId),
      ...(options.w === undefined ? {} : { replicationQuorum: options.w }),
      ...(options.e === undefined ? {} : { electionQuorum: options.e }),
    };
    const all = [...voters, ...membership.learners, ...(options.outsiders ?? []).map(nodeId)];
    for (const id of all) {
      const log = new MemoryLog(offset(options.start ?? 0));
      this.nodes.set(id, { log, raft: this.#make(id, log, membership) });
    }
  }

  #make(id: NodeId, log: MemoryLog, membership: Membership, hs?: HardState): RaftNode {
    return new RaftNode({
      id,
      log,
      prng: createPrng(id * 7919),
      membership,
      ...(hs === undefined ? {} : { hardState: hs }),
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      preVote: this.options.preVote ?? true,
      durability: this.options.durability ?? "sync",
      maxInflight: 4,
      maxAppendBytes: 300,
    });
  }

  node(id: number): RaftNode {
    const n = this.nodes.get(id);
    assert.ok(n !== undefined, `no node ${id}`);
    return n.raft;
  }

  log(id: number): MemoryLog {
    const n = this.nodes.get(id);
    assert.ok(n !== undefined, `no node ${id}`);
    return n.log;
  }

  /** Applies every Ready of `id` and queues its messages. */
  drain(id: number): void {
    const n = this.nodes.get(id);
    assert.ok(n !== undefined);
    while (n.raft.hasReady()) {
      const rd = n.raft.ready();
      if (rd.logStart?.discard === true) n.log.setStart(rd.logStart.offset, rd.logStart.term, true);
      n.log.append(rd.entries);
      if (rd.logStart?.discard === false) {
        n.log.setStart(rd.logStart.offset, rd.logStart.term, false);
      }
      this.#queue.push(...rd.messages);
      this.sent.push(...rd.messages);
      this.reads.push(...rd.readStates);
      n.raft.advance(rd);
    }
  }

  /** Delivers queued messages (and their consequences) until quiet. */
  deliver(): void {
    for (const id of this.nodes.keys()) this.drain(id);
    for (let i = 0; i < 100_000 && this.#queue.length > 0; i++) {
      const msg = this.#queue.shift();
      assert.ok(msg !== undefined);
      if (this.cut.has(`${msg.from}>${msg.to}`) || this.dropTypes.has(msg.type)) continue;
      if (!this.nodes.has(msg.to)) continue;
      this.node(msg.to).step(msg);
      this.drain(msg.to);
    }
    assert.equal(this.#queue.length, 0, "messages did not settle");
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).tick();
      this.deliver();
    }
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.nodes.keys()) this.node(id).tick();
      this.deliver();
    }
  }

  /** Ticks `id` alone until it leads (its election timeout is at most 2x the minimum). */
  elect(id: number): void {
    for (let i = 0; i < 3 * ELECTION_TICKS && this.node(id).role !== "leader"; i++) this.tick(id);
    assert.equal(this.node(id).role, "leader", `node ${id} did not win`);
  }

  propose(id: number, count = 1): void {
    const r = this.node(id).propose(new Uint8Array(16), count);
    assert.equal(r.type, "ok");
    this.deliver();
  }

  isolate(id: number): void {
    for (const other of this.nodes.keys()) {
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  /** Replaces a node with a fresh one on the same log and hard state (a restart). */
  restart(id: number, hs: HardState, membership: Membership): void {
    const n = this.nodes.get(id);
    assert.ok(n !== undefined);
    n.raft = this.#make(nodeId(id), n.log, membership, hs);
  }
}

function entry(base: number, last: number, t: number): Entry {
  return {
    base: offset(base),
    last: offset(last),
    term: term(t),
    payload: { type: "leaderChange" },
  };
}

const env = { term: term(0), from: nodeId(9), to: nodeId(1) };

// ---------------------------------------------------------------- §5.2 leader election

Deno.test("§5.2 a node whose election timeout fires wins and the others follow it", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  for (const id of [2, 3]) {
    assert.equal(c.node(id).role, "follower");
    assert.equal(c.node(id).leader, 1);
    assert.equal(c.node(id).term, c.node(1).term);
  }
  // The new leader's empty entry commits everywhere via heartbeats.
  c.tick(1, 2);
  for (const id of [1, 2, 3]) assert.equal(c.node(id).highWatermark, 1);
});

Deno.test("§5.2 randomized election timeouts fall in [T, 2T) and differ by seed", () => {
  const firstCampaign = (seed: number): number => {
    const raft = new RaftNode({
      id: nodeId(1),
      log: new MemoryLog(),
      prng: createPrng(seed),
      membership: { voters: [nodeId(1), nodeId(2)], learners: [] },
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
    });
    for (let t = 1; t <= 2 * ELECTION_TICKS; t++) {
      raft.tick();
      if (raft.role !== "follower") return t;
    }
    return -1;
  };
  const ticks = new Set<number>();
  for (let seed = 1; seed <= 30; seed++) {
    const t = firstCampaign(seed);
    assert.ok(t >= ELECTION_TICKS && t < 2 * ELECTION_TICKS, `timeout ${t}`);
    ticks.add(t);
  }
  assert.ok(ticks.size > 3, "timeouts are randomized");
});

Deno.test("§5.2 a voter grants one vote per term, first come first served", () => {
  const raft = new RaftNode({
    id: nodeId(1),
    log: new MemoryLog(),
    prng: createPrng(1),
    membership: { voters: [nodeId(1), nodeId(2), nodeId(3)], learners: [] },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: 1,
  });
  const vote = (from: number) => ({
    ...env,
    type: "vote" as const,
    term: term(5),
    from: nodeId(from),
    logEnd: offset(0),
    lastTerm: term(0),
    transfer: false,
  });
  raft.step(vote(2));
  raft.step(vote(3));
  raft.step(vote(2)); // a retry from the chosen candidate is granted again
  const rd = raft.ready();
  assert.deepEqual(rd.hardState, { term: 5, votedFor: 2, highWatermark: 0 });
  assert.deepEqual(
    rd.messages.map((m) => m.type === "voteResp" ? [m.to, m.granted] : []),
    [[2, true], [3, false], [2, true]],
  );
  raft.advance(rd);
});

Deno.test("§5.4.1 a vote is refused to a candidate whose log is less up to date", () => {
  const log = new MemoryLog();
  log.append([entry(0, 4, 1), entry(5, 5, 2)]);
  const raft = new RaftNode({
    id: nodeId(1),
    log,
    prng: createPrng(1),
    membership: { voters: [nodeId(1), nodeId(2), nodeId(3)], learners: [] },
    hardState: { term: term(2), votedFor: undefined, highWatermark: offset(0) },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: 1,
  });
  const ask = (from: number, t: number, logEnd: number, lastTerm: number) =>
    raft.step({
      type: "vote",
      term: term(t),
      from: nodeId(from),
      to: nodeId(1),
      logEnd: offset(logEnd),
      lastTerm: term(lastTerm),
      transfer: false,
    });
  ask(2, 3, 100, 1); // longer log but older last term: refused
  ask(3, 4, 6, 2); // same last term, as long: granted
  const rd = raft.ready();
  assert.deepEqual(
    rd.messages.map((m) => m.type === "voteResp" ? m.granted : undefined),
    [false, true],
  );
  raft.advance(rd);
});

// ---------------------------------------------------------------- §5.3 replication

Deno.test("§5.3 proposals replicate and commit on every node; batches cover offset ranges", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  c.propose(1, 10);
  c.propose(1, 5);
  c.tick(1);
  for (const id of [1, 2, 3]) {
    assert.equal(c.node(id).highWatermark, 16);
    assert.deepEqual(c.log(id).all().map((e) => [e.base, e.last]), [[0, 0], [1, 10], [11, 15]]);
  }
});

Deno.test("§5.3 a diverged follower is overwritten, backing off a whole term per round trip", () => {
  const c = new Cluster({ voters: 3 });
  // Node 3 holds 30 uncommitted entries of term 2 that nobody else has.
  const stale = Array.from({ length: 30 }, (_, i) => entry(1 + i, 1 + i, 2));
  for (const id of [1, 2, 3]) c.log(id).append([entry(0, 0, 1)]);
  c.log(3).append(stale);
  for (const id of [1, 2, 3]) {
    const hs = { term: term(2), votedFor: undefined, highWatermark: offset(1) };
    c.restart(id, hs, c.node(id).membership);
  }
  c.elect(1);
  c.propose(1, 3);
  c.tick(1, 2);
  assert.deepEqual(c.log(3).all(), c.log(1).all());
  const rejections = c.sent.filter((m) => m.type === "appendResp" && m.reject && m.from === 3);
  assert.ok(rejections.length <= 2, `${rejections.length} rejections for a 30-entry conflict`);
});

Deno.test("§5.4.2 a leader never commits an older term's entry by counting replicas", () => {
  const log = new MemoryLog();
  log.append([entry(0, 0, 1), entry(1, 1, 2)]);
  const raft = new RaftNode({
    id: nodeId(1),
    log,
    prng: createPrng(1),
    membership: { voters: [nodeId(1), nodeId(2), nodeId(3)], learners: [] },
    hardState: { term: term(2), votedFor: undefined, highWatermark: offset(0) },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: 1,
    preVote: false,
  });
  const flush = () => {
    while (raft.hasReady()) {
      const rd = raft.ready();
      log.append(rd.entries);
      raft.advance(rd);
    }
  };
  raft.step({ type: "timeoutNow", term: term(2), from: nodeId(2), to: nodeId(1) });
  raft.step({ type: "voteResp", term: term(3), from: nodeId(2), to: nodeId(1), granted: true });
  assert.equal(raft.role, "leader");
  flush();
  const ack = (matchEnd: number) =>
    raft.step({
      type: "appendResp",
      term: term(3),
      from: nodeId(2),
      to: nodeId(1),
      reject: false,
      matchEnd: offset(matchEnd),
      durableEnd: offset(matchEnd),
    });
  ack(2); // a majority holds the term-2 entry ...
  flush();
  assert.equal(raft.highWatermark, 0); // ... but it is not committed by counting (Figure 8)
  ack(3); // the term-3 entry commits, and the older ones with it
  flush();
  assert.equal(raft.highWatermark, 3);
});

// ---------------------------------------------------------------- pre-vote, check-quorum

Deno.test("pre-vote: a partitioned node does not inflate its term or disrupt on return", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  const leaderTerm = c.node(1).term;
  c.isolate(3);
  c.tick(3, 10 * ELECTION_TICKS);
  assert.equal(c.node(3).term, leaderTerm);
  c.cut.clear();
  c.tickAll(3);
  assert.equal(c.node(1).role, "leader");
  assert.equal(c.node(1).term, leaderTerm);
});

Deno.test("without pre-vote a partitioned node's term grows with each timeout", () => {
  const c = new Cluster({ voters: 3, preVote: false });
  c.elect(1);
  const leaderTerm = c.node(1).term;
  c.isolate(3);
  c.tick(3, 10 * ELECTION_TICKS);
  assert.ok(c.node(3).term > leaderTerm + 3);
});

Deno.test("check-quorum: a leader that cannot hear W voters steps down", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  c.isolate(1);
  c.tick(1, 2 * ELECTION_TICKS);
  assert.equal(c.node(1).role, "follower");
});

Deno.test("leader lease: a follower hearing from its leader ignores higher-term vote requests", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  c.tick(1);
  const t = c.node(2).term;
  c.node(2).step({
    type: "vote",
    term: term(t + 5),
    from: nodeId(3),
    to: nodeId(2),
    logEnd: offset(100),
    lastTerm: term(t + 4),
    transfer: false,
  });
  assert.equal(c.node(2).term, t);
  assert.equal(c.node(2).hasReady(), false);
});

// ---------------------------------------------------------------- transfer, learners, membership

Deno.test("leadership transfer hands over to an up-to-date voter and blocks proposals meanwhile", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  c.propose(1, 4);
  c.cut.add("1>2"); // keep node 2 behind so the transfer must wait
  c.propose(1, 1);
  assert.equal(c.node(1).transferLeadership(nodeId(2)).type, "pending");
  assert.equal(c.node(1).propose(new Uint8Array(1), 1).type, "refused");
  c.cut.clear();
  c.tick(1);
  assert.equal(c.node(2).role, "leader");
  assert.equal(c.node(1).role, "follower");
  assert.equal(c.node(1).leader, 2);
});

Deno.test("learners replicate the log but never campaign or count towards W", () => {
  const c = new Cluster({ voters: 3, learners: [4] });
  c.elect(1);
  c.propose(1, 3);
  c.tick(1);
  assert.equal(c.node(4).highWatermark, c.node(1).highWatermark);
  const hw = c.node(1).highWatermark;
  c.cut.add("1>2").add("1>3");
  c.propose(1, 1);
  c.tick(1);
  assert.equal(c.node(1).highWatermark, hw, "a learner's copy does not commit");
  c.cut.clear();
  c.isolate(1);
  c.tick(4, 10 * ELECTION_TICKS);
  assert.equal(c.node(4).role, "follower");
});

Deno.test("membership: add a learner, promote it once caught up, remove the leader", () => {
  const c = new Cluster({ voters: 3, outsiders: [4] });
  c.elect(1);
  c.tick(1);
  const leader = c.node(1);
  assert.equal(leader.proposeConfigChange({ type: "promote", node: nodeId(4) }).type, "refused");
  c.cut.add("1>2").add("1>3");
  assert.equal(leader.proposeConfigChange({ type: "addLearner", node: nodeId(4) }).type, "ok");
  // One change at a time: the previous one is not committed yet.
  assert.equal(leader.proposeConfigChange({ type: "remove", node: nodeId(3) }).type, "refused");
  c.cut.clear();
  c.tick(1, 2);
  assert.deepEqual(c.node(4).membership.learners, [4]);
  assert.equal(leader.proposeConfigChange({ type: "promote", node: nodeId(4) }).type, "ok");
  c.tick(1, 2);
  assert.deepEqual(c.node(3).membership.voters, [1, 2, 3, 4]);
  assert.equal(leader.proposeConfigChange({ type: "remove", node: nodeId(1) }).type, "ok");
  c.tick(1, 2);
  assert.equal(leader.role, "follower", "a removed leader steps down once the change commits");
  assert.deepEqual(c.node(2).membership.voters, [2, 3, 4]);
  c.isolate(1);
  c.tickAll(3 * ELECTION_TICKS);
  const leaders = [2, 3, 4].filter((id) => c.node(id).role === "leader");
  assert.equal(leaders.length, 1);
  assert.equal(c.node(1).role, "follower", "a removed node does not campaign");
});

// ---------------------------------------------------------------- log start, reads

Deno.test("§7 a follower behind the leader's log start is reset to it and catches up", () => {
  const c = new Cluster({ voters: 3 });
  c.elect(1);
  c.isolate(3);
  for (let i = 0; i < 5; i++) c.propose(1, 10);
  c.tick(1);
  const hw = c.node(1).highWatermark;
  assert.equal(c.node(1).compact(offset(hw)), true);
  c.deliver();
  assert.equal(c.log(1).startOffset(), hw);
  c.cut.clear();
  c.tick(1, 3);
  assert.ok(c.sent.some((m) => m.type === "installSnapshot" && m.to === 3));
  assert.equal(c.log(3).startOffset(), hw);
  c.propose(1, 2);
  c.tick(1);
  assert.equal(c.node(3).highWatermark, c.node(1).highWatermark);
  assert.equal(c.log(3).endOffset(), c.log(1).endOffset());
});

Deno.test("a group whose log starts after offset 0 uses Kafka offsets from there", () => {
  const c = new Cluster({ voters: 3, start: 1_000 });
  c.elect(1);
  c.propose(1, 10);
  c.tick(1);
  for (const id of [1, 2, 3]) {
    assert.equal(c.node(id).highWatermark, 1_011);
    assert.deepEqual(c.log(id).all().map((e) => e.base), [1_000, 1_001]);
  }
});

Deno.test("read index: confirmed by heartbeat, refused off-leader and before a commit in term", () => {
  const c = new Cluster({ voters: 3 });
  assert.equal(c.node(2).readIndex(1).type, "notLeader");
  c.dropTypes.add("append").add("heartbeat");
  c.elect(1);
  assert.equal(c.node(1).readIndex(1).type, "refused");
  c.dropTypes.clear();
  c.tick(1, 2);
  c.propose(1, 3);
  c.tick(1);
  const hw = c.node(1).highWatermark;
  c.cut.add("2>1").add("3>1");
  assert.equal(c.node(1).readIndex(7).type, "pending");
  c.deliver();
  assert.deepEqual(c.reads, [], "no confirmation from a quorum yet");
  c.cut.clear();
  c.tick(1);
  assert.deepEqual(c.reads, [{ requestId: 7, index: hw }]);
});

// ---------------------------------------------------------------- flexible quorums

Deno.test("flexible W=1, E=N: the leader commits alone; an election needs every voter", () => {
  const c = new Cluster({ voters: 3, w: 1, e: 3 });
  c.elect(1);
  c.isolate(1);
  c.propose(1, 5);
  assert.equal(c.node(1).highWatermark, 6, "W=1: the leader's own copy commits");
  c.tick(1, 3 * ELECTION_TICKS);
  assert.equal(c.node(1).role, "leader", "check-quorum with W=1 keeps a lone leader");
  c.cut.clear();
  c.isolate(3);
  c.isolate(1);
  c.tick(2, 5 * ELECTION_TICKS);
  assert.notEqual(c.node(2).role, "leader", "E=3 needs node 3's vote");
});

Deno.test("flexible W=N, E=1: any voter elects itself in its own terms; commit needs all", () => {
  const c = new Cluster({ voters: 3, w: 3, e: 1, preVote: false });
  c.elect(2);
  c.elect(3);
  assert.equal(c.node(2).role, "follower");
  // Terms are unique per candidate: voter of rank r only campaigns in terms = r mod N.
  assert.equal(c.node(3).term % 3, 2);
  c.tick(3);
  const hw = c.node(3).highWatermark;
  c.isolate(1);
  c.propose(3, 1);
  c.tick(3);
  assert.equal(c.node(3).highWatermark, hw, "W=3 needs node 1");
  c.cut.clear();
  c.tick(3, 2);
  assert.equal(c.node(3).highWatermark, hw + 1);
});

Deno.test("a configuration with W + E <= N is refused", () => {
  assert.throws(
    () =>
      new RaftNode({
        id: nodeId(1),
        log: new MemoryLog(),
        prng: createPrng(1),
        membership: {
          voters: [1, 2, 3].map(nodeId),
          learners: [],
          replicationQuorum: 1,
          electionQuorum: 2,
        },
        electionTicks: ELECTION_TICKS,
        heartbeatTicks: 1,
      }),
    /W \+ E must exceed N/,
  );
});

// ---------------------------------------------------------------- durability modes

Deno.test("write caching: commit waits for synced copies; the cached high watermark runs ahead", () => {
  const c = new Cluster({ voters: 3, durability: "writeCaching" });
  c.elect(1);
  const sync = (id: number) => {
    c.node(id).synced(c.log(id).endOffset());
    c.deliver();
  };
  for (const id of [1, 2, 3]) sync(id);
  c.tick(1);
  const hw = c.node(1).highWatermark;
  c.propose(1, 4);
  assert.equal(c.node(1).highWatermark, hw, "written but unsynced everywhere");
  assert.equal(c.node(1).cachedHighWatermark, hw + 4);
  sync(1);
  assert.equal(c.node(1).highWatermark, hw, "one synced copy is not W");
  sync(2);
  assert.equal(c.node(1).highWatermark, hw + 4);
});

Deno.test("Figure 2: a voter restarted from its hard state does not vote twice in a term", () => {
  const make = (hardState?: HardState) =>
    new RaftNode({
      id: nodeId(1),
      log: new MemoryLog(),
      prng: createPrng(1),
      membership: { voters: [1, 2, 3].map(nodeId), learners: [] },
      ...(hardState === undefined ? {} : { hardState }),
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
    });
  const vote = (from: number) => ({
    type: "vote" as const,
    term: term(4),
    from: nodeId(from),
    to: nodeId(1),
    logEnd: offset(0),
    lastTerm: term(0),
    transfer: false,
  });
  const first = make();
  first.step(vote(2));
  const rd = first.ready();
  first.advance(rd);
  assert.ok(rd.hardState !== undefined);
  const restarted = make(rd.hardState);
  restarted.step(vote(3));
  const after = restarted.ready();
  assert.deepEqual(after.messages.map((m) => m.type === "voteResp" && m.granted), [false]);
  restarted.advance(after);
});

Deno.test("a leader that cannot commit refuses proposals past maxUncommittedOffsets", () => {
  const log = new MemoryLog();
  const raft = new RaftNode({
    id: nodeId(1),
    log,
    prng: createPrng(1),
    membership: { voters: [1, 2, 3].map(nodeId), learners: [] },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: 1,
    preVote: false,
    maxUncommittedOffsets: 10,
  });
  raft.step({ type: "timeoutNow", term: term(0), from: nodeId(2), to: nodeId(1) });
  raft.step({ type: "voteResp", term: term(1), from: nodeId(2), to: nodeId(1), granted: true });
  assert.equal(raft.role, "leader");
  assert.equal(raft.propose(new Uint8Array(1), 5).type, "ok");
  assert.equal(raft.propose(new Uint8Array(1), 4).type, "ok"); // 1 + 5 + 4 = 10 offsets
  const refused = raft.propose(new Uint8Array(1), 1);
  assert.equal(refused.type, "refused");
  assert.match(refused.type === "refused" ? refused.reason : "", /await commit/);
});

Deno.test("write caching: a lost sync report is repeated by the next heartbeat answer", () => {
  const c = new Cluster({ voters: 3, durability: "writeCaching" });
  c.elect(1);
  for (const id of [1, 2, 3]) c.node(id).synced(c.log(id).endOffset());
  c.tick(1, 2);
  const hw = c.node(1).highWatermark;
  c.propose(1, 2);
  c.node(1).synced(c.log(1).endOffset());
  c.dropTypes.add("appendResp"); // node 2's sync report is lost
  c.node(2).synced(c.log(2).endOffset());
  c.deliver();
  assert.equal(c.node(1).highWatermark, hw);
  c.dropTypes.clear();
  c.tick(1);
  assert.equal(c.node(1).highWatermark, hw + 2);
});

Deno.test("write caching: a leader learns from heartbeats that a follower lost unsynced entries", () => {
  const c = new Cluster({ voters: 3, w: 3, e: 1, preVote: false, durability: "writeCaching" });
  c.elect(1);
  const syncAll = () => {
    for (const id of [1, 2, 3]) c.node(id).synced(c.log(id).endOffset());
    c.deliver();
  };
  syncAll();
  c.tick(1);
  const syncedEnd3 = c.log(3).endOffset();
  const hw = c.node(1).highWatermark;
  c.propose(1, 3);
  for (const id of [1, 2]) c.node(id).synced(c.log(id).endOffset());
  c.deliver();
  assert.equal(c.node(1).highWatermark, hw, "W=3 waits for node 3's sync");
  // Node 3 crashes before syncing: the entries it acknowledged are gone.
  const n3 = c.node(3);
  const hs = { term: n3.term, votedFor: n3.votedFor, highWatermark: n3.highWatermark };
  c.log(3).truncateTo(syncedEnd3);
  c.restart(3, hs, n3.membership);
  c.tick(1, 2); // no new proposals: only heartbeat answers can reveal the loss
  syncAll();
  c.tick(1);
  assert.equal(c.node(1).highWatermark, hw + 3);
  assert.equal(c.log(3).endOffset(), c.log(1).endOffset());
});

Deno.test("§5.1 a stale vote request is refused with our term so the candidate catches up", () => {
  const raft = new RaftNode({
    id: nodeId(1),
    log: new MemoryLog(),
    prng: createPrng(1),
    membership: { voters: [1, 2].map(nodeId), learners: [] },
    hardState: { term: term(9), votedFor: undefined, highWatermark: offset(0) },
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: 1,
  });
  raft.step({
    type: "vote",
    term: term(4),
    from: nodeId(2),
    to: nodeId(1),
    logEnd: offset(50),
    lastTerm: term(4),
    transfer: false,
  });
  const rd = raft.ready();
  assert.deepEqual(
    rd.messages.map((m) => [m.type, m.term, m.type === "voteResp" && m.granted]),
    [["voteResp", 9, false]],
  );
  raft.advance(rd);
});
