/**
 * The admin operations of one node, shared by the front doors (Kafka admin APIs now, the
 * HTTP admin API next): create and delete topics, add partitions, read and change topic
 * configs, delete records, and answer leader-epoch end offsets.
 *
 * On a single node this node is the only broker, so a replication factor above 1 cannot be
 * met, a replica assignment may only name this node, and every partition has one leader
 * epoch, 0, starting at the log start offset. In a cluster (issue #6, `controller` given)
 * topic changes go to the controller, which places replicas, and leader epochs are the Raft
 * terms of each partition's log.
 *
 * Rules kept here, as Kafka keeps them (KIP-4 CreateTopics/DeleteTopics, KIP-195
 * CreatePartitions, KIP-107 DeleteRecords, KIP-133/KIP-339 configs, KIP-101/KIP-320 epochs):
 * - every request is checked in full before anything changes, so `validateOnly` answers
 *   exactly what a real request would;
 * - Pyralog's internal topics (__consumer_offsets, __transaction_state, __cluster_metadata:
 *   the node's own state) are neither created, deleted nor grown by the admin APIs. Other
 *   "__" names stay usable, as in Kafka (Debezium's "__debezium-heartbeat.*", for one);
 * - outcomes are tagged values; the front doors map them once to their error codes.
 */
import {
  PARTITIONS_MAX,
  TopicError,
  type TopicInfo,
  type TopicStore,
  validateTopicConfigs,
  validateTopicName,
} from "../storage/mod.ts";
import { InvalidConfigError } from "../storage/mod.ts";
import { StorageError } from "../util/mod.ts";
import type { GroupService } from "./group_service.ts";
import { INTERNAL_TOPICS, isInternalTopic } from "./internal_topics.ts";
import { deleteRecordsBatch } from "./replication/mod.ts";
import type { LogService } from "./log_service.ts";
import { SINGLE_NODE_LEADER_EPOCH } from "./log_service.ts";
import { applyConfigChanges, type ConfigChange, replaceConfigs } from "./topic_config_catalog.ts";

export { INTERNAL_TOPICS, isInternalTopic };

/** Why an admin operation was refused. */
export type AdminErrorKind =
  | "unknown_topic"
  | "unknown_topic_id"
  | "topic_exists"
  | "invalid_topic"
  | "invalid_partitions"
  | "invalid_replication_factor"
  | "invalid_replica_assignment"
  | "invalid_config"
  | "invalid_request"
  | "offset_out_of_range"
  | "fenced_leader_epoch"
  | "unknown_leader_epoch"
  | "corrupt"
  | "storage"
  | "not_controller"
  | "not_leader"
  | "timed_out";

/** A refused admin operation. */
export interface AdminError {
  type: "error";
  kind: AdminErrorKind;
  message: string;
}

/** The "use the broker default" value of CreateTopics numPartitions/replicationFactor (v4+). */
export const USE_DEFAULT = -1;
/** DeleteRecords: delete up to the high watermark (DeleteRecordsRequest `Offset` -1). */
export const HIGH_WATERMARK_OFFSET = -1;
/** DeleteRecords' wait for a replicated deletion when the request names no timeout. */
const DELETE_RECORDS_TIMEOUT_MS = 30_000;
/** Kafka's "no epoch" (UNDEFINED_EPOCH) and "no offset" (UNDEFINED_EPOCH_OFFSET). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

/** A CreateTopics entry. */
export interface NewTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: ReadonlyArray<{ partitionIndex: number; brokerIds: readonly number[] }>;
  configs: ReadonlyArray<{ name: string; value: string | null }>;
}

/** A topic created (or that would be, with `validateOnly`). */
export interface CreatedTopic {
  type: "ok";
  /** The new id, or null when only validated. */
  id: string | null;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** Options of the service. */
export interface AdminServiceOptions {
  nodeId: number;
  /** Partitions of a topic created with numPartitions -1 (Kafka's num.partitions). */
  defaultPartitions?: number;
  /** When given, a deleted topic's committed offsets are removed from every group. */
  groups?: GroupService;
  /**
   * Cluster mode (issue #6): topic changes go to the controller, which places replicas; the
   * answer comes once this node's mirror of the metadata shows the change.
   */
  controller?: TopicController;
  /** Cluster mode: replication factor of a topic created with -1 (Kafka's default.replication.factor). */
  defaultReplicationFactor?: number;
}

/** The outcome of a topic change made through the controller. */
export type ControllerOutcome = { type: "ok" } | AdminError;

/** Topic changes through the cluster's controller (implemented by the node's runtime). */
export interface TopicController {
  createTopic(req: {
    name: string;
    numPartitions: number;
    replicationFactor: number;
    configs: Record<string, string>;
  }): Promise<ControllerOutcome>;
  deleteTopic(name: string): Promise<ControllerOutcome>;
  createPartitions(name: string, totalCount: number): Promise<ControllerOutcome>;
  /** Sets (value) or removes (null) topic configs. */
  alterConfigs(
    name: string,
    changes: ReadonlyArray<{ name: string; value: string | null }>,
  ): Promise<ControllerOutcome>;
}

/** Admin operations over a `TopicStore` and the `LogService` that serves it. */
export class AdminService {
  readonly #store: TopicStore;
  readonly #logs: LogService;
  readonly #nodeId: number;
  readonly #defaultPartitions: number;
  readonly #groups: GroupService | null;
  readonly #controller: TopicController | null;
  readonly #defaultReplicationFactor: number;

  constructor(store: TopicStore, logs: LogService, options: AdminServiceOptions) {
    this.#store = store;
    this.#logs = logs;
    this.#groups = options.groups ?? null;
    this.#controller = options.controller ?? null;
    this.#defaultReplicationFactor = options.defaultReplicationFactor ?? 1;
    this.#nodeId = options.nodeId;
    this.#defaultPartitions = options.defaultPartitions ?? 1;
  }

  /** Partitions of a topic created with numPartitions -1. */
  get defaultPartitions(): number {
    return this.#defaultPartitions;
  }

  /** Creates a topic, or only checks that it could be created (`validateOnly`). */
  async createTopic(t: NewTopic, validateOnly: boolean): Promise<CreatedTopic | AdminError> {
    const name = t.name;
    try {
      validateTopicName(name);
    } catch (e) {
      if (e instanceof TopicError) return fail("invalid_topic", e.message);
      throw e;
    }
    if (isInternalTopic(name)) {
      return fail("invalid_request", `Cannot create topic "${name}": it is internal`);
    }
    if (this.#store.topic(name)) {
      return fail("topic_exists", `Topic "${name}" already exists`);
    }
    const layout = this.#layout(t);
    if (layout.type === "error") return layout;
    const configs = newTopicConfigs(name, t.configs);
    if (configs.type === "error") return configs;
    const created = { ...layout, configs: configs.configs };
    if (validateOnly) return { ...created, id: null };
    if (this.#controller !== null) {
      const r = await this.#controller.createTopic({
        name,
        numPartitions: layout.partitions,
        replicationFactor: layout.replicationFactor,
        configs: configs.configs,
      });
      if (r.type === "error") return r;
      return { ...created, id: this.#store.topic(name)?.id ?? null };
    }
    try {
      const info = this.#store.createTopic(name, layout.partitions, configs.configs);
      return { ...created, id: info.id };
    } catch (e) {
      return topicFailure(e);
    }
  }

  /** Partition count and replication factor of a new topic, checked against this node. */
  #layout(t: NewTopic): { type: "ok"; partitions: number; replicationFactor: number } | AdminError {
    if (t.assignments.length > 0) {
      if (t.numPartitions !== USE_DEFAULT || t.replicationFactor !== USE_DEFAULT) {
        return fail(
          "invalid_request",
          `Cannot create topic "${t.name}": give either numPartitions and replicationFactor or replica assignments, not both`,
        );
      }
      const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      for (const [i, a] of sorted.entries()) {
        if (a.partitionIndex !== i) {
          return fail(
            "invalid_replica_assignment",
            `Cannot create topic "${t.name}": assigned partitions must be 0 to ${
              sorted.length - 1
            } once each`,
          );
        }
        const bad = this.#checkReplicas(t.name, a.brokerIds);
        if (bad) return bad;
      }
      if (sorted.length > PARTITIONS_MAX) {
        return fail("invalid_partitions", `Invalid partition count "${sorted.length}"`);
      }
      if (this.#controller !== null) {
        return fail(
          "invalid_replica_assignment",
          `Cannot create topic "${t.name}": replica assignments are not supported yet; give a replication factor`,
        );
      }
      return { type: "ok", partitions: sorted.length, replicationFactor: 1 };
    }
    const partitions = t.numPartitions === USE_DEFAULT ? this.#defaultPartitions : t.numPartitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > PARTITIONS_MAX) {
      return fail(
        "invalid_partitions",
        `Invalid partition count "${t.numPartitions}": must be 1-${PARTITIONS_MAX} or -1 for the default`,
      );
    }
    const rf = t.replicationFactor === USE_DEFAULT
      ? this.#defaultReplicationFactor
      : t.replicationFactor;
    if (rf < 1) {
      return fail(
        "invalid_replication_factor",
        `Invalid replication factor "${t.replicationFactor}": must be at least 1 or -1 for the default`,
      );
    }
    if (rf > 1 && this.#controller === null) {
      return fail(
        "invalid_replication_factor",
        `Cannot replicate topic "${t.name}" ${rf} times: this cluster has 1 broker`,
      );
    }
    return { type: "ok", partitions, replicationFactor: rf };
  }

  /** A replica list may only be this node, once. */
  #checkReplicas(topic: string, brokerIds: readonly number[]): AdminError | null {
    if (brokerIds.length === 1 && brokerIds[0] === this.#nodeId) return null;
    return fail(
      "invalid_replica_assignment",
      `Cannot assign replicas [${
        brokerIds.join(", ")
      }] of topic "${topic}": the only broker is ${this.#nodeId}`,
    );
  }

  /**
   * Deletes a topic and its data, forgets its cached producer state and (with a group
   * service) removes its committed offsets, so a topic recreated under the same name does not
   * inherit them, as Kafka does.
   */
  async deleteTopic(name: string): Promise<{ type: "ok"; id: string } | AdminError> {
    const info = this.#store.topic(name);
    if (!info) return fail("unknown_topic", `Unknown topic "${name}"`);
    if (isInternalTopic(name)) {
      return fail("invalid_request", `Cannot delete topic "${name}": it is internal`);
    }
    if (this.#controller !== null) {
      const r = await this.#controller.deleteTopic(name);
      if (r.type === "error") return r;
    } else {
      try {
        await this.#store.deleteTopic(name);
      } catch (e) {
        return topicFailure(e);
      }
    }
    this.#logs.forgetTopic(name);
    const offsetsFailure = await this.#groups?.deleteTopicOffsets(name);
    if (offsetsFailure) {
      // The topic is gone; stale offsets only matter if it is recreated, and a retry of the
      // delete cannot reach them any more, so report the failure instead of hiding it.
      return fail(
        "storage",
        `Deleted topic "${name}" but could not remove its committed offsets: ${offsetsFailure}`,
      );
    }
    return { type: "ok", id: info.id };
  }

  /** The topic with this id (32 hex digits or a dashed UUID), if any. */
  topicById(id: string): TopicInfo | undefined {
    const want = plainUuid(id);
    return this.#store.listTopics().find((t) => plainUuid(t.id) === want);
  }

  /**
   * Grows a topic to `count` partitions; `assignments` (one replica list per new partition)
   * may only name this node.
   */
  async createPartitions(
    name: string,
    count: number,
    assignments: ReadonlyArray<readonly number[]> | null,
    validateOnly: boolean,
  ): Promise<{ type: "ok"; partitions: number } | AdminError> {
    const info = this.#store.topic(name);
    if (!info) return fail("unknown_topic", `Unknown topic "${name}"`);
    if (isInternalTopic(name)) {
      return fail("invalid_request", `Cannot add partitions to topic "${name}": it is internal`);
    }
    if (count <= info.partitions) {
      return fail(
        "invalid_partitions",
        `Cannot grow topic "${name}" to ${count} partitions: it has ${info.partitions}`,
      );
    }
    if (count > PARTITIONS_MAX) {
      return fail(
        "invalid_partitions",
        `Invalid partition count "${count}": at most ${PARTITIONS_MAX}`,
      );
    }
    if (assignments !== null && this.#controller !== null) {
      return fail(
        "invalid_replica_assignment",
        `Cannot grow topic "${name}": replica assignments are not supported yet`,
      );
    }
    if (assignments !== null) {
      if (assignments.length !== count - info.partitions) {
        return fail(
          "invalid_replica_assignment",
          `Cannot grow topic "${name}": ${assignments.length} assignments given for ${
            count - info.partitions
          } new partitions`,
        );
      }
      for (const a of assignments) {
        const bad = this.#checkReplicas(name, a);
        if (bad) return bad;
      }
    }
    if (validateOnly) return { type: "ok", partitions: count };
    if (this.#controller !== null) {
      const r = await this.#controller.createPartitions(name, count);
      return r.type === "error" ? r : { type: "ok", partitions: count };
    }
    try {
      return { type: "ok", partitions: this.#store.createPartitions(name, count).partitions };
    } catch (e) {
      return topicFailure(e);
    }
  }

  /** The configs a topic sets (its dynamic topic configs). */
  topicConfigs(name: string): { type: "ok"; configs: Record<string, string> } | AdminError {
    const info = this.#store.topic(name);
    if (!info) return fail("unknown_topic", `Unknown topic "${name}"`);
    return { type: "ok", configs: { ...info.configs } };
  }

  /**
   * Changes a topic's configs: `replace` (AlterConfigs: the entries become the whole set) or
   * `incremental` (IncrementalAlterConfigs operations). The result is validated as a whole
   * before it is stored; `validateOnly` stops there.
   */
  async alterTopicConfigs(
    name: string,
    change:
      | { mode: "replace"; entries: ReadonlyArray<{ name: string; value: string | null }> }
      | { mode: "incremental"; changes: readonly ConfigChange[] },
    validateOnly: boolean,
  ): Promise<{ type: "ok"; configs: Record<string, string> } | AdminError> {
    const info = this.#store.topic(name);
    if (!info) return fail("unknown_topic", `Unknown topic "${name}"`);
    const next = change.mode === "replace"
      ? replaceConfigs(change.entries)
      : applyConfigChanges(info.configs, change.changes);
    if (next.type === "error") return fail(next.kind, next.message);
    const checked = checkConfigs(next.configs);
    if (checked) return checked;
    if (validateOnly) return next;
    if (this.#controller !== null) {
      const changes: Array<{ name: string; value: string | null }> = [];
      for (const k of Object.keys(info.configs)) {
        if (!Object.hasOwn(next.configs, k)) changes.push({ name: k, value: null });
      }
      for (const [k, v] of Object.entries(next.configs)) {
        if (info.configs[k] !== v) changes.push({ name: k, value: v });
      }
      if (changes.length > 0) {
        const r = await this.#controller.alterConfigs(name, changes);
        if (r.type === "error") return r;
      }
      return { type: "ok", configs: { ...next.configs } };
    }
    // The store applies a replace of the whole map: keys not in `next` are removed.
    try {
      return {
        type: "ok",
        configs: { ...this.#store.alterConfigs(name, next.configs, true).configs },
      };
    } catch (e) {
      return topicFailure(e);
    }
  }

  /**
   * DeleteRecords: moves a partition's log start to `offset` (-1: the high watermark) and
   * returns the new low watermark. Offsets past the high watermark are out of range. On a
   * replicated partition the leader appends a delete-records entry and answers once it is
   * committed, so every replica deletes the same prefix (`timed_out` after `timeoutMs`).
   * Internal topics are refused.
   */
  async deleteRecords(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs = DELETE_RECORDS_TIMEOUT_MS,
  ): Promise<{ type: "ok"; lowWatermark: number } | AdminError> {
    const info = this.#store.topic(topic);
    if (!info || partition < 0 || partition >= info.partitions) {
      return fail("unknown_topic", `Unknown topic or partition "${topic}-${partition}"`);
    }
    if (isInternalTopic(topic)) {
      // The node's own state (committed offsets, groups): only its owner deletes from it, as
      // in Kafka (INVALID_TOPIC_EXCEPTION).
      return fail("invalid_topic", `Cannot delete records of "${topic}": it is internal`);
    }
    if (this.#controller !== null) {
      return await this.#deleteReplicated(topic, partition, offset, timeoutMs);
    }
    try {
      const log = this.#store.partition(topic, partition);
      const hw = this.#logs.highWatermark(log);
      const target = offset === HIGH_WATERMARK_OFFSET ? hw : offset;
      if (target < 0 || target > hw) return deleteOutOfRange(topic, partition, offset, hw);
      log.deleteRecordsBefore(target);
      return { type: "ok", lowWatermark: log.logStartOffset };
    } catch (e) {
      return storageFailure(e);
    }
  }

  async #deleteReplicated(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs: number,
  ): Promise<{ type: "ok"; lowWatermark: number } | AdminError> {
    const replica = this.#logs.leaderReplica(topic, partition);
    if (replica.type === "error") return fail("not_leader", replica.message);
    const h = replica.handle;
    if (!h.highWatermarkKnown) {
      // A new leader's commit end may lag what was acknowledged (KIP-207): retry shortly.
      return fail(
        "not_leader",
        `Cannot delete records of "${topic}-${partition}" yet: the new leader has not committed in its term`,
      );
    }
    const hw = h.highWatermark;
    const target = offset === HIGH_WATERMARK_OFFSET ? hw : offset;
    if (target < 0 || target > hw) return deleteOutOfRange(topic, partition, offset, hw);
    if (target <= h.log.logStartOffset) return { type: "ok", lowWatermark: h.log.logStartOffset };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    try {
      const r = await Promise.race([
        h.propose(deleteRecordsBatch(target), { committed: true }),
        late,
      ]);
      if (r === "timeout") {
        return fail(
          "timed_out",
          `Deleting records of "${topic}-${partition}" before "${target}" was not committed within ${timeoutMs} ms`,
        );
      }
      if (r.type === "refused") return fail("invalid_request", r.reason);
      // The entry was overwritten, leadership moved, or the leader is busy: clients retry.
      if (r.type !== "ok") return fail("not_leader", `Cannot delete records now: ${r.type}`);
      const start = h.log.logStartOffset;
      if (start < target) {
        return fail("not_leader", `Cannot delete records now: the log start is "${start}"`);
      }
      return { type: "ok", lowWatermark: start };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * OffsetForLeaderEpoch for one partition: the current epoch is checked first (KIP-320),
   * then the requested epoch's end offset is looked up (KIP-101).
   */
  offsetForLeaderEpoch(
    topic: string,
    partition: number,
    currentLeaderEpoch: number,
    leaderEpoch: number,
  ): { type: "ok"; leaderEpoch: number; endOffset: number } | AdminError {
    const info = this.#store.topic(topic);
    if (!info || partition < 0 || partition >= info.partitions) {
      return fail("unknown_topic", `Unknown topic or partition "${topic}-${partition}"`);
    }
    if (this.#controller !== null) {
      const replica = this.#logs.leaderReplica(topic, partition);
      if (replica.type === "error") return fail("not_leader", replica.message);
      const h = replica.handle;
      const epochFenced = checkCurrentEpoch(currentLeaderEpoch, h.leaderEpoch);
      if (epochFenced) return epochFenced;
      return { type: "ok", ...endOffsetForEpoch(leaderEpoch, h.epochs(), h.log.logEndOffset) };
    }
    const fenced = checkCurrentEpoch(currentLeaderEpoch, SINGLE_NODE_LEADER_EPOCH);
    if (fenced) return fenced;
    try {
      const log = this.#store.partition(topic, partition);
      // One epoch, started (as far as the log still holds) at the log start offset.
      const epochs = [{ epoch: SINGLE_NODE_LEADER_EPOCH, startOffset: log.logStartOffset }];
      return { type: "ok", ...endOffsetForEpoch(leaderEpoch, epochs, log.logEndOffset) };
    } catch (e) {
      return storageFailure(e);
    }
  }
}

/**
 * KIP-320's check of the client's current leader epoch against ours: -1 means "not given";
 * older is FENCED_LEADER_EPOCH (the client knows an older leader), newer is
 * UNKNOWN_LEADER_EPOCH (the client has heard of a leader we have not).
 */
export function checkCurrentEpoch(current: number, ours: number): AdminError | null {
  if (current === UNDEFINED_EPOCH || current === ours) return null;
  if (current < ours) {
    return fail("fenced_leader_epoch", `Leader epoch "${current}" is older than "${ours}"`);
  }
  return fail("unknown_leader_epoch", `Leader epoch "${current}" is newer than "${ours}"`);
}

/**
 * KIP-101's end offset of `requested` given the epochs of a log (ascending, each with its
 * start offset) and the log end offset, as Kafka's LeaderEpochFileCache.endOffsetFor does:
 * - -1 (undefined) or an epoch newer than every known one: (-1, -1);
 * - the latest epoch: (that epoch, the log end offset);
 * - an older epoch: (the largest known epoch <= requested, or the requested one when none is
 *   smaller, with the start offset of the first epoch after it).
 */
export function endOffsetForEpoch(
  requested: number,
  epochs: ReadonlyArray<{ epoch: number; startOffset: number }>,
  logEndOffset: number,
): { leaderEpoch: number; endOffset: number } {
  const undefinedEnd = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
  if (requested === UNDEFINED_EPOCH) return undefinedEnd;
  const latest = epochs[epochs.length - 1];
  if (latest && latest.epoch === requested) {
    return { leaderEpoch: requested, endOffset: logEndOffset };
  }
  const higher = epochs.find((e) => e.epoch > requested);
  if (!higher) return undefinedEnd;
  let floor: number | null = null;
  for (const e of epochs) if (e.epoch <= requested) floor = e.epoch;
  return { leaderEpoch: floor ?? requested, endOffset: higher.startOffset };
}

/** Checks the CreateTopics config list and returns it as a map. */
function newTopicConfigs(
  topic: string,
  entries: ReadonlyArray<{ name: string; value: string | null }>,
): { type: "ok"; configs: Record<string, string> } | AdminError {
  const configs: Record<string, string> = {};
  for (const c of entries) {
    if (Object.hasOwn(configs, c.name)) {
      return fail(
        "invalid_request",
        `Cannot create topic "${topic}": config "${c.name}" appears more than once`,
      );
    }
    if (c.value === null) {
      // Kafka: "Null value not supported for topic configs" (INVALID_CONFIG).
      return fail("invalid_config", `Invalid topic config "${c.name}": null value not supported`);
    }
    configs[c.name] = c.value;
  }
  return checkConfigs(configs) ?? { type: "ok", configs };
}

function checkConfigs(configs: Record<string, string>): AdminError | null {
  try {
    validateTopicConfigs(configs);
    return null;
  } catch (e) {
    if (e instanceof InvalidConfigError) return fail("invalid_config", e.message);
    throw e;
  }
}

function plainUuid(id: string): string {
  return id.replaceAll("-", "").toLowerCase();
}

function deleteOutOfRange(
  topic: string,
  partition: number,
  offset: number,
  hw: number,
): AdminError {
  return fail(
    "offset_out_of_range",
    `Cannot delete records of "${topic}-${partition}" before "${offset}": high watermark is "${hw}"`,
  );
}

function fail(kind: AdminErrorKind, message: string): AdminError {
  return { type: "error", kind, message };
}

/** Maps a refusal of the store; anything else is a bug or an I/O failure. */
function topicFailure(e: unknown): AdminError {
  if (e instanceof TopicError) {
    switch (e.code) {
      case "unknown_topic":
        return fail("unknown_topic", e.message);
      case "topic_exists":
        return fail("topic_exists", e.message);
      case "invalid_topic":
        return fail("invalid_topic", e.message);
      case "invalid_partitions":
        return fail("invalid_partitions", e.message);
      case "invalid_config":
        return fail("invalid_config", e.message);
    }
  }
  return storageFailure(e);
}

function storageFailure(e: unknown): AdminError {
  if (e instanceof StorageError) {
    if (e.code === "corrupt") return fail("corrupt", e.message);
    if (e.code === "offset_out_of_range") return fail("offset_out_of_range", e.message);
    return fail("storage", e.message);
  }
  if (e instanceof TopicError && e.code === "unknown_topic") {
    return fail("unknown_topic", e.message);
  }
  throw e;
}
