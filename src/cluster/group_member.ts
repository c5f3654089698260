/**
 * An in-process member of a classic consumer group, over `GroupService` (no network): what
 * the HTTP API's REST Proxy consumer instances use to be real group members beside Kafka
 * clients. It speaks the "consumer" embedded protocol as a Kafka client does: JoinGroup with
 * protocol "range" (then round-robin under Kafka's and kafkajs's names, for groups whose
 * other members lack "range") and a v0 subscription, answering MEMBER_ID_REQUIRED by joining
 * again with the id given (KIP-394); as leader, the chosen protocol's assignment encoded as a
 * v0 ConsumerProtocolAssignment; SyncGroup; then heartbeats every `heartbeatIntervalMs`.
 *
 * Rebalances: a heartbeat or commit answered REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or
 * UNKNOWN_MEMBER_ID (the latter also forgets the member id) marks the member for rejoining,
 * and the heartbeat timer rejoins at once, so a rebalance started by another member never
 * waits for an HTTP client to poll. Before rejoining, the member gives up its partitions
 * (eager protocol) and calls `onRevoke` with them, where its owner may commit positions.
 *
 * Invariants: at most one join round in flight (`rejoin` shares it); at most one timer
 * pending, and none once `close()` ran or `signal` aborted; the assignment is empty while
 * joining. It must not be used after `close()` (every call then does nothing or refuses).
 */
import type { GroupErrorKind, JoinedMember } from "./classic_group.ts";
import {
  type AssignedPartitions,
  assignRange,
  assignRoundRobin,
  encodeConsumerAssignment,
  parseConsumerAssignment,
} from "./consumer_assignment.ts";
import { encodeSubscription, parseSubscriptionTopics } from "./consumer_protocol.ts";
import type { GroupService, PartitionOutcome } from "./group_service.ts";

/** The embedded protocol type of consumers. */
export const CONSUMER_PROTOCOL_TYPE = "consumer";
/** The assignor this member prefers and runs as leader (Kafka's RangeAssignor name). */
export const RANGE_PROTOCOL = "range";
/**
 * Round-robin protocol names it also offers, after "range": Kafka's and librdkafka's, and
 * kafkajs's (whose only built-in assignor it is), so it can share a group with any of them.
 */
export const ROUND_ROBIN_PROTOCOLS: readonly string[] = ["roundrobin", "RoundRobinAssigner"];
/** Default session timeout (Kafka's consumer default is 45 s; within the broker's bounds). */
export const MEMBER_SESSION_TIMEOUT_MS = 30_000;
/** Default rebalance timeout: the member rejoins by itself, so it needs little. */
export const MEMBER_REBALANCE_TIMEOUT_MS = 30_000;
/** Bounds of the heartbeat interval (the default is a third of the session timeout). */
const HEARTBEAT_INTERVAL_MIN_MS = 100;
const HEARTBEAT_INTERVAL_MAX_MS = 3_000;
/** JoinGroup + SyncGroup rounds before `rejoin` gives up (MEMBER_ID_REQUIRED costs one). */
const JOIN_ROUNDS_MAX = 10;

/** Errors after which the member must join again (Kafka's consumer rejoins on these). */
const REJOIN_ERRORS: ReadonlySet<GroupErrorKind> = new Set([
  "rebalance_in_progress",
  "illegal_generation",
  "unknown_member_id",
]);
/** Errors a join round answers that another round may get past. */
const RETRIABLE_JOIN_ERRORS: ReadonlySet<GroupErrorKind> = new Set([
  ...REJOIN_ERRORS,
  "member_id_required",
]);

/** A refusal that ends joining (an invalid session timeout, an inconsistent protocol...). */
export class GroupMemberError extends Error {
  override name = "GroupMemberError";
  readonly kind: GroupErrorKind;
  constructor(kind: GroupErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** One position to commit: `offset` is the next offset to read, as Kafka commits it. */
export interface MemberOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

/** Settings of a member. */
export interface GroupMemberOptions {
  groups: GroupService;
  groupId: string;
  topics: readonly string[];
  /** A topic's partition count, 0 when it does not exist (used when leading). */
  partitionCount: (topic: string) => number;
  clientId?: string;
  clientHost?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  /** Default: a third of the session timeout, within 100 ms and 3 s. */
  heartbeatIntervalMs?: number;
  /** Run the heartbeat timer (tests that call `heartbeat` by hand turn it off). */
  background?: boolean;
  /** Node shutdown: stops the timer and any join, as `close()` does. */
  signal?: AbortSignal;
  /** Called with the partitions given up before each rejoin; a rejection is logged. */
  onRevoke?: (revoked: readonly AssignedPartitions[]) => Promise<void>;
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
}

/** A consumer-group member living in this process. */
export class GroupMember {
  readonly groupId: string;
  readonly #o: GroupMemberOptions;
  readonly #groups: GroupService;
  readonly #sessionTimeoutMs: number;
  readonly #rebalanceTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #log: NonNullable<GroupMemberOptions["log"]>;
  /** Aborted by `close()` and by the node's shutdown: ends joins and the timer. */
  readonly #stopped = new AbortController();
  readonly #signal: AbortSignal;
  #topics: readonly string[];
  /** Bumped by `subscribe`: a join of an older subscription leaves a rejoin owed. */
  #subscriptionEpoch = 0;
  #memberId = "";
  #generationId = -1;
  #assignment: readonly AssignedPartitions[] = [];
  #needsRejoin = true;
  #joining: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The heartbeat (or rejoin) the timer started, awaited by `close()`. */
  #beat: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #onShutdown = () => this.#stop();

  constructor(options: GroupMemberOptions) {
    this.#o = options;
    this.#groups = options.groups;
    this.groupId = options.groupId;
    this.#topics = [...options.topics];
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? MEMBER_SESSION_TIMEOUT_MS;
    this.#rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? MEMBER_REBALANCE_TIMEOUT_MS;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ??
      Math.min(
        HEARTBEAT_INTERVAL_MAX_MS,
        Math.max(HEARTBEAT_INTERVAL_MIN_MS, Math.floor(this.#sessionTimeoutMs / 3)),
      );
    this.#log = options.log ?? (() => {});
    this.#signal = options.signal
      ? AbortSignal.any([options.signal, this.#stopped.signal])
      : this.#stopped.signal;
    if (options.signal?.aborted) this.#stop();
    else options.signal?.addEventListener("abort", this.#onShutdown, { once: true });
  }

  /** The member id the coordinator gave ("" before the first join). */
  get memberId(): string {
    return this.#memberId;
  }

  /** The generation last joined (-1 before). */
  get generationId(): number {
    return this.#generationId;
  }

  /** The partitions assigned in the current generation (empty while joining). */
  get assignment(): readonly AssignedPartitions[] {
    return this.#assignment;
  }

  /** The subscribed topics. */
  get topics(): readonly string[] {
    return this.#topics;
  }

  /** True once joined and synced, with no rebalance pending. */
  get isStable(): boolean {
    return !this.#needsRejoin && this.#joining === null && !this.#closed;
  }

  /** True after `close()` or the node's shutdown. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Starts joining in the background and heartbeating (with `background`, the default). */
  start(): void {
    if (this.#closed || (this.#o.background ?? true) === false) return;
    this.#runBeat();
  }

  /** Changes the subscription: the member rejoins with the new topics. */
  subscribe(topics: readonly string[]): void {
    this.#topics = [...topics];
    this.#subscriptionEpoch++;
    this.#needsRejoin = true;
    if (this.#timer !== null) {
      // Rejoin now rather than at the next heartbeat.
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#runBeat();
    }
  }

  /**
   * Resolves once joined (rejoining first when a rebalance is pending).
   * @throws {GroupMemberError} when the group refuses the member or joining gives up.
   */
  async ensureJoined(): Promise<void> {
    if (this.#closed) throw this.#closedError();
    // Bounded: a join in flight may predate a subscription change, which owes one more.
    for (let i = 0; i < 3 && (this.#needsRejoin || this.#joining !== null); i++) {
      await this.rejoin();
    }
  }

  /**
   * One heartbeat; when the coordinator asks for a rejoin, rejoins before resolving.
   * @throws {GroupMemberError} when the rejoin fails.
   */
  async heartbeat(): Promise<void> {
    if (this.#closed) return;
    if (this.#joining !== null) return await this.#joining;
    if (!this.#needsRejoin) {
      const r = this.#groups.heartbeat(this.#identity());
      if (r.type === "ok") return;
      this.#noteError(r.error);
      // Other refusals (coordinator_not_available while the node stops) are retried at the
      // next beat: nothing is lost by waiting.
      if (!this.#needsRejoin) {
        this.#log("debug", `Heartbeat of group "${this.groupId}" refused: ${r.error}`);
        return;
      }
    }
    await this.rejoin();
  }

  /**
   * Joins again (or for the first time): gives up the assignment, calls `onRevoke`, then
   * JoinGroup and SyncGroup until accepted. Concurrent calls share one round.
   * @throws {GroupMemberError} on a non-retriable refusal, after JOIN_ROUNDS_MAX rounds, or
   * when closed.
   */
  rejoin(): Promise<void> {
    if (this.#joining !== null) return this.#joining;
    // `finally` runs after this assignment even when the round fails at once.
    const round: Promise<void> = this.#revokeAndJoin().finally(() => {
      if (this.#joining === round) this.#joining = null;
    });
    this.#joining = round;
    return round;
  }

  async #revokeAndJoin(): Promise<void> {
    const revoked = this.#assignment;
    this.#assignment = [];
    if (revoked.length > 0 && this.#o.onRevoke) {
      try {
        await this.#o.onRevoke(revoked);
      } catch (err) {
        // The owner's commit failed: the partitions are given up anyway (their next owner
        // resumes from the last commit), so the rejoin goes on; the failure is logged.
        this.#log("warn", `Revoking partitions of group "${this.groupId}" failed: ${err}`);
      }
    }
    await this.#joinRounds();
  }

  /**
   * Commits positions with the member's generation and id. Rebalance errors in the result
   * mark the member for rejoining (as the heartbeat does); they are returned, not thrown.
   */
  async commit(offsets: readonly MemberOffset[]): Promise<PartitionOutcome[]> {
    if (offsets.length === 0) return [];
    const byTopic = new Map<string, MemberOffset[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const results = await this.#groups.commitOffsets({
      ...this.#identity(),
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: -1,
          metadata: o.metadata ?? "",
          commitTimestampMs: -1,
        })),
      })),
    });
    for (const r of results) {
      if (r.error !== null && REJOIN_ERRORS.has(r.error as GroupErrorKind)) {
        this.#noteError(r.error as GroupErrorKind);
      }
    }
    return results;
  }

  /** Stops the timer, abandons a join in flight and leaves the group. */
  async close(): Promise<void> {
    this.#stop();
    await this.#beat;
    // A join in flight ends on the abort; its refusal is expected now.
    await this.#joining?.catch((err) => {
      if (!(err instanceof GroupMemberError)) throw err;
    });
  }

  /** The synchronous part of closing: no timer, no join, out of the group. */
  #stop(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.signal?.removeEventListener("abort", this.#onShutdown);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopped.abort();
    if (this.#memberId !== "") {
      const r = this.#groups.leave(this.groupId, [{
        memberId: this.#memberId,
        groupInstanceId: null,
      }]);
      if (r.type === "error") {
        // The coordinator is closing with the node: the member goes with it.
        this.#log("debug", `Leaving group "${this.groupId}" refused: ${r.error}`);
      }
    }
    this.#assignment = [];
  }

  #closedError(): GroupMemberError {
    return new GroupMemberError(
      "coordinator_not_available",
      `Cannot join group "${this.groupId}": the member is closed`,
    );
  }

  /** Runs one beat now and schedules the next when it ends. */
  #runBeat(): void {
    this.#beat = this.heartbeat().catch((err) => {
      // A failed (re)join is retried at the next beat, as `#needsRejoin` stays set; an
      // owner waiting in `ensureJoined` got the same error.
      if (!(err instanceof GroupMemberError)) throw err;
      this.#log("warn", err.message);
    }).finally(() => this.#schedule());
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#closed) this.#runBeat();
    }, this.#heartbeatIntervalMs);
  }

  #noteError(error: GroupErrorKind): void {
    if (!REJOIN_ERRORS.has(error)) return;
    // UNKNOWN_MEMBER_ID: the coordinator forgot us (session expiry, restart); join as new.
    if (error === "unknown_member_id") this.#memberId = "";
    this.#needsRejoin = true;
  }

  #identity() {
    return {
      groupId: this.groupId,
      generationId: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: null,
    };
  }

  async #joinRounds(): Promise<void> {
    let last: GroupErrorKind = "rebalance_in_progress";
    // Bounded by JOIN_ROUNDS_MAX; each round waits in the coordinator, not in a spin.
    for (let round = 0; round < JOIN_ROUNDS_MAX; round++) {
      if (this.#signal.aborted) throw this.#closedError();
      const error = await this.#joinOnce();
      if (error === null) return;
      last = error;
      if (!RETRIABLE_JOIN_ERRORS.has(error)) break;
    }
    if (this.#signal.aborted) throw this.#closedError();
    throw new GroupMemberError(last, `Cannot join group "${this.groupId}": ${last}`);
  }

  /** One JoinGroup + SyncGroup; null when synced, else the refusal. */
  async #joinOnce(): Promise<GroupErrorKind | null> {
    const epoch = this.#subscriptionEpoch;
    const metadata = encodeSubscription(this.#topics);
    const join = await this.#groups.join({
      groupId: this.groupId,
      memberId: this.#memberId,
      groupInstanceId: null,
      clientId: this.#o.clientId ?? "pyralog-http",
      clientHost: this.#o.clientHost ?? "",
      sessionTimeoutMs: this.#sessionTimeoutMs,
      rebalanceTimeoutMs: this.#rebalanceTimeoutMs,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols: [RANGE_PROTOCOL, ...ROUND_ROBIN_PROTOCOLS].map((name) => ({ name, metadata })),
      requireKnownMemberId: true,
    }, this.#signal);
    if (join.type === "error") {
      // KIP-394: the coordinator names us; the next round joins with that id.
      if (join.error === "member_id_required") this.#memberId = join.memberId;
      if (join.error === "unknown_member_id") this.#memberId = "";
      return join.error;
    }
    this.#memberId = join.memberId;
    this.#generationId = join.generationId;
    const assignments = join.leaderId === join.memberId
      ? this.#assign(join.protocolName, join.members)
      : [];
    const sync = await this.#groups.sync({
      groupId: this.groupId,
      generationId: join.generationId,
      memberId: join.memberId,
      groupInstanceId: null,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: join.protocolName,
      assignments,
    }, this.#signal);
    if (sync.type === "error") {
      if (sync.error === "unknown_member_id") this.#memberId = "";
      return sync.error;
    }
    const assigned = parseConsumerAssignment(sync.assignment);
    if (assigned === null) {
      // The leader (another client) sent bytes that are not an assignment: hold nothing.
      this.#log("warn", `Group "${this.groupId}" sent an unreadable assignment`);
    }
    this.#assignment = assigned ?? [];
    this.#needsRejoin = epoch !== this.#subscriptionEpoch;
    return null;
  }

  /** The leader's job: the group protocol's assignment over every member's subscription. */
  #assign(
    protocol: string | null,
    members: readonly JoinedMember[],
  ): Array<{ memberId: string; assignment: Uint8Array }> {
    const assign = protocol === RANGE_PROTOCOL ? assignRange : assignRoundRobin;
    const plan = assign(
      members.map((m) => ({
        memberId: m.memberId,
        // A subscription we cannot read subscribes to nothing (it still gets an empty plan).
        topics: parseSubscriptionTopics(m.metadata) ?? [],
      })),
      this.#o.partitionCount,
    );
    return [...plan].map(([memberId, assigned]) => ({
      memberId,
      assignment: encodeConsumerAssignment(assigned),
    }));
  }
}
