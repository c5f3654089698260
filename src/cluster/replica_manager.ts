/**
 * The partition replicas of one node in a cluster (issue #6): it follows the metadata image
 * and keeps the node's local state in step with it.
 *
 * - The local `TopicStore` is a mirror of the image's topics (name, id, partition count,
 *   configs), so every reader of topic metadata (Metadata, DescribeConfigs, HTTP) keeps
 *   working unchanged. Topics leave the mirror when they leave the image; a topic whose id
 *   changed (deleted and created again) is dropped and created anew.
 * - Dropping deletes data, so it is done only from an image at least as new as the one the
 *   mirror was last made from (`MIRROR_FILE` keeps that offset across restarts): after a
 *   restart the image is replayed from the metadata log and may lag behind until the
 *   controller's leader reaches this node; a topic missing from such an older image was not
 *   deleted, it was not created yet at that point.
 * - Every partition whose replica set names this node is a `RaftGroup` over the partition's
 *   directory: the group's Raft leader and term are the Kafka leader and leader epoch, its
 *   commit end the high watermark. The store hands the group's log out (`logOf`), never a
 *   second one.
 * - The leader of a group reports its leader epoch and in-sync set to the controller
 *   (`report`, KIP-497's AlterPartition with the Raft term as epoch) whenever the image says
 *   otherwise, so Metadata from every node names the real leader.
 *
 * In-sync replicas (Kafka's replica.lag.time.max.ms): the leader, and every voter that held
 * the leader's log end of the previous check within `isrLagMs`. A leader grants every voter
 * a fresh grace period when it takes over.
 *
 * Must not: open a group for a partition twice, or let two reconciliations interleave (one
 * runs at a time; the next starts after it). Timers stop at `close()`.
 */
import type { Durability } from "../raft/mod.ts";
import {
  type LogConfig,
  logConfigFor,
  type PartitionLog,
  type TopicStore,
  writeFileAtomic,
} from "../storage/mod.ts";
import { type NodeId, offset, type Prng, StorageError } from "../util/mod.ts";
import { type MetadataImage, replicationQuorumOf } from "./controller/mod.ts";
import { isInternalTopic } from "./internal_topics.ts";
import type { GroupRouter, ProposeResult } from "./replication/mod.ts";
import { RaftGroup } from "./replication/mod.ts";
import type { Scheduler, Timer, Transport } from "./transport/mod.ts";

/** Default time a voter may lag before it leaves the in-sync set. */
export const DEFAULT_ISR_LAG_MS = 3_000;
/** Default period of reconciliation and leadership reports. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 50;
/** The file (in the data directory) holding the image offset the mirror was made from. */
export const MIRROR_FILE = "replica-mirror.json";
/** A refused or failed report is retried no sooner than this. */
const REPORT_RETRY_MS = 200;
/**
 * Leadership goes back to a partition's preferred replica (the first of its replica list, which
 * placement spreads across nodes) once that replica has been in sync this long; then again no
 * sooner than this after a try (Kafka's auto.leader.rebalance.enable, per partition).
 */
export const DEFAULT_PREFERRED_LEADER_DELAY_MS = 5_000;
/** Longest wait of a controlled shutdown for leaderships to move away. */
export const DEFAULT_HANDOFF_MS = 2_000;
/** How often retention (retention.ms / retention.bytes) is applied to the replicas. */
export const DEFAULT_RETENTION_CHECK_MS = 60_000;

/** What the controller answered a leadership report. */
export type ReportResult = { readonly type: string };

/** Settings of a replica manager. */
export interface ReplicaManagerOptions {
  readonly nodeId: NodeId;
  readonly dataDir: string;
  readonly store: TopicStore;
  /** The metadata image this node applied. */
  readonly image: () => MetadataImage;
  readonly router: GroupRouter;
  readonly transport: Transport;
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
  readonly tickMs: number;
  readonly electionTicks?: number;
  /** "sync": acknowledge once W voters synced; "writeCaching": once W voters hold it. */
  readonly durability: Durability;
  /** The node's storage defaults (segment sizes etc.); fsync is Raft's business. */
  readonly logDefaults?: Partial<LogConfig>;
  /** Tells the controller this node leads `topicId`-`partition` at `leaderEpoch`. */
  readonly report: (
    topicId: string,
    partition: number,
    leaderEpoch: number,
    isr: NodeId[],
  ) => Promise<ReportResult>;
  /** Told when a partition's high watermark advanced (wakes long polls). */
  readonly onCommit?: (topic: string, partition: number) => void;
  readonly isrLagMs?: number;
  readonly reconcileIntervalMs?: number;
  /** See DEFAULT_PREFERRED_LEADER_DELAY_MS; 0 turns rebalancing off. */
  readonly preferredLeaderDelayMs?: number;
  /** See DEFAULT_RETENTION_CHECK_MS. */
  readonly retentionCheckMs?: number;
  /** Wall-clock ms (retention compares record timestamps with it). */
  readonly nowMs?: () => number;
  /** Told the duration of every fdatasync of a replica's log (ms), for metrics. */
  readonly onSyncMs?: (durationMs: number) => void;
  readonly onWarning?: (message: string) => void;
  /** The transport flushes heartbeats on its own interval (see RaftGroupOptions). */
  readonly coalesceHeartbeats?: boolean;
}

/** One replicated partition as the produce and fetch paths see it. */
export interface ReplicaHandle {
  readonly log: PartitionLog;
  readonly isLeader: boolean;
  readonly leaderId: number | undefined;
  /** The Raft term: the Kafka leader epoch. */
  readonly leaderEpoch: number;
  /** The commit end: the Kafka high watermark. */
  readonly highWatermark: number;
  /**
   * Leader: whether the commit end is known in this term (an entry of the term committed,
   * Raft §5.4.2). Before that it may lag what earlier leaders acknowledged (KIP-207).
   */
  readonly highWatermarkKnown: boolean;
  /** Voters in the in-sync set (the leader's view; 0 on a follower). */
  readonly inSyncReplicas: number;
  /** The leader epochs of the log with their first offsets, ascending (KIP-101). */
  epochs(): Array<{ epoch: number; startOffset: number }>;
  /** See `RaftGroup.propose` (`committed`: settle at the synced commit end). */
  propose(
    batch: Uint8Array,
    options?: { committed?: boolean; crcVerified?: boolean },
  ): Promise<ProposeResult>;
  /** Deletes this replica's log before `start`, a committed batch boundary (Raft §7). */
  compact(start: number): Promise<boolean>;
}

interface Hosted {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly group: RaftGroup;
  /** Voter -> monotonic ms it last held the leader's previous log end. */
  readonly caughtUpMs: Map<NodeId, number>;
  previousEnd: number;
  /** The term the in-sync bookkeeping belongs to. */
  term: number;
  /** The last sampled in-sync set, in replica order. */
  isr: NodeId[];
  /** Voters that caught up with the leader in this term (min.insync.replicas counts them). */
  readonly confirmed: Set<NodeId>;
  /** How many of the last sampled in-sync set are confirmed (read on every produce). */
  confirmedInSync: number;
  /** The partition's replicas in placement order. */
  readonly replicas: readonly NodeId[];
  reporting: boolean;
  nextReportMs: number;
  /** Monotonic ms since the preferred replica (not leading) has been in sync, or -1. */
  preferredInSyncSinceMs: number;
}

/** Keeps a node's partition replicas in step with the metadata image. */
export class ReplicaManager {
  readonly #o: ReplicaManagerOptions;
  readonly #hosted = new Map<string, Hosted>(); // "topic\0partition"
  readonly #byLog = new WeakMap<PartitionLog, RaftGroup>();
  readonly #lagMs: number;
  #timer: Timer | undefined;
  #tickTimer: Timer | undefined;
  #running: Promise<void> | undefined;
  #appliedImage = -1;
  #nextRetentionMs = 0;
  /** The image offset the store mirror was last made from (persisted in MIRROR_FILE). */
  #mirroredAt: number;
  #closed = false;

  constructor(options: ReplicaManagerOptions) {
    this.#o = options;
    this.#lagMs = options.isrLagMs ?? DEFAULT_ISR_LAG_MS;
    this.#mirroredAt = readMirroredAt(options.dataDir);
  }

  /** Starts the reconciliation timer (the first pass runs at once) and the groups' ticks. */
  start(): void {
    this.#arm(0);
  }

  /** Ticks every hosted group each `tickMs` from one timer (armed with the first group). */
  #armTicks(): void {
    if (this.#closed || this.#tickTimer !== undefined) return;
    this.#tickTimer = this.#o.scheduler.setTimer(() => {
      this.#tickTimer = undefined;
      for (const h of this.#hosted.values()) h.group.tick();
      this.#armTicks();
    }, this.#o.tickMs);
  }

  /** The log of a partition for the topic store (see `TopicStoreOptions.resolveLog`). */
  logOf(topic: string, partition: number): PartitionLog | "local" | "absent" {
    const h = this.#hosted.get(key(topic, partition));
    // Every topic of a cluster is replicated (`__consumer_offsets` included).
    return h !== undefined ? h.group.log.partitionLog : "absent";
  }

  /** The replica of a partition on this node, or undefined when it has none. */
  replica(topic: string, partition: number): ReplicaHandle | undefined {
    const h = this.#hosted.get(key(topic, partition));
    if (h === undefined) return undefined;
    const g = h.group;
    const leading = g.role === "leader" && g.failure === undefined;
    return {
      log: g.log.partitionLog,
      isLeader: leading,
      leaderId: g.leader,
      leaderEpoch: g.term,
      highWatermark: g.commitOffset,
      highWatermarkKnown: leading && committedInTerm(g),
      // Only voters that caught up in this term count (not a new term's grace period).
      // Until the first sample of a new term only the leader itself is known to hold it all.
      inSyncReplicas: !leading ? 0 : h.term === g.term ? h.confirmedInSync : 1,
      propose: (batch, options) => g.propose(batch, options),
      compact: (start) =>
        start <= g.logStartOffset || start > g.commitOffset
          ? Promise.resolve(false)
          : g.compact(offset(start)),
      epochs: () => g.log.termBoundaries().map((b) => ({ epoch: b.term, startOffset: b.start })),
    };
  }

  /** The commit end of a replica's log, or undefined when `log` is not a replica's. */
  commitOf(log: PartitionLog): number | undefined {
    return this.#byLog.get(log)?.commitOffset;
  }

  /** The replicas this node hosts (for metrics and tests). */
  hosted(): Array<{ topic: string; partition: number; group: RaftGroup }> {
    return [...this.#hosted.values()].map((h) => ({
      topic: h.topic,
      partition: h.partition,
      group: h.group,
    }));
  }

  /** The leader's in-sync set of a hosted partition (undefined on a follower). */
  inSyncSet(topic: string, partition: number): NodeId[] | undefined {
    const h = this.#hosted.get(key(topic, partition));
    if (h === undefined || h.group.role !== "leader" || h.term !== h.group.term) return undefined;
    return h.isr;
  }

  /** Runs one reconciliation now (tests; the timer runs them otherwise). */
  async reconcile(): Promise<void> {
    // One at a time: a pass already running is awaited, then a fresh one runs.
    await this.#running;
    if (this.#closed) return;
    this.#running = this.#pass().finally(() => (this.#running = undefined));
    await this.#running;
  }

  /**
   * Controlled shutdown of the replicas (Kafka's controlled shutdown): every partition this
   * node leads hands its leadership to an in-sync voter, and the node waits (at most
   * `waitMs`) until it leads none, so clients move on at once instead of after an election
   * timeout. Best effort: what is still led when the time is up is simply closed.
   */
  async handOffLeaderships(waitMs = DEFAULT_HANDOFF_MS): Promise<number> {
    const self = this.#o.nodeId;
    const handed = [...this.#hosted.values()].filter((h) => h.group.role === "leader");
    for (const h of handed) {
      const to = h.isr.find((v) => v !== self);
      if (to !== undefined) h.group.transferLeadership(to);
    }
    // Done when another node leads each of them (its election finished, not only ours ended).
    const pending = () =>
      handed.filter((h) => h.group.leader === undefined || h.group.leader === self).length;
    const deadline = this.#o.clock() + waitMs;
    // Bounded by time and by count (a clock that stands still ends it after the count).
    for (let i = 0; i < waitMs / 10 + 1 && pending() > 0 && this.#o.clock() < deadline; i++) {
      await new Promise<void>((resolve) => this.#o.scheduler.setTimer(resolve, 10));
    }
    return pending();
  }

  /** Stops the timer and closes every group (their logs flush). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#tickTimer?.cancel();
    this.#tickTimer = undefined;
    await this.#running;
    for (const h of this.#hosted.values()) {
      this.#o.router.remove(h.group.groupId);
      await h.group.close();
    }
    this.#hosted.clear();
  }

  #arm(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = this.#o.scheduler.setTimer(() => {
      this.#timer = undefined;
      if (this.#running === undefined) {
        this.#running = this.#pass().catch((err: unknown) => {
          // A failed pass (a directory that cannot be opened) is reported and retried on the
          // next period; the replicas already open keep serving.
          this.#warn(`Cannot reconcile replicas: ${(err as Error).message}`);
        }).finally(() => (this.#running = undefined));
      }
      this.#arm(this.#o.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS);
    }, delayMs);
  }

  async #pass(): Promise<void> {
    const image = this.#o.image();
    if (image.nextOffset !== this.#appliedImage) {
      await this.#mirror(image);
      this.#appliedImage = image.nextOffset;
    }
    this.#reportLeaderships(image);
    const now = this.#o.clock();
    if (now >= this.#nextRetentionMs) {
      this.#nextRetentionMs = now + (this.#o.retentionCheckMs ?? DEFAULT_RETENTION_CHECK_MS);
      await this.applyRetention();
    }
  }

  /**
   * Applies retention to every replica, each on its own as Kafka replicas do: the log start
   * moves to the first segment retention keeps, deleting only segments wholly below the
   * commit end, through the Raft
   * group (a prefix deletion the core knows of, §7; a follower that needs the deleted prefix
   * is reset to the leader's log start). Returns the replicas whose start moved.
   */
  async applyRetention(): Promise<number> {
    const nowMs = (this.#o.nowMs ?? Date.now)();
    let moved = 0;
    for (const h of [...this.#hosted.values()]) {
      const g = h.group;
      if (g.failure !== undefined) continue;
      // Whole segments below the commit end only, as Kafka deletes below the high watermark.
      const start = g.log.partitionLog.retentionStart(nowMs, g.commitOffset);
      if (start <= g.logStartOffset) continue;
      if (await g.compact(offset(start))) moved++;
    }
    return moved;
  }

  /** Brings the store's topics and this node's groups in line with `image`. */
  async #mirror(image: MetadataImage): Promise<void> {
    const store = this.#o.store;
    const names = new Set(image.topicNames());
    // An image older than the mirror's cannot tell a deleted topic from one not created yet.
    const current = image.nextOffset >= this.#mirroredAt;
    for (const local of store.listTopics()) {
      if (isInternalTopic(local.name) || !current) continue;
      const t = image.describeTopic(local.name);
      if (t === undefined || t.id !== local.id) await this.#drop(local.name);
    }
    for (const name of names) {
      if (this.#closed) return;
      const t = image.describeTopic(name);
      if (t === undefined) continue;
      const configs = image.configs("topic", name);
      const local = store.topic(name);
      // An older image than the mirror's may name an earlier topic of the same name: its
      // id differs from the local one, which a newer image settles (drop, or keep as is).
      if (local !== undefined && local.id !== t.id) continue;
      if (local === undefined) {
        store.createTopic(name, t.partitions.length, configs, t.id);
      } else {
        if (t.partitions.length > local.partitions) {
          store.createPartitions(name, t.partitions.length);
        }
        if (!sameConfigs(local.configs, configs)) store.alterConfigs(name, configs, true);
      }
      for (const p of t.partitions) {
        if (!p.replicas.includes(this.#o.nodeId)) continue;
        if (this.#hosted.has(key(name, p.partition))) continue;
        this.#open(name, t.id, p.partition, p.replicas, configs);
      }
    }
    if (current && image.nextOffset > this.#mirroredAt) {
      this.#mirroredAt = image.nextOffset;
      writeFileAtomic(
        this.#o.dataDir,
        MIRROR_FILE,
        new TextEncoder().encode(JSON.stringify({ image_offset: this.#mirroredAt })),
      );
    }
  }

  #open(
    topic: string,
    topicId: string,
    partition: number,
    replicas: readonly NodeId[],
    configs: Record<string, string>,
  ): void {
    const o = this.#o;
    // The controller refused any W above the replication factor, so this cannot throw.
    const q = replicationQuorumOf(configs, replicas.length);
    const group = RaftGroup.open({
      groupId: `${topicId}/${partition}`,
      nodeId: o.nodeId,
      dir: `${o.dataDir}/${topic}-${partition}`,
      // Raft decides when the log is synced (before acknowledging, or in the background
      // under write caching), so the log itself never syncs on append.
      logConfig: { ...logConfigFor(configs, o.logDefaults), fsync: "never" },
      // One descriptor pool for every log of the node, replicas included.
      pool: o.store.filePool,
      membership: {
        voters: [...replicas].sort((a, b) => a - b),
        learners: [],
        // Majorities stay the Raft defaults (custom quorums refuse voter changes).
        ...(q.isMajority ? {} : { replicationQuorum: q.w, electionQuorum: q.e }),
      },
      transport: o.transport,
      scheduler: o.scheduler,
      prng: o.prng.fork(),
      tickMs: o.tickMs,
      ...(o.electionTicks !== undefined ? { electionTicks: o.electionTicks } : {}),
      durability: o.durability,
      onWarning: (m) => this.#warn(m),
      onCommit: () => o.onCommit?.(topic, partition),
      ...(o.coalesceHeartbeats ? { coalesceHeartbeats: true } : {}),
      // One timer ticks every group of the node (see #armTicks), not one timer per group.
      externalTick: true,
    });
    this.#hosted.set(key(topic, partition), {
      topic,
      topicId,
      partition,
      group,
      caughtUpMs: new Map(),
      previousEnd: 0,
      term: -1,
      isr: [],
      confirmed: new Set(),
      confirmedInSync: 0,
      replicas: [...replicas],
      reporting: false,
      nextReportMs: 0,
      preferredInSyncSinceMs: -1,
    });
    this.#byLog.set(group.log.partitionLog, group);
    this.#armTicks();
    group.log.partitionLog.onSyncMs = o.onSyncMs ?? null;
    o.router.add(group);
  }

  /** Closes a topic's groups and removes its local copy. */
  async #drop(topic: string): Promise<void> {
    for (const [k, h] of [...this.#hosted]) {
      if (h.topic !== topic) continue;
      this.#hosted.delete(k);
      this.#o.router.remove(h.group.groupId);
      await h.group.close();
    }
    await this.#o.store.deleteTopic(topic);
    this.#o.onCommit?.(topic, 0);
  }

  /**
   * Samples a leader's in-sync set (once per pass, never on a read: a sample moves the bar).
   * A voter is in sync while, within the last `isrLagMs`, it held the log end the leader had
   * at the previous sample (Kafka's replica.lag.time.max.ms); a fenced broker never is
   * (KIP-841). On a new term only the recorded ISR's unfenced members start with a grace
   * period; `confirmed` holds the voters that actually caught up in this term, the ones
   * min.insync.replicas counts.
   */
  #sampleIsr(h: Hosted, image: MetadataImage, nowMs: number): void {
    const g = h.group;
    const self = this.#o.nodeId;
    const live = (v: NodeId) => v === self || image.broker(v)?.fenced === false;
    if (h.term !== g.term) {
      h.term = g.term;
      h.caughtUpMs.clear();
      h.confirmed.clear();
      const recorded = image.describeTopic(h.topic)?.partitions[h.partition]?.isr ?? [];
      for (const v of recorded) if (live(v)) h.caughtUpMs.set(v, nowMs);
      h.previousEnd = g.logEndOffset;
    }
    const inSync = new Set<NodeId>([self]);
    h.confirmed.add(self);
    for (const v of g.membership.voters) {
      if (v === self) continue;
      if ((g.matchOf(v) ?? 0) >= h.previousEnd) {
        h.caughtUpMs.set(v, nowMs);
        h.confirmed.add(v);
      }
      const last = h.caughtUpMs.get(v) ?? -Infinity;
      if (live(v) && nowMs - last <= this.#lagMs) inSync.add(v);
      else h.confirmed.delete(v);
    }
    h.previousEnd = g.logEndOffset;
    // In replica order, as the controller records it, so every node lists it alike.
    h.isr = h.replicas.filter((v) => inSync.has(v));
    h.confirmedInSync = h.isr.filter((v) => h.confirmed.has(v)).length;
  }

  /** Reports leaderships and in-sync sets the image does not show yet. */
  #reportLeaderships(image: MetadataImage): void {
    const nowMs = this.#o.clock();
    for (const h of this.#hosted.values()) {
      const g = h.group;
      if (g.role !== "leader" || g.failure !== undefined) continue;
      this.#sampleIsr(h, image, nowMs);
      const isr = h.isr;
      this.#rebalance(h, image, nowMs);
      if (h.reporting || nowMs < h.nextReportMs) continue;
      const recorded = image.describeTopic(h.topic)?.partitions[h.partition];
      if (recorded === undefined) continue;
      const current = recorded.leader === this.#o.nodeId && recorded.leaderEpoch === g.term &&
        sameIds(recorded.isr, isr);
      if (current) continue;
      h.reporting = true;
      this.#o.report(h.topicId, h.partition, g.term, isr).then(
        (r) => {
          h.reporting = false;
          if (r.type !== "ok") h.nextReportMs = this.#o.clock() + REPORT_RETRY_MS;
        },
        (err: unknown) => {
          h.reporting = false;
          h.nextReportMs = this.#o.clock() + REPORT_RETRY_MS;
          this.#warn(`Cannot report leadership of "${h.topic}-${h.partition}": ${String(err)}`);
        },
      );
    }
  }

  /** Hands leadership back to the preferred replica once it has stayed in sync a while. */
  #rebalance(h: Hosted, image: MetadataImage, nowMs: number): void {
    const delayMs = this.#o.preferredLeaderDelayMs ?? DEFAULT_PREFERRED_LEADER_DELAY_MS;
    // The preferred replica: the first of the partition's replica list.
    const preferred = h.replicas[0];
    const eligible = delayMs > 0 && preferred !== undefined && preferred !== this.#o.nodeId &&
      (h.group.matchOf(preferred) ?? -1) >= h.group.commitOffset &&
      image.broker(preferred)?.fenced === false;
    if (!eligible) {
      h.preferredInSyncSinceMs = -1;
      return;
    }
    if (h.preferredInSyncSinceMs < 0) h.preferredInSyncSinceMs = nowMs;
    if (nowMs - h.preferredInSyncSinceMs < delayMs) return;
    h.preferredInSyncSinceMs = nowMs; // next try after another delay, if this one fails
    h.group.transferLeadership(preferred);
  }

  #warn(message: string): void {
    (this.#o.onWarning ?? ((m: string) => console.warn(m)))(message);
  }
}

/** The offset in MIRROR_FILE (0 when there is none: a new node). */
function readMirroredAt(dataDir: string): number {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${dataDir}/${MIRROR_FILE}`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw new StorageError("io", `Cannot read "${dataDir}/${MIRROR_FILE}"`, { cause: err });
  }
  const offset = (() => {
    try {
      return (JSON.parse(text) as { image_offset?: unknown }).image_offset;
    } catch {
      return undefined; // reported below
    }
  })();
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw new StorageError("corrupt", `Cannot read "${dataDir}/${MIRROR_FILE}": bad contents`);
  }
  return offset;
}

/** Whether a leader committed an entry of its own term (its first entry is past the commit). */
function committedInTerm(g: RaftGroup): boolean {
  const last = g.log.lastTermBoundary();
  return last !== undefined && last.term === g.term && g.commitOffset > last.start;
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort((x, y) => x - y), sb = [...b].sort((x, y) => x - y);
  return sa.every((id, i) => id === sb[i]);
}

function sameConfigs(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}
