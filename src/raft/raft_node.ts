/**
 * The Raft consensus core: a pure, synchronous state machine in the style of etcd's raft
 * library. Inputs are `step(message)`, `tick()` and local requests (`propose`,
 * `proposeConfigChange`, `transferLeadership`, `readIndex`, `compact`); outputs are
 * collected in a `Ready`. It has no clock, no randomness of its own (a seeded `Prng` is
 * passed in), no I/O and no async code, so a whole cluster replays exactly from one seed.
 *
 * The I/O contract (the runtime's loop):
 *   1. `rd = node.ready()` when `node.hasReady()`;
 *   2. persist `rd.hardState` durably (term and vote must survive a crash, §5.1 Figure 2);
 *   3. apply `rd.logStart` (when `discard` is set, before the entries), then append
 *      `rd.entries`, replacing any stored suffix from `rd.entries[0].base` (§5.3);
 *   4. send `rd.messages` (only after 2 and 3: a vote or an append acknowledgement promises
 *      that the state is stored);
 *   5. apply committed offsets `rd.committed` and answer `rd.readStates`;
 *   6. `node.advance(rd)`; no other call may happen between `ready()` and `advance()`.
 *
 * Durability modes: in step 3 the runtime either syncs entries before step 4 ("sync"), or
 * only writes them to a cache and syncs later ("writeCaching", as Redpanda's
 * `write_caching`), reporting each completed sync with `synced(end)`. Replicas report two
 * positions: written-and-matching (`matchEnd`) and synced (`durableEnd`). The commit end
 * (`highWatermark`) counts only synced copies, so every Raft guarantee holds in both modes;
 * `cachedHighWatermark` counts written copies and is what a write-caching runtime may
 * acknowledge to producers early (such writes can be lost if W replicas crash together).
 * Hard state must be synced before step 4 in both modes (else a replica could vote twice
 * in one term).
 *
 * Features: randomized election timeouts (§5.2), pre-vote and check-quorum (thesis §9.6,
 * §6.2), pipelined replication with fast back-off (§5.3), commit by counting replicas of
 * current-term entries only (§5.4.2), leadership transfer (thesis §3.10), learners,
 * one-at-a-time membership change (thesis §4.1), a log starting after offset 0 with a reset
 * of far-behind followers (§7), read index (thesis §6.4) and flexible quorums W/E.
 */
import {
  assert,
  type NodeId,
  type Offset,
  offset,
  type Prng,
  type Term,
  term,
} from "../util/mod.ts";
import { type LogStart, LogView } from "./_log_view.ts";
import type { Entry } from "./entry.ts";
import {
  applyConfigChange,
  type ConfigChange,
  type Membership,
  type Quorums,
  quorumsOf,
} from "./membership.ts";
import type { Message } from "./message.ts";
import { Progress } from "./progress.ts";
import type { RaftLog } from "./raft_log.ts";

export type { LogStart } from "./_log_view.ts";

/** A replica's role (§5.1, plus the pre-vote phase). */
export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** State that must be persisted (§5.1 Figure 2), plus the commit end as a hint. */
export interface HardState {
  readonly term: Term;
  readonly votedFor: NodeId | undefined;
  /** Commit end (exclusive). May be persisted lazily; restart clamps it to the log end. */
  readonly highWatermark: Offset;
}

/** Settings of one replica. */
export interface RaftConfig {
  readonly id: NodeId;
  /** The stored log (read only for the core). */
  readonly log: RaftLog;
  /** Seeded randomness for election timeouts. */
  readonly prng: Prng;
  /** The configuration in force at the log start (the bootstrap configuration). */
  readonly membership: Membership;
  /** Hard state restored after a restart. */
  readonly hardState?: HardState;
  /** Minimum election timeout in ticks; the timeout is drawn from [n, 2n). */
  readonly electionTicks: number;
  /** Heartbeat interval in ticks; must be below electionTicks. */
  readonly heartbeatTicks: number;
  /** Pre-vote phase before elections (default true). */
  readonly preVote?: boolean;
  /** Leaders step down without a live replication quorum; followers keep a lease (default true). */
  readonly checkQuorum?: boolean;
  /** Unacknowledged appends per follower in replicate state (default 64). */
  readonly maxInflight?: number;
  /** Byte budget of one append message (default 1 MiB). */
  readonly maxAppendBytes?: number;
  /**
   * Offsets a leader may hold beyond its commit end; proposals past it are refused, so a
   * leader that cannot commit (no W) does not grow an unbounded backlog (default 2^20).
   */
  readonly maxUncommittedOffsets?: number;
  /**
   * "sync" (default): the runtime syncs entries before sending the Ready's messages and
   * before `advance()`. "writeCaching": it may only write them to a cache and reports
   * completed syncs with `synced()`. All replicas of a group must use the same mode.
   */
  readonly durability?: Durability;
}

/** When appended entries become durable (see the file comment). */
export type Durability = "sync" | "writeCaching";

/** A confirmed linearizable read: serve it once `index` is applied. */
export interface ReadState {
  readonly requestId: number;
  readonly index: Offset;
}

/** Everything the runtime must do after a batch of inputs (see the file comment). */
export interface Ready {
  readonly hardState: HardState | undefined;
  readonly logStart: LogStart | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  /** Newly committed offsets [from, to). */
  readonly committed: { readonly from: Offset; readonly to: Offset } | undefined;
  readonly readStates: readonly ReadState[];
}

/** Outcome of a local request. */
export type RequestResult =
  | { readonly type: "ok"; readonly base: Offset; readonly last: Offset; readonly term: Term }
  | { readonly type: "pending" }
  | { readonly type: "notLeader"; readonly leader: NodeId | undefined }
  | { readonly type: "refused"; readonly reason: string };

const DEFAULT_MAX_INFLIGHT = 64;
const DEFAULT_MAX_APPEND_BYTES = 1 << 20;
const DEFAULT_MAX_UNCOMMITTED_OFFSETS = 1 << 20;

interface PendingRead {
  readonly requestId: number;
  readonly index: Offset;
  readonly seq: number;
  readonly acks: Set<NodeId>;
}

/** One replica of a Raft group. */
export class RaftNode {
  readonly #id: NodeId;
  readonly #log: LogView;
  readonly #prng: Prng;
  readonly #electionTicks: number;
  readonly #heartbeatTicks: number;
  readonly #preVote: boolean;
  readonly #checkQuorum: boolean;
  readonly #maxInflight: number;
  readonly #maxAppendBytes: number;
  readonly #maxUncommitted: number;

  #role: Role = "follower";
  #term: Term;
  #votedFor: NodeId | undefined;
  #leader: NodeId | undefined;
  #hw: Offset;
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedTimeout = 0;
  #votes = new Map<NodeId, boolean>();
  /** The term a pre-candidate asks about (thesis §9.6). */
  #preVoteTerm: Term = term(0);
  #progress = new Map<NodeId, Progress>();
  #transferTarget: NodeId | undefined;
  #readSeq = 0;
  #pendingReads: PendingRead[] = [];
  #readStates: ReadState[] = [];
  #msgs: Message[] = [];
  #persisted: HardState;
  #appliedHw: Offset;
  /** End of the entries the runtime has stored (the leader's own match). */
  #storedEnd: Offset;
  /** End of our entries known synced (= #storedEnd in sync mode). */
  #syncedEnd: Offset;
  /** Follower: our log matches the current leader's below this offset (0: unknown). */
  #matchedEnd: Offset = offset(0);
  readonly #durability: Durability;
  #cachedHw: Offset;
  #outstanding: Ready | undefined;
  /** New own entries not yet offered to followers (see #appendOwn). */
  #broadcastPending = false;

  /** @throws {RangeError} on invalid settings or membership. */
  constructor(config: RaftConfig) {
    if (!(config.heartbeatTicks >= 1 && config.heartbeatTicks < config.electionTicks)) {
      throw new RangeError(
        `Invalid tick settings: heartbeat "${config.heartbeatTicks}" must be in [1, election "${config.electionTicks}")`,
      );
    }
    quorumsOf(config.membership); // validates W + E > N
    this.#id = config.id;
    this.#log = new LogView(config.log, config.membership);
    this.#prng = config.prng;
    this.#electionTicks = config.electionTicks;
    this.#heartbeatTicks = config.heartbeatTicks;
    this.#preVote = config.preVote ?? true;
    this.#checkQuorum = config.checkQuorum ?? true;
    this.#maxInflight = config.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    this.#maxAppendBytes = config.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES;
    this.#maxUncommitted = config.maxUncommittedOffsets ?? DEFAULT_MAX_UNCOMMITTED_OFFSETS;
    this.#durability = config.durability ?? "sync";
    const hs = config.hardState;
    this.#term = hs?.term ?? term(0);
    this.#votedFor = hs?.votedFor;
    // A persisted commit end may exceed the log after losing unsynced writes (write
    // caching), and is at least the log start (everything before it was committed).
    const start = this.#log.start();
    const end = this.#log.end();
    this.#hw = offset(Math.min(Math.max(hs?.highWatermark ?? 0, start), end));
    this.#persisted = { term: this.#term, votedFor: this.#votedFor, highWatermark: this.#hw };
    this.#appliedHw = this.#hw;
    this.#storedEnd = end;
    // After a restart the stored log is what survived, so it is synced by definition.
    this.#syncedEnd = end;
    this.#cachedHw = this.#hw;
    this.#resetElectionTimer();
  }

  get id(): NodeId {
    return this.#id;
  }
  get role(): Role {
    return this.#role;
  }
  get term(): Term {
    return this.#term;
  }
  get votedFor(): NodeId | undefined {
    return this.#votedFor;
  }
  /** The leader this replica follows in its term, if known. */
  get leader(): NodeId | undefined {
    return this.#leader;
  }
  /** Commit end: every offset below it is committed. */
  get highWatermark(): Offset {
    return this.#hw;
  }
  /**
   * Leader: end of entries written (not necessarily synced) on W voters; what a
   * write-caching runtime may acknowledge early. Never below the commit end.
   */
  get cachedHighWatermark(): Offset {
    return this.#cachedHw > this.#hw ? this.#cachedHw : this.#hw;
  }
  get logStart(): Offset {
    return this.#log.start();
  }
  get logEnd(): Offset {
    return this.#log.end();
  }
  /** The configuration in force (the latest in the log, committed or not). */
  get membership(): Membership {
    return this.#log.membership();
  }
  /** The leader's view of a follower (match end, next offset, state), for tests and ops. */
  progressOf(id: NodeId): { match: Offset; next: Offset; state: string } | undefined {
    const pr = this.#progress.get(id);
    return pr === undefined ? undefined : { match: pr.match, next: pr.next, state: pr.state };
  }
  /** Term of the entry covering `at` (must be in the log). */
  termAt(at: Offset): Term {
    return this.#log.entryAt(at).term;
  }

  // ---------------------------------------------------------------- time

  /** Advances logical time by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.#assertNoReady();
    if (this.#role === "leader") {
      this.#tickLeader();
      return;
    }
    this.#electionElapsed++;
    if (this.#isPromotable() && this.#electionElapsed >= this.#randomizedTimeout) {
      // §5.2: no word from a leader within the timeout, start an election.
      this.#campaign(this.#preVote ? "preVote" : "election", false);
    }
  }

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.#electionTicks) {
      this.#electionElapsed = 0;
      // Check-quorum (thesis §6.2): a leader that has not heard from W voters in an
      // election timeout cannot commit anything; it steps down so clients look elsewhere.
      // W, not N - E + 1: with W > N - E + 1 a leader might still block elections but
      // would be unable to make progress, which is the failure this rule exists for.
      if (this.#checkQuorum && !this.#quorumActive()) {
        this.#becomeFollower(this.#term, undefined);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.#transferTarget = undefined;
    }
    if (this.#heartbeatElapsed >= this.#heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#broadcastHeartbeat();
    }
  }

  // ---------------------------------------------------------------- local requests

  /** Appends a batch of `count` records (leader only); it commits once W replicas hold it. */
  propose(bytes: Uint8Array, count: number): RequestResult {
    this.#assertNoReady();
    assert(Number.isSafeInteger(count) && count >= 1, `record count ${count} must be >= 1`);
    const refusal = this.#refuseUnlessLeading();
    if (refusal !== undefined) return refusal;
    const backlog = this.#log.end() - this.#hw;
    if (backlog > 0 && backlog + count > this.#maxUncommitted) {
      return refused(
        `Cannot propose: ${backlog} offsets await commit, limit "${this.#maxUncommitted}"`,
      );
    }
    const entry = this.#appendOwn(count, { type: "data", bytes });
    return { type: "ok", base: entry.base, last: entry.last, term: entry.term };
  }

  /**
   * Proposes a single-server membership change (thesis §4.1). Refused while an earlier
   * change is uncommitted, before this leader has committed an entry of its term (the
   * 2015 fix to single-server changes), when promoting a learner that has not caught up to
   * the commit end, and for voter changes under custom quorums (see membership.ts).
   */
  proposeConfigChange(change: ConfigChange): RequestResult {
    this.#assertNoReady();
    const refusal = this.#refuseUnlessLeading();
    if (refusal !== undefined) return refusal;
    const latest = this.#log.latestConfigBase();
    if (latest !== undefined && latest >= this.#hw) {
      return refused("Cannot change membership: the previous change is not committed");
    }
    if (!this.#hasCommittedInTerm()) {
      return refused("Cannot change membership: no entry of this term is committed yet");
    }
    if (change.type === "promote") {
      const pr = this.#progress.get(change.node);
      if (pr === undefined || pr.match < this.#hw) {
        return refused(`Cannot change membership: learner "${change.node}" has not caught up`);
      }
    }
    const result = applyConfigChange(this.membership, change);
    if (!result.ok) return refused(result.reason);
    const entry = this.#appendOwn(1, { type: "config", membership: result.membership });
    return { type: "ok", base: entry.base, last: entry.last, term: entry.term };
  }

  /** Hands leadership to `to` once its log is up to date (thesis §3.10). */
  transferLeadership(to: NodeId): RequestResult {
    this.#assertNoReady();
    if (this.#role !== "leader") return { type: "notLeader", leader: this.#leader };
    if (to === this.#id) return { type: "pending" };
    if (!this.membership.voters.includes(to)) {
      return refused(`Cannot transfer leadership: node "${to}" is not a voter`);
    }
    this.#transferTarget = to;
    this.#electionElapsed = 0; // the transfer is abandoned after one election timeout
    const pr = this.#progress.get(to);
    assert(pr !== undefined, `no progress for voter ${to}`);
    if (pr.match === this.#log.end()) this.#send({ type: "timeoutNow", to });
    else this.#sendAppend(to, true);
    return { type: "pending" };
  }

  /**
   * Starts a linearizable read (thesis §6.4): once voters that intersect every election
   * quorum (`Quorums.confirm`, counting the leader) confirm this leadership, a `ReadState` with the
   * commit end at request time appears in `ready()`. Pending reads are dropped if the
   * leader steps down; the runtime times them out.
   */
  readIndex(requestId: number): RequestResult {
    this.#assertNoReady();
    if (this.#role !== "leader") return { type: "notLeader", leader: this.#leader };
    // §8: until it commits an entry of its own term a leader may not know the commit end.
    if (!this.#hasCommittedInTerm()) {
      return refused("Cannot serve read: no entry of this term is committed yet");
    }
    this.#readSeq++;
    this.#pendingReads.push({
      requestId,
      index: this.#hw,
      seq: this.#readSeq,
      acks: new Set([this.#id]),
    });
    this.#releaseReads();
    if (this.#pendingReads.length > 0) this.#broadcastHeartbeat();
    return { type: "pending" };
  }

  /**
   * Moves the log start to `start` (retention), which must be a committed entry boundary
   * with nothing waiting to be stored. Returns false when the request is refused.
   */
  compact(start: Offset): boolean {
    this.#assertNoReady();
    const log = this.#log;
    if (start <= log.start() || start > this.#hw) return false;
    if (log.unstableEntries().length > 0 || log.pendingStart() !== undefined) return false;
    if (start < log.end() && log.entryAt(start).base !== start) return false;
    log.compact(start);
    return true;
  }

  // ---------------------------------------------------------------- ready / advance

  /** True when `ready()` has something to hand out. */
  hasReady(): boolean {
    const hs = this.#persisted;
    return this.#msgs.length > 0 || this.#broadcastPending ||
      this.#log.unstableEntries().length > 0 ||
      this.#log.pendingStart() !== undefined ||
      this.#hw > this.#appliedHw ||
      this.#readStates.length > 0 ||
      hs.term !== this.#term || hs.votedFor !== this.#votedFor || hs.highWatermark !== this.#hw;
  }

  /** Collects what the runtime must persist, send and apply (see the file comment). */
  ready(): Ready {
    this.#assertNoReady();
    if (this.#broadcastPending) {
      this.#broadcastPending = false;
      if (this.#role === "leader") this.#broadcastAppend();
    }
    const hs = this.#persisted;
    const changed = hs.term !== this.#term || hs.votedFor !== this.#votedFor ||
      hs.highWatermark !== this.#hw;
    const rd: Ready = {
      hardState: changed
        ? { term: this.#term, votedFor: this.#votedFor, highWatermark: this.#hw }
        : undefined,
      logStart: this.#log.pendingStart(),
      entries: [...this.#log.unstableEntries()],
      messages: this.#msgs,
      committed: this.#hw > this.#appliedHw ? { from: this.#appliedHw, to: this.#hw } : undefined,
      readStates: this.#readStates,
    };
    this.#msgs = [];
    this.#readStates = [];
    this.#outstanding = rd;
    return rd;
  }

  /** Acknowledges that `rd` was handled per the I/O contract. */
  advance(rd: Ready): void {
    assert(this.#outstanding === rd, "advance() without the matching ready()");
    this.#outstanding = undefined;
    if (rd.hardState !== undefined) this.#persisted = rd.hardState;
    if (rd.committed !== undefined) this.#appliedHw = rd.committed.to;
    this.#log.markStored();
    this.#storedEnd = this.#log.end();
    if (this.#durability === "sync" || this.#syncedEnd > this.#storedEnd) {
      this.#syncedEnd = this.#storedEnd;
    }
    // The leader's own stored entries count towards W (§5.4.2).
    if (this.#role === "leader") this.#maybeCommit();
  }

  /**
   * Write caching: the runtime synced the stored log up to `end` (a sync that completed for
   * the current log contents). A follower tells its leader, which may then commit.
   */
  synced(end: Offset): void {
    this.#assertNoReady();
    const upTo = end < this.#storedEnd ? end : this.#storedEnd;
    if (upTo <= this.#syncedEnd) return;
    this.#syncedEnd = upTo;
    if (this.#role === "leader") {
      this.#maybeCommit();
    } else if (this.#leader !== undefined && this.#matchedEnd > 0) {
      this.#send({
        type: "appendResp",
        to: this.#leader,
        reject: false,
        matchEnd: this.#matchedEnd,
        durableEnd: this.#durableEndFor(this.#matchedEnd),
      });
    }
  }

  // ---------------------------------------------------------------- messages

  /** Handles one message from a peer. */
  step(msg: Message): void {
    this.#assertNoReady();
    if (msg.to !== this.#id) return;
    if (msg.term > this.#term) {
      if (!this.#acceptHigherTerm(msg)) return;
    } else if (msg.term < this.#term) {
      this.#answerStale(msg);
      return;
    }
    switch (msg.type) {
      case "preVote":
      case "vote":
        this.#handleVoteRequest(msg);
        return;
      case "preVoteResp":
        if (this.#role === "preCandidate") {
          // Granted answers carry the proposed term; refusals the voter's term (= ours).
          if (msg.granted && msg.term === this.#preVoteTerm) this.#recordVote(msg.from, true);
          else if (!msg.granted && msg.term === this.#term) this.#recordVote(msg.from, false);
        }
        return;
      case "voteResp":
        if (this.#role === "candidate") this.#recordVote(msg.from, msg.granted);
        return;
      case "append":
      case "heartbeat":
      case "installSnapshot":
        if (this.#role === "leader") return; // two leaders in one term: impossible (§5.2)
        if (this.#role !== "follower" || this.#leader !== msg.from) {
          // §5.2: a candidate that hears from a leader of its term returns to follower.
          this.#becomeFollower(this.#term, msg.from);
        }
        this.#electionElapsed = 0;
        if (msg.type === "append") this.#handleAppend(msg);
        else if (msg.type === "heartbeat") this.#handleHeartbeat(msg);
        else this.#handleInstallSnapshot(msg);
        return;
      case "appendResp":
        if (this.#role === "leader") this.#handleAppendResp(msg);
        return;
      case "heartbeatResp":
        if (this.#role === "leader") this.#handleHeartbeatResp(msg);
        return;
      case "timeoutNow":
        // Leadership transfer: campaign at once, skipping pre-vote (thesis §3.10).
        if (this.#role !== "leader" && this.#isPromotable()) this.#campaign("election", true);
        return;
    }
  }

  /** §5.1: a higher term makes us a follower, except for vote traffic (see below). */
  #acceptHigherTerm(msg: Message): boolean {
    if (msg.type === "preVote" || msg.type === "vote") {
      // Leader lease (thesis §4.2.3): a replica that heard from a leader within the minimum
      // election timeout ignores vote requests, so a partitioned node cannot depose a
      // healthy leader. A transfer's vote bypasses the lease.
      const transfer = msg.type === "vote" && msg.transfer;
      const inLease = this.#checkQuorum && this.#leader !== undefined &&
        this.#electionElapsed < this.#electionTicks;
      if (inLease && !transfer) return false;
    }
    // Pre-votes and granted pre-vote answers never change our term (thesis §9.6).
    if (msg.type === "preVote") return true;
    if (msg.type === "preVoteResp" && msg.granted) return true;
    const fromLeader = msg.type === "append" || msg.type === "heartbeat" ||
      msg.type === "installSnapshot";
    // Figure 2: only a leader's message or a granted vote restarts the election timer; a
    // higher term alone does not (else doomed candidates, e.g. with stale logs under E = N,
    // keep resetting the one replica that could win). A leader's counter means something
    // else, so it restarts.
    const resetTimer = fromLeader || this.#role === "leader";
    this.#becomeFollower(msg.term, fromLeader ? msg.from : undefined, resetTimer);
    return true;
  }

  /** A message from an older term: tell stale leaders and candidates our term. */
  #answerStale(msg: Message): void {
    if (msg.type === "append" || msg.type === "heartbeat" || msg.type === "installSnapshot") {
      // With pre-vote and check-quorum a deposed leader may not learn of the new term
      // otherwise; any message with our term makes it step down.
      const none = offset(0);
      this.#send({
        type: "heartbeatResp",
        to: msg.from,
        readSeq: 0,
        matchEnd: none,
        durableEnd: none,
        logEnd: this.#log.end(),
      });
    } else if (msg.type === "preVote" || msg.type === "vote") {
      // §5.1 (RequestVote reply carries currentTerm): a candidate behind in terms learns
      // ours. Without it a candidate whose only peers moved on (say, the one other voter
      // of a new configuration) keeps campaigning in stale terms that are never answered.
      const type = msg.type === "vote" ? "voteResp" : "preVoteResp";
      this.#send({ type, to: msg.from, granted: false });
    }
  }

  #handleVoteRequest(msg: Extract<Message, { type: "preVote" | "vote" }>): void {
    const isPre = msg.type === "preVote";
    // §5.2: one vote per term, first come first served; a replica that knows a leader in
    // this term does not vote. A pre-vote for a later term commits to nothing.
    const canVote = this.#votedFor === msg.from ||
      (this.#votedFor === undefined && this.#leader === undefined) ||
      (isPre && msg.term > this.#term);
    // §5.4.1: grant only to a candidate whose log is at least as up to date as ours.
    const lastTerm = this.#log.lastTerm();
    const upToDate = msg.lastTerm > lastTerm ||
      (msg.lastTerm === lastTerm && msg.logEnd >= this.#log.end());
    const respType = isPre ? "preVoteResp" : "voteResp";
    if (canVote && upToDate) {
      this.#sendWithTerm({ type: respType, to: msg.from, granted: true }, msg.term);
      if (!isPre) {
        this.#votedFor = msg.from;
        this.#electionElapsed = 0;
      }
    } else {
      this.#send({ type: respType, to: msg.from, granted: false });
    }
  }

  // ---------------------------------------------------------------- follower side

  #handleAppend(msg: Extract<Message, { type: "append" }>): void {
    const log = this.#log;
    let base = msg.base;
    let entries = msg.entries;
    if (base < this.#hw) {
      // The prefix below our commit end is committed, hence in the leader's log too
      // (§5.4.3 leader completeness): skip it and continue at the commit end.
      entries = entries.filter((e) => e.base >= this.#hw);
      base = this.#hw;
      const first = entries[0];
      if (first === undefined) {
        this.#acceptAppend(msg.from, this.#hw);
        return;
      }
      assert(first.base === base, "commit end is not an entry boundary");
    } else if (base > log.end() || log.termBefore(base) !== msg.prevTerm) {
      // §5.3 consistency check failed. Hint: walk back over entries whose term exceeds the
      // leader's prevTerm, so the leader can skip a whole term per round trip.
      let hint = offset(Math.min(base, log.end()));
      while (hint > log.start() && log.termBefore(hint) > msg.prevTerm) {
        hint = log.entryAt(offset(hint - 1)).base;
      }
      this.#send({
        type: "appendResp",
        to: msg.from,
        reject: true,
        rejectedBase: msg.base,
        hintEnd: hint,
        hintTerm: log.termBefore(hint),
        logEnd: log.end(),
      });
      return;
    }
    // Skip entries we already hold; an entry with the same offset and term is the same
    // entry (Log Matching, §5.3). The first mismatch starts the suffix to overwrite.
    let i = 0;
    for (; i < entries.length; i++) {
      const e = entries[i];
      assert(e !== undefined, "entry index out of range");
      if (e.base >= log.end()) break;
      const held = log.entryAt(e.base);
      if (held.term !== e.term) {
        assert(held.base === e.base, `conflict at ${e.base} is not an entry boundary`);
        break;
      }
      assert(held.base === e.base && held.last === e.last, `entry at ${e.base} differs`);
    }
    const fresh = entries.slice(i);
    const firstFresh = fresh[0];
    if (firstFresh !== undefined) {
      assert(firstFresh.base >= this.#hw, `leader overwrites committed offset ${firstFresh.base}`);
      // Overwritten entries are no longer synced, whatever the disk held.
      if (firstFresh.base < this.#syncedEnd) this.#syncedEnd = firstFresh.base;
      log.append(fresh);
    }
    const tail = entries.at(-1);
    const lastNew = tail === undefined ? base : offset(tail.last + 1);
    // §5.3: commit end = min(leaderCommit, index of last new entry).
    this.#advanceHw(offset(Math.min(msg.highWatermark, lastNew)));
    this.#acceptAppend(msg.from, lastNew);
  }

  /** Answers a successful append: matching below `matchEnd`. */
  #acceptAppend(to: NodeId, matchEnd: Offset): void {
    if (matchEnd > this.#matchedEnd) this.#matchedEnd = matchEnd;
    this.#send({
      type: "appendResp",
      to,
      reject: false,
      matchEnd,
      durableEnd: this.#durableEndFor(matchEnd),
    });
  }

  /**
   * Synced end to report with `matchEnd`. In sync mode the message leaves only after the
   * runtime synced the Ready's entries, so everything matched is durable by then.
   */
  #durableEndFor(matchEnd: Offset): Offset {
    if (this.#durability === "sync") return matchEnd;
    return this.#syncedEnd < matchEnd ? this.#syncedEnd : matchEnd;
  }

  #handleHeartbeat(msg: Extract<Message, { type: "heartbeat" }>): void {
    // The leader sends min(match, commit end), so our log matches up to that point.
    this.#advanceHw(offset(Math.min(msg.highWatermark, this.#log.end())));
    this.#send({
      type: "heartbeatResp",
      to: msg.from,
      readSeq: msg.readSeq,
      matchEnd: this.#matchedEnd,
      durableEnd: this.#durableEndFor(this.#matchedEnd),
      logEnd: this.#log.end(),
    });
  }

  #handleInstallSnapshot(msg: Extract<Message, { type: "installSnapshot" }>): void {
    const log = this.#log;
    if (msg.logStart <= this.#hw) {
      this.#acceptAppend(msg.from, this.#hw);
      return;
    }
    const holdsPrefix = msg.logStart > log.start() && msg.logStart <= log.end() &&
      log.termBefore(msg.logStart) === msg.startTerm;
    if (!holdsPrefix) {
      // §7: our log is too far behind (or diverged); restart it at the leader's log start.
      // The reset is persisted with the Ready, so the (empty) log is synced to its start.
      log.reset(msg.logStart, msg.startTerm, msg.membership);
      this.#syncedEnd = msg.logStart;
    }
    // Everything before the leader's log start is committed.
    this.#hw = msg.logStart;
    this.#acceptAppend(msg.from, msg.logStart);
  }

  #advanceHw(to: Offset): void {
    // Commit positions never go back.
    if (to > this.#hw) this.#hw = to;
  }

  // ---------------------------------------------------------------- leader side

  #handleAppendResp(msg: Extract<Message, { type: "appendResp" }>): void {
    const pr = this.#progress.get(msg.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (msg.reject) {
      if (pr.state === "snapshot") return;
      // An answer to an old append is stale: in replicate state if the follower already
      // matched past it, in probe state unless it answers the current probe.
      const stale = pr.state === "replicate"
        ? msg.rejectedBase <= pr.match
        : msg.rejectedBase !== pr.next;
      if (stale) return;
      // A log end below match: the follower lost acknowledged, unsynced writes (or this is
      // a stale duplicate; lowering is safe either way). Round down to one of our entry
      // boundaries: the follower's log end may sit inside one of our entries.
      if (msg.logEnd < pr.match) pr.lostAfter(this.#boundaryAtOrBelow(msg.logEnd));
      const start = this.#log.start();
      // Rejected at our log start: the follower diverges before it, so only a reset to
      // our log start can help (§7); a next below the start triggers it.
      const next = msg.rejectedBase <= start && start > 0
        ? offset(start - 1)
        : this.#nextFromHint(msg.hintEnd, msg.hintTerm);
      pr.becomeProbe(next);
      this.#sendAppend(msg.from, true);
      return;
    }
    const grew = pr.acknowledge(msg.matchEnd, msg.durableEnd);
    if (pr.state === "probe" && grew) pr.becomeReplicate();
    else if (pr.state === "snapshot" && pr.match >= (pr.pendingSnapshot ?? 0)) {
      pr.becomeReplicate();
    }
    if (grew) this.#maybeCommit();
    if (this.#role !== "leader") return; // stepped down after committing its removal
    // A probe answered without progress (a duplicate or stale answer) waits for the next
    // heartbeat answer instead of probing again at once, which could loop.
    if (grew || pr.state === "replicate") this.#sendWhileOpen(msg.from);
    if (this.#transferTarget === msg.from && pr.match === this.#log.end()) {
      this.#send({ type: "timeoutNow", to: msg.from });
    }
  }

  #handleHeartbeatResp(msg: Extract<Message, { type: "heartbeatResp" }>): void {
    const pr = this.#progress.get(msg.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    // The repeated match/durable ends stand in for lost append answers and sync reports
    // (both are true statements about this term's log, so stale copies are harmless).
    if (
      msg.matchEnd > 0 && pr.state !== "snapshot" && pr.acknowledge(msg.matchEnd, msg.durableEnd)
    ) {
      this.#maybeCommit();
      if (this.#role !== "leader") return;
    }
    if (this.#durability === "writeCaching" && msg.logEnd < pr.match) {
      // The follower crashed and lost acknowledged, unsynced entries; without this, a
      // leader with nothing new to send would never find out (all replicas of a group
      // share one durability mode; a stale answer only costs a re-send).
      pr.lostAfter(this.#boundaryAtOrBelow(msg.logEnd));
      if (pr.state !== "snapshot") pr.becomeProbe(pr.match);
    }
    if (pr.state === "replicate" && pr.isPaused()) pr.freeOneSlot();
    if (pr.state === "probe") pr.probeSent = false;
    // A reset that was lost (or sent to a crashed follower) is re-sent: the follower is
    // alive and still below the start. `next` is still below our log start.
    if (pr.state === "snapshot") pr.becomeProbe(pr.next);
    // A follower behind us gets an append even if empty: if appends were lost its
    // rejection starts the back-off (§5.3).
    if (pr.match < this.#log.end()) this.#sendAppend(msg.from, true);
    if (msg.readSeq > 0) {
      for (const read of this.#pendingReads) {
        if (read.seq <= msg.readSeq) read.acks.add(msg.from);
      }
      this.#releaseReads();
    }
  }

  /** The base of our entry covering `at`, or `at` itself outside our log. */
  #boundaryAtOrBelow(at: Offset): Offset {
    const log = this.#log;
    return at > log.start() && at < log.end() ? log.entryAt(at).base : at;
  }

  /** Leader's next offset from a rejection hint: skip entries of terms above `hintTerm`. */
  #nextFromHint(hintEnd: Offset, hintTerm: Term): Offset {
    const log = this.#log;
    let next = offset(Math.min(hintEnd, log.end()));
    if (next < log.start()) return next; // too far behind: reset to our log start
    while (next > log.start() && log.termBefore(next) > hintTerm) {
      next = log.entryAt(offset(next - 1)).base;
    }
    // Round down to an entry boundary of our log.
    if (next < log.end()) next = log.entryAt(next).base;
    return next;
  }

  /** Sends appends to `to` while the pipelining window is open and entries remain. */
  #sendWhileOpen(to: NodeId): void {
    const end = this.#log.end();
    for (let sent = 0; sent <= this.#maxInflight; sent++) {
      const pr = this.#progress.get(to);
      if (pr === undefined || pr.isPaused() || pr.next >= end) return;
      this.#sendAppend(to, false);
    }
  }

  /** Sends one append (or a reset to our log start) to `to`, unless its window is closed. */
  #sendAppend(to: NodeId, allowEmpty: boolean): void {
    const pr = this.#progress.get(to);
    if (pr === undefined || pr.isPaused()) return;
    const log = this.#log;
    if (pr.next < log.start()) {
      // §7: the entries this follower needs are gone; reset it to our log start.
      this.#send({
        type: "installSnapshot",
        to,
        logStart: log.start(),
        startTerm: log.startTerm(),
        membership: log.membershipAt(log.start()),
      });
      pr.becomeSnapshot(log.start());
      return;
    }
    const entries = log.entries(pr.next, this.#maxAppendBytes);
    const tail = entries.at(-1);
    if (tail === undefined && !allowEmpty && pr.state === "replicate") return;
    assert(entries[0] === undefined || entries[0].base === pr.next, "next is mid-entry");
    this.#send({
      type: "append",
      to,
      base: pr.next,
      prevTerm: log.termBefore(pr.next),
      entries,
      highWatermark: this.#hw,
    });
    pr.sentEntries(tail === undefined ? pr.next : offset(tail.last + 1));
  }

  #broadcastAppend(): void {
    for (const id of this.#progress.keys()) this.#sendWhileOpen(id);
  }

  #broadcastHeartbeat(): void {
    for (const [id, pr] of this.#progress) {
      this.#send({
        type: "heartbeat",
        to: id,
        highWatermark: offset(Math.min(pr.match, this.#hw)),
        readSeq: this.#readSeq,
      });
    }
  }

  /**
   * §5.4.2: the commit end is the largest end held by W voters, but only an entry of the
   * current term is committed by counting replicas (older ones commit with it).
   */
  #maybeCommit(): void {
    const m = this.membership;
    const q = quorumsOf(m);
    const durable = this.#quorumEnd(m.voters, q.w, (pr) => pr.durable, this.#syncedEnd);
    if (durable > this.#hw && this.#log.termBefore(durable) === this.#term) {
      assert(
        durable === this.#log.end() || this.#log.entryAt(durable).base === durable,
        `commit end ${durable} is inside an entry`,
      );
      this.#hw = durable;
      this.#releaseReads();
    }
    const cached = this.#quorumEnd(m.voters, q.w, (pr) => pr.match, this.#storedEnd);
    if (cached > this.#cachedHw && this.#log.termBefore(cached) === this.#term) {
      this.#cachedHw = cached;
    }
    // Thesis §4.2.2: a leader removed from the configuration steps down once the change
    // is committed (until then it replicates without counting itself).
    const latest = this.#log.latestConfigBase();
    if (!m.voters.includes(this.#id) && latest !== undefined && latest < this.#hw) {
      this.#becomeFollower(this.#term, undefined);
    }
  }

  /** The largest end that `w` voters reach (our own end is `own`). */
  #quorumEnd(
    voters: readonly NodeId[],
    w: number,
    endOf: (pr: Progress) => Offset,
    own: Offset,
  ): Offset {
    const ends = voters.map((id) => {
      if (id === this.#id) return own;
      const pr = this.#progress.get(id);
      return pr === undefined ? 0 : endOf(pr);
    });
    ends.sort((a, b) => b - a);
    return offset(Math.min(ends[w - 1] ?? 0, this.#log.end()));
  }

  #releaseReads(): void {
    const m = this.membership;
    const q = quorumsOf(m);
    while (this.#pendingReads.length > 0) {
      const read = this.#pendingReads[0];
      assert(read !== undefined, "pending read missing");
      const acks = m.voters.filter((id) => read.acks.has(id)).length;
      if (acks < q.confirm) return;
      this.#pendingReads.shift();
      this.#readStates.push({ requestId: read.requestId, index: read.index });
    }
  }

  #quorumActive(): boolean {
    const m = this.membership;
    let active = 0;
    for (const id of m.voters) {
      if (id === this.#id) active++;
      else if (this.#progress.get(id)?.recentActive === true) active++;
    }
    for (const pr of this.#progress.values()) pr.recentActive = false;
    return active >= quorumsOf(m).w;
  }

  #appendOwn(count: number, payload: Entry["payload"]): Entry {
    const base = this.#log.end();
    const entry: Entry = { base, last: offset(base + count - 1), term: this.#term, payload };
    this.#log.append([entry]);
    if (payload.type === "config") this.#syncProgress();
    // Appends go out at the next ready(): proposals made in between share one message per
    // follower (batching without delaying anything beyond the runtime's own loop).
    this.#broadcastPending = true;
    return entry;
  }

  /** Keeps one Progress per member other than us (config entries take effect at once). */
  #syncProgress(): void {
    const m = this.membership;
    const members = new Set([...m.voters, ...m.learners]);
    for (const id of [...this.#progress.keys()]) {
      if (!members.has(id)) this.#progress.delete(id);
    }
    for (const id of members) {
      if (id !== this.#id && !this.#progress.has(id)) {
        this.#progress.set(id, new Progress(offset(0), this.#log.end(), this.#maxInflight));
      }
    }
  }

  // ---------------------------------------------------------------- role changes

  #becomeFollower(newTerm: Term, leader: NodeId | undefined, resetTimer = true): void {
    if (newTerm > this.#term || leader !== this.#leader) this.#matchedEnd = offset(0);
    if (newTerm > this.#term) {
      this.#term = newTerm;
      this.#votedFor = undefined;
    }
    this.#role = "follower";
    this.#leader = leader;
    this.#progress.clear();
    this.#votes.clear();
    this.#transferTarget = undefined;
    this.#pendingReads = [];
    if (resetTimer) this.#resetElectionTimer();
  }

  #campaign(kind: "preVote" | "election", transfer: boolean): void {
    this.#leader = undefined;
    this.#votes = new Map([[this.#id, true]]);
    this.#resetElectionTimer();
    const msgTerm = this.#nextCampaignTerm();
    if (kind === "preVote") {
      this.#role = "preCandidate";
      this.#preVoteTerm = msgTerm;
    } else {
      // §5.2: increment the term, vote for ourselves, ask the others.
      this.#role = "candidate";
      this.#term = msgTerm;
      this.#votedFor = this.#id;
    }
    if (this.#poll() === "won") return this.#wonPoll();
    const logEnd = this.#log.end();
    const lastTerm = this.#log.lastTerm();
    for (const to of this.membership.voters) {
      if (to === this.#id) continue;
      if (kind === "preVote") {
        this.#sendWithTerm({ type: "preVote", to, logEnd, lastTerm }, msgTerm);
      } else {
        this.#sendWithTerm({ type: "vote", to, logEnd, lastTerm, transfer }, msgTerm);
      }
    }
  }

  /**
   * The term to campaign in. With E > N/2 any two election quorums intersect, so one vote
   * per term gives one leader per term (§5.2) and the next term will do. With E <= N/2
   * (flexible quorums, e.g. W = N, E = 1) two candidates could both win one term, so
   * terms are made unique per candidate, like Flexible Paxos ballots: a voter of rank r
   * (position in the sorted voter list) only campaigns in terms t with t mod N = r.
   * Voter lists cannot change under custom quorums (membership.ts), so ranks are stable.
   */
  #nextCampaignTerm(): Term {
    const m = this.membership;
    const n = m.voters.length;
    const next = this.#term + 1;
    if (2 * quorumsOf(m).e > n) return term(next);
    const rank = [...m.voters].sort((a, b) => a - b).indexOf(this.#id);
    assert(rank >= 0, "a non-voter campaigns");
    return term(next + ((rank - (next % n)) % n + n) % n);
  }

  #recordVote(from: NodeId, granted: boolean): void {
    if (!this.#votes.has(from)) this.#votes.set(from, granted);
    const result = this.#poll();
    if (result === "won") this.#wonPoll();
    else if (result === "lost") this.#becomeFollower(this.#term, undefined);
  }

  #wonPoll(): void {
    if (this.#role === "preCandidate") this.#campaign("election", false);
    else this.#becomeLeader();
  }

  /** Flexible quorums: E granted votes win; more than N - E refusals lose. */
  #poll(): "won" | "lost" | "pending" {
    const m = this.membership;
    const q: Quorums = quorumsOf(m);
    let granted = 0;
    let rejected = 0;
    for (const id of m.voters) {
      const vote = this.#votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    if (granted >= q.e) return "won";
    if (rejected > m.voters.length - q.e) return "lost";
    return "pending";
  }

  #becomeLeader(): void {
    this.#role = "leader";
    this.#cachedHw = this.#hw;
    this.#leader = this.#id;
    this.#transferTarget = undefined;
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#progress.clear();
    this.#syncProgress();
    // §5.4.2 / §8: an empty entry of the new term lets the leader commit (and learn the
    // commit end) without waiting for a client; in Kafka terms a leader-change marker.
    this.#appendOwn(1, { type: "leaderChange" });
  }

  // ---------------------------------------------------------------- helpers

  #resetElectionTimer(): void {
    this.#electionElapsed = 0;
    // §5.2: randomized timeouts in [T, 2T) make split votes rare.
    this.#randomizedTimeout = this.#electionTicks + this.#prng.int(0, this.#electionTicks - 1);
  }

  #isPromotable(): boolean {
    return this.membership.voters.includes(this.#id);
  }

  #hasCommittedInTerm(): boolean {
    return this.#hw > this.#log.start() && this.#log.termBefore(this.#hw) === this.#term;
  }

  #refuseUnlessLeading(): RequestResult | undefined {
    if (this.#role !== "leader") return { type: "notLeader", leader: this.#leader };
    if (this.#transferTarget !== undefined) {
      return refused("Cannot propose: leadership transfer in progress");
    }
    return undefined;
  }

  #assertNoReady(): void {
    assert(this.#outstanding === undefined, "input between ready() and advance()");
  }

  #send(msg: DistributiveOmit<Message, "term" | "from">): void {
    this.#sendWithTerm(msg, this.#term);
  }

  #sendWithTerm(msg: DistributiveOmit<Message, "term" | "from">, msgTerm: Term): void {
    this.#msgs.push({ ...msg, term: msgTerm, from: this.#id } as Message);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function refused(reason: string): RequestResult {
  return { type: "refused", reason };
}
