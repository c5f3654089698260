/**
 * The produce, fetch and offset services of one node, shared by every front door (the Kafka
 * broker and the HTTP API). It owns the rules that are not the storage engine's: topic
 * auto-creation, idempotent-producer sequence checks, the high watermark consumers may read
 * up to, waiting for new data (long polls), and offset lookups by time.
 *
 * On a single node this node leads every partition at leader epoch 0; the high watermark is
 * the durable end of the log under fsync=always and the log end otherwise. In a cluster
 * (issue #6, `replicas` given) each partition is served by its Raft group: produce and fetch
 * only on the leader, every acknowledgement once the replication quorum committed the batch,
 * the high watermark the commit end, the leader epoch the Raft term.
 *
 * Outcomes are tagged values; each front door maps them once to its own error codes.
 */
import {
  ATTR,
  type BatchHeader,
  batchSize,
  decodeBatch,
  iterateBatches,
  readBatchHeader,
  setPartitionLeaderEpoch,
  stampLogAppendTime,
  verifyBatchCrc,
} from "../records/mod.ts";
import { type PartitionLog, TopicError, type TopicInfo, type TopicStore } from "../storage/mod.ts";
import { type Clock, FrameDecodeError, StorageError } from "../util/mod.ts";
import { isInternalTopic } from "./internal_topics.ts";
import { ProducerStateTable, type SequenceCheck } from "./producer_state.ts";
import type { ReplicaHandle } from "./replica_manager.ts";
import type { ProposeResult } from "./replication/mod.ts";
import { realScheduler, type Scheduler, type Timer } from "./transport/mod.ts";

/** In-sync replicas of every partition on a single node: the node itself. */
export const SINGLE_NODE_ISR = 1;
/** The leader epoch of every partition on a single node. */
export const SINGLE_NODE_LEADER_EPOCH = 0;
/** Bytes read per step when rebuilding producer state from a log. */
const PRODUCER_SCAN_BYTES = 8 * 1024 * 1024;

/** Why a partition-level operation failed. */
export type PartitionErrorKind =
  | "unknown_topic"
  | "not_enough_replicas"
  | "internal_topic"
  | "corrupt"
  | "too_large"
  | "invalid_record"
  | "storage"
  | "out_of_order_sequence"
  | "invalid_producer_epoch"
  | "offset_out_of_range"
  | "invalid_request"
  | "unsupported_format"
  | "not_leader"
  | "timed_out"
  | "offset_not_available";

/** A partition-level failure. */
export interface PartitionError {
  type: "error";
  kind: PartitionErrorKind;
  message: string;
}

/** The outcome of producing one partition's records. */
export type ProduceOutcome =
  | {
    type: "ok";
    baseOffset: number;
    logAppendTimeMs: number;
    logStartOffset: number;
    duplicate: boolean;
  }
  | PartitionError;

/** The outcome of reading one partition. */
export type FetchOutcome =
  | {
    type: "ok";
    records: Uint8Array;
    highWatermark: number;
    logStartOffset: number;
    nextOffset: number;
  }
  | (PartitionError & { highWatermark: number; logStartOffset: number });

/** Special ListOffsets timestamps (protocol guide, ListOffsets). */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;

/** The outcome of a ListOffsets lookup. */
export type OffsetLookup =
  | { type: "ok"; offset: number; timestampMs: number; leaderEpoch: number }
  | PartitionError;

/** Options of the service. */
export interface LogServiceOptions {
  autoCreateTopics: boolean;
  defaultPartitions: number;
  clock: Clock;
  /** Told the bytes and records of every batch appended by a client (metrics). */
  onRecordsIn?: (topic: string, bytes: number, records: number) => void;
  /** Told the bytes and records of every read for a consumer, long-poll re-reads included. */
  onRecordsOut?: (topic: string, bytes: number, records: number) => void;
  /**
   * Cluster mode (issue #6): the node's partition replicas. Every non-internal partition is
   * then served by its Raft group: produce and fetch only on its leader, the high watermark
   * is the commit end, the leader epoch the Raft term. Absent on a single node.
   */
  replicas?: ReplicaDirectory;
  /** Cluster mode: asks the controller to create a topic a client named (auto-creation). */
  requestTopic?: (name: string) => void;
  /**
   * Timers of long polls and of waits for the replication quorum (default: the process's),
   * so a simulation drives them on virtual time with `clock`.
   */
  scheduler?: Scheduler;
}

/** The replicas of a node, as the produce and fetch paths need them. */
export interface ReplicaDirectory {
  /** The replica of a partition on this node, or undefined when it has none. */
  replica(topic: string, partition: number): ReplicaHandle | undefined;
  /** The commit end of a replica's log, or undefined when `log` is not a replica's. */
  commitOf(log: PartitionLog): number | undefined;
}

/** Read options (fetch, ListOffsets). */
export interface ReadOptions {
  /**
   * Cluster mode: a follower replica may answer, up to its commit end (for the HTTP API;
   * Kafka consumers read from leaders).
   */
  fromFollower?: boolean;
}

/** Produce options. */
export interface ProduceOptions {
  /** Cluster mode: how long to wait for the replication quorum (Produce's timeoutMs). */
  timeoutMs?: number | undefined;
}

/** Default wait for the replication quorum when the caller gives none. */
export const DEFAULT_PRODUCE_TIMEOUT_MS = 30_000;

type Waiter = () => void;

/** Produce, fetch and offset lookups over a `TopicStore`. */
export class LogService {
  readonly store: TopicStore;
  readonly #options: LogServiceOptions;
  readonly #scheduler: Scheduler;
  #producers = new Map<string, ProducerStateTable>();
  /** Cluster mode: producer state per replicated partition, rebuilt at each leader epoch. */
  #replicaProducers = new Map<string, { epoch: number; table: ProducerStateTable }>();
  /** Cluster mode: the last idempotent append of each producer per partition (serialized). */
  #producerChains = new Map<string, Promise<unknown>>();
  #waiters = new Map<string, Set<Waiter>>();

  constructor(store: TopicStore, options: LogServiceOptions) {
    this.store = store;
    this.#options = options;
    this.#scheduler = options.scheduler ?? realScheduler;
  }

  /** True in cluster mode (partitions are served by their Raft groups). */
  get clustered(): boolean {
    return this.#options.replicas !== undefined;
  }

  /** A topic, created with the defaults when missing and `autoCreate` allows. */
  topicFor(name: string, autoCreate: boolean): TopicInfo | undefined {
    const info = this.store.topic(name);
    if (info || !autoCreate || !this.#options.autoCreateTopics || name.startsWith("__")) {
      return info;
    }
    if (this.#options.requestTopic !== undefined) {
      // Cluster mode: the controller creates it; the client retries until it is mirrored here.
      this.#options.requestTopic(name);
      return undefined;
    }
    try {
      return this.store.createTopic(name, this.#options.defaultPartitions);
    } catch (err) {
      if (err instanceof TopicError) return undefined; // an invalid name: reported as unknown
      throw err;
    }
  }

  /** The offset consumers may read up to (exclusive). */
  highWatermark(log: PartitionLog): number {
    const committed = this.#options.replicas?.commitOf(log);
    if (committed !== undefined) return committed;
    return log.config.fsync === "always" ? log.flushedOffset : log.logEndOffset;
  }

  /**
   * Appends the record batches of one partition from a Produce request. `records` may hold
   * several batches; each is validated, checked for producer sequence, stamped with the
   * leader epoch and appended. Resolves once durable per the log's policy (not awaited for
   * acks=0 by the caller).
   */
  async produce(
    topic: string,
    partition: number,
    records: Uint8Array,
    acksAll = false,
    options: ProduceOptions = {},
  ): Promise<ProduceOutcome> {
    // Only the node writes its own state (the group service appends to its log directly).
    if (isInternalTopic(topic)) {
      return err("internal_topic", `Cannot append to internal topic "${topic}"`);
    }
    if (this.#options.replicas !== undefined) {
      return this.#produceReplicated(topic, partition, records, acksAll, options);
    }
    const info = this.topicFor(topic, true);
    // On one node the in-sync set is this node alone.
    const tooFew = info && acksAll && minIsrRefusal(info, topic, partition, SINGLE_NODE_ISR);
    if (tooFew) return tooFew;
    if (!info || partition < 0 || partition >= info.partitions) {
      return err("unknown_topic", `Unknown topic or partition "${topic}-${partition}"`);
    }
    const log = this.store.partition(topic, partition);
    const batches = splitBatches(records);
    if (batches.type === "error") return batches;
    const logAppendTime = info.configs["message.timestamp.type"] === "LogAppendTime";
    const invalid = checkBatches(topic, partition, batches.list);
    if (invalid) return invalid;
    let first: ProduceOutcome | null = null;
    let failure: PartitionError | null = null;
    const durables: Array<Promise<unknown>> = [];
    for (const { bytes, header } of batches.list) {
      const outcome = this.#appendOne(topic, partition, log, bytes, header, logAppendTime);
      if (outcome.type === "error") {
        failure = outcome;
        break;
      }
      durables.push(outcome.durable);
      if (outcome.type === "refused") break;
      first ??= outcome.result;
    }
    // Every append started is awaited, in order, so none can reject unobserved (an
    // unhandled rejection would stop the process); the first failure is the answer.
    for (const durable of durables) {
      try {
        await durable;
      } catch (e) {
        failure ??= storageFailure(e);
      }
    }
    if (first) this.#notify(`${topic}\u0000${partition}`);
    return this.#answer(topic, partition, batches.list, first, failure);
  }

  /** A produce's answer: the first failure, else the first batch's outcome; counts records in. */
  #answer(
    topic: string,
    partition: number,
    batches: ReadonlyArray<{ bytes: Uint8Array; header: BatchHeader }>,
    first: ProduceOutcome | null,
    failure: PartitionError | null,
  ): ProduceOutcome {
    if (first && this.#options.onRecordsIn) {
      let bytes = 0, count = 0;
      for (const { bytes: b, header } of batches) {
        bytes += b.length;
        count += header.recordCount;
      }
      this.#options.onRecordsIn(topic, bytes, count);
    }
    if (failure) return failure;
    return first ?? err("storage", `Append to "${topic}-${partition}" did not advance the log`);
  }

  /**
   * Cluster mode: appends through the partition's Raft group. Every batch is proposed, in
   * order, and the answer waits for each to be committed by the replication quorum W (acks=1
   * as well: the leader's append alone is not acknowledged in cluster mode). Idempotent
   * batches of one producer are proposed one at a time per partition, so the sequence check
   * always sees the outcome of the previous one (a retry racing its original would otherwise
   * be appended twice).
   */
  async #produceReplicated(
    topic: string,
    partition: number,
    records: Uint8Array,
    acksAll: boolean,
    options: ProduceOptions,
  ): Promise<ProduceOutcome> {
    const info = this.topicFor(topic, true);
    if (!info || partition < 0 || partition >= info.partitions) {
      return err("unknown_topic", `Unknown topic or partition "${topic}-${partition}"`);
    }
    const replica = this.leaderReplica(topic, partition);
    if (replica.type === "error") return replica;
    const tooFew = acksAll &&
      minIsrRefusal(info, topic, partition, replica.handle.inSyncReplicas);
    if (tooFew) return tooFew;
    const batches = splitBatches(records);
    if (batches.type === "error") return batches;
    const invalid = checkBatches(topic, partition, batches.list, true);
    if (invalid) return invalid;
    const logAppendTime = info.configs["message.timestamp.type"] === "LogAppendTime";
    const timeoutMs = options.timeoutMs ?? DEFAULT_PRODUCE_TIMEOUT_MS;
    // Proposals are made in order (each enqueues before the next), then awaited together.
    const outcomes = batches.list.map(({ bytes, header }) =>
      header.producerId >= 0n
        ? this.#chained(
          `${topic}\u0000${partition}\u0000${header.producerId}`,
          () => this.#proposeIdempotent(topic, partition, bytes, header, logAppendTime, timeoutMs),
        )
        : this.#propose(topic, partition, replica.handle, bytes, logAppendTime, timeoutMs)
    );
    let first: ProduceOutcome | null = null;
    let failure: PartitionError | null = null;
    for (const o of await Promise.all(outcomes)) {
      if (o.type === "error") failure ??= o;
      else first ??= o;
    }
    return this.#answer(topic, partition, batches.list, first, failure);
  }

  /**
   * Runs `task` after every earlier task of `key` settled, and after the proposals they left
   * pending (a batch that timed out may still commit: the producer's next batch is checked
   * only once that is decided).
   */
  #chained<T>(
    key: string,
    task: () => Promise<{ outcome: T; pending?: Promise<unknown> | undefined }>,
  ): Promise<T> {
    const previous = this.#producerChains.get(key) ?? Promise.resolve();
    const step = previous.then(task);
    const run = step.then((r) => r.outcome);
    // The chain continues whatever the outcome; outcomes are values, so `step` rejects only
    // on a bug, which the caller's await reports.
    const tail = step.then((r) => r.pending).then(() => {}, () => {});
    this.#producerChains.set(key, tail);
    tail.then(() => {
      if (this.#producerChains.get(key) === tail) this.#producerChains.delete(key);
    });
    return run;
  }

  async #proposeIdempotent(
    topic: string,
    partition: number,
    bytes: Uint8Array,
    h: BatchHeader,
    logAppendTime: boolean,
    timeoutMs: number,
  ): Promise<{ outcome: ProduceOutcome; pending?: Promise<unknown> | undefined }> {
    // Leadership may have moved while this batch waited for the producer's previous one.
    const replica = this.leaderReplica(topic, partition);
    if (replica.type === "error") return { outcome: replica };
    const handle = replica.handle;
    const table = this.#replicaProducerTable(topic, partition, handle);
    const verdict = table.check(h.producerId, h.producerEpoch, h.baseSequence, h.recordCount);
    if (verdict.type === "duplicate") {
      // Acknowledged once the original is committed (after a leader change it may not be).
      const deadline = this.#options.clock.monotonicMs() + timeoutMs;
      // Bounded by count as well as by time (a virtual clock may stand still meanwhile).
      for (let i = 0; i <= Math.ceil(timeoutMs / 100); i++) {
        const now = this.leaderReplica(topic, partition);
        if (now.type === "error") return { outcome: now };
        if (now.handle.highWatermark > verdict.baseOffset) {
          return {
            outcome: {
              type: "ok",
              baseOffset: verdict.baseOffset,
              logAppendTimeMs: verdict.logAppendTimeMs,
              logStartOffset: now.handle.log.logStartOffset,
              duplicate: true,
            },
          };
        }
        const left = deadline - this.#options.clock.monotonicMs();
        if (left <= 0) break;
        await this.waitForDataWithin([[topic, partition]], Math.min(left, 100), []);
      }
      return {
        outcome: err(
          "timed_out",
          `Duplicate batch of "${topic}-${partition}" is not committed yet`,
        ),
      };
    }
    const refused = sequenceRefusal(verdict, h);
    if (refused) return { outcome: refused };
    const epoch = handle.leaderEpoch;
    const tableKey = `${topic}\u0000${partition}`;
    const record = (baseOffset: number, appendTimeMs: number) => {
      const current = this.#replicaProducers.get(tableKey);
      if (current?.epoch !== epoch || current.table !== table) return;
      table.record(
        h.producerId,
        h.producerEpoch,
        h.baseSequence,
        h.recordCount,
        baseOffset,
        appendTimeMs,
        h.maxTimestamp,
      );
    };
    const forget = () => {
      // The log decides now: the next check rebuilds the table from it.
      if (this.#replicaProducers.get(tableKey)?.table === table) {
        this.#replicaProducers.delete(tableKey);
      }
    };
    let proposal: Promise<ProposeResult> | undefined;
    const o = await this.#propose(
      topic,
      partition,
      handle,
      bytes,
      logAppendTime,
      timeoutMs,
      (p) => (proposal = p),
    );
    if (o.type === "ok") {
      record(o.baseOffset, o.logAppendTimeMs);
      return { outcome: o };
    }
    if (o.kind !== "timed_out" || proposal === undefined) {
      forget();
      return { outcome: o };
    }
    // Timed out, yet the batch may still commit (or still wait in the group's queue): the
    // producer's next batch (its retry, most likely) waits for the decision, so it is
    // answered as a duplicate rather than appended a second time.
    const decided = proposal.then(
      (r) => (r.type === "ok" ? record(r.baseOffset, -1) : forget()),
      () => forget(),
    );
    return { outcome: o, pending: decided };
  }

  async #propose(
    topic: string,
    partition: number,
    handle: ReplicaHandle,
    bytes: Uint8Array,
    logAppendTime: boolean,
    timeoutMs: number,
    track?: (proposal: Promise<ProposeResult>) => void,
  ): Promise<ProduceOutcome> {
    let appendTime = -1;
    if (logAppendTime) {
      appendTime = this.#options.clock.nowMs();
      bytes = bytes.slice();
      stampLogAppendTime(bytes, appendTime);
    }
    let timer: Timer | undefined;
    const expired = new Promise<"timeout">((resolve) => {
      timer = this.#scheduler.setTimer(() => resolve("timeout"), Math.max(0, timeoutMs));
    });
    try {
      // checkBatches verified the CRC (before any LogAppendTime stamp rewrote it).
      const proposal = handle.propose(bytes, { crcVerified: true });
      track?.(proposal);
      const r = await Promise.race([proposal, expired]);
      if (r === "timeout") {
        // As Kafka's REQUEST_TIMED_OUT: the batch may still be committed later.
        return err(
          "timed_out",
          `Replication of "${topic}-${partition}" did not reach its quorum within ${timeoutMs} ms`,
        );
      }
      if (r.type === "notLeader") return notLeader(topic, partition, r.leader);
      if (r.type === "refused") {
        return err(r.reason.includes("CRC") ? "corrupt" : "invalid_record", r.reason);
      }
      if (r.type === "busy") {
        // A transfer in progress or the uncommitted bound: retriable; the client refreshes
        // metadata and tries again (NOT_LEADER_OR_FOLLOWER, never a fatal INVALID_RECORD).
        return err("not_leader", `Cannot write "${topic}-${partition}" now: ${r.reason}`);
      }
      return {
        type: "ok",
        baseOffset: r.baseOffset,
        logAppendTimeMs: appendTime,
        logStartOffset: handle.log.logStartOffset,
        duplicate: false,
      };
    } finally {
      timer?.cancel();
    }
  }

  /** The replica of a partition when this node leads it, or NOT_LEADER_OR_FOLLOWER. */
  leaderReplica(
    topic: string,
    partition: number,
  ): { type: "ok"; handle: ReplicaHandle } | PartitionError {
    const handle = this.#options.replicas?.replica(topic, partition);
    if (handle === undefined || !handle.isLeader) {
      return notLeader(topic, partition, handle?.leaderId);
    }
    return { type: "ok", handle };
  }

  #replicaProducerTable(
    topic: string,
    partition: number,
    handle: ReplicaHandle,
  ): ProducerStateTable {
    const key = `${topic}\u0000${partition}`;
    const cached = this.#replicaProducers.get(key);
    if (cached !== undefined && cached.epoch === handle.leaderEpoch) return cached.table;
    // A new leader epoch: rebuild from the replica's log, which holds every committed batch
    // (Raft's Leader Completeness, §5.4) and this leader's uncommitted ones.
    const table = this.#tableFromLog(handle.log);
    this.#replicaProducers.set(key, { epoch: handle.leaderEpoch, table });
    return table;
  }

  #appendOne(
    topic: string,
    partition: number,
    log: PartitionLog,
    bytes: Uint8Array,
    h: BatchHeader,
    logAppendTime: boolean,
  ):
    | { type: "ok"; result: ProduceOutcome; durable: Promise<unknown> }
    | { type: "refused"; durable: Promise<unknown> }
    | PartitionError {
    const idempotent = h.producerId >= 0n;
    const table = idempotent ? this.#producerTable(topic, partition, log) : null;
    if (table) {
      const verdict = table.check(h.producerId, h.producerEpoch, h.baseSequence, h.recordCount);
      if (verdict.type === "duplicate") {
        const result: ProduceOutcome = {
          type: "ok",
          baseOffset: verdict.baseOffset,
          logAppendTimeMs: verdict.logAppendTimeMs,
          logStartOffset: log.logStartOffset,
          duplicate: true,
        };
        // A retry is acknowledged once the original is durable.
        return { type: "ok", result, durable: log.flush() };
      }
      const refused = sequenceRefusal(verdict, h);
      if (refused) return refused;
    }
    setPartitionLeaderEpoch(bytes, SINGLE_NODE_LEADER_EPOCH);
    // PartitionLog.append writes synchronously before its first await, so the sequence check
    // above and the record below cannot interleave with another request.
    const endBefore = log.logEndOffset;
    const durable = log.append(bytes, { logAppendTime });
    if (log.logEndOffset !== endBefore + h.recordCount) {
      // The storage refused the batch (bad CRC, too large, I/O): its rejected promise says
      // why. Nothing was written, so nothing is recorded for the producer: a retry of the
      // same sequence must be appended, not acknowledged as a duplicate of nothing.
      return { type: "refused", durable };
    }
    const base = endBefore;
    const appendTime = logAppendTime ? this.#options.clock.nowMs() : -1;
    table?.record(
      h.producerId,
      h.producerEpoch,
      h.baseSequence,
      h.recordCount,
      base,
      appendTime,
      h.maxTimestamp,
    );
    const result: ProduceOutcome = {
      type: "ok",
      baseOffset: base,
      logAppendTimeMs: appendTime,
      logStartOffset: log.logStartOffset,
      duplicate: false,
    };
    return { type: "ok", result, durable };
  }

  /**
   * Reads one partition from `offset`, up to `maxBytes` (at least one batch when
   * `minOneBatch`), never past the high watermark.
   */
  fetch(
    topic: string,
    partition: number,
    offset: number,
    maxBytes: number,
    minOneBatch: boolean,
    options: ReadOptions = {},
  ): FetchOutcome {
    const info = this.store.topic(topic);
    if (!info || partition < 0 || partition >= info.partitions) {
      return {
        ...err("unknown_topic", `Unknown topic or partition "${topic}-${partition}"`),
        highWatermark: -1,
        logStartOffset: -1,
      };
    }
    const serving = this.#servedLog(topic, partition, options);
    if (serving.type === "error") return { ...serving, highWatermark: -1, logStartOffset: -1 };
    const log = serving.log;
    const hw = serving.highWatermark;
    const base = { highWatermark: hw, logStartOffset: log.logStartOffset };
    if (offset > hw && offset <= log.logEndOffset) {
      // Written but not yet durable: nothing to read yet, not an error.
      return { type: "ok", records: new Uint8Array(0), nextOffset: offset, ...base };
    }
    try {
      const r = log.read(offset, maxBytes, { maxOffsetExclusive: hw, minOneBatch });
      if (r.type === "offsetOutOfRange") {
        return {
          ...err(
            "offset_out_of_range",
            `Offset "${offset}" is outside [${r.logStartOffset}, ${r.logEndOffset}]`,
          ),
          ...base,
        };
      }
      if (this.#options.onRecordsOut && r.bytes.length > 0) {
        let count = 0;
        for (const f of iterateBatches(r.bytes)) count += f.header.recordCount;
        this.#options.onRecordsOut(topic, r.bytes.length, count);
      }
      return { type: "ok", records: r.bytes, nextOffset: r.nextOffset, ...base };
    } catch (e) {
      return { ...storageFailure(e), ...base };
    }
  }

  /**
   * Waits for data on `keys` for at most `ms`, or until any of `signals` aborts; resolves true
   * when the time ran out. Long polls of every front door use it. Everything it sets up is
   * torn down before it returns (one timer, one listener per signal): `AbortSignal.any` and
   * `AbortSignal.timeout` are avoided because Deno keeps every signal made by `any` alive as
   * long as its long-lived inputs (a connection, the node's shutdown signal), which leaked
   * about 1.6 KB per poll.
   */
  async waitForDataWithin(
    keys: Array<[string, number]>,
    ms: number,
    signals: readonly AbortSignal[],
  ): Promise<boolean> {
    const wake = new AbortController();
    let timedOut = false;
    const timer = this.#scheduler.setTimer(() => {
      timedOut = true;
      wake.abort();
    }, Math.max(0, ms));
    const onAbort = () => wake.abort();
    for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
    if (signals.some((s) => s.aborted)) wake.abort();
    try {
      await this.waitForData(keys, wake.signal);
    } finally {
      timer.cancel();
      for (const s of signals) s.removeEventListener("abort", onAbort);
    }
    return timedOut;
  }

  /**
   * Resolves when any of `keys` (`topic`, `partition`) receives new data or `signal` aborts.
   * Bounded: the caller always aborts by its deadline (see `waitForDataWithin`).
   */
  waitForData(keys: Array<[string, number]>, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const ids = keys.map(([t, p]) => `${t}\u0000${p}`);
      const done = () => {
        for (const id of ids) this.#waiters.get(id)?.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", done);
      for (const id of ids) {
        let set = this.#waiters.get(id);
        if (!set) this.#waiters.set(id, set = new Set());
        set.add(done);
      }
    });
  }

  /** ListOffsets: earliest, latest, max timestamp, or the first offset at or after a time. */
  listOffset(
    topic: string,
    partition: number,
    timestamp: number,
    options: ReadOptions = {},
  ): OffsetLookup {
    const info = this.store.topic(topic);
    if (!info || partition < 0 || partition >= info.partitions) {
      return err("unknown_topic", `Unknown topic or partition "${topic}-${partition}"`);
    }
    const serving = this.#servedLog(topic, partition, options);
    if (serving.type === "error") return serving;
    const log = serving.log;
    const ok = (offset: number, timestampMs = -1): OffsetLookup => ({
      type: "ok",
      offset,
      timestampMs,
      leaderEpoch: serving.leaderEpoch,
    });
    if (
      this.#options.replicas !== undefined && !options.fromFollower &&
      timestamp !== EARLIEST_TIMESTAMP
    ) {
      // A new leader's commit end may lag what its predecessor acknowledged until it commits
      // in its own term: answering from it could move "latest" backwards (KIP-207).
      const r = this.leaderReplica(topic, partition);
      if (r.type === "ok" && !r.handle.highWatermarkKnown) {
        return err(
          "offset_not_available",
          `The new leader of "${topic}-${partition}" has not established its high watermark yet`,
        );
      }
    }
    if (timestamp === LATEST_TIMESTAMP) return ok(serving.highWatermark);
    if (timestamp === EARLIEST_TIMESTAMP) return ok(log.logStartOffset);
    try {
      if (timestamp === MAX_TIMESTAMP) return this.#maxTimestamp(log, ok);
      if (timestamp < 0) {
        return err("invalid_request", `Invalid ListOffsets timestamp "${timestamp}"`);
      }
      const hit = log.findByTimestamp(timestamp);
      if (hit) {
        for (const rec of decodeBatch(hit.batch).records) {
          if (
            rec.timestampMs >= timestamp && rec.offset >= log.logStartOffset &&
            rec.offset < this.highWatermark(log)
          ) {
            return ok(rec.offset, rec.timestampMs);
          }
        }
      }
      return { type: "ok", offset: -1, timestampMs: -1, leaderEpoch: -1 };
    } catch (e) {
      return storageFailure(e);
    }
  }

  /**
   * The offset and timestamp of the first record with the largest timestamp (ListOffsets
   * v7+), among those a consumer may read. Only batch headers are read on the way (their
   * maxTimestamp); the one batch that holds the winner is decoded (and decompressed) at the
   * end, instead of every batch whose maximum beat the running best (all of them, when
   * timestamps rise, as they usually do).
   */
  #maxTimestamp(log: PartitionLog, ok: (o: number, t: number) => OffsetLookup): OffsetLookup {
    const best: { batch: Uint8Array | null; ts: number } = { batch: null, ts: -1 };
    const hw = this.highWatermark(log);
    this.#scanBatches(log, (bytes, h) => {
      if (h.maxTimestamp > best.ts && h.baseOffset < hw) {
        best.batch = bytes;
        best.ts = h.maxTimestamp;
      }
    });
    let found = { offset: -1, ts: -1 };
    if (best.batch) {
      for (const rec of decodeBatch(best.batch).records) {
        const visible = rec.offset >= log.logStartOffset && rec.offset < hw;
        if (visible && rec.timestampMs > found.ts) {
          found = { offset: rec.offset, ts: rec.timestampMs };
        }
      }
    }
    return found.offset < 0
      ? { type: "ok", offset: -1, timestampMs: -1, leaderEpoch: -1 }
      : ok(found.offset, found.ts);
  }

  /** Producer states of a partition (DescribeProducers). */
  producers(topic: string, partition: number) {
    const replica = this.#options.replicas?.replica(topic, partition);
    if (replica !== undefined) {
      return this.#replicaProducerTable(topic, partition, replica).summaries();
    }
    const log = this.store.partition(topic, partition);
    return this.#producerTable(topic, partition, log).summaries();
  }

  /** Cluster mode: wakes the long polls of a partition (its high watermark advanced). */
  notifyCommitted(topic: string, partition: number): void {
    this.#notify(`${topic}\u0000${partition}`);
  }

  /**
   * The log consumers of a partition read, with its leader epoch: on a single node the local
   * log at epoch 0; in cluster mode the Raft group's log, and only on its leader.
   */
  #servedLog(
    topic: string,
    partition: number,
    options: ReadOptions,
  ):
    | { type: "ok"; log: PartitionLog; leaderEpoch: number; highWatermark: number }
    | PartitionError {
    if (this.#options.replicas !== undefined) {
      // A follower's commit end is one the leader told it: everything below is committed.
      const local = options.fromFollower
        ? this.#options.replicas.replica(topic, partition)
        : undefined;
      let h = local;
      if (h === undefined) {
        const r = this.leaderReplica(topic, partition);
        if (r.type === "error") return r;
        h = r.handle;
      }
      return { type: "ok", log: h.log, leaderEpoch: h.leaderEpoch, highWatermark: h.highWatermark };
    }
    const log = this.store.partition(topic, partition);
    return {
      type: "ok",
      log,
      leaderEpoch: SINGLE_NODE_LEADER_EPOCH,
      highWatermark: this.highWatermark(log),
    };
  }

  /** Forgets cached per-partition state of a deleted topic. */
  forgetTopic(topic: string): void {
    for (const key of [...this.#producers.keys()]) {
      if (key.startsWith(`${topic}\u0000`)) this.#producers.delete(key);
    }
  }

  #producerTable(topic: string, partition: number, log: PartitionLog): ProducerStateTable {
    const key = `${topic}\u0000${partition}`;
    let table = this.#producers.get(key);
    if (table) return table;
    table = this.#tableFromLog(log);
    this.#producers.set(key, table);
    return table;
  }

  /**
   * Producer state rebuilt from a log, so it survives restarts and leader changes: every
   * idempotent batch still in the log is replayed in order (bounded by the log's size).
   */
  #tableFromLog(log: PartitionLog): ProducerStateTable {
    const table = new ProducerStateTable();
    this.#scanBatches(log, (_bytes, h, base) => {
      if (h.producerId >= 0n) {
        table.record(
          h.producerId,
          h.producerEpoch,
          h.baseSequence,
          h.recordCount,
          base,
          -1,
          h.maxTimestamp,
        );
      }
    });
    return table;
  }

  /** Calls `visit` for every batch from the log start to its end. */
  #scanBatches(
    log: PartitionLog,
    visit: (bytes: Uint8Array, h: BatchHeader, base: number) => void,
  ): void {
    let at = log.logStartOffset;
    const end = log.logEndOffset;
    // Bounded: each read advances `at` past at least one batch, or the loop stops.
    while (at < end) {
      const r = log.read(at, PRODUCER_SCAN_BYTES);
      if (r.type !== "ok" || r.bytes.length === 0 || r.nextOffset <= at) break;
      for (const frame of iterateBatches(r.bytes)) {
        visit(frame.bytes, frame.header, frame.header.baseOffset);
      }
      at = r.nextOffset;
    }
  }

  #notify(id: string): void {
    const set = this.#waiters.get(id);
    if (!set) return;
    this.#waiters.delete(id);
    for (const w of set) w();
  }
}

function err(kind: PartitionErrorKind, message: string): PartitionError {
  return { type: "error", kind, message };
}

/**
 * min.insync.replicas (Kafka's acks=all contract, NOT_ENOUGH_REPLICAS): an acks=all write
 * needs that many in-sync replicas.
 */
function minIsrRefusal(
  info: TopicInfo,
  topic: string,
  partition: number,
  inSync: number,
): PartitionError | null {
  const minIsr = Number(info.configs["min.insync.replicas"] ?? "1");
  if (minIsr <= inSync) return null;
  return err(
    "not_enough_replicas",
    `Cannot write "${topic}-${partition}" with acks=all: min.insync.replicas is ${minIsr}, in-sync replicas are ${inSync}`,
  );
}

/**
 * Checks a produce's batches before any is written, so none is half-accepted: record counts
 * always; CRCs when there are several (Kafka validates a partition's records before
 * appending) or `allCrcs` is set. The CRC is the costliest step of a produce and is computed
 * once: one batch on a single node is checked by the storage append alone; in a cluster every
 * batch is checked here, before a LogAppendTime stamp rewrites the CRC, and the proposal
 * and the leader's own append take it as checked.
 */
function checkBatches(
  topic: string,
  partition: number,
  list: ReadonlyArray<{ bytes: Uint8Array; header: BatchHeader }>,
  allCrcs = false,
): PartitionError | null {
  for (const [i, { bytes, header: h }] of list.entries()) {
    if ((h.attributes & ATTR.control) !== 0) {
      // Control batches come from the broker only (transaction markers, Raft's entries, a
      // replicated deletion): a forged one could delete records or hide them (as Kafka).
      return err(
        "invalid_record",
        `Clients may not write control batches to "${topic}-${partition}"`,
      );
    }
    if (h.recordCount <= 0 || h.lastOffsetDelta !== h.recordCount - 1) {
      return err(
        "invalid_record",
        `Batch record count "${h.recordCount}" does not match its offset delta "${h.lastOffsetDelta}"`,
      );
    }
    if ((allCrcs || list.length > 1) && !verifyBatchCrc(bytes)) {
      return err("corrupt", `Record batch ${i} of "${topic}-${partition}" fails its CRC`);
    }
  }
  return null;
}

/** The refusal of an idempotent batch's producer epoch or sequence, or null. */
function sequenceRefusal(verdict: SequenceCheck, h: BatchHeader): PartitionError | null {
  if (verdict.type === "fenced") {
    return err(
      "invalid_producer_epoch",
      `Producer epoch "${h.producerEpoch}" is older than "${verdict.currentEpoch}"`,
    );
  }
  if (verdict.type === "outOfOrder") {
    return err(
      "out_of_order_sequence",
      `Expected sequence "${verdict.expected}", got "${verdict.got}"`,
    );
  }
  return null;
}

function notLeader(topic: string, partition: number, leader: number | undefined): PartitionError {
  const hint = leader === undefined ? "no leader is known" : `node ${leader} leads it`;
  return err("not_leader", `This node does not lead "${topic}-${partition}": ${hint}`);
}

function storageFailure(e: unknown): PartitionError {
  if (e instanceof StorageError) {
    if (e.code === "corrupt") return err("corrupt", e.message);
    if (e.code === "record_too_large") return err("too_large", e.message);
    return err("storage", e.message);
  }
  throw e;
}

/** Splits a Produce request's records into whole v2 batches, refusing anything else. */
function splitBatches(
  records: Uint8Array,
): { type: "ok"; list: Array<{ bytes: Uint8Array; header: BatchHeader }> } | PartitionError {
  const list: Array<{ bytes: Uint8Array; header: BatchHeader }> = [];
  let pos = 0;
  // Bounded by the buffer: each step consumes a whole batch or returns.
  while (pos < records.length) {
    if (records.length - pos >= 17 && records[pos + 16] !== 2) {
      return err(
        "unsupported_format",
        `Record batch magic "${records[pos + 16]}" is not supported; use magic 2`,
      );
    }
    let h: BatchHeader;
    try {
      h = readBatchHeader(records, pos);
    } catch (e) {
      if (e instanceof FrameDecodeError) return err("corrupt", e.message);
      throw e;
    }
    const size = batchSize(h);
    if (pos + size > records.length) {
      return err("corrupt", "Record batch runs past the end of the request");
    }
    list.push({ bytes: records.subarray(pos, pos + size), header: h });
    pos += size;
  }
  if (list.length === 0) return err("invalid_record", "Produce request carried no record batch");
  return { type: "ok", list };
}
