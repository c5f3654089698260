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
 *   grants every broker a full session before fencing it;
 * - fencing removes the broker from ISRs (never emptying one) and moves each leadership it held
 *   to the first replica, in replica order, that is in the ISR and unfenced, bumping the leader
 *   epoch (KIP-101); with none, the partition has no leader until an ISR member returns;
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
  type MetadataRecord,
  REPLICAS_MAX,
} from "./metadata_record.ts";

/** Kafka's broker.session.timeout.ms default. */
export const DEFAULT_SESSION_TIMEOUT_MS = 9_000;
/** Scatter width aimed at by placement (clamped to [R - 1, brokers - 1]). */
export const DEFAULT_SCATTER_WIDTH = 4;
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
  | "refused";

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
  /** True during a controlled shutdown: fence me and move my leaderships. */
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

/** Settings of a controller. */
export interface ControllerOptions {
  readonly nodeId: NodeId;
  readonly quorum: ControllerQuorum;
  /** Draws topic ids. */
  readonly prng: Prng;
  readonly sessionTimeoutMs?: number;
  /** A heartbeat is written to the log at most this often per broker (default: the session). */
  readonly heartbeatRecordIntervalMs?: number;
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
  readonly #heartbeatRecordMs: number;
  readonly #scatterWidth: number;
  readonly #placementSeed: number;
  readonly #queueMax: number;
  /** The last heartbeat seen per broker, on the caller's clock (active controller only). */
  readonly #liveness = new Map<NodeId, number>();
  /** When a heartbeat record was last proposed per broker. */
  readonly #recordedBeat = new Map<NodeId, number>();
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
    this.#heartbeatRecordMs = options.heartbeatRecordIntervalMs ?? this.#sessionTimeoutMs;
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
      if (old !== undefined && !old.fenced && this.#isAlive(req.brokerId, nowMs)) {
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
      // The new registration is fenced: the old process's leaderships move away now.
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
        records.push({ type: "unfenceBroker", brokerId: id, brokerEpoch: epoch });
        records.push(...unfenceChanges(image, id));
        isFenced = false;
      } else if (!b.fenced && req.wantFence === true) {
        records.push({ type: "fenceBroker", brokerId: id, brokerEpoch: epoch });
        records.push(...fenceChanges(image, new Set([id])));
        isFenced = true;
      }
      const last = this.#recordedBeat.get(id);
      if (last === undefined || nowMs - last >= this.#heartbeatRecordMs) {
        this.#recordedBeat.set(id, nowMs);
        records.push({ type: "brokerHeartbeat", brokerId: id, brokerEpoch: epoch, timeMs: nowMs });
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
      this.#recordedBeat.clear();
      return;
    }
    if (!this.#wasActive) {
      this.#wasActive = true;
      for (const b of this.#quorum.image.brokers()) this.#liveness.set(b.id, nowMs);
    }
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
      const bad = checkConfigs(configs);
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
        if (image.describeTopic(req.resourceName) === undefined) {
          return error("unknown_topic", `${what}: unknown topic`);
        }
        const merged: Record<string, string> = { ...image.configs("topic", req.resourceName) };
        for (const c of req.changes) {
          if (c.value === null) delete merged[c.name];
          else merged[c.name] = c.value;
        }
        const bad = checkConfigs(merged);
        if (bad !== undefined) return error("invalid_config", `${what}: ${bad}`);
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
 * and every partition that loses its leader elects the first replica in the ISR that is
 * unfenced, bumping the leader epoch.
 */
export function fenceChanges(image: MetadataImage, fenced: ReadonlySet<NodeId>): MetadataRecord[] {
  const isLive = (id: NodeId) => !fenced.has(id) && image.broker(id)?.fenced === false;
  const out: MetadataRecord[] = [];
  for (const p of allPartitions(image)) {
    const touched = p.isr.some((id) => fenced.has(id)) ||
      (p.leader !== undefined && fenced.has(p.leader));
    if (!touched) continue;
    const kept = p.isr.filter((id) => !fenced.has(id));
    // Keep the last ISR member (KRaft does): it holds every committed record, so it is the
    // one to lead again when it returns.
    const isr = kept.length > 0 ? kept : p.isr.slice(0, 1);
    const leader = p.leader !== undefined && isLive(p.leader)
      ? p.leader
      : p.replicas.find((id) => isr.includes(id) && isLive(id));
    if (leader === p.leader && sameIds(isr, p.isr)) continue;
    out.push(changed(p, isr, leader));
  }
  return out;
}

/** Partition records after unfencing `id`: leaderless partitions with `id` in the ISR elect it. */
export function unfenceChanges(image: MetadataImage, id: NodeId): MetadataRecord[] {
  return allPartitions(image)
    .filter((p) => p.leader === undefined && p.isr.includes(id))
    .map((p) => changed(p, p.isr, id));
}

function changed(
  p: PartitionInfo,
  isr: readonly NodeId[],
  leader: NodeId | undefined,
): MetadataRecord {
  return {
    type: "partition",
    topicId: p.topicId,
    partition: p.partition,
    replicas: p.replicas,
    isr,
    leader,
    leaderEpoch: leader === p.leader ? p.leaderEpoch : p.leaderEpoch + 1,
  };
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
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
