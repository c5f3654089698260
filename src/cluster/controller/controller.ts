/**
 * The controller (issue #6): the logic the leader of the metadata Raft group runs. It takes
 * requests as values (register a broker, heartbeat, create and delete topics, alter configs,
 * add partitions), decides from the metadata image, and turns each decision into records
 * proposed through the quorum; a request is answered once its records are committed and
 * applied, so an `ok` is never lost by a controller failover (KIP-631's quorum controller).
 *
 * Rules (after Kafka's KRaft controller):
 * - one decision at a time: requests queue (bounded) and each is decided on an image that
 *   holds every earlier decision, so two requests never both create one topic;
 * - a node that is not the active controller answers `notController` with the leader it knows;
 * - brokers register with an incarnation (a value drawn per process start). A new incarnation
 *   gets a new, higher broker epoch and starts fenced; a heartbeat with an older epoch is
 *   refused (`stale_broker_epoch`), which fences a stale process out. A registration of a new
 *   incarnation while the old one still heartbeats is refused (`duplicate_broker_registration`);
 * - a fenced broker's first heartbeat unfences it; a broker whose heartbeats stop for
 *   `sessionTimeoutMs` is fenced by `tick(nowMs)` (time is passed in, so tests are
 *   deterministic). Liveness is the active controller's memory, as in KRaft: a new controller
 *   grants every broker a full session before fencing it. A heartbeat writes a record only when
 *   it changes the fencing, so an idle cluster's metadata log does not grow (it is replayed
 *   whole at start; the record type is still read from older logs);
 * - the controller never elects a partition leader. Every data partition is its own Raft group
 *   whose leader and term ARE the Kafka partition leader and leader epoch (DESIGN.md); the
 *   group's leader reports itself and its ISR with `alterPartition` (after KIP-497), and the
 *   controller records the report when its epoch is not older than the recorded one;
 * - fencing removes the broker from ISRs (never emptying one) and, where it was the recorded
 *   leader, records no leader at the same leader epoch: the partition's Raft group elects and
 *   the winner reports (at a higher term). Unfencing changes no partition;
 * - a topic's `replication.quorum` (Flexible Paxos W) may not exceed its replication factor;
 * - new partitions are placed with `CopysetPlacement` over the unfenced brokers and their racks;
 *   the copyset family is a function of the broker set and a fixed seed, so a new controller
 *   places onto the same copysets.
 *
 * Must not: read a clock or ambient randomness (both are passed in), or answer `ok` before
 * the records are applied to the image.
 */
import { InvalidConfigError, PARTITIONS_MAX, TopicError } from "../../storage/mod.ts";
import { validateTopicConfigs, validateTopicName } from "../../storage/mod.ts";
import { assert, createPrng, type NodeId, type Prng } from "../../util/mod.ts";
import { CopysetPlacement, type PlacementNode } from "../placement/mod.ts";
import type { Scheduler, Timer } from "../transport/mod.ts";
import type { MetadataImage, PartitionInfo } from "./metadata_image.ts";
import {
  type BrokerEndpoint,
  type ConfigResourceType,
  ENDPOINTS_MAX,
  METADATA_RECORDS_PER_BATCH_MAX,
  type MetadataRecord,
  REPLICAS_MAX,
} from "./metadata_record.ts";
import { REPLICATION_QUORUM_CONFIG, replicationQuorumProblem } from "./replication_quorum.ts";

/** Kafka's broker.session.timeout.ms default. */
export const DEFAULT_SESSION_TIMEOUT_MS = 9_000;
/** Scatter width aimed at by placement (clamped to [R - 1, brokers - 1]). */
export const DEFAULT_SCATTER_WIDTH = 4;
/**
 * Metadata records after the last snapshot that make the active controller write a new one,
 * to which every replica then compacts its log.
 */
export const DEFAULT_SNAPSHOT_EVERY_RECORDS = 10_000;
/** Requests waiting for a decision at most. */
export const DEFAULT_CONTROLLER_QUEUE_MAX = 1_000;
/** Seed of the copyset families (fixed so every controller draws the same family). */
export const DEFAULT_PLACEMENT_SEED = 0x6c6f67;
/** Topic ids drawn at most until one is unused (a repeat has probability ~2^-122). */
const TOPIC_ID_DRAWS_MAX = 8;
/** Most bytes of an incarnation, host, endpoint name or rack. */
const NAME_BYTES_MAX = 255;
/** Copyset families kept (one per broker set and replication factor). */
const PLACEMENT_CACHE_MAX = 16;
/** Largest leader epoch (an int32 in metadata records, as in Kafka). */
const INT32_MAX = 0x7fff_ffff;

/** The outcome of a proposal through the metadata quorum. */
export type QuorumProposeResult =
  | { readonly type: "ok"; readonly lastOffset: number }
  | { readonly type: "notLeader"; readonly leader: NodeId | undefined }
  | { readonly type: "refused"; readonly reason: string };

/** What the controller needs of the metadata Raft group (a fake in pure tests). */
export interface ControllerQuorum {
  /** The image of committed records this node applied. */
  readonly image: MetadataImage;
  /** True while this node leads and its image holds every entry of earlier terms. */
  isActive(): boolean;
  /** The leader this node knows, if any. */
  leaderId(): NodeId | undefined;
  /** Proposes records as one batch; `ok` once committed and applied to `image`. */
  propose(records: readonly MetadataRecord[]): Promise<QuorumProposeResult>;
}

/** Why a request was refused. */
export type ControllerErrorKind =
  | "invalid_topic"
  | "topic_exists"
  | "unknown_topic"
  | "invalid_partitions"
  | "invalid_replication_factor"
  | "invalid_config"
  | "invalid_request"
  | "unknown_broker"
  | "stale_broker_epoch"
  | "duplicate_broker_registration"
  | "busy"
  | "refused"
  | "fenced_broker"
  | "stale_leader_epoch";

/** A request's outcome: `ok` with its values, or an expected refusal. */
export type ControllerResult<T> =
  | ({ readonly type: "ok" } & T)
  | { readonly type: "notController"; readonly controllerId: NodeId | undefined }
  | { readonly type: "error"; readonly kind: ControllerErrorKind; readonly message: string };

/** A broker registration (KIP-631 BrokerRegistrationRequest). */
export interface RegisterBrokerRequest {
  readonly brokerId: NodeId;
  readonly incarnation: string;
  readonly rack?: string | undefined;
  readonly endpoints: readonly BrokerEndpoint[];
}

/** A broker heartbeat (KIP-631 BrokerHeartbeatRequest). */
export interface BrokerHeartbeatRequest {
  readonly brokerId: NodeId;
  readonly brokerEpoch: number;
  /** True during a controlled shutdown: fence me and record none of my leaderships. */
  readonly wantFence?: boolean;
}

/** A topic to create. */
export interface CreateTopicRequest {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, string>>;
}

/** Config changes of one resource (null removes a setting). */
export interface AlterConfigsRequest {
  readonly resourceType: ConfigResourceType;
  readonly resourceName: string;
  readonly changes: ReadonlyArray<{ readonly name: string; readonly value: string | null }>;
}

/**
 * A partition leader's report of its leadership and ISR (after KIP-497 AlterPartition), sent
 * by the node whose Raft group for the partition leads at term `leaderEpoch`.
 */
export interface AlterPartitionRequest {
  readonly brokerId: NodeId;
  readonly brokerEpoch: number;
  readonly topicId: string;
  readonly partition: number;
  /** The Raft term of the partition's group in which `brokerId` leads. */
  readonly leaderEpoch: number;
  /** The in-sync replicas as the leader sees them (it included). */
  readonly isr: readonly NodeId[];
}

/** Settings of a controller. */
export interface ControllerOptions {
  readonly nodeId: NodeId;
  readonly quorum: ControllerQuorum;
  /** Draws topic ids. */
  readonly prng: Prng;
  readonly sessionTimeoutMs?: number;
  /** Records after the last snapshot that trigger the next (default 10,000). */
  readonly snapshotEveryRecords?: number;
  /** Where a refused snapshot is reported (default: console.warn). */
  readonly onWarning?: (message: string) => void;
  readonly scatterWidth?: number;
  readonly placementSeed?: number;
  readonly queueMax?: number;
}

interface Refusal {
  readonly type: "error";
  readonly kind: ControllerErrorKind;
  readonly message: string;
}

type Decision<T> =
  | { readonly type: "ok"; readonly records: MetadataRecord[]; readonly reply: T }
  | Refusal;

/** The controller of one node (active only while its node leads the metadata group). */
export class Controller {
  readonly nodeId: NodeId;
  readonly #quorum: ControllerQuorum;
  readonly #prng: Prng;
  readonly #sessionTimeoutMs: number;
  readonly #snapshotEvery: number;
  readonly #warn: (message: string) => void;
  /** The image offset from which the next snapshot is counted (after a refused one). */
  #snapshotRetryFrom = 0;
  #snapshotting = false;
  readonly #scatterWidth: number;
  readonly #placementSeed: number;
  readonly #queueMax: number;
  /** The last heartbeat seen per broker, on the caller's clock (active controller only). */
  readonly #liveness = new Map<NodeId, number>();
  readonly #placements = new Map<string, CopysetPlacement>();
  #tail: Promise<void> = Promise.resolve();
  #queued = 0;
  #wasActive = false;
  #fencing = false;
  #timer: Timer | undefined;
  #ticking: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.nodeId = options.nodeId;
    this.#quorum = options.quorum;
    this.#prng = options.prng;
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.#snapshotEvery = options.snapshotEveryRecords ?? DEFAULT_SNAPSHOT_EVERY_RECORDS;
    assert(this.#snapshotEvery > 0, "snapshotEveryRecords must be positive");
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
    this.#scatterWidth = options.scatterWidth ?? DEFAULT_SCATTER_WIDTH;
    this.#placementSeed = options.placementSeed ?? DEFAULT_PLACEMENT_SEED;
    this.#queueMax = options.queueMax ?? DEFAULT_CONTROLLER_QUEUE_MAX;
    assert(this.#sessionTimeoutMs > 0, "sessionTimeoutMs must be positive");
  }

  /** True while this node's controller decides (see `ControllerQuorum.isActive`). */
  get isActive(): boolean {
    return this.#quorum.isActive();
  }

  /** The image this controller decides from. */
  get image(): MetadataImage {
    return this.#quorum.image;
  }

  // ---------------------------------------------------------------- brokers

  /** Registers a broker process; answers its broker epoch. */
  registerBroker(
    req: RegisterBrokerRequest,
    nowMs: number,
  ): Promise<ControllerResult<{ brokerEpoch: number }>> {
    return this.#run(() => {
      const image = this.#quorum.image;
      const old = image.broker(req.brokerId);
      if (old !== undefined && old.incarnation === req.incarnation) {
        // A retried registration of the same process: same epoch, nothing to write.
        return { type: "ok", records: [], reply: { brokerEpoch: old.epoch } };
      }
      // A new process on the very listeners of the old one replaces it at once: two live
      // processes cannot bind the same addresses, so the old one is gone (a restart). A
      // different address while the old session lives is a second process with the same id.
      const restarted = old !== undefined && sameEndpoints(old.endpoints, req.endpoints);
      if (old !== undefined && !old.fenced && !restarted && this.#isAlive(req.brokerId, nowMs)) {
        return error(
          "duplicate_broker_registration",
          `Cannot register broker "${req.brokerId}": another incarnation still heartbeats`,
        );
      }
      const bad = registrationProblem(req);
      if (bad !== undefined) {
        return error("invalid_request", `Cannot register broker "${req.brokerId}": ${bad}`);
      }
      const brokerEpoch = 1 + image.brokers().reduce((m, b) => Math.max(m, b.epoch), 0);
      this.#liveness.set(req.brokerId, nowMs);
      const records: MetadataRecord[] = [{
        type: "registerBroker",
        brokerId: req.brokerId,
        brokerEpoch,
        incarnation: req.incarnation,
        rack: req.rack,
        endpoints: req.endpoints,
      }];
      // The new registration is fenced: the old process's leaderships are unrecorded now (its
      // Raft groups elect anew, at higher terms, and the winners report).
      records.push(...fenceChanges(image, new Set([req.brokerId])));
      return { type: "ok", records, reply: { brokerEpoch } };
    });
  }

  /** A broker's heartbeat: renews its session, unfences it (or fences it on request). */
  brokerHeartbeat(
    req: BrokerHeartbeatRequest,
    nowMs: number,
  ): Promise<ControllerResult<{ isFenced: boolean }>> {
    return this.#run(() => {
      const image = this.#quorum.image;
      const b = image.broker(req.brokerId);
      if (b === undefined) {
        return error(
          "unknown_broker",
          `Cannot heartbeat: broker "${req.brokerId}" is not registered`,
        );
      }
      if (b.epoch !== req.brokerEpoch) {
        return error(
          "stale_broker_epoch",
          `Cannot heartbeat broker "${req.brokerId}": epoch "${req.brokerEpoch}" is not "${b.epoch}"`,
        );
      }
      this.#liveness.set(b.id, nowMs);
      const id = b.id;
      const epoch = b.epoch;
      const records: MetadataRecord[] = [];
      let isFenced = b.fenced;
      if (b.fenced && req.wantFence !== true) {
        // No partition changes: the broker's Raft groups elect and their leaders report.
        records.push({ type: "unfenceBroker", brokerId: id, brokerEpoch: epoch });
        isFenced = false;
      } else if (!b.fenced && req.wantFence === true) {
        records.push({ type: "fenceBroker", brokerId: id, brokerEpoch: epoch });
        records.push(...fenceChanges(image, new Set([id])));
        isFenced = true;
      }
      return { type: "ok", records, reply: { isFenced } };
    });
  }

  /**
   * Advances the controller's clock: on becoming active every broker gets a fresh session;
   * unfenced brokers silent for longer than the session timeout are fenced (one proposal).
   */
  async tick(nowMs: number): Promise<void> {
    if (!this.#quorum.isActive()) {
      this.#wasActive = false;
      this.#liveness.clear();
      return;
    }
    if (!this.#wasActive) {
      this.#wasActive = true;
      for (const b of this.#quorum.image.brokers()) this.#liveness.set(b.id, nowMs);
    }
    await this.#maybeSnapshot();
    if (this.#fencing) return;
    const expired = this.#quorum.image.unfencedBrokers()
      .filter((b) => !this.#isAlive(b.id, nowMs));
    if (expired.length === 0) return;
    this.#fencing = true;
    try {
      await this.#run(() => {
        const image = this.#quorum.image;
        // Decided again in the queue: a heartbeat may have arrived meanwhile.
        const still = image.unfencedBrokers().filter((b) => !this.#isAlive(b.id, nowMs));
        const records: MetadataRecord[] = still.map((b) => ({
          type: "fenceBroker",
          brokerId: b.id,
          brokerEpoch: b.epoch,
        }));
        records.push(...fenceChanges(image, new Set(still.map((b) => b.id))));
        return { type: "ok", records, reply: {} };
      });
    } finally {
      this.#fencing = false;
    }
  }

  /** Calls `tick(clock())` every `intervalMs` until `stop()` (one tick in flight at most). */
  start(scheduler: Scheduler, clock: () => number, intervalMs: number): void {
    assert(intervalMs > 0, "intervalMs must be positive");
    this.#timer?.cancel();
    this.#timer = scheduler.setTimer(() => {
      this.#timer = undefined;
      // A rejected tick is a bug: it surfaces as an unhandled rejection (bugs crash).
      this.#ticking ??= this.tick(clock()).finally(() => (this.#ticking = undefined));
      this.start(scheduler, clock, intervalMs);
    }, intervalMs);
  }

  /**
   * Writes a snapshot (a `snapshot` record and the whole image, one batch) once enough
   * records follow the last one. It is decided in the request queue, so the image holds every
   * earlier decision: the batch is the state at its own offset. Every replica compacts its log
   * to it once applied (MetadataQuorum). A state too large for one batch is not snapshotted;
   * the warning says so and the next try waits as many records again.
   */
  async #maybeSnapshot(): Promise<void> {
    const image = this.#quorum.image;
    // Counted from the end of the last snapshot, which is itself many records long.
    const since = Math.max(image.snapshotEnd, this.#snapshotRetryFrom);
    if (this.#snapshotting || image.nextOffset - since < this.#snapshotEvery) return;
    this.#snapshotting = true;
    try {
      const r = await this.#run(() => {
        const records: MetadataRecord[] = [{ type: "snapshot" }, ...this.#quorum.image.toRecords()];
        if (records.length > METADATA_RECORDS_PER_BATCH_MAX) {
          return error(
            "refused",
            `Cannot snapshot the metadata: ${records.length} records exceed one batch (${METADATA_RECORDS_PER_BATCH_MAX})`,
          );
        }
        return { type: "ok", records, reply: {} };
      });
      if (r.type === "error") {
        this.#snapshotRetryFrom = this.#quorum.image.nextOffset;
        this.#warn(r.message);
      }
    } finally {
      this.#snapshotting = false;
    }
  }

  /** Stops the timer of `start` and waits for a tick in flight. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#ticking;
  }

  #isAlive(id: NodeId, nowMs: number): boolean {
    const last = this.#liveness.get(id);
    return last !== undefined && nowMs - last <= this.#sessionTimeoutMs;
  }

  // ---------------------------------------------------------------- topics

  /** Creates a topic with copyset placement over the unfenced brokers. */
  createTopic(
    req: CreateTopicRequest,
  ): Promise<ControllerResult<{ topicId: string; assignments: NodeId[][] }>> {
    return this.#run(() => {
      const image = this.#quorum.image;
      const what = `Cannot create topic "${req.name}"`;
      try {
        validateTopicName(req.name);
      } catch (err) {
        if (!(err instanceof TopicError)) throw err;
        return error("invalid_topic", err.message);
      }
      if (image.describeTopic(req.name) !== undefined) {
        return error("topic_exists", `${what}: it exists`);
      }
      if (!isCount(req.numPartitions, PARTITIONS_MAX)) {
        return error(
          "invalid_partitions",
          `${what}: partitions "${req.numPartitions}" not in [1, ${PARTITIONS_MAX}]`,
        );
      }
      const live = image.unfencedBrokers().length;
      if (!isCount(req.replicationFactor, Math.min(live, REPLICAS_MAX))) {
        return error(
          "invalid_replication_factor",
          `${what}: replication factor "${req.replicationFactor}" needs that many of ${live} live brokers`,
        );
      }
      const configs = req.configs ?? {};
      const bad = checkConfigs(configs) ??
        replicationQuorumProblem(configs, req.replicationFactor);
      if (bad !== undefined) return error("invalid_config", `${what}: ${bad}`);
      let topicId = randomTopicId(this.#prng);
      // A repeated id would attach these partitions to another topic: draw again (bounded).
      for (let i = 0; i < TOPIC_ID_DRAWS_MAX && image.topicById(topicId) !== undefined; i++) {
        topicId = randomTopicId(this.#prng);
      }
      assert(image.topicById(topicId) === undefined, "a fresh topic id");
      const assignments = this.#place(req.numPartitions, req.replicationFactor);
      const records: MetadataRecord[] = [{ type: "topic", name: req.name, topicId }];
      assignments.forEach((replicas, partition) =>
        records.push(newPartition(topicId, partition, replicas))
      );
      for (const [name, value] of Object.entries(configs).sort()) {
        records.push({
          type: "config",
          resourceType: "topic",
          resourceName: req.name,
          name,
          value,
        });
      }
      return { type: "ok", records, reply: { topicId, assignments } };
    });
  }

  /** Deletes a topic, its partitions and its configs. */
  deleteTopic(name: string): Promise<ControllerResult<{ topicId: string }>> {
    return this.#run(() => {
      const t = this.#quorum.image.describeTopic(name);
      if (t === undefined) return error("unknown_topic", `Cannot delete topic "${name}": unknown`);
      return {
        type: "ok",
        records: [{ type: "removeTopic", topicId: t.id }],
        reply: { topicId: t.id },
      };
    });
  }

  /** Grows a topic to `totalCount` partitions, placing the new ones. */
  createPartitions(
    name: string,
    totalCount: number,
  ): Promise<ControllerResult<{ assignments: NodeId[][] }>> {
    return this.#run(() => {
      const image = this.#quorum.image;
      const what = `Cannot add partitions to "${name}"`;
      const t = image.describeTopic(name);
      if (t === undefined) return error("unknown_topic", `${what}: unknown topic`);
      const have = t.partitions.length;
      if (!isCount(totalCount, PARTITIONS_MAX) || totalCount <= have) {
        return error(
          "invalid_partitions",
          `${what}: "${totalCount}" is not in [${have + 1}, ${PARTITIONS_MAX}]`,
        );
      }
      const rf = t.partitions[0]?.replicas.length ?? 1;
      // The topic's configs were checked against `rf` when set; checked again, cheaply, so a
      // partition is never added whose Raft group could not be sized.
      const badQuorum = replicationQuorumProblem(image.configs("topic", name), rf);
      if (badQuorum !== undefined) return error("invalid_config", `${what}: ${badQuorum}`);
      if (rf > image.unfencedBrokers().length) {
        return error(
          "invalid_replication_factor",
          `${what}: replication factor "${rf}" exceeds live brokers`,
        );
      }
      const assignments = this.#place(totalCount - have, rf);
      const records = assignments.map((replicas, i) => newPartition(t.id, have + i, replicas));
      return { type: "ok", records, reply: { assignments } };
    });
  }

  /** Sets or removes configs of a topic or broker (Kafka's IncrementalAlterConfigs). */
  alterConfigs(req: AlterConfigsRequest): Promise<ControllerResult<Record<never, never>>> {
    return this.#run(() => {
      const image = this.#quorum.image;
      const what = `Cannot alter configs of ${req.resourceType} "${req.resourceName}"`;
      if (req.resourceType === "topic") {
        const t = image.describeTopic(req.resourceName);
        if (t === undefined) return error("unknown_topic", `${what}: unknown topic`);
        const merged: Record<string, string> = { ...image.configs("topic", req.resourceName) };
        for (const c of req.changes) {
          if (c.value === null) delete merged[c.name];
          else merged[c.name] = c.value;
        }
        const rf = t.partitions[0]?.replicas.length ?? 1;
        const bad = checkConfigs(merged) ?? replicationQuorumProblem(merged, rf);
        if (bad !== undefined) return error("invalid_config", `${what}: ${bad}`);
        // W and E of a running Raft group are part of its membership, fixed at creation:
        // changing them safely is a configuration change the groups cannot make yet.
        const before = image.configs("topic", req.resourceName)[REPLICATION_QUORUM_CONFIG];
        if (merged[REPLICATION_QUORUM_CONFIG] !== before) {
          return error(
            "invalid_config",
            `${what}: "${REPLICATION_QUORUM_CONFIG}" is fixed when the topic is created`,
          );
        }
      } else if (req.resourceName !== "" && !/^\d+$/.test(req.resourceName)) {
        return error("invalid_request", `${what}: not a broker id`);
      }
      const records: MetadataRecord[] = req.changes.map((c) => ({
        type: "config",
        resourceType: req.resourceType,
        resourceName: req.resourceName,
        name: c.name,
        value: c.value,
      }));
      return { type: "ok", records, reply: {} };
    });
  }

  // ---------------------------------------------------------------- partitions

  /**
   * Records what a partition's Raft group decided (after KIP-497 AlterPartition; the leader
   * epoch is the group's Raft term): `brokerId` leads at `leaderEpoch` with ISR `isr`.
   * Accepted from a registered, unfenced broker at its current broker epoch that is a replica
   * and in the ISR, when the epoch is newer than the recorded one, or equal with the same (or
   * no) recorded leader. The ISR is recorded in replica order (a function of the set, so a
   * report that only reorders it changes nothing). Answers the recorded leader epoch.
   */
  alterPartition(req: AlterPartitionRequest): Promise<ControllerResult<{ leaderEpoch: number }>> {
    return this.#run(() => {
      const image = this.#quorum.image;
      const what = `Cannot alter partition "${req.partition}" of topic "${req.topicId}"`;
      const b = image.broker(req.brokerId);
      if (b === undefined) {
        return error("unknown_broker", `${what}: broker "${req.brokerId}" is not registered`);
      }
      if (b.epoch !== req.brokerEpoch) {
        return error(
          "stale_broker_epoch",
          `${what}: broker epoch "${req.brokerEpoch}" is not "${b.epoch}"`,
        );
      }
      if (b.fenced) return error("fenced_broker", `${what}: broker "${b.id}" is fenced`);
      const p = image.topicById(req.topicId)?.partitions[req.partition];
      if (p === undefined) return error("unknown_topic", `${what}: unknown partition`);
      const bad = alterPartitionProblem(req, p);
      if (bad !== undefined) return error("invalid_request", `${what}: ${bad}`);
      // KIP-841: a fenced (or unknown) broker is not eligible for the ISR, whatever a leader
      // with an older view of the metadata believes; the leader retries with a fresher one.
      const ineligible = req.isr.find((id) => image.broker(id)?.fenced !== false);
      if (ineligible !== undefined) {
        return error("invalid_request", `${what}: ISR member "${ineligible}" is fenced`);
      }
      // Raft elects at most one leader per term (§5.2): an older term is a deposed leader,
      // and a same-term report naming another leader than the recorded one is a bug or a
      // replay of a stale process; neither may overwrite the record (KIP-497 answers these
      // FENCED_LEADER_EPOCH).
      const isCurrent = req.leaderEpoch > p.leaderEpoch ||
        (req.leaderEpoch === p.leaderEpoch && (p.leader === undefined || p.leader === b.id));
      if (!isCurrent) {
        const recorded = `epoch "${p.leaderEpoch}" of leader "${p.leader ?? "none"}"`;
        return error(
          "stale_leader_epoch",
          `${what}: leader epoch "${req.leaderEpoch}" of broker "${b.id}" is behind ${recorded}`,
        );
      }
      const isr = p.replicas.filter((id) => req.isr.includes(id));
      const reply = { leaderEpoch: req.leaderEpoch };
      if (
        p.leader === b.id && p.leaderEpoch === req.leaderEpoch && sameIdSet(isr, p.isr)
      ) {
        return { type: "ok", records: [], reply };
      }
      const record: MetadataRecord = {
        type: "partition",
        topicId: p.topicId,
        partition: p.partition,
        replicas: p.replicas,
        isr,
        leader: b.id,
        leaderEpoch: req.leaderEpoch,
      };
      return { type: "ok", records: [record], reply };
    });
  }

  // ---------------------------------------------------------------- machinery

  /** Queues a decision; it runs once every earlier one is committed and applied. */
  #run<T>(decide: () => Decision<T>): Promise<ControllerResult<T>> {
    if (!this.#quorum.isActive()) return Promise.resolve(this.#notController());
    if (this.#queued >= this.#queueMax) {
      return Promise.resolve({
        type: "error",
        kind: "busy",
        message: `Cannot queue controller request: ${this.#queued} are waiting`,
      });
    }
    this.#queued++;
    const result = this.#tail.then(async (): Promise<ControllerResult<T>> => {
      this.#queued--;
      // Leadership may have moved while this request waited.
      if (!this.#quorum.isActive()) return this.#notController();
      const d = decide();
      if (d.type === "error") return d;
      if (d.records.length > 0) {
        const r = await this.#quorum.propose(d.records);
        if (r.type === "notLeader") return { type: "notController", controllerId: r.leader };
        if (r.type === "refused") return { type: "error", kind: "refused", message: r.reason };
      }
      return { type: "ok", ...d.reply } as ControllerResult<T>;
    });
    // The caller receives `result` and any rejection (a bug) with it; the queue goes on.
    this.#tail = result.then(() => {}, () => {});
    return result;
  }

  #notController(): { type: "notController"; controllerId: NodeId | undefined } {
    const leader = this.#quorum.leaderId();
    return { type: "notController", controllerId: leader === this.nodeId ? undefined : leader };
  }

  /** Replica lists for `count` new partitions over the unfenced brokers. */
  #place(count: number, rf: number): NodeId[][] {
    const image = this.#quorum.image;
    const brokers = image.unfencedBrokers();
    // Racks count only when every broker has one (Kafka refuses mixed rack-aware placement).
    const racked = brokers.every((b) => b.rack !== undefined);
    const nodes: PlacementNode[] = brokers.map((
      b,
    ) => (racked ? { id: b.id, rack: b.rack } : { id: b.id }));
    const key = `${rf}|${nodes.map((n) => `${n.id}:${n.rack ?? ""}`).join(",")}`;
    let family = this.#placements.get(key);
    if (family === undefined) {
      if (this.#placements.size >= PLACEMENT_CACHE_MAX) this.#placements.clear();
      const scatterWidth = Math.max(rf - 1, Math.min(this.#scatterWidth, nodes.length - 1));
      family = CopysetPlacement.create({
        nodes,
        replicationFactor: rf,
        scatterWidth,
        prng: createPrng(this.#placementSeed + rf),
      });
      this.#placements.set(key, family);
    }
    return family.place(count, image.brokerLoads());
  }
}

function error(kind: ControllerErrorKind, message: string): Refusal {
  return { type: "error", kind, message };
}

/** Why a registration cannot be recorded, or undefined. */
function registrationProblem(req: RegisterBrokerRequest): string | undefined {
  const long = (v: string) => new TextEncoder().encode(v).length > NAME_BYTES_MAX;
  if (req.incarnation === "" || long(req.incarnation)) return "bad incarnation";
  if (req.rack !== undefined && (req.rack === "" || long(req.rack))) return "bad rack";
  if (req.endpoints.length === 0 || req.endpoints.length > ENDPOINTS_MAX) {
    return `"${req.endpoints.length}" endpoints, 1 to ${ENDPOINTS_MAX} allowed`;
  }
  for (const e of req.endpoints) {
    if (
      long(e.name) || long(e.host) || !Number.isInteger(e.port) || e.port < 0 || e.port > 0xffff
    ) {
      return `bad endpoint "${e.name}"`;
    }
  }
  return undefined;
}

/** Why an `alterPartition` report is malformed for partition `p`, or undefined. */
function alterPartitionProblem(req: AlterPartitionRequest, p: PartitionInfo): string | undefined {
  if (!p.replicas.includes(req.brokerId)) return `broker "${req.brokerId}" is not a replica`;
  if (!Number.isInteger(req.leaderEpoch) || req.leaderEpoch < 0 || req.leaderEpoch > INT32_MAX) {
    return `leader epoch "${req.leaderEpoch}" is not in [0, ${INT32_MAX}]`;
  }
  if (req.isr.length === 0) return "the ISR is empty";
  if (new Set(req.isr).size !== req.isr.length) return `the ISR "${req.isr}" repeats a broker`;
  const outsider = req.isr.find((id) => !p.replicas.includes(id));
  if (outsider !== undefined) return `ISR member "${outsider}" is not a replica`;
  if (!req.isr.includes(req.brokerId)) return `the ISR leaves out the leader "${req.brokerId}"`;
  return undefined;
}

function isCount(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= max;
}

function checkConfigs(configs: Readonly<Record<string, string>>): string | undefined {
  try {
    validateTopicConfigs(configs);
    return undefined;
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    return err.message;
  }
}

function newPartition(
  topicId: string,
  partition: number,
  replicas: readonly NodeId[],
): MetadataRecord {
  const leader = replicas[0];
  assert(leader !== undefined, "a partition has a replica");
  return { type: "partition", topicId, partition, replicas, isr: replicas, leader, leaderEpoch: 0 };
}

/**
 * Partition records after fencing `fenced`: each leaves the ISRs (an ISR is never emptied),
 * and a partition whose recorded leader is fenced records no leader at the same leader epoch.
 * No leader is elected here: the partition's Raft group elects one, which then reports itself
 * through `alterPartition` at its (higher) term.
 */
export function fenceChanges(image: MetadataImage, fenced: ReadonlySet<NodeId>): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  for (const p of allPartitions(image)) {
    const kept = p.isr.filter((id) => !fenced.has(id));
    // Keep the last ISR member (KRaft does): it holds every committed record, so it is the
    // one to lead again when it returns.
    const isr = kept.length > 0 ? kept : p.isr.slice(0, 1);
    const leader = p.leader !== undefined && fenced.has(p.leader) ? undefined : p.leader;
    if (leader === p.leader && sameIds(isr, p.isr)) continue;
    out.push({
      type: "partition",
      topicId: p.topicId,
      partition: p.partition,
      replicas: p.replicas,
      isr,
      leader,
      leaderEpoch: p.leaderEpoch,
    });
  }
  return out;
}

/** Whether two registrations name the same listeners (same names, hosts and ports). */
function sameEndpoints(a: readonly BrokerEndpoint[], b: readonly BrokerEndpoint[]): boolean {
  const key = (l: readonly BrokerEndpoint[]) =>
    l.map((e) => `${e.name} ${e.host} ${e.port}`).sort().join("\n");
  return a.length > 0 && key(a) === key(b);
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** True when `a` and `b` hold the same ids (each list is free of repeats). */
function sameIdSet(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

function allPartitions(image: MetadataImage): PartitionInfo[] {
  return image.topicNames().flatMap((n) => image.describeTopic(n)?.partitions ?? []);
}

/** A random (version 4) UUID drawn from `prng`, the form of Kafka topic ids (KIP-516). */
export function randomTopicId(prng: Prng): string {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = prng.int(0, 255);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
