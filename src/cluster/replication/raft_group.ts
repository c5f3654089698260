/**
 * The runtime of one Raft group whose log is a partition's storage log (issue #6; DESIGN.md
 * "Consensus and replication"): the effectful shell around the pure `RaftNode`. It ticks
 * the node from an injected `Scheduler`, feeds it decoded peer messages, and runs the I/O
 * contract of raft_node.ts for every `Ready`:
 *
 *   1. hard state (term, vote: Raft §5.1 Figure 2) is written atomically and synced
 *      (`writeFileAtomic`) when term or vote change; the commit end rides along lazily;
 *   2. a log-start change is applied (a prefix deletion, or a reset to the leader's log
 *      start, §7), then the entries are written at their exact offsets, truncating a
 *      conflicting suffix first (§5.3);
 *   3. durability: in "sync" mode the log is fsynced (group commit) before anything is sent,
 *      so every append acknowledgement and vote promises stored state. In "writeCaching"
 *      mode (Redpanda's write caching) entries are only written to the page cache, messages
 *      leave at once, and a flush timer syncs the log and reports `synced(end)` so the
 *      replica's durable end moves; the core counts only synced copies for the commit end;
 *   4. messages go out through the `Transport`: heartbeats (and their answers) through
 *      `heartbeat()` then `flushHeartbeats()`, everything else through `send()`;
 *   5. `advance()`, then proposals whose offsets passed their acknowledgement point settle.
 *
 * Inputs arriving while a Ready is being persisted wait in a bounded inbox and are handled
 * in the next round, so proposals made during an fsync share the next one (group commit).
 *
 * `propose` settles with a value, never an exception, for expected outcomes: `ok` once
 * committed (sync mode: synced on W voters, Kafka acks=all; write caching: written on W
 * voters, the core's `cachedHighWatermark`, which W simultaneous crashes can lose),
 * `notLeader` with the known leader, `refused` with a reason. The Raft term is the Kafka
 * leader epoch and the commit end the high watermark (KIP-101, KIP-595).
 *
 * Must not: call the core between `ready()` and `advance()`, send a message that promises
 * stored state (votes, append answers) before persisting (step 4 after 1-3; a leader's own
 * appends and heartbeats may go out during its sync), or keep a timer after `close()`.
 */
import {
  type Durability,
  type HardState,
  type Membership,
  type Message,
  RaftNode,
  type Ready,
  type Role,
} from "../../raft/mod.ts";
import {
  ATTR,
  type BatchHeader,
  batchSize,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  verifyBatchCrc,
} from "../../records/mod.ts";
import { type FilePool, type LogConfig, PartitionLog, writeFileAtomic } from "../../storage/mod.ts";
import {
  assert,
  FrameDecodeError,
  type NodeId,
  nodeId,
  type Offset,
  offset,
  type Prng,
  StorageError,
  type Term,
  term,
} from "../../util/mod.ts";
import type { Scheduler, Timer, Transport } from "../transport/mod.ts";
import { decodeRaftMessage, encodeRaftMessage } from "./raft_message_codec.ts";
import { entryOf, StorageRaftLog } from "./storage_raft_log.ts";

/** Name of the hard-state file in the partition directory. */
export const HARD_STATE_FILE = "raft-hard-state";
/** Default bound of the inbox (messages, ticks and requests waiting for the next round). */
export const DEFAULT_MAX_INBOX = 10_000;
/** Default flush interval of write caching. */
export const DEFAULT_FLUSH_INTERVAL_MS = 5;
/** Messages only a leader sends, which promise nothing durable of the sender's log. */
const LEADER_SENDS: ReadonlySet<Message["type"]> = new Set(["append", "heartbeat"]);
/** Rounds one pump runs before yielding to the event loop. */
const ROUNDS_PER_PUMP_MAX = 64;
/** Largest hard-state file accepted. */
const HARD_STATE_BYTES_MAX = 64 * 1024;

/** Settings of one group replica. */
export interface RaftGroupOptions {
  /** The group id on the transport, e.g. "orders-3". */
  readonly groupId: string;
  readonly nodeId: NodeId;
  /** The partition directory (log segments, hard state, leader-epoch checkpoint). */
  readonly dir: string;
  readonly logConfig?: Partial<LogConfig>;
  /** A descriptor pool shared with other logs (bounds open files across partitions). */
  readonly pool?: FilePool;
  /** The bootstrap configuration (used until the log or a reset says otherwise). */
  readonly membership: Membership;
  readonly transport: Transport;
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  /** Wall time of one Raft tick. */
  readonly tickMs: number;
  /** Minimum election timeout in ticks (default 10). */
  readonly electionTicks?: number;
  /** Heartbeat interval in ticks (default 2). */
  readonly heartbeatTicks?: number;
  /** "sync" (default) or "writeCaching" (see the file comment); the same on every replica. */
  readonly durability?: Durability;
  /** Write caching: sync the log this often (default 5 ms). */
  readonly flushIntervalMs?: number;
  /** Bound of the inbox; messages beyond it are dropped (Raft retransmits). */
  readonly maxInbox?: number;
  /**
   * Leave heartbeats queued for the transport's own periodic flush (one frame per peer for
   * every group's heartbeats) instead of flushing after each Ready; only with a transport
   * that flushes on an interval.
   */
  readonly coalesceHeartbeats?: boolean;
  /**
   * The owner calls `tick()` every `tickMs` (one timer for many groups) instead of each group
   * keeping its own timer.
   */
  readonly externalTick?: boolean;
  /** Where failures that stop the group are reported. */
  readonly onWarning?: (message: string) => void;
  /** Told the new commit end each time it advances (wakes long polls of the partition). */
  readonly onCommit?: (commitOffset: Offset) => void;
}

/** The outcome of `propose`: expected outcomes are values. */
export type ProposeResult =
  | { readonly type: "ok"; readonly baseOffset: Offset; readonly lastOffset: Offset }
  | { readonly type: "notLeader"; readonly leader: NodeId | undefined }
  | { readonly type: "refused"; readonly reason: string }
  /** The leader cannot take it now (a leadership transfer, too much uncommitted): retry. */
  | { readonly type: "busy"; readonly reason: string };

type Input =
  | { readonly type: "message"; readonly msg: Message }
  | { readonly type: "tick" }
  | { readonly type: "synced"; readonly end: Offset; readonly rewrites: number }
  | {
    readonly type: "propose";
    readonly bytes: Uint8Array;
    readonly count: number;
    readonly committed: boolean;
    readonly settle: (r: ProposeResult) => void;
  }
  | { readonly type: "compact"; readonly start: Offset; readonly settle: (ok: boolean) => void }
  | { readonly type: "transfer"; readonly to: NodeId };

interface Pending {
  readonly base: Offset;
  readonly last: Offset;
  readonly term: Term;
  /** Settle at the (synced) commit end even with write caching. */
  readonly committed: boolean;
  readonly settle: (r: ProposeResult) => void;
}

/** One replica of one Raft group over a partition log. */
export class RaftGroup {
  readonly groupId: string;
  readonly #id: NodeId;
  readonly #dir: string;
  readonly #log: StorageRaftLog;
  readonly #node: RaftNode;
  readonly #transport: Transport;
  readonly #scheduler: Scheduler;
  readonly #tickMs: number;
  readonly #durability: Durability;
  readonly #flushIntervalMs: number;
  readonly #maxInbox: number;
  readonly #warn: (message: string) => void;
  readonly #onCommit: ((commitOffset: Offset) => void) | undefined;
  readonly #coalesceHeartbeats: boolean;
  #reportedCommit = -1;
  #startMembership: Membership;
  #inbox: Input[] = [];
  #pending: Pending[] = [];
  #pumping: Promise<void> | undefined;
  #flushing: Promise<void> | undefined;
  #tickTimer: Timer | undefined;
  #flushTimer: Timer | undefined;
  #writtenHardState = "";
  /** Truncations and resets applied so far: a sync started before one proves nothing. */
  #rewrites = 0;
  #closed = false;
  #failure: Error | undefined;
  /** Messages dropped: inbox full, undecodable, or refused by the transport. */
  droppedMessages = 0;

  private constructor(options: RaftGroupOptions, log: StorageRaftLog, node: RaftNode) {
    this.groupId = options.groupId;
    this.#id = options.nodeId;
    this.#dir = options.dir;
    this.#log = log;
    this.#node = node;
    this.#transport = options.transport;
    this.#scheduler = options.scheduler;
    this.#tickMs = options.tickMs;
    this.#durability = options.durability ?? "sync";
    this.#flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#maxInbox = options.maxInbox ?? DEFAULT_MAX_INBOX;
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
    this.#onCommit = options.onCommit;
    this.#coalesceHeartbeats = options.coalesceHeartbeats ?? false;
    this.#startMembership = options.membership;
  }

  /**
   * Opens (or recovers) the replica in `options.dir` and starts its tick timer.
   * @throws {StorageError} when the log or the hard state cannot be read.
   */
  static open(options: RaftGroupOptions): RaftGroup {
    assert(options.tickMs > 0, "tickMs must be positive");
    const partition = PartitionLog.open(options.dir, {
      ...(options.logConfig === undefined ? {} : { config: options.logConfig }),
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    });
    let log: StorageRaftLog;
    let saved: SavedState | undefined;
    try {
      log = StorageRaftLog.open(partition);
      saved = readHardState(options.dir);
    } catch (err) {
      // The group never existed: release the log's descriptors before reporting.
      partition.close().catch(() => {/* the open error is the one to report */});
      throw err;
    }
    const node = new RaftNode({
      id: options.nodeId,
      log,
      prng: options.prng,
      membership: saved?.startMembership ?? options.membership,
      ...(saved === undefined ? {} : { hardState: saved.hardState }),
      electionTicks: options.electionTicks ?? 10,
      heartbeatTicks: options.heartbeatTicks ?? 2,
      durability: options.durability ?? "sync",
    });
    const group = new RaftGroup(options, log, node);
    if (saved !== undefined) group.#startMembership = saved.startMembership;
    if (options.externalTick !== true) group.#armTick();
    if (group.#durability === "writeCaching") group.#armFlush();
    return group;
  }

  /** This replica's node id. */
  get nodeId(): NodeId {
    return this.#id;
  }
  get role(): Role {
    return this.#node.role;
  }
  /** The leader this replica follows, if known. */
  get leader(): NodeId | undefined {
    return this.#node.leader;
  }
  /** The Raft term, which is the partition leader epoch. */
  get term(): Term {
    return this.#node.term;
  }
  /** The commit end (exclusive), which is the Kafka high watermark. */
  get commitOffset(): Offset {
    return this.#node.highWatermark;
  }
  /** Leader: end of entries written (maybe unsynced) on W voters (write caching's ack point). */
  get cachedCommitOffset(): Offset {
    return this.#node.cachedHighWatermark;
  }
  get logStartOffset(): Offset {
    return this.#node.logStart;
  }
  get logEndOffset(): Offset {
    return this.#node.logEnd;
  }
  /** Leader: the end of the log a voter is known to hold (Raft's match index), if tracked. */
  matchOf(id: NodeId): Offset | undefined {
    return this.#node.progressOf(id)?.match;
  }
  /** The group's current voters and learners. */
  get membership(): Membership {
    return this.#node.membership;
  }
  /** The stored log (reads; writes belong to this runtime). */
  get log(): StorageRaftLog {
    return this.#log;
  }
  /** The failure that stopped the group, if any (a storage error: fail-stop). */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * Appends one RecordBatch v2 (leader only). The batch is copied, then stamped with its
   * base offset and term (the partition leader epoch). Settles per `ProposeResult`: with
   * write caching once the quorum holds it, unless `committed` asks for the commit (which
   * also means its effects, a delete-records entry's, are applied here). Proposals settle
   * in order, so a `committed` one holds back later ones until it commits. `crcVerified`: the
   * caller checked the batch's CRC already. Either way it is computed once, not again when
   * the entry is stored.
   */
  propose(
    batch: Uint8Array,
    options: { committed?: boolean; crcVerified?: boolean } = {},
  ): Promise<ProposeResult> {
    if (this.#closed || this.#failure !== undefined) {
      return Promise.resolve({ type: "notLeader", leader: undefined });
    }
    const problem = validateProposal(
      batch,
      this.#log.partitionLog.config.maxBatchBytes,
      options.crcVerified === true,
    );
    if (problem !== undefined) return Promise.resolve({ type: "refused", reason: problem });
    const bytes = batch.slice();
    this.#log.markCrcVerified(bytes);
    const count = readBatchHeader(bytes).lastOffsetDelta + 1;
    const committed = options.committed === true;
    return new Promise((settle) =>
      this.#enqueue({ type: "propose", bytes, count, committed, settle }, true)
    );
  }

  /** Deletes the log prefix before `start`, a committed entry boundary (retention, §7). */
  compact(start: Offset): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((settle) => this.#enqueue({ type: "compact", start, settle }, true));
  }

  /**
   * Leader: hands leadership to voter `to` once its log is up to date (thesis §3.10), e.g. to
   * give a partition back to its preferred leader. Best effort: abandoned after one election
   * timeout, ignored on a follower.
   */
  transferLeadership(to: NodeId): void {
    if (this.#closed) return;
    this.#enqueue({ type: "transfer", to }, true);
  }

  /** One Raft tick, for owners that drive ticks themselves (`externalTick`). */
  tick(): void {
    if (this.#closed) return;
    this.#enqueue({ type: "tick" }, true);
  }

  /** Hands one message payload from `from` to the group (called by the router). */
  receive(from: NodeId, payload: Uint8Array): void {
    if (this.#closed) return;
    let msg: Message;
    try {
      msg = decodeRaftMessage(payload);
    } catch (err) {
      // A peer sent garbage: drop it (Raft tolerates loss) and count it.
      if (!(err instanceof FrameDecodeError)) throw err;
      this.droppedMessages++;
      this.#warn(`Group "${this.groupId}" dropped a message from node ${from}: ${err.message}`);
      return;
    }
    if (msg.from !== from || msg.to !== this.#id) {
      this.droppedMessages++;
      return;
    }
    this.#enqueue({ type: "message", msg }, false);
  }

  /** Resolves once no input is waiting and no Ready or flush is in progress. */
  async idle(): Promise<void> {
    // Bounded: each pass waits for work that was already started.
    for (let i = 0; i < 1_000_000; i++) {
      const busy = this.#pumping ?? this.#flushing;
      if (busy === undefined) return;
      await busy;
    }
  }

  /** Stops timers and the pump, settles waiting proposals, closes the log. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tickTimer?.cancel();
    this.#flushTimer?.cancel();
    this.#tickTimer = undefined;
    this.#flushTimer = undefined;
    await this.idle();
    for (const input of this.#inbox) this.#refuse(input);
    this.#inbox = [];
    for (const p of this.#pending) p.settle({ type: "notLeader", leader: undefined });
    this.#pending = [];
    await this.#log.partitionLog.close();
  }

  // ---------------------------------------------------------------- inputs

  #enqueue(input: Input, local: boolean): void {
    if (this.#closed || this.#failure !== undefined) return this.#refuse(input);
    // Local requests are bounded by their callers' own limits (the core refuses proposals
    // past maxUncommittedOffsets); peer messages by the inbox bound.
    if (!local && this.#inbox.length >= this.#maxInbox) {
      this.droppedMessages++;
      return;
    }
    this.#inbox.push(input);
    this.#kick();
  }

  #refuse(input: Input): void {
    if (input.type === "propose") input.settle({ type: "notLeader", leader: undefined });
    else if (input.type === "compact") input.settle(false);
  }

  #armTick(): void {
    this.#tickTimer = this.#scheduler.setTimer(() => {
      if (this.#closed) return;
      this.#enqueue({ type: "tick" }, true);
      this.#armTick();
    }, this.#tickMs);
  }

  /** Write caching: sync the log every interval and report the synced end to the core. */
  #armFlush(): void {
    this.#flushTimer = this.#scheduler.setTimer(() => {
      if (this.#closed) return;
      this.#armFlush();
      if (this.#flushing !== undefined || this.#log.flushedOffset >= this.#log.endOffset()) return;
      const rewrites = this.#rewrites;
      this.#flushing = this.#log.flush().then(
        () => {
          this.#flushing = undefined;
          const end = this.#log.flushedOffset;
          if (!this.#closed) this.#enqueue({ type: "synced", end, rewrites }, true);
        },
        (err: unknown) => {
          this.#flushing = undefined;
          // A Ready truncated the log under this flush (§5.3 conflict): the flush's target
          // is gone, and the next interval syncs what is there now. Anything else stops us.
          if (err instanceof StorageError && err.code === "truncated") return;
          this.#fail(err);
        },
      );
    }, this.#flushIntervalMs);
  }

  #kick(): void {
    if (this.#pumping !== undefined || this.#closed || this.#failure !== undefined) return;
    this.#pumping = this.#pump().then(
      () => {
        this.#pumping = undefined;
        if (this.#inbox.length > 0) this.#kick();
      },
      (err: unknown) => {
        this.#pumping = undefined;
        this.#fail(err);
      },
    );
  }

  /** A storage failure stops the group (fail-stop; a restart recovers from disk). */
  #fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!(e instanceof StorageError)) throw e; // a bug crashes
    this.#failure ??= e;
    this.#warn(`Group "${this.groupId}" on node ${this.#id} stopped: ${e.message}`);
    this.#tickTimer?.cancel();
    this.#flushTimer?.cancel();
    for (const input of this.#inbox) this.#refuse(input);
    this.#inbox = [];
    for (const p of this.#pending) p.settle({ type: "notLeader", leader: undefined });
    this.#pending = [];
  }

  // ---------------------------------------------------------------- the loop

  async #pump(): Promise<void> {
    for (let round = 0; round < ROUNDS_PER_PUMP_MAX && !this.#closed; round++) {
      const inputs = this.#inbox;
      this.#inbox = [];
      for (const input of inputs) this.#apply(input);
      if (!this.#node.hasReady()) {
        this.#settle();
        if (this.#inbox.length === 0) return;
        continue;
      }
      const rd = this.#node.ready();
      if (this.#rewritesLog(rd)) {
        // Never truncate under a running sync: the partition log would count the sync's
        // old end as durable over the rewritten suffix. Syncs it reports from now on
        // predate the rewrite, so `synced` inputs carry the count and stale ones are dropped.
        if (this.#flushing !== undefined) await this.#flushing;
        this.#rewrites++;
      }
      const synced = this.#persist(rd);
      // A leader's appends and heartbeats promise nothing about its own log (it counts its
      // copy toward commit only after `advance`, once synced), so they leave while the log
      // syncs (Raft thesis §10.2.1): the followers' fsyncs overlap the leader's. Votes and
      // append answers wait for the sync.
      const early: Message[] = [];
      const late: Message[] = [];
      for (const m of rd.messages) {
        (synced !== undefined && LEADER_SENDS.has(m.type) ? early : late).push(m);
      }
      if (early.length > 0) this.#send(early);
      if (synced !== undefined) await synced;
      if (this.#closed) return; // the node is dropped with the group
      this.#send(late);
      this.#node.advance(rd);
      this.#settle();
    }
  }

  #apply(input: Input): void {
    const node = this.#node;
    switch (input.type) {
      case "message":
        node.step(input.msg);
        return;
      case "tick":
        node.tick();
        return;
      case "synced":
        if (input.rewrites === this.#rewrites) node.synced(input.end);
        return;
      case "compact":
        input.settle(node.compact(input.start));
        return;
      case "transfer":
        // Best effort: a refusal (not a voter) or a lost leadership leaves things as they are.
        node.transferLeadership(input.to);
        return;
      case "propose": {
        const r = node.propose(input.bytes, input.count);
        if (r.type === "ok") {
          // The entry's payload is these bytes: stamp them before they are stored or sent.
          setBaseOffset(input.bytes, r.base);
          setPartitionLeaderEpoch(input.bytes, r.term);
          this.#pending.push({
            base: r.base,
            last: r.last,
            term: r.term,
            committed: input.committed,
            settle: input.settle,
          });
        } else if (r.type === "notLeader") {
          input.settle({ type: "notLeader", leader: r.leader });
        } else if (r.type === "refused") {
          // The batch itself passed `validateProposal`: the core's refusals are about now
          // (a transfer in progress, the uncommitted bound), so the client may retry.
          input.settle({ type: "busy", reason: r.reason });
        } else {
          input.settle({ type: "refused", reason: "Cannot propose: unexpected pending result" });
        }
        return;
      }
    }
  }

  /** True when applying `rd` removes stored entries (a §5.3 conflict or a §7 reset). */
  #rewritesLog(rd: Ready): boolean {
    const first = rd.entries[0];
    return rd.logStart?.discard === true ||
      (first !== undefined && first.base < this.#log.endOffset());
  }

  /** Steps 1-3 of the contract; returns the sync to await before sending, if any. */
  #persist(rd: Ready): Promise<void> | undefined {
    if (rd.logStart !== undefined) {
      const s = rd.logStart;
      this.#log.setStart(s.offset, s.term, s.discard);
      this.#startMembership = s.membership;
    }
    if (rd.hardState !== undefined || rd.logStart !== undefined) {
      this.#writeHardState(rd.hardState ?? this.#currentHardState(), rd.logStart !== undefined);
    }
    this.#log.append(rd.entries);
    if (this.#durability === "sync" && rd.entries.length > 0) return this.#log.flush();
    return undefined;
  }

  #currentHardState(): HardState {
    const n = this.#node;
    return { term: n.term, votedFor: n.votedFor, highWatermark: n.highWatermark };
  }

  /**
   * Term and vote must be durable before any message leaves (§5.1: no second vote in a
   * term); the commit end is only a hint (the core clamps it), so a change of it alone is
   * not worth an fsync and is written with the next term, vote or log-start change.
   */
  #writeHardState(hs: HardState, force: boolean): void {
    const key = `${hs.term}/${hs.votedFor ?? ""}`;
    if (!force && key === this.#writtenHardState) return;
    const state = {
      term: hs.term,
      votedFor: hs.votedFor ?? null,
      highWatermark: hs.highWatermark,
      startMembership: {
        voters: [...this.#startMembership.voters],
        learners: [...this.#startMembership.learners],
        w: this.#startMembership.replicationQuorum ?? null,
        e: this.#startMembership.electionQuorum ?? null,
      },
    };
    writeFileAtomic(this.#dir, HARD_STATE_FILE, new TextEncoder().encode(JSON.stringify(state)));
    this.#writtenHardState = key;
  }

  #send(messages: readonly Message[]): void {
    let beats = false;
    for (const msg of messages) {
      const payload = encodeRaftMessage(msg);
      const isBeat = msg.type === "heartbeat" || msg.type === "heartbeatResp";
      beats ||= isBeat;
      const r = isBeat
        ? this.#transport.heartbeat(msg.to, this.groupId, payload)
        : this.#transport.send(msg.to, { groupId: this.groupId, payload });
      // A refused send is a lost message; Raft retransmits (§5.3), so only count it.
      if (r.type === "dropped") this.droppedMessages++;
    }
    if (beats && !this.#coalesceHeartbeats) this.#transport.flushHeartbeats();
  }

  /** Settles proposals: overwritten ones are refused, acknowledged ones resolve (in order). */
  #settle(): void {
    const node = this.#node;
    if (node.highWatermark > this.#reportedCommit) {
      this.#reportedCommit = node.highWatermark;
      // Committed delete-records entries move the log start on every replica.
      this.#log.applyCommitted(node.highWatermark);
      this.#onCommit?.(node.highWatermark);
    }
    const pending = this.#pending;
    if (pending.length === 0) return;
    // A new leader overwrites a suffix (§5.3): if the newest proposal survived, all did.
    for (
      let tail = pending.at(-1);
      tail !== undefined && !this.#intact(tail);
      tail = pending.at(-1)
    ) {
      pending.pop();
      tail.settle({ type: "notLeader", leader: node.leader });
    }
    const ackEnd = this.#durability === "writeCaching" && node.role === "leader"
      ? node.cachedHighWatermark
      : node.highWatermark;
    let done = 0;
    for (const p of pending) {
      if (p.last >= (p.committed ? node.highWatermark : ackEnd)) break;
      p.settle({ type: "ok", baseOffset: p.base, lastOffset: p.last });
      done++;
    }
    if (done > 0) pending.splice(0, done);
  }

  #intact(p: Pending): boolean {
    const node = this.#node;
    if (p.base < node.logStart) return true; // below the start: committed (§7)
    return p.last < node.logEnd && node.termAt(p.base) === p.term;
  }
}

/**
 * Why a client batch cannot be proposed, or undefined. A batch the partition log would
 * refuse must be refused here: once in the Raft log, a refused write stops the group.
 * Control batches of the types Raft reserves (leader change, voters) are refused too, so a
 * client cannot forge a membership change.
 */
function validateProposal(
  batch: Uint8Array,
  maxBatchBytes: number,
  crcVerified: boolean,
): string | undefined {
  let h: BatchHeader;
  try {
    h = readBatchHeader(batch);
  } catch (err) {
    if (!(err instanceof FrameDecodeError)) throw err;
    return `Cannot propose: ${err.message}`;
  }
  if (batchSize(h) !== batch.length) {
    return `Cannot propose: batch length "${batchSize(h)}" does not match "${batch.length}" bytes`;
  }
  if (batch.length > maxBatchBytes) {
    return `Cannot propose: batch of ${batch.length} bytes exceeds "${maxBatchBytes}"`;
  }
  if (!crcVerified && !verifyBatchCrc(batch)) return "Cannot propose: CRC mismatch";
  if ((h.attributes & ATTR.control) === 0) return undefined;
  try {
    const kind = entryOf(batch).payload.type;
    if (kind !== "data") return `Cannot propose: control batch of type "${kind}" is reserved`;
  } catch (err) {
    if (!(err instanceof FrameDecodeError)) throw err;
    return `Cannot propose: ${err.message}`;
  }
  return undefined;
}

interface SavedState {
  readonly hardState: HardState;
  readonly startMembership: Membership;
}

function readHardState(dir: string): SavedState | undefined {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(`${dir}/${HARD_STATE_FILE}`);
  } catch (err) {
    // A new replica: no vote was ever cast, term 0.
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new StorageError("io", `Cannot read "${dir}/${HARD_STATE_FILE}"`, { cause: err });
  }
  if (bytes.length > HARD_STATE_BYTES_MAX) {
    throw new StorageError("corrupt", `Cannot read "${dir}/${HARD_STATE_FILE}": too large`);
  }
  const j: unknown = JSON.parse(new TextDecoder().decode(bytes));
  assert(typeof j === "object" && j !== null, "hard state is an object");
  const o = j as Record<string, unknown>;
  const m = o.startMembership as Record<string, unknown>;
  const ids = (v: unknown) => (Array.isArray(v) ? v.map((n) => nodeId(Number(n))) : []);
  return {
    hardState: {
      term: term(Number(o.term)),
      votedFor: o.votedFor === null ? undefined : nodeId(Number(o.votedFor)),
      highWatermark: offset(Number(o.highWatermark)),
    },
    startMembership: {
      voters: ids(m.voters),
      learners: ids(m.learners),
      ...(typeof m.w === "number" ? { replicationQuorum: m.w } : {}),
      ...(typeof m.e === "number" ? { electionQuorum: m.e } : {}),
    },
  };
}
