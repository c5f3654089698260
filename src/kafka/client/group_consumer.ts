/**
 * A minimal member of a classic consumer group: FindCoordinator, JoinGroup (answering
 * MEMBER_ID_REQUIRED by joining again with the id given, KIP-394), the leader's range
 * assignment over the "consumer" embedded protocol, SyncGroup, then heartbeats on a timer
 * until `leave`. Offsets are committed by the caller (`commit`) with the current generation.
 *
 * It owns a dedicated connection to the coordinator, so a JoinGroup that waits for a
 * rebalance or a long-polling Fetch elsewhere never delays a heartbeat. The heartbeat loop
 * only raises `needsRejoin`; the caller decides when to rejoin (after committing what it
 * has processed), as the Java consumer does inside `poll`. Joining is bounded in attempts.
 */
import { TransportError } from "../../util/mod.ts";
import { ERROR_CODES } from "../protocol/mod.ts";
import type { BrokerConnection } from "./broker_connection.ts";
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from "./consumer_protocol.ts";
import type { KafkaClient } from "./kafka_client.ts";
import { checkErrorCode, KafkaError } from "./kafka_error.ts";
import { assignRange, RANGE_ASSIGNOR } from "./range_assignor.ts";

/** Options of `GroupConsumer.join`. */
export interface GroupConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Kafka's session.timeout.ms default is 45 s; a CLI wants a dead member gone sooner. */
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
}

/** One committed position. */
export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

const SESSION_TIMEOUT_MS = 10_000;
const REBALANCE_TIMEOUT_MS = 30_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
/** JoinGroup/SyncGroup round trips before giving up (MEMBER_ID_REQUIRED costs one). */
const JOIN_ATTEMPTS_MAX = 10;
const JOIN_BACKOFF_MS = 100;

/** Errors after which the member must join again. */
function isRebalanceError(code: number): boolean {
  return code === ERROR_CODES.REBALANCE_IN_PROGRESS || code === ERROR_CODES.ILLEGAL_GENERATION ||
    code === ERROR_CODES.UNKNOWN_MEMBER_ID || code === ERROR_CODES.FENCED_INSTANCE_ID;
}

/** A joined group member. */
export class GroupConsumer {
  readonly #client: KafkaClient;
  readonly #o: Required<GroupConsumerOptions>;
  #conn: BrokerConnection;
  #memberId = "";
  #generationId = -1;
  #assignment: ReadonlyMap<string, readonly number[]> = new Map();
  #needsRejoin = false;
  #joining = false;
  #stopped = new AbortController();
  #heartbeats: Promise<void> = Promise.resolve();

  private constructor(client: KafkaClient, conn: BrokerConnection, o: GroupConsumerOptions) {
    this.#client = client;
    this.#conn = conn;
    this.#o = {
      groupId: o.groupId,
      topics: o.topics,
      sessionTimeoutMs: o.sessionTimeoutMs ?? SESSION_TIMEOUT_MS,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? REBALANCE_TIMEOUT_MS,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    };
  }

  /**
   * Finds the coordinator, joins the group and starts heartbeating.
   * @throws {KafkaError} or {TransportError} when the group cannot be joined.
   */
  static async join(client: KafkaClient, o: GroupConsumerOptions): Promise<GroupConsumer> {
    const coordinator = await client.findCoordinator(o.groupId);
    const conn = await client.connectTo(coordinator.host, coordinator.port);
    const member = new GroupConsumer(client, conn, o);
    try {
      await member.rejoin();
    } catch (err) {
      await member.#stop();
      throw err;
    }
    member.#heartbeats = member.#heartbeatLoop();
    return member;
  }

  /** The partitions assigned in the current generation, per topic. */
  get assignment(): ReadonlyMap<string, readonly number[]> {
    return this.#assignment;
  }

  /** The member id the coordinator gave. */
  get memberId(): string {
    return this.#memberId;
  }

  /** The current generation. */
  get generationId(): number {
    return this.#generationId;
  }

  /** True when a heartbeat learned of a rebalance: commit, then call `rejoin`. */
  get needsRejoin(): boolean {
    return this.#needsRejoin;
  }

  /**
   * Joins (again): JoinGroup until accepted, the leader assigns, SyncGroup.
   * @throws {KafkaError} on a non-retriable error or after `JOIN_ATTEMPTS_MAX` attempts.
   */
  async rejoin(): Promise<void> {
    this.#joining = true;
    try {
      let lastCode = 0;
      for (let attempt = 0; attempt < JOIN_ATTEMPTS_MAX; attempt++) {
        if (attempt > 0) await sleep(JOIN_BACKOFF_MS * attempt);
        if (this.#conn.isClosed) await this.#reconnect();
        const code = await this.#joinOnce();
        if (code === 0) {
          this.#needsRejoin = false;
          return;
        }
        lastCode = code;
        if (code === ERROR_CODES.UNKNOWN_MEMBER_ID) this.#memberId = "";
        if (code === ERROR_CODES.NOT_COORDINATOR) await this.#reconnect();
      }
      throw new KafkaError(`Cannot join group "${this.#o.groupId}"`, lastCode);
    } finally {
      this.#joining = false;
    }
  }

  /** One JoinGroup + SyncGroup round; 0 when joined, else the retriable error code. */
  async #joinOnce(): Promise<number> {
    const { body: join } = await this.#conn.request("JoinGroup", {
      groupId: this.#o.groupId,
      sessionTimeoutMs: this.#o.sessionTimeoutMs,
      rebalanceTimeoutMs: this.#o.rebalanceTimeoutMs,
      memberId: this.#memberId,
      groupInstanceId: null,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols: [{
        name: RANGE_ASSIGNOR,
        metadata: encodeSubscription({ topics: this.#o.topics, userData: null }),
      }],
      reason: null,
    }, { timeoutMs: this.#o.rebalanceTimeoutMs + 10_000 });
    if (join.errorCode === ERROR_CODES.MEMBER_ID_REQUIRED) {
      // KIP-394: the coordinator names us; join again with that id straight away.
      this.#memberId = join.memberId;
      return join.errorCode;
    }
    if (join.errorCode !== 0) return this.#retriableOrThrow("join", join.errorCode);
    this.#memberId = join.memberId;
    this.#generationId = join.generationId;
    const assignments = join.leader === join.memberId ? await this.#assign(join.members) : [];
    const { body: sync } = await this.#conn.request("SyncGroup", {
      groupId: this.#o.groupId,
      generationId: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: null,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: join.protocolName ?? RANGE_ASSIGNOR,
      assignments,
    }, { timeoutMs: this.#o.rebalanceTimeoutMs + 10_000 });
    if (sync.errorCode !== 0) return this.#retriableOrThrow("sync", sync.errorCode);
    this.#assignment = decodeAssignment(sync.assignment).partitions;
    return 0;
  }

  #retriableOrThrow(step: string, code: number): number {
    if (
      isRebalanceError(code) || code === ERROR_CODES.NOT_COORDINATOR ||
      code === ERROR_CODES.COORDINATOR_NOT_AVAILABLE ||
      code === ERROR_CODES.COORDINATOR_LOAD_IN_PROGRESS
    ) return code;
    throw new KafkaError(`Cannot ${step} group "${this.#o.groupId}"`, code);
  }

  /** The leader's job: a range assignment over every member's subscription. */
  async #assign(
    members: ReadonlyArray<{ memberId: string; metadata: Uint8Array }>,
  ): Promise<Array<{ memberId: string; assignment: Uint8Array }>> {
    const subs = members.map((m) => ({
      memberId: m.memberId,
      topics: decodeSubscription(m.metadata).topics,
    }));
    const topics = [...new Set(subs.flatMap((s) => s.topics))];
    const md = await this.#client.metadata(topics);
    const counts = new Map(
      md.topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]),
    );
    const plan = assignRange(subs, counts);
    return [...plan].map(([memberId, partitions]) => ({
      memberId,
      assignment: encodeAssignment({ partitions, userData: null }),
    }));
  }

  async #reconnect(): Promise<void> {
    await this.#conn.close();
    const coordinator = await this.#client.findCoordinator(this.#o.groupId);
    this.#conn = await this.#client.connectTo(coordinator.host, coordinator.port);
  }

  /** The committed offsets of the assigned partitions (-1 where none). */
  async committed(): Promise<TopicPartitionOffset[]> {
    const rows = await this.#client.fetchCommittedOffsets(
      this.#o.groupId,
      this.#assignment,
      this.#conn,
    );
    return rows.map((r) => {
      checkErrorCode(`Cannot fetch offset of "${r.topic}-${r.partition}"`, r.errorCode);
      return { topic: r.topic, partition: r.partition, offset: r.offset };
    });
  }

  /**
   * Commits `offsets` (the next offset to read, as Kafka does) in the current generation.
   * A rebalance error sets `needsRejoin` and is not thrown: the next member commits again.
   * @throws {KafkaError} on other errors.
   */
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    // A heartbeat may have found the connection broken; the commit still goes out.
    if (this.#conn.isClosed) await this.#reconnect();
    const byTopic = new Map<string, TopicPartitionOffset[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const { body } = await this.#conn.request("OffsetCommit", {
      groupId: this.#o.groupId,
      generationIdOrMemberEpoch: this.#generationId,
      memberId: this.#memberId,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({
          partitionIndex: o.partition,
          committedOffset: BigInt(o.offset),
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: "",
        })),
      })),
    });
    for (const t of body.topics) {
      for (const p of t.partitions) {
        if (isRebalanceError(p.errorCode)) {
          this.#needsRejoin = true;
          continue;
        }
        checkErrorCode(`Cannot commit offset of "${t.name}-${p.partitionIndex}"`, p.errorCode);
      }
    }
  }

  /** Stops heartbeating, leaves the group (best effort) and closes the connection. */
  async leave(): Promise<void> {
    this.#stopped.abort();
    await this.#heartbeats;
    if (this.#memberId !== "" && !this.#conn.isClosed) {
      try {
        await this.#conn.request("LeaveGroup", {
          groupId: this.#o.groupId,
          memberId: this.#memberId,
          members: [{ memberId: this.#memberId, groupInstanceId: null, reason: "closing" }],
        });
      } catch (err) {
        // Best effort: the session timeout removes the member anyway. Say so, once.
        if (!(err instanceof TransportError)) throw err;
      }
    }
    await this.#stop();
  }

  async #stop(): Promise<void> {
    this.#stopped.abort();
    await this.#conn.close();
  }

  async #heartbeatLoop(): Promise<void> {
    const signal = this.#stopped.signal;
    // Bounded by `leave`: each turn waits one interval or ends on abort.
    while (!signal.aborted) {
      await sleep(this.#o.heartbeatIntervalMs, signal);
      if (signal.aborted || this.#joining || this.#needsRejoin) continue;
      try {
        const { body } = await this.#conn.request("Heartbeat", {
          groupId: this.#o.groupId,
          generationId: this.#generationId,
          memberId: this.#memberId,
          groupInstanceId: null,
        });
        if (isRebalanceError(body.errorCode)) this.#needsRejoin = true;
      } catch (err) {
        // A broken connection shows up in the next commit or rejoin, which reconnect; the
        // loop only flags it so the owner rejoins.
        if (!(err instanceof TransportError)) throw err;
        if (!signal.aborted) this.#needsRejoin = true;
      }
    }
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}
