/**
 * The consumer-group service of one node: the effectful shell around the deterministic
 * `GroupCoordinator`. It owns the one timer that drives the coordinator's deadlines, turns
 * the coordinator's reply callbacks into bounded, abortable promises, and keeps committed
 * offsets durable in the internal topic `__consumer_offsets` (DESIGN.md: one log format
 * everywhere), replaying that topic when the node starts so offsets survive restarts.
 *
 * Durability: every OffsetCommit, OffsetDelete and DeleteGroups appends one record batch to
 * the group's `__consumer_offsets` partition (Kafka's choice of partition: the hash of the
 * group id modulo the partition count, here murmur2 via `partitionForKey`) and is answered
 * only once the append is durable under the node's fsync policy. The in-memory view is
 * updated when the batch is written (before the sync), so memory always follows log order;
 * a sync failure leaves the log refusing appends and the request is answered with an error.
 *
 * Bounded replay: compaction is not built yet, so each partition of `__consumer_offsets` is
 * checkpointed instead. When a partition holds many more records than live offsets, the live
 * offsets of its groups are appended again (the same records, so replay is unchanged), made
 * durable, and everything before them is deleted (`deleteRecordsBefore`, DeleteRecords'
 * mechanism). Replay then reads at most a few times the live offsets, and small segments
 * let the deleted prefix leave the disk.
 *
 * Group membership is persisted too, as Kafka does, with group metadata records
 * (group_metadata_record.ts) written when a group becomes Stable or Empty and tombstoned by
 * DeleteGroups. It is written after the members were answered and not awaited (a crash
 * just before it is durable loses only the newest generation, and its members rejoin on
 * ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID); replay restores the last Stable generation,
 * whose members keep heartbeating without a rebalance, or expire if they are gone.
 */
import { ATTR, buildBatch, decodeBatch, iterateBatches } from "../records/mod.ts";
import { type PartitionLog, TopicError, type TopicStore } from "../storage/mod.ts";
import {
  type Clock,
  createPrng,
  FrameDecodeError,
  partitionForKey,
  type Prng,
  StorageError,
} from "../util/mod.ts";
import type { CommittedOffset, GroupErrorKind, JoinOutcome, SyncOutcome } from "./classic_group.ts";
import {
  GROUP_INITIAL_REBALANCE_DELAY_MS,
  GroupCoordinator,
  type GroupCoordinatorOptions,
  type GroupEvent,
  type GroupResult,
  type JoinGroupInput,
  type LeaveOutcome,
  type LeavingMember,
  type MemberIdentity,
  type SyncGroupInput,
} from "./group_coordinator.ts";
import {
  decodeGroupKey,
  decodeGroupValue,
  encodeGroupKey,
  encodeGroupValue,
} from "./group_metadata_record.ts";
import {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
} from "./offset_commit_record.ts";

/** The internal topic of committed offsets (Kafka's name). */
export const OFFSETS_TOPIC = "__consumer_offsets";
/** Partitions of `__consumer_offsets` when this node creates it (Kafka's default is 50). */
export const OFFSETS_TOPIC_PARTITIONS = 10;
/** offset.metadata.max.bytes, Kafka's default. */
export const OFFSET_METADATA_MAX_BYTES = 4096;
/** How often the coordinator's deadlines are checked (session expiry resolution). */
export const GROUP_TICK_MS = 100;
/** A JoinGroup or SyncGroup waits at most this long beyond the coordinator's own deadlines. */
const WAIT_SLACK_MS = 5_000;
/** Bytes read per step when replaying `__consumer_offsets`. */
const REPLAY_READ_BYTES = 8 * 1024 * 1024;
/** A partition is checkpointed once it holds more records than this... */
export const CHECKPOINT_MIN_RECORDS = 10_000;
/** ...and more than this many times its live offsets. */
const CHECKPOINT_LIVE_FACTOR = 4;
/** Record bytes per checkpoint batch (under the 1 MiB max.message.bytes). */
const CHECKPOINT_BATCH_BYTES = 512 * 1024;
/** Segment size of `__consumer_offsets`, so checkpointed prefixes leave the disk. */
const OFFSETS_SEGMENT_BYTES = 16 * 1024 * 1024;

/** Why one partition of an offset request failed. */
export type OffsetErrorKind =
  | GroupErrorKind
  | "unknown_topic"
  | "offset_metadata_too_large"
  | "invalid_commit_offset_size";

/** One partition's committed offset as OffsetCommit sends it. */
export interface OffsetCommitPartition {
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  /** OffsetCommit v1 only; -1 = now. */
  commitTimestampMs: number;
}

/** An OffsetCommit. */
export interface OffsetCommitInput extends MemberIdentity {
  topics: Array<{ name: string; partitions: OffsetCommitPartition[] }>;
}

/** The outcome for one partition. */
export interface PartitionOutcome {
  topic: string;
  partition: number;
  error: OffsetErrorKind | null;
}

/** A partition and its committed offset (undefined when none is committed). */
export interface FetchedOffset {
  partition: number;
  committed: CommittedOffset | undefined;
}

/** Settings of a group service. */
export interface GroupServiceOptions
  extends Partial<Omit<GroupCoordinatorOptions, "prng" | "onEvent">> {
  clock: Clock;
  /** Member-id randomness; a random seed by default. */
  prng?: Prng;
  /** Partitions of `__consumer_offsets` when it is created here. */
  offsetsTopicPartitions?: number;
  /** Records a partition must exceed before it is checkpointed (tests lower it). */
  checkpointMinRecords?: number;
  /** Run the deadline timer (tests that drive `tick` by hand turn it off). */
  background?: boolean;
  tickMs?: number;
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
  /**
   * Cluster mode (issue #6): `__consumer_offsets` is a replicated topic, and this node
   * coordinates exactly the groups whose partition it leads (see `OffsetsReplicas`).
   */
  offsetsReplicas?: OffsetsReplicas;
}

/** The replicated `__consumer_offsets` partitions, as the group service needs them. */
export interface OffsetsReplicas {
  /** This node's replica of partition `p`, or undefined when it has none. */
  replica(partition: number): OffsetsReplica | undefined;
  /** Asks the controller to create `__consumer_offsets` (idempotent, rate-limited). */
  requestTopic(partitions: number, configs: Record<string, string>): void;
}

/** One replica of a `__consumer_offsets` partition. */
export interface OffsetsReplica {
  readonly isLeader: boolean;
  readonly log: PartitionLog;
  /** The commit end (records below it are committed on a quorum). */
  readonly highWatermark: number;
  /** Appends through the partition's Raft group; "ok" (with its offsets) once committed. */
  propose(
    batch: Uint8Array,
  ): Promise<{ readonly type: string; readonly baseOffset?: number }>;
  /** Deletes this replica's log before `start`, a committed batch boundary (Raft §7). */
  compact(start: number): Promise<boolean>;
}

/**
 * The key of the record that opens a checkpoint of a replicated offsets partition: every
 * replica that finds it committed at offset M deletes its log before M. A key version no
 * offset or group record uses, so replay ignores it.
 */
const CHECKPOINT_MARKER_KEY = new Uint8Array([
  0x7f,
  0x7e,
  ...new TextEncoder().encode("pyralog.checkpoint"),
]);
/** Bytes of an offsets partition a replica scans for checkpoint markers per tick. */
const MARKER_SCAN_BYTES = 1024 * 1024;

/** Consumer groups and committed offsets over a `TopicStore`. */
export class GroupService {
  readonly coordinator: GroupCoordinator;
  readonly #store: TopicStore;
  readonly #clock: Clock;
  readonly #partitionsWanted: number;
  readonly #initialDelayMs: number;
  readonly #log: NonNullable<GroupServiceOptions["log"]>;
  readonly #checkpointMinRecords: number;
  /** Per partition: the log end offset at which to consider the next checkpoint. */
  readonly #checkpointAt = new Map<number, number>();
  readonly #checkpointing = new Set<number>();
  /** The last group metadata value written per group (checkpoints write it again). */
  readonly #groupValues = new Map<string, Uint8Array>();
  /** Group metadata appends not yet durable (not awaited by any request). */
  readonly #groupWrites = new Set<Promise<boolean>>();
  /** The newest membership write per group: true once stored (cluster: committed). */
  readonly #membershipWrites = new Map<string, Promise<boolean>>();
  /** Cluster mode: SyncGroup answers waiting for their group's membership write. */
  readonly #syncWaiters = new Map<string, Set<(stored: boolean) => void>>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  /** Cluster mode: the replicated offsets partitions. */
  readonly #replicas: OffsetsReplicas | undefined;
  /** Cluster mode: the partitions this node leads and has loaded the groups of. */
  readonly #loaded = new Set<number>();
  /** Cluster mode: per offsets partition, how far this replica scanned for checkpoint markers. */
  readonly #markerScan = new Map<number, number>();
  /** Cluster mode: per offsets partition, the newest committed checkpoint marker found. */
  readonly #markers = new Map<number, number>();
  /** Cluster mode: offsets partitions whose replica is being compacted now. */
  readonly #compacting = new Set<number>();

  /**
   * Opens the service and replays `__consumer_offsets` when it exists.
   * @throws {StorageError} when a partition of `__consumer_offsets` cannot be read.
   */
  constructor(store: TopicStore, options: GroupServiceOptions) {
    this.#store = store;
    this.#clock = options.clock;
    this.#partitionsWanted = options.offsetsTopicPartitions ?? OFFSETS_TOPIC_PARTITIONS;
    this.#initialDelayMs = options.initialRebalanceDelayMs ?? GROUP_INITIAL_REBALANCE_DELAY_MS;
    this.#log = options.log ?? (() => {});
    this.#checkpointMinRecords = options.checkpointMinRecords ?? CHECKPOINT_MIN_RECORDS;
    this.#replicas = options.offsetsReplicas;
    const prng = options.prng ?? createPrng(crypto.getRandomValues(new Uint32Array(1))[0] ?? 1);
    this.coordinator = new GroupCoordinator({
      prng,
      ...(options.minSessionTimeoutMs !== undefined
        ? { minSessionTimeoutMs: options.minSessionTimeoutMs }
        : {}),
      ...(options.maxSessionTimeoutMs !== undefined
        ? { maxSessionTimeoutMs: options.maxSessionTimeoutMs }
        : {}),
      initialRebalanceDelayMs: this.#initialDelayMs,
      onEvent: (e) => this.#onEvent(e),
      ...(options.maxGroupSize !== undefined ? { maxGroupSize: options.maxGroupSize } : {}),
    });
    // Cluster mode loads a partition's groups when it becomes its leader (in `tick`).
    if (this.#replicas === undefined) this.#replay();
    if (options.background ?? true) {
      this.#timer = setInterval(() => this.tick(), options.tickMs ?? GROUP_TICK_MS);
    }
  }

  /** The `__consumer_offsets` partition that holds a group's records. */
  partitionFor(groupId: string): number {
    const count = this.#store.topic(OFFSETS_TOPIC)?.partitions ?? this.#partitionsWanted;
    return partitionForKey(new TextEncoder().encode(groupId), count);
  }

  /**
   * Whether this node coordinates `groupId`: always on a single node; in a cluster, when it
   * leads the group's `__consumer_offsets` partition and has loaded its groups.
   */
  coordinates(groupId: string): boolean {
    if (this.#replicas === undefined) return true;
    if (!this.#store.topic(OFFSETS_TOPIC)) return false;
    return this.#loaded.has(this.partitionFor(groupId));
  }

  /**
   * Creates `__consumer_offsets` when missing; false when it cannot be created (in a cluster:
   * not yet, the controller is asked and the client retries).
   */
  ensureOffsetsTopic(): boolean {
    if (this.#store.topic(OFFSETS_TOPIC)) return true;
    // Offsets never expire by time: compaction is not built yet, so nothing may be deleted.
    const configs = {
      "retention.ms": "-1",
      "segment.bytes": String(OFFSETS_SEGMENT_BYTES),
    };
    if (this.#replicas !== undefined) {
      this.#replicas.requestTopic(this.#partitionsWanted, configs);
      return false;
    }
    try {
      this.#store.createTopic(OFFSETS_TOPIC, this.#partitionsWanted, configs);
      this.#log("info", `Created "${OFFSETS_TOPIC}" with ${this.#partitionsWanted} partitions`);
      return true;
    } catch (err) {
      if (!(err instanceof TopicError) && !(err instanceof StorageError)) throw err;
      this.#log("warn", `Cannot create "${OFFSETS_TOPIC}": ${err.message}`);
      return false;
    }
  }

  /** Runs the coordinator's deadlines at the current time (and follows leaderships). */
  tick(): void {
    if (this.#replicas !== undefined) {
      this.#followLeaderships(this.#replicas);
      this.#applyCheckpoints(this.#replicas);
    }
    this.coordinator.tick(this.#clock.monotonicMs());
  }

  /**
   * Cluster mode, on every replica: deletes the log before the newest committed checkpoint
   * marker (see `CHECKPOINT_MARKER_KEY`), so replicated offsets partitions stay bounded as
   * local ones do. Scans at most MARKER_SCAN_BYTES per partition per tick.
   */
  #applyCheckpoints(replicas: OffsetsReplicas): void {
    const info = this.#store.topic(OFFSETS_TOPIC);
    if (!info || this.#closed) return;
    for (let p = 0; p < info.partitions; p++) {
      const r = replicas.replica(p);
      if (r === undefined) continue;
      const log = r.log;
      let at = Math.max(this.#markerScan.get(p) ?? 0, log.logStartOffset);
      const end = r.highWatermark;
      if (at < end) {
        let read;
        try {
          read = log.read(at, MARKER_SCAN_BYTES, { maxOffsetExclusive: end });
        } catch (err) {
          // A damaged segment is reported by the replica's own reads; the scan waits here.
          if (!(err instanceof StorageError)) throw err;
          this.#log("warn", `Cannot scan "${OFFSETS_TOPIC}-${p}" for checkpoints: ${err.message}`);
          continue;
        }
        if (read.type === "ok") {
          for (const frame of iterateBatches(read.bytes)) {
            if (frame.header.recordCount > 0 && !isControlBatch(frame.header.attributes)) {
              const key = decodeBatch(frame.bytes).records[0]?.key ?? null;
              if (key !== null && sameBytes(key, CHECKPOINT_MARKER_KEY)) {
                this.#markers.set(p, frame.header.baseOffset);
              }
            }
            at = frame.header.baseOffset + frame.header.lastOffsetDelta + 1;
          }
          this.#markerScan.set(p, at);
        }
      }
      // Retried each tick until done: a replica with writes in flight declines for now.
      const marker = this.#markers.get(p) ?? -1;
      if (marker > log.logStartOffset && !this.#compacting.has(p)) {
        this.#compacting.add(p);
        r.compact(marker).then(
          (done) => {
            if (done) {
              this.#log("info", `Compacted "${OFFSETS_TOPIC}-${p}" to its checkpoint ${marker}`);
            }
          },
          (err) => this.#log("warn", `Cannot compact "${OFFSETS_TOPIC}-${p}": ${String(err)}`),
        ).finally(() => this.#compacting.delete(p));
      }
    }
  }

  /**
   * Cluster mode: loads the groups of offsets partitions this node now leads (replaying the
   * partition's log, which holds every committed record: Raft's Leader Completeness) and
   * forgets the groups of partitions it no longer leads (their new coordinator has them).
   */
  #followLeaderships(replicas: OffsetsReplicas): void {
    const info = this.#store.topic(OFFSETS_TOPIC);
    if (!info) return;
    for (let p = 0; p < info.partitions; p++) {
      const r = replicas.replica(p);
      const leads = r?.isLeader === true;
      if (leads && !this.#loaded.has(p) && r !== undefined) {
        this.#forgetPartition(p); // anything left from an earlier leadership is stale
        const n = this.#replayLog(r.log, p);
        this.#loaded.add(p);
        this.#log("info", `Coordinating the groups of "${OFFSETS_TOPIC}-${p}" (${n} records)`);
      } else if (!leads && this.#loaded.has(p)) {
        this.#loaded.delete(p);
        this.#forgetPartition(p);
        this.#log("info", `No longer coordinating the groups of "${OFFSETS_TOPIC}-${p}"`);
      }
    }
  }

  /** Drops the in-memory groups of one offsets partition (their members are told to rejoin). */
  #forgetPartition(partition: number): void {
    for (const groupId of this.coordinator.groupIds()) {
      if (this.partitionFor(groupId) !== partition) continue;
      this.coordinator.unload(groupId);
      this.#groupValues.delete(groupId);
      this.#membershipWrites.delete(groupId);
      for (const w of [...(this.#syncWaiters.get(groupId) ?? [])]) w(false);
    }
  }

  /** JoinGroup; waits (bounded, abortable) for the rebalance when the coordinator says so. */
  join(input: JoinGroupInput, signal: AbortSignal): Promise<JoinOutcome> {
    const closed: JoinOutcome = {
      type: "error",
      error: "coordinator_not_available",
      memberId: input.memberId,
    };
    if (this.#closed) return Promise.resolve(closed);
    if (!this.coordinates(input.groupId)) {
      return Promise.resolve({ ...closed, error: "not_coordinator" });
    }
    const rebalanceMs = Math.max(input.rebalanceTimeoutMs, input.sessionTimeoutMs, 0);
    const boundMs = Math.max(rebalanceMs, this.coordinator.rebalanceTimeoutMs(input.groupId)) +
      this.#initialDelayMs + WAIT_SLACK_MS;
    return waitFor<JoinOutcome>(
      (reply) => this.coordinator.join(input, this.#clock.monotonicMs(), reply),
      boundMs,
      signal,
      { type: "error", error: "rebalance_in_progress", memberId: input.memberId },
      (reply) => this.coordinator.abandon(input.groupId, reply, this.#clock.monotonicMs()),
    );
  }

  /** SyncGroup; followers wait (bounded, abortable) for the leader's assignment. */
  sync(input: SyncGroupInput, signal: AbortSignal): Promise<SyncOutcome> {
    if (this.#closed) return Promise.resolve({ type: "error", error: "coordinator_not_available" });
    if (!this.coordinates(input.groupId)) {
      return Promise.resolve({ type: "error", error: "not_coordinator" });
    }
    const boundMs = this.coordinator.rebalanceTimeoutMs(input.groupId) + WAIT_SLACK_MS;
    const outcome = waitFor<SyncOutcome>(
      (reply) => this.coordinator.sync(input, this.#clock.monotonicMs(), reply),
      boundMs,
      signal,
      { type: "error", error: "rebalance_in_progress" },
      (reply) => this.coordinator.abandon(input.groupId, reply, this.#clock.monotonicMs()),
    );
    if (this.#replicas === undefined) return outcome;
    // Cluster mode (Kafka's rule): a generation is answered only once its membership record
    // is committed. Otherwise a coordinator move could lose it and the next coordinator form
    // the same generation number again, accepting an old member's commits under it.
    return outcome.then(async (o) => {
      if (o.type !== "ok") return o;
      const write = this.#membershipWrites.get(input.groupId);
      if (write === undefined) return o;
      // Decided by the write, or by this node losing the group (a cut-off leader's write
      // never settles until it is healed): see `#forgetPartition`.
      const stored = await new Promise<boolean>((resolve) => {
        const waiters = this.#syncWaiters.get(input.groupId) ?? new Set();
        this.#syncWaiters.set(input.groupId, waiters);
        const done = (v: boolean) => {
          waiters.delete(done);
          if (waiters.size === 0 && this.#syncWaiters.get(input.groupId) === waiters) {
            this.#syncWaiters.delete(input.groupId);
          }
          resolve(v);
        };
        waiters.add(done);
        write.then(done);
      });
      return stored ? o : { type: "error", error: "not_coordinator" };
    });
  }

  /** Heartbeat. */
  heartbeat(input: MemberIdentity): GroupResult {
    if (this.#closed) return { type: "error", error: "coordinator_not_available" };
    if (!this.coordinates(input.groupId)) return { type: "error", error: "not_coordinator" };
    return this.coordinator.heartbeat(input, this.#clock.monotonicMs());
  }

  /** LeaveGroup. */
  leave(groupId: string, members: LeavingMember[]): LeaveOutcome {
    if (this.#closed) return { type: "error", error: "coordinator_not_available" };
    if (!this.coordinates(groupId)) return { type: "error", error: "not_coordinator" };
    return this.coordinator.leave(groupId, members, this.#clock.monotonicMs());
  }

  /** OffsetCommit: checks the member, then appends the offsets durably. */
  async commitOffsets(input: OffsetCommitInput): Promise<PartitionOutcome[]> {
    const all = input.topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, p, error: null as OffsetErrorKind | null }))
    );
    const check: GroupResult = this.#closed
      ? { type: "error", error: "coordinator_not_available" }
      : !this.coordinates(input.groupId)
      ? { type: "error", error: "not_coordinator" }
      : this.coordinator.validateOffsetCommit(input, this.#clock.monotonicMs());
    if (check.type === "error") {
      return all.map((x) => ({ topic: x.topic, partition: x.p.partition, error: check.error }));
    }
    const encoder = new TextEncoder();
    for (const x of all) {
      const info = this.#store.topic(x.topic);
      if (!info || x.p.partition < 0 || x.p.partition >= info.partitions) {
        x.error = "unknown_topic";
      } else if (encoder.encode(x.p.metadata ?? "").length > OFFSET_METADATA_MAX_BYTES) {
        x.error = "offset_metadata_too_large";
      }
    }
    const accepted = all.filter((x) => x.error === null);
    const nowMs = this.#clock.nowMs();
    const failure = await this.#appendOffsets(
      input.groupId,
      accepted.map((x) => ({
        topic: x.topic,
        partition: x.p.partition,
        value: {
          offset: x.p.offset,
          leaderEpoch: x.p.leaderEpoch,
          metadata: x.p.metadata ?? "",
          commitTimestampMs: x.p.commitTimestampMs >= 0 ? x.p.commitTimestampMs : nowMs,
        },
      })),
    );
    for (const x of accepted) x.error = failure;
    return all.map((x) => ({ topic: x.topic, partition: x.p.partition, error: x.error }));
  }

  /** OffsetFetch of one group: the listed partitions, or every committed one (null topics). */
  fetchOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }> | null,
  ): Array<{ topic: string; partitions: FetchedOffset[] }> {
    if (topics === null) {
      return this.coordinator.committedOffsets(groupId).map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: p.partition, committed: p.committed })),
      }));
    }
    return topics.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p,
        committed: this.coordinator.committedOffset(groupId, t.name, p),
      })),
    }));
  }

  /**
   * OffsetDelete (KIP-496): removes committed offsets of topics no live member subscribes
   * to, with tombstones. A whole-request refusal is returned as `{ type: "error" }`.
   */
  async deleteOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }>,
  ): Promise<
    { type: "error"; error: GroupErrorKind } | { type: "ok"; results: PartitionOutcome[] }
  > {
    if (this.#closed) return { type: "error", error: "coordinator_not_available" };
    if (!this.coordinates(groupId)) return { type: "error", error: "not_coordinator" };
    const check = this.coordinator.offsetDeletion(groupId);
    if (check.type === "error") return check;
    const results: PartitionOutcome[] = [];
    const doomed: Array<{ topic: string; partition: number; value: null }> = [];
    for (const t of topics) {
      const info = this.#store.topic(t.name);
      for (const partition of t.partitions) {
        let error: OffsetErrorKind | null = null;
        if (!info || partition < 0 || partition >= info.partitions) error = "unknown_topic";
        else if (check.subscribed.has(t.name)) error = "group_subscribed_to_topic";
        else if (this.coordinator.committedOffset(groupId, t.name, partition)) {
          doomed.push({ topic: t.name, partition, value: null });
        }
        results.push({ topic: t.name, partition, error });
      }
    }
    const failure = await this.#appendOffsets(groupId, doomed);
    if (failure) {
      for (const r of results) {
        if (doomed.some((d) => d.topic === r.topic && d.partition === r.partition)) {
          r.error = failure;
        }
      }
    }
    return { type: "ok", results };
  }

  /** DeleteGroups (KIP-229): removes empty groups and tombstones their offsets. */
  async deleteGroups(
    groupIds: string[],
  ): Promise<Array<{ groupId: string; error: OffsetErrorKind | null }>> {
    const out: Array<{ groupId: string; error: OffsetErrorKind | null }> = [];
    // One group at a time: a request names few groups, and each append is awaited in turn.
    for (const groupId of groupIds) {
      if (this.#closed) {
        out.push({ groupId, error: "coordinator_not_available" });
        continue;
      }
      if (!this.coordinates(groupId)) {
        out.push({ groupId, error: "not_coordinator" });
        continue;
      }
      const r = this.coordinator.deleteGroup(groupId);
      if (r.type === "error") {
        out.push({ groupId, error: r.error });
        continue;
      }
      this.#groupValues.delete(groupId);
      this.#membershipWrites.delete(groupId);
      const failure = await this.#appendOffsets(
        groupId,
        r.offsets.map((o) => ({ ...o, value: null })),
        [{ key: encodeGroupKey(groupId), value: null }],
      );
      out.push({ groupId, error: failure });
    }
    return out;
  }

  /**
   * Removes every group's committed offsets of a deleted topic with tombstones, as Kafka
   * does when a topic is deleted (a topic created again under the name starts without
   * offsets). For the DeleteTopics path; resolves once durable, or with the first error.
   */
  async deleteTopicOffsets(topic: string): Promise<OffsetErrorKind | null> {
    // Bounded by the groups known now; each group's tombstones are one batch.
    for (const groupId of this.coordinator.groupIds()) {
      const doomed = this.coordinator.committedOffsets(groupId)
        .filter((t) => t.topic === topic)
        .flatMap((t) => t.partitions.map((p) => ({ topic, partition: p.partition, value: null })));
      const failure = await this.#appendOffsets(groupId, doomed);
      if (failure) return failure;
    }
    return null;
  }

  /** Stops the timer and answers every waiting JoinGroup/SyncGroup (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.coordinator.close();
  }

  /**
   * Appends offset records (values, or null tombstones) of one group as one batch and
   * applies them in memory once written; resolves with null when durable, or the error.
   */
  async #appendOffsets(
    groupId: string,
    entries: Array<{ topic: string; partition: number; value: CommittedOffset | null }>,
    extra: Array<{ key: Uint8Array; value: Uint8Array | null }> = [],
  ): Promise<OffsetErrorKind | null> {
    if (entries.length === 0 && extra.length === 0) return null;
    if (!this.ensureOffsetsTopic()) return "coordinator_not_available";
    const nowMs = this.#clock.nowMs();
    const batch = buildBatch({
      records: [
        ...entries.map((e) => ({
          key: encodeOffsetKey({ groupId, topic: e.topic, partition: e.partition }),
          value: e.value === null ? null : encodeOffsetValue(e.value),
        })),
        ...extra,
      ].map((r) => ({ ...r, timestampMs: nowMs })),
    });
    const partition = this.partitionFor(groupId);
    if (this.#replicas !== undefined) {
      const failure = await this.#proposeOffsets(
        this.#replicas,
        groupId,
        partition,
        batch,
        entries,
      );
      if (failure === null) await this.#maybeCheckpoint(partition);
      return failure;
    }
    try {
      const log = this.#store.partition(OFFSETS_TOPIC, partition);
      const before = log.logEndOffset;
      const durable = log.append(batch);
      // PartitionLog.append writes before its first await: when the end moved, the batch is
      // in the log, so memory follows the log's order.
      if (log.logEndOffset > before) {
        for (const e of entries) {
          this.coordinator.applyOffset(groupId, e.topic, e.partition, e.value);
        }
      }
      await durable;
    } catch (err) {
      if (!(err instanceof StorageError) && !(err instanceof TopicError)) throw err;
      this.#log("warn", `Cannot store offsets of group "${groupId}": ${err.message}`);
      // Kafka's mapping of append failures for group writes (GroupMetadataManager).
      if (err instanceof StorageError && err.code === "record_too_large") {
        return "invalid_commit_offset_size";
      }
      return "not_coordinator";
    }
    await this.#maybeCheckpoint(partition);
    return null;
  }

  /**
   * Cluster mode: appends through the partition's Raft group and applies the records in
   * memory once committed (proposals commit in order, so memory follows the log's order).
   */
  async #proposeOffsets(
    replicas: OffsetsReplicas,
    groupId: string,
    partition: number,
    batch: Uint8Array,
    entries: Array<{ topic: string; partition: number; value: CommittedOffset | null }>,
  ): Promise<OffsetErrorKind | null> {
    const r = replicas.replica(partition);
    if (r === undefined || !r.isLeader || !this.#loaded.has(partition)) return "not_coordinator";
    const out = await r.propose(batch);
    if (out.type !== "ok") {
      this.#log("warn", `Cannot store offsets of group "${groupId}": ${out.type}`);
      return "not_coordinator";
    }
    // Leadership may have moved while the batch committed: the new coordinator replays it.
    if (!this.#loaded.has(partition)) return null;
    for (const e of entries) this.coordinator.applyOffset(groupId, e.topic, e.partition, e.value);
    return null;
  }

  /**
   * Checkpoints one `__consumer_offsets` partition when it has grown well past its live
   * offsets (see the file comment). A failure is logged: the commit that triggered it is
   * already durable, and the next commit tries again.
   */
  async #maybeCheckpoint(partition: number): Promise<void> {
    if (this.#replicas !== undefined) return this.#checkpointReplicated(this.#replicas, partition);
    if (this.#closed || this.#checkpointing.has(partition)) return;
    const log = this.#store.partition(OFFSETS_TOPIC, partition);
    const plan = this.#checkpointPlan(partition, log);
    if (plan === undefined) return;
    const { live, size, wanted } = plan;
    this.#checkpointing.add(partition);
    try {
      const start = log.logEndOffset;
      const nowMs = this.#clock.nowMs();
      // Every batch is written before the first await, so no commit lands in between and the
      // records are exactly the in-memory (log-order) state at `start`.
      const writes = chunkRecords(live).map((records) =>
        log.append(buildBatch({ records: records.map((r) => ({ ...r, timestampMs: nowMs })) }))
      );
      await Promise.all(writes);
      await log.flush(); // durable under every fsync policy before the prefix goes
      log.deleteRecordsBefore(start);
      this.#checkpointAt.set(partition, start + wanted);
      this.#log(
        "info",
        `Checkpointed "${OFFSETS_TOPIC}-${partition}": ${live.length} live offsets, ${size} records before`,
      );
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      this.#log("warn", `Cannot checkpoint "${OFFSETS_TOPIC}-${partition}": ${err.message}`);
    } finally {
      this.#checkpointing.delete(partition);
    }
  }

  /**
   * Whether a partition's log is due for a checkpoint: it grew past the next check point and
   * holds well more records than its live ones; otherwise the next check point moves on.
   */
  #checkpointPlan(
    partition: number,
    log: PartitionLog,
  ):
    | { live: Array<{ key: Uint8Array; value: Uint8Array }>; size: number; wanted: number }
    | undefined {
    const due = this.#checkpointAt.get(partition) ??
      log.logStartOffset + this.#checkpointMinRecords;
    if (log.logEndOffset < due) return undefined;
    const live = this.#liveOffsets(partition);
    const size = log.logEndOffset - log.logStartOffset;
    const wanted = Math.max(this.#checkpointMinRecords, CHECKPOINT_LIVE_FACTOR * live.length);
    if (size <= wanted) {
      this.#checkpointAt.set(partition, log.logStartOffset + wanted);
      return undefined;
    }
    return { live, size, wanted };
  }

  /**
   * Cluster mode: the leader appends the live records through the Raft group, the first
   * batch opening with a checkpoint marker; once committed, every replica deletes its log
   * before the marker (`#applyCheckpoints`). All batches are proposed before the first
   * await, so no commit lands between them and they are exactly the state at the marker.
   */
  async #checkpointReplicated(replicas: OffsetsReplicas, partition: number): Promise<void> {
    const r = replicas.replica(partition);
    if (
      this.#closed || this.#checkpointing.has(partition) || r === undefined || !r.isLeader ||
      !this.#loaded.has(partition)
    ) return;
    const plan = this.#checkpointPlan(partition, r.log);
    if (plan === undefined) return;
    const { live, size, wanted } = plan;
    this.#checkpointing.add(partition);
    try {
      const nowMs = this.#clock.nowMs();
      const marker = { key: CHECKPOINT_MARKER_KEY, value: new Uint8Array(0) };
      const chunks = chunkRecords([marker, ...live]);
      const proposals = chunks.map((records) =>
        r.propose(buildBatch({ records: records.map((x) => ({ ...x, timestampMs: nowMs })) }))
      );
      const outcomes = await Promise.all(proposals);
      const first = outcomes[0];
      if (outcomes.some((o) => o.type !== "ok") || first?.baseOffset === undefined) return;
      this.#checkpointAt.set(partition, first.baseOffset + wanted);
      this.#log(
        "info",
        `Checkpointed "${OFFSETS_TOPIC}-${partition}": ${live.length} live offsets, ${size} records before`,
      );
    } finally {
      this.#checkpointing.delete(partition);
    }
  }

  /** The live records (group metadata, then offsets) of the groups of one partition. */
  #liveOffsets(partition: number): Array<{ key: Uint8Array; value: Uint8Array }> {
    const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    for (const groupId of [...this.#groupValues.keys()]) {
      // Groups the coordinator forgot (empty, no offsets) are not carried forward.
      if (!this.coordinator.hasGroup(groupId)) this.#groupValues.delete(groupId);
    }
    for (const groupId of this.coordinator.groupIds()) {
      if (this.partitionFor(groupId) !== partition) continue;
      const metadata = this.#groupValues.get(groupId);
      if (metadata) out.push({ key: encodeGroupKey(groupId), value: metadata });
      for (const t of this.coordinator.committedOffsets(groupId)) {
        for (const p of t.partitions) {
          out.push({
            key: encodeOffsetKey({ groupId, topic: t.topic, partition: p.partition }),
            value: encodeOffsetValue(p.committed),
          });
        }
      }
    }
    return out;
  }

  /** Waits until every group metadata write so far is durable (tests, shutdown). */
  async settled(): Promise<void> {
    // Bounded: writes started while waiting are awaited in a later round only if present.
    while (this.#groupWrites.size > 0) await Promise.all([...this.#groupWrites]);
  }

  #onEvent(e: GroupEvent): void {
    this.#logEvent(e);
    if (e.type === "stable" || (e.type === "rebalanced" && e.members === 0)) {
      this.#persistGroup(e.groupId);
    }
  }

  /**
   * Appends a group's membership (see the file comment: written after the answers, not
   * awaited by requests). Runs inside coordinator calls, so it only reads the coordinator.
   */
  #persistGroup(groupId: string): void {
    const snapshot = this.coordinator.snapshot(groupId);
    if (snapshot === null || this.#closed || !this.ensureOffsetsTopic()) return;
    const nowMs = this.#clock.nowMs();
    const value = encodeGroupValue({ ...snapshot, stateTimestampMs: nowMs });
    this.#groupValues.set(groupId, value);
    const batch = buildBatch({
      records: [{ key: encodeGroupKey(groupId), value, timestampMs: nowMs }],
    });
    const replicas = this.#replicas;
    const write = (async (): Promise<boolean> => {
      try {
        if (replicas !== undefined) {
          // SyncGroup answers wait for this in cluster mode (see `sync`).
          const r = await replicas.replica(this.partitionFor(groupId))?.propose(batch);
          if (r?.type !== "ok") {
            this.#log("warn", `Cannot store the membership of group "${groupId}": ${r?.type}`);
          }
          return r?.type === "ok";
        }
        await this.#store.partition(OFFSETS_TOPIC, this.partitionFor(groupId)).append(batch);
        return true;
      } catch (err) {
        if (!(err instanceof StorageError) && !(err instanceof TopicError)) throw err;
        // Safe to drop: members that miss the newest generation after a restart rejoin.
        this.#log("warn", `Cannot store the membership of group "${groupId}": ${err.message}`);
        return false;
      }
    })();
    this.#membershipWrites.set(groupId, write);
    this.#groupWrites.add(write);
    write.finally(() => this.#groupWrites.delete(write)).catch((err) => {
      // Storage failures were logged above; anything else is a bug: logged loudly, since no
      // request awaits this write to report it.
      this.#log("error", `Storing the membership of group "${groupId}" failed: ${String(err)}`);
    });
  }

  #logEvent(e: GroupEvent): void {
    if (e.type === "stable") return; // "rebalanced" already said it
    if (e.type === "rebalanced") {
      this.#log(
        "info",
        `Group "${e.groupId}" generation ${e.generationId}: ${e.members} members` +
          (e.members > 0 ? `, protocol "${e.protocolName}", leader "${e.leaderId}"` : ""),
      );
    } else {
      this.#log("info", `Group "${e.groupId}" removed member "${e.memberId}": ${e.cause}`);
    }
  }

  /** Rebuilds committed offsets from `__consumer_offsets`, partition by partition. */
  #replay(): void {
    const info = this.#store.topic(OFFSETS_TOPIC);
    if (!info) return;
    let records = 0;
    for (let p = 0; p < info.partitions; p++) {
      records += this.#replayLog(this.#store.partition(OFFSETS_TOPIC, p), p);
    }
    if (records > 0) this.#log("info", `Loaded ${records} offset records from "${OFFSETS_TOPIC}"`);
  }

  /** Applies every record of one offsets partition's log; returns how many it applied. */
  #replayLog(log: PartitionLog, p: number): number {
    let records = 0;
    let at = log.logStartOffset;
    const end = log.logEndOffset;
    // Bounded: each read advances `at` past at least one batch, or the loop stops.
    while (at < end) {
      const r = log.read(at, REPLAY_READ_BYTES);
      if (r.type !== "ok" || r.bytes.length === 0 || r.nextOffset <= at) break;
      for (const frame of iterateBatches(r.bytes)) {
        let batch;
        try {
          batch = decodeBatch(frame.bytes);
        } catch (err) {
          // A batch with a valid CRC that does not decode was not written by us (a client
          // produced it): skipping it loses nothing we stored.
          if (!(err instanceof FrameDecodeError)) throw err;
          this.#log("warn", `Skipping an undecodable batch of "${OFFSETS_TOPIC}-${p}"`);
          continue;
        }
        if (batch.isControl) continue;
        for (const rec of batch.records) records += this.#applyRecord(rec.key, rec.value);
      }
      at = r.nextOffset;
    }
    return records;
  }

  #applyRecord(keyBytes: Uint8Array | null, valueBytes: Uint8Array | null): number {
    if (keyBytes === null) return 0;
    const groupId = decodeGroupKey(keyBytes);
    if (groupId !== null) {
      const snapshot = valueBytes === null ? null : decodeGroupValue(valueBytes);
      if (valueBytes !== null && snapshot === null) {
        this.#log("warn", `Skipping an unreadable membership record of group "${groupId}"`);
        return 0;
      }
      if (valueBytes === null) this.#groupValues.delete(groupId);
      else this.#groupValues.set(groupId, valueBytes);
      this.coordinator.restore(groupId, snapshot, this.#clock.monotonicMs());
      return 1;
    }
    const key = decodeOffsetKey(keyBytes);
    if (key === null) return 0; // group metadata or another record kind: not ours to read
    const value = valueBytes === null ? null : decodeOffsetValue(valueBytes);
    if (valueBytes !== null && value === null) {
      this.#log("warn", `Skipping an unreadable offset record of group "${key.groupId}"`);
      return 0;
    }
    this.coordinator.applyOffset(key.groupId, key.topic, key.partition, value);
    return 1;
  }
}

/** Splits records into groups of about CHECKPOINT_BATCH_BYTES (at least one each). */
function chunkRecords<R extends { key: Uint8Array; value: Uint8Array }>(records: R[]): R[][] {
  const chunks: R[][] = [];
  let current: R[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = r.key.length + r.value.length;
    if (current.length > 0 && bytes + size > CHECKPOINT_BATCH_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Starts a coordinator call that replies through a callback and waits for the reply, at most
 * `boundMs` (then `fallback`) and until `signal` aborts (then `abandon` tells the coordinator
 * that nobody waits for `reply` any more, and `fallback`). The first answer wins.
 */
function waitFor<T>(
  start: (reply: (o: T) => void) => void,
  boundMs: number,
  signal: AbortSignal,
  fallback: T,
  abandon: (reply: (o: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const finish = (o: T) => {
      if (done) return;
      done = true;
      if (timer !== null) clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(o);
    };
    const onAbort = () => {
      if (done) return;
      abandon(finish); // may answer `finish` itself (the member is removed)
      finish(fallback);
    };
    if (signal.aborted) return finish(fallback);
    signal.addEventListener("abort", onAbort);
    start(finish);
    if (!done) timer = setTimeout(() => finish(fallback), boundMs);
  });
}

function isControlBatch(attributes: number): boolean {
  return (attributes & ATTR.control) !== 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
