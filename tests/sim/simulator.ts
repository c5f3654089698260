/**
 * A seeded, deterministic simulation of a Raft group: every node's `RaftNode`, a network,
 * disks and a fault injector run in one loop on virtual time. One seed sets every knob
 * (group size, quorums, durability mode, delays, loss, duplication, partitions, crashes,
 * pauses, slow disks, membership changes, transfers, compaction, reads), so a run is a pure
 * function of its seed and replays byte for byte. No real clock, no ambient randomness.
 *
 * (Also pipelining window, append size, uncommitted limit, pre-vote and check-quorum on or
 * off, and the offset every log starts at.)
 *
 * A run has a safety phase (faults on, 3 s by default) and a liveness phase: the cluster is
 * healed, a leader must commit a new entry within 4 s and every voter must learn of it
 * within 10 s (both scaled by a longer safety phase). `InvariantChecker` checks safety as
 * each `Ready` is applied and after every event; an exception from the core is a failure.
 *
 * Not modelled: torn or corrupt writes (the storage engine's recovery), lost hard state,
 * operators shutting down removed servers (so a group with membership changes keeps
 * pre-vote or check-quorum on; without both, removed servers livelock elections).
 */
import {
  assert,
  createPrng,
  type NodeId,
  nodeId,
  type Offset,
  offset,
  type Prng,
} from "../../src/util/mod.ts";
import {
  type ConfigChange,
  type Entry,
  type HardState,
  type Membership,
  MemoryLog,
  type Message,
  quorumsOf,
  RaftNode,
} from "../../src/raft/mod.ts";
import { EventQueue } from "./event_queue.ts";
import { type DurabilityMode, InvariantChecker } from "./invariant_checker.ts";

/** Virtual milliseconds per Raft tick. */
export const TICK_MS = 10;
/** Election timeout 150-300 ms: [15, 30) ticks. */
export const ELECTION_TICKS = 15;
/** Heartbeat every 30 ms. */
export const HEARTBEAT_TICKS = 3;
const SAFETY_PHASE_MS = 3_000;
/**
 * After healing, a leader must commit a new entry within this bound (progress) ... and
 * every voter must learn of it within the second (catch-up). Both scale with the faulty
 * phase beyond its default length: a longer phase leaves longer logs to catch up on.
 */
const LIVENESS_BOUND_MS = 4_000;
const CATCH_UP_BOUND_MS = 10_000;
const CLIENT_INTERVAL_MS = 20;
/** Bound on events per simulated second, so a livelocked simulation still terminates. */
const MAX_EVENTS_PER_SEC = 100_000;

/** A deliberately injected bug, to prove the checker can fail. */
export type InjectedBug =
  /** A candidate counts refused votes as granted (the message is mutated in flight). */
  | "countRefusals"
  /** Sync mode that acknowledges before syncing: a crash loses acknowledged entries. */
  | "ackUnsynced";

/** How one seed is run. */
export interface SimOptions {
  readonly seed: number;
  /** Collect a readable trace (slower; used to replay failures). */
  readonly trace?: boolean;
  readonly bug?: InjectedBug;
  /** Override the randomly drawn durability mode. */
  readonly mode?: DurabilityMode;
  /** Length of the faulty phase in simulated ms (default 3000). */
  readonly safetyMs?: number;
}

/** The outcome of one seed. */
export interface SimResult {
  readonly seed: number;
  readonly violation: string | undefined;
  readonly trace: readonly string[];
  readonly summary: string;
  readonly stats: SimStats;
}

/** Counters of one run. */
export interface SimStats {
  events: number;
  messages: number;
  elections: number;
  /** Offsets committed (commit end minus the log start). */
  committedOffsets: number;
  virtualMs: number;
  livenessMs: number;
}

/** The knobs a seed draws. */
interface Knobs {
  readonly voters: number;
  readonly spares: number;
  readonly membership: Membership;
  readonly mode: DurabilityMode;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  loss: number;
  dup: number;
  readonly faultEveryMs: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Pipelining window and append size: small values stress back-off and pausing. */
  readonly maxInflight: number;
  readonly maxAppendBytes: number;
  readonly maxUncommittedOffsets: number;
  /** Where every log starts (Kafka logs need not start at offset 0). */
  readonly logStart: Offset;
}

type SimEvent =
  | { readonly type: "tick"; readonly node: NodeId }
  | { readonly type: "deliver"; readonly msg: Message }
  | { readonly type: "sync"; readonly node: NodeId; readonly gen: number; readonly upTo: Offset }
  | { readonly type: "fault" }
  | { readonly type: "client" }
  | { readonly type: "restart"; readonly node: NodeId }
  | { readonly type: "resume"; readonly node: NodeId }
  | { readonly type: "heal" };

/** A simulated server: its Raft core plus the "disk" the runtime keeps. */
interface SimNode {
  readonly id: NodeId;
  raft: RaftNode | undefined;
  readonly log: MemoryLog;
  /** Durable hard state (always synced before messages leave, per the contract). */
  hardState: HardState | undefined;
  /** Configuration at the log start, persisted with it. */
  startMembership: Membership;
  /** Log end known durable (write caching / injected bug). */
  syncedEnd: Offset;
  /** Bumped on each truncation, so an older sync cannot cover newer data. */
  truncGen: number;
  paused: boolean;
  inbox: Message[];
  diskDelayMs: number;
  /** Commit end of the current incarnation, to check it never goes back. */
  hw: number;
}

function describe(msg: Message): string {
  const head = `${msg.from}->${msg.to} ${msg.type} t${msg.term}`;
  switch (msg.type) {
    case "append":
      return `${head} base=${msg.base} prev=${msg.prevTerm} n=${msg.entries.length} hw=${msg.highWatermark}`;
    case "appendResp":
      return msg.reject
        ? `${head} reject base=${msg.rejectedBase} hint=${msg.hintEnd}/${msg.hintTerm} end=${msg.logEnd}`
        : `${head} match=${msg.matchEnd}`;
    case "preVote":
    case "vote":
      return `${head} end=${msg.logEnd} last=${msg.lastTerm}`;
    case "preVoteResp":
    case "voteResp":
      return `${head} ${msg.granted ? "granted" : "refused"}`;
    case "heartbeat":
      return `${head} hw=${msg.highWatermark} read=${msg.readSeq}`;
    case "heartbeatResp":
      return `${head} read=${msg.readSeq} match=${msg.matchEnd}/${msg.durableEnd} end=${msg.logEnd}`;
    case "installSnapshot":
      return `${head} start=${msg.logStart}/${msg.startTerm}`;
    case "timeoutNow":
      return head;
  }
}

function drawKnobs(prng: Prng, mode: DurabilityMode | undefined): Knobs {
  const voters = [1, 3, 3, 3, 5, 5, 5, 4, 7][prng.int(0, 8)] ?? 3;
  const ids = Array.from({ length: voters }, (_, i) => nodeId(i + 1));
  let membership: Membership = { voters: ids, learners: [] };
  if (voters > 1 && prng.chance(0.4)) {
    // Flexible quorum: any W with E = N - W + 1 .. N.
    const w = prng.int(1, voters);
    const e = prng.int(voters - w + 1, voters);
    membership = { ...membership, replicationQuorum: w, electionQuorum: e };
  }
  const chosenMode = mode ?? (prng.chance(0.6) ? "sync" : "writeCaching");
  // Membership changes only for majority quorums (see membership.ts).
  const spares = membership.replicationQuorum === undefined ? prng.int(0, 2) : 0;
  const delayMinMs = prng.int(1, 5);
  const preVote = prng.chance(0.85);
  return {
    voters,
    spares,
    membership,
    mode: chosenMode,
    delayMinMs,
    delayMaxMs: delayMinMs + prng.int(2, 40),
    loss: prng.chance(0.7) ? prng.next() * 0.1 : 0,
    dup: prng.chance(0.5) ? prng.next() * 0.05 : 0,
    faultEveryMs: prng.int(40, 300),
    preVote,
    // Without pre-vote and check-quorum (no lease) a removed server that never learns of
    // its removal keeps deposing leaders (thesis §4.2.3); such a group must shut removed
    // servers down, which this simulator does not model, so it keeps one of the two on.
    checkQuorum: spares > 0 && !preVote ? true : prng.chance(0.85),
    maxInflight: [1, 2, 8, 64][prng.int(0, 3)] ?? 8,
    maxAppendBytes: [300, 4096, 1 << 20][prng.int(0, 2)] ?? 4096,
    maxUncommittedOffsets: [100, 1000, 1 << 20][prng.int(0, 2)] ?? 1000,
    logStart: offset(prng.chance(0.8) ? 0 : prng.int(1, 1_000_000)),
  };
}

/** One simulated cluster run for one seed. */
class Simulation {
  readonly #prng: Prng;
  readonly #knobs: Knobs;
  readonly #bug: InjectedBug | undefined;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #blocked = new Set<string>();
  readonly #checker: InvariantChecker;
  readonly #trace: string[] | undefined;
  readonly #stats: SimStats = {
    events: 0,
    messages: 0,
    elections: 0,
    committedOffsets: 0,
    virtualMs: 0,
    livenessMs: 0,
  };
  /** Reads awaiting confirmation: request id -> commit end known at request time. */
  readonly #reads = new Map<number, number>();
  #nowMs = 0;
  #healedAtMs: number | undefined;
  /** Liveness: an entry proposed after healing (its term and end). */
  #marker: { term: number; end: number } | undefined;
  /** Liveness: the end of the marker once its leader committed it. */
  #committedMarker: number | undefined;
  #livenessDone = false;
  #nextReadId = 1;
  readonly #boundScale: number;
  #payloadSeq = 0;

  constructor(options: SimOptions) {
    this.#prng = createPrng(options.seed);
    this.#knobs = drawKnobs(this.#prng, options.mode);
    this.#bug = options.bug;
    this.#trace = options.trace === true ? [] : undefined;
    this.#checker = new InvariantChecker(this.#knobs.mode);
    const total = this.#knobs.voters + this.#knobs.spares;
    for (let i = 1; i <= total; i++) {
      const id = nodeId(i);
      this.#nodes.set(id, {
        id,
        raft: undefined,
        log: new MemoryLog(this.#knobs.logStart),
        hardState: undefined,
        startMembership: this.#knobs.membership,
        syncedEnd: this.#knobs.logStart,
        truncGen: 0,
        paused: false,
        inbox: [],
        diskDelayMs: 0,
        hw: 0,
      });
      this.#start(id);
      this.#queue.push(this.#prng.int(0, TICK_MS - 1), { type: "tick", node: id });
    }
    this.#queue.push(this.#knobs.faultEveryMs, { type: "fault" });
    this.#queue.push(CLIENT_INTERVAL_MS, { type: "client" });
    const safetyMs = options.safetyMs ?? SAFETY_PHASE_MS;
    this.#boundScale = Math.max(1, safetyMs / SAFETY_PHASE_MS);
    this.#queue.push(safetyMs, { type: "heal" });
  }

  get summary(): string {
    const k = this.#knobs;
    const q = quorumsOf(k.membership);
    return `n=${k.voters}+${k.spares} W=${q.w} E=${q.e} mode=${k.mode} delay=${k.delayMinMs}-${k.delayMaxMs}ms loss=${
      k.loss.toFixed(3)
    } dup=${
      k.dup.toFixed(3)
    } faultEvery=${k.faultEveryMs}ms preVote=${k.preVote} checkQuorum=${k.checkQuorum} inflight=${k.maxInflight} appendBytes=${k.maxAppendBytes} uncommitted=${k.maxUncommittedOffsets} start=${k.logStart}`;
  }

  run(): { violation: string | undefined; stats: SimStats; trace: string[] } {
    this.#log(`config ${this.summary}`);
    let violation: string | undefined;
    while (violation === undefined && !this.#livenessDone) {
      const next = this.#queue.pop();
      if (next === undefined) break;
      this.#nowMs = next.atMs;
      this.#stats.events++;
      if (this.#stats.events > MAX_EVENTS_PER_SEC * (this.#nowMs / 1000 + 1)) {
        violation = `event bound exceeded: ${this.#stats.events} events by ${this.#nowMs} ms`;
        break;
      }
      try {
        this.#handle(next.value);
        this.#checkAfterStep();
      } catch (err: unknown) {
        // An assertion inside the core or the runtime is a bug found by this seed.
        violation = `exception: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
        break;
      }
      violation = this.#checker.violation;
      if (violation === undefined && this.#healedAtMs !== undefined) {
        const sinceHealMs = this.#nowMs - this.#healedAtMs;
        const progressMs = LIVENESS_BOUND_MS * this.#boundScale;
        const catchUpMs = CATCH_UP_BOUND_MS * this.#boundScale;
        if (this.#committedMarker === undefined && sinceHealMs > progressMs) {
          violation = `liveness: no new entry committed within ${progressMs} ms of healing`;
        } else if (sinceHealMs > catchUpMs) {
          violation =
            `liveness: a voter did not learn of a new commit within ${catchUpMs} ms of healing`;
        }
      }
    }
    this.#stats.virtualMs = this.#nowMs;
    this.#stats.elections = this.#checker.leaderTerms;
    this.#stats.committedOffsets = Math.max(0, this.#checker.commitEnd - this.#knobs.logStart);
    if (this.#healedAtMs !== undefined) this.#stats.livenessMs = this.#nowMs - this.#healedAtMs;
    if (violation !== undefined) this.#log(`VIOLATION ${violation}`);
    return { violation, stats: this.#stats, trace: this.#trace ?? [] };
  }

  #log(line: string): void {
    this.#trace?.push(`${String(this.#nowMs).padStart(6)} ${line}`);
  }

  #node(id: NodeId): SimNode {
    const node = this.#nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }

  // ---------------------------------------------------------------- node lifecycle

  #start(id: NodeId): void {
    const node = this.#node(id);
    node.raft = new RaftNode({
      id,
      log: node.log,
      prng: this.#prng.fork(),
      membership: node.startMembership,
      ...(node.hardState === undefined ? {} : { hardState: node.hardState }),
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      preVote: this.#knobs.preVote,
      checkQuorum: this.#knobs.checkQuorum,
      maxInflight: this.#knobs.maxInflight,
      maxAppendBytes: this.#knobs.maxAppendBytes,
      maxUncommittedOffsets: this.#knobs.maxUncommittedOffsets,
      // The injected bug claims sync durability while the runtime does not sync.
      durability: this.#knobs.mode,
    });
    node.hw = node.raft.highWatermark;
    node.paused = false;
    node.inbox = [];
  }

  #crash(id: NodeId): void {
    const node = this.#node(id);
    if (node.raft === undefined) return;
    node.raft = undefined;
    node.truncGen++;
    const loseUnsynced = this.#knobs.mode === "writeCaching" || this.#bug === "ackUnsynced";
    if (loseUnsynced && node.syncedEnd < node.log.endOffset()) {
      const lost = node.log.all().filter((e) => e.base >= node.syncedEnd);
      this.#checker.onRemove(id, node.hardState?.term ?? 0, lost, "crash");
      node.log.truncateTo(node.syncedEnd);
      this.#log(`n${id} crash, lost unsynced offsets >= ${node.syncedEnd}`);
    } else {
      this.#log(`n${id} crash`);
    }
    this.#queue.push(this.#nowMs + this.#prng.int(50, 600), { type: "restart", node: id });
  }

  // ---------------------------------------------------------------- the runtime loop

  /** Applies every pending Ready of `id` per the I/O contract in raft_node.ts. */
  #drain(id: NodeId): void {
    const node = this.#node(id);
    const raft = node.raft;
    if (raft === undefined) return;
    for (let rounds = 0; raft.hasReady(); rounds++) {
      assert(rounds < 1000, `ready loop of node ${id} does not settle`);
      const rd = raft.ready();
      if (rd.hardState !== undefined) node.hardState = rd.hardState;
      const start = rd.logStart;
      if (start !== undefined && start.discard) {
        const removed = node.log.all().filter((e) => e.base >= start.offset);
        this.#checker.onRemove(id, raft.term, removed, "reset");
        node.log.setStart(start.offset, start.term, true);
        node.startMembership = start.membership;
        node.syncedEnd = start.offset;
        node.truncGen++;
        this.#log(`n${id} log reset to start ${start.offset}`);
      }
      this.#storeEntries(node, rd.entries);
      if (start !== undefined && !start.discard) {
        node.log.setStart(start.offset, start.term, false);
        node.startMembership = start.membership;
        // The new start is persisted with the log; a crash keeps at least an empty log there.
        if (node.syncedEnd < start.offset) node.syncedEnd = start.offset;
        this.#log(`n${id} log start moved to ${start.offset}`);
      }
      const extraMs = this.#knobs.mode === "sync" ? node.diskDelayMs : 0;
      for (const msg of rd.messages) this.#send(msg, extraMs);
      if (rd.committed !== undefined) {
        this.#checker.onCommit(id, raft.term, node.log, rd.committed, node.hw);
        if (this.#trace !== undefined) this.#log(`n${id} commit ${rd.committed.to}`);
        node.hw = rd.committed.to;
      }
      for (const read of rd.readStates) {
        const atRequest = this.#reads.get(read.requestId);
        assert(atRequest !== undefined, `unknown read ${read.requestId}`);
        this.#reads.delete(read.requestId);
        this.#checker.onRead(id, read.index, atRequest);
        this.#log(`n${id} read ${read.requestId} at ${read.index}`);
      }
      raft.advance(rd);
    }
  }

  #storeEntries(node: SimNode, entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    if (first.base < node.log.endOffset()) {
      const removed = node.log.all().filter((e) => e.base >= first.base);
      this.#checker.onRemove(node.id, node.raft?.term ?? 0, removed, "truncate");
      node.syncedEnd = offset(Math.min(node.syncedEnd, first.base));
      node.truncGen++;
      this.#log(`n${node.id} truncate from ${first.base}`);
    }
    node.log.append(entries);
    this.#checker.onAppend(node.id, node.log, entries);
    if (this.#knobs.mode === "sync" && this.#bug !== "ackUnsynced") {
      node.syncedEnd = node.log.endOffset();
    } else {
      // Write caching: the sync completes after the disk delay; a crash before loses it.
      const delay = node.diskDelayMs + this.#prng.int(1, 20);
      this.#queue.push(this.#nowMs + delay, {
        type: "sync",
        node: node.id,
        gen: node.truncGen,
        upTo: node.log.endOffset(),
      });
    }
  }

  #send(msg: Message, extraMs: number): void {
    this.#stats.messages++;
    const k = this.#knobs;
    if (this.#prng.chance(k.loss)) {
      if (this.#trace !== undefined) this.#log(`drop ${describe(msg)}`);
      return;
    }
    const copies = this.#prng.chance(k.dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = extraMs + this.#prng.int(k.delayMinMs, k.delayMaxMs);
      this.#queue.push(this.#nowMs + delay, { type: "deliver", msg });
    }
  }

  // ---------------------------------------------------------------- events

  #handle(ev: SimEvent): void {
    switch (ev.type) {
      case "tick": {
        this.#queue.push(this.#nowMs + TICK_MS, ev);
        const node = this.#node(ev.node);
        if (node.raft === undefined || node.paused) return;
        const before = node.raft.role;
        node.raft.tick();
        this.#drain(ev.node);
        if (this.#trace !== undefined && node.raft.role !== before) {
          this.#log(`n${ev.node} ${before} -> ${node.raft.role} t${node.raft.term}`);
        }
        return;
      }
      case "deliver":
        this.#deliver(ev.msg);
        return;
      case "sync": {
        const node = this.#node(ev.node);
        if (node.raft === undefined || ev.gen !== node.truncGen || ev.upTo <= node.syncedEnd) {
          return;
        }
        node.syncedEnd = ev.upTo;
        if (this.#knobs.mode === "writeCaching") {
          node.raft.synced(ev.upTo);
          this.#drain(node.id);
        }
        return;
      }
      case "fault":
        if (this.#healedAtMs === undefined) {
          this.#injectFault();
          this.#queue.push(this.#nowMs + this.#prng.int(1, 2 * this.#knobs.faultEveryMs), ev);
        }
        return;
      case "client":
        this.#client();
        this.#queue.push(this.#nowMs + CLIENT_INTERVAL_MS, ev);
        return;
      case "restart": {
        const node = this.#node(ev.node);
        if (node.raft !== undefined) return;
        this.#start(ev.node);
        this.#log(
          `n${ev.node} restart end=${node.log.endOffset()} hs=${
            JSON.stringify(node.hardState ?? {})
          }`,
        );
        return;
      }
      case "resume":
        this.#resume(ev.node);
        return;
      case "heal":
        this.#heal();
        return;
    }
  }

  #deliver(delivered: Message): void {
    const msg: Message = this.#bug === "countRefusals" && delivered.type === "voteResp"
      ? { ...delivered, granted: true }
      : delivered;
    if (msg !== delivered) this.#log("bug: a refused vote is delivered as granted");
    const node = this.#node(msg.to);
    if (node.raft === undefined) return;
    if (this.#blocked.has(`${msg.from}>${msg.to}`)) {
      if (this.#trace !== undefined) this.#log(`cut ${describe(msg)}`);
      return;
    }
    if (node.paused) {
      node.inbox.push(msg);
      return;
    }
    const raft = node.raft;
    const before = raft.role;
    const beforeTerm = raft.term;
    if (this.#trace !== undefined) this.#log(describe(msg));
    raft.step(msg);
    if (this.#trace !== undefined && (raft.role !== before || raft.term !== beforeTerm)) {
      this.#log(`n${msg.to} ${before} t${beforeTerm} -> ${raft.role} t${raft.term}`);
    }
    this.#drain(msg.to);
  }

  #resume(id: NodeId): void {
    const node = this.#node(id);
    if (!node.paused) return;
    node.paused = false;
    this.#log(`n${id} resume (${node.inbox.length} queued)`);
    const inbox = node.inbox;
    node.inbox = [];
    for (const msg of inbox) {
      if (node.raft === undefined) return;
      this.#deliver(msg);
    }
  }

  /** Checks that need the whole cluster after each event. */
  #checkAfterStep(): void {
    for (const node of this.#nodes.values()) {
      const raft = node.raft;
      if (raft !== undefined && raft.role === "leader") {
        this.#checker.onLeader(node.id, raft.term, node.log);
      }
    }
    if (this.#healedAtMs !== undefined) this.#checkLiveness();
  }

  /** The node that is leader with the highest term, if any. */
  #currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.#nodes.values()) {
      const raft = node.raft;
      if (raft === undefined || raft.role !== "leader" || node.paused) continue;
      if (best === undefined || raft.term > (best.raft?.term ?? 0)) best = node;
    }
    return best;
  }

  #client(): void {
    // Clients also reach stale leaders (a partitioned old leader still thinks it leads):
    // their uncommitted entries must later be truncated safely (§5.3).
    const leaders = [...this.#nodes.values()].filter((n) => n.raft?.role === "leader" && !n.paused);
    const leader = leaders[this.#prng.int(0, leaders.length - 1)];
    const raft = leader?.raft;
    if (leader === undefined || raft === undefined) return;
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, ++this.#payloadSeq);
    const result = raft.propose(bytes, this.#prng.int(1, 5));
    if (result.type === "ok") {
      const isCurrent = leader === this.#currentLeader();
      if (this.#healedAtMs !== undefined && this.#marker === undefined && isCurrent) {
        this.#marker = { term: result.term, end: result.last + 1 };
        this.#log(`marker proposed at ${result.base}-${result.last} t${result.term}`);
      }
      this.#drain(leader.id);
    }
  }

  // ---------------------------------------------------------------- faults

  #randomNode(): SimNode {
    const ids = [...this.#nodes.keys()];
    const id = ids[this.#prng.int(0, ids.length - 1)];
    assert(id !== undefined, "no nodes");
    return this.#node(id);
  }

  #injectFault(): void {
    const prng = this.#prng;
    const roll = prng.int(0, 99);
    const node = this.#randomNode();
    if (roll < 15) {
      this.#crash(node.id);
    } else if (roll < 25) {
      // Symmetric partition: split the nodes into two sides.
      this.#blocked.clear();
      const side = new Set([...this.#nodes.keys()].filter(() => prng.chance(0.5)));
      for (const a of this.#nodes.keys()) {
        for (const b of this.#nodes.keys()) {
          if (side.has(a) !== side.has(b)) this.#blocked.add(`${a}>${b}`);
        }
      }
      this.#log(`partition {${[...side].join(",")}} | rest`);
    } else if (roll < 32) {
      const other = this.#randomNode();
      if (other.id !== node.id) {
        this.#blocked.add(`${node.id}>${other.id}`);
        this.#log(`one-way cut ${node.id}>${other.id}`);
      }
    } else if (roll < 42) {
      this.#blocked.clear();
      this.#log("partitions healed");
    } else if (roll < 50) {
      if (node.raft !== undefined && !node.paused) {
        node.paused = true;
        this.#queue.push(this.#nowMs + prng.int(50, 500), { type: "resume", node: node.id });
        this.#log(`n${node.id} paused`);
      }
    } else if (roll < 57) {
      node.diskDelayMs = prng.chance(0.5) ? prng.int(5, 100) : 0;
      this.#log(`n${node.id} disk delay ${node.diskDelayMs}ms`);
    } else if (roll < 65) {
      this.#changeMembership();
    } else if (roll < 72) {
      this.#transfer();
    } else if (roll < 80) {
      this.#compact(node);
    } else if (roll < 90) {
      this.#read();
    } else {
      // Crash the leader: elections are where the interesting bugs live.
      const leader = this.#currentLeader();
      if (leader !== undefined) this.#crash(leader.id);
    }
  }

  #changeMembership(): void {
    if (this.#knobs.spares === 0) return;
    const leader = this.#currentLeader();
    const raft = leader?.raft;
    if (leader === undefined || raft === undefined) return;
    const m = raft.membership;
    const ids = [...this.#nodes.keys()];
    const pick = (xs: readonly NodeId[]): NodeId | undefined =>
      xs[this.#prng.int(0, xs.length - 1)];
    const outsiders = ids.filter((id) => !m.voters.includes(id) && !m.learners.includes(id));
    const options: ConfigChange[] = [];
    const outsider = pick(outsiders);
    if (outsider !== undefined) options.push({ type: "addLearner", node: outsider });
    const learner = pick(m.learners);
    if (learner !== undefined) options.push({ type: "promote", node: learner });
    const voter = pick(m.voters);
    if (voter !== undefined && m.voters.length > 2) options.push({ type: "remove", node: voter });
    const chosen = options[this.#prng.int(0, options.length - 1)];
    if (chosen === undefined) return;
    const result = raft.proposeConfigChange(chosen);
    this.#log(`n${leader.id} config ${chosen.type} ${chosen.node}: ${result.type}`);
    this.#drain(leader.id);
  }

  #transfer(): void {
    const leader = this.#currentLeader();
    const raft = leader?.raft;
    if (leader === undefined || raft === undefined) return;
    const voters = raft.membership.voters.filter((id) => id !== leader.id);
    const to = voters[this.#prng.int(0, voters.length - 1)];
    if (to === undefined) return;
    const result = raft.transferLeadership(to);
    this.#log(`n${leader.id} transfer to ${to}: ${result.type}`);
    this.#drain(leader.id);
  }

  #compact(node: SimNode): void {
    const raft = node.raft;
    if (raft === undefined || node.paused) return;
    // Retention: drop a committed prefix (it must end at an entry boundary).
    const hw = raft.highWatermark;
    if (hw <= raft.logStart) return;
    const target = offset(raft.logStart + this.#prng.int(1, hw - raft.logStart));
    const to = target < node.log.endOffset() ? node.log.entryAt(target).base : target;
    if (to > raft.logStart && raft.compact(to)) {
      this.#log(`n${node.id} compact to ${to}`);
      this.#drain(node.id);
    }
  }

  #read(): void {
    const leader = this.#currentLeader();
    const raft = leader?.raft;
    if (leader === undefined || raft === undefined) return;
    const id = this.#nextReadId++;
    this.#reads.set(id, this.#checker.commitEnd);
    const result = raft.readIndex(id);
    this.#log(`n${leader.id} read ${id}: ${result.type}`);
    if (result.type !== "pending") this.#reads.delete(id);
    this.#drain(leader.id);
  }

  // ---------------------------------------------------------------- liveness

  #heal(): void {
    this.#healedAtMs = this.#nowMs;
    this.#blocked.clear();
    this.#knobs.loss = 0;
    this.#knobs.dup = 0;
    for (const node of this.#nodes.values()) {
      node.diskDelayMs = 0;
      if (node.raft === undefined) this.#start(node.id);
    }
    for (const node of this.#nodes.values()) this.#resume(node.id);
    this.#log("heal: liveness phase");
    if (this.#trace !== undefined) {
      for (const node of this.#nodes.values()) {
        const raft = node.raft;
        if (raft === undefined) continue;
        const m = raft.membership;
        this.#log(
          `n${node.id} ${raft.role} t${raft.term} log=${raft.logStart}..${raft.logEnd} hw=${raft.highWatermark} voters=${m.voters} learners=${m.learners}`,
        );
      }
    }
  }

  #checkLiveness(): void {
    const leader = this.#currentLeader();
    const raft = leader?.raft;
    if (raft === undefined) return;
    if (this.#committedMarker === undefined) {
      const marker = this.#marker;
      if (marker === undefined) return;
      if (raft.term !== marker.term) {
        // The marker's leader lost office; propose a new marker under the new leader.
        this.#marker = undefined;
        return;
      }
      if (raft.highWatermark < marker.end) return;
      this.#committedMarker = marker.end;
      this.#log(`liveness: marker committed after ${this.#nowMs - (this.#healedAtMs ?? 0)} ms`);
    }
    // A committed entry stays committed, so any later leader's voters must learn of it.
    for (const id of raft.membership.voters) {
      const hw = this.#node(id).raft?.highWatermark ?? 0;
      if (hw < this.#committedMarker) return;
    }
    this.#livenessDone = true;
    this.#log(`liveness: every voter caught up after ${this.#nowMs - (this.#healedAtMs ?? 0)} ms`);
  }
}

/** Runs one seed. */
export function runSeed(options: SimOptions): SimResult {
  const sim = new Simulation(options);
  const { violation, stats, trace } = sim.run();
  return { seed: options.seed, violation, trace, summary: sim.summary, stats };
}

/** Runs seeds in order and returns the first failure (undefined when all pass). */
export function runSeeds(
  seeds: Iterable<number>,
  options: Omit<SimOptions, "seed"> = {},
): { ran: number; failure: SimResult | undefined } {
  let ran = 0;
  for (const seed of seeds) {
    ran++;
    const result = runSeed({ ...options, seed });
    if (result.violation !== undefined) return { ran, failure: result };
  }
  return { ran, failure: undefined };
}
