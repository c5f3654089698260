/**
 * The embedded, record-level API behind `mod.ts`: a durable multi-topic log used in-process,
 * without a server. It turns records into RecordBatch v2 (one batch per partition per call),
 * appends them through the `TopicStore`, and decodes batches back into records.
 *
 * Partitioning follows Kafka's default partitioner: an explicit partition wins, a keyed
 * record goes to murmur2(key) mod partitions, an unkeyed one round-robin.
 */
import { buildBatch, type CompressionName, decodeBatch, iterateBatches } from "../records/mod.ts";
import { type Clock, partitionForKey, systemClock } from "../util/mod.ts";
import type { FsyncPolicy, LogConfig } from "./log_config.ts";
import { type TopicInfo, TopicStore } from "./topic_store.ts";

const enc = new TextEncoder();

/** Bytes, or a string stored as UTF-8. */
export type Data = Uint8Array | string;

/** A record to append. */
export interface ProducerRecord {
  key?: Data | null;
  value: Data | null;
  headers?: Record<string, Data | null>;
  /** CreateTime in ms since the epoch; defaults to now. */
  timestamp?: number;
  partition?: number;
}

/** A record read back. */
export interface StoredRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Record<string, Uint8Array | null>;
}

/** Where an appended record landed. */
export interface RecordPosition {
  partition: number;
  offset: number;
}

/** Options of `EmbeddedLog.open`. */
export interface EmbeddedLogOptions {
  /** Durability of appends (default "always": an append resolves once fsynced). */
  fsync?: FsyncPolicy;
  /** Create a topic with one partition on first append (default true, as Kafka). */
  autoCreateTopics?: boolean;
  /** Partitions of auto-created topics (default 1). */
  defaultPartitions?: number;
  /** Compression for appended batches (default none). */
  compression?: CompressionName;
  /** Extra storage settings (segment size, retention...). */
  log?: Partial<LogConfig>;
  clock?: Clock;
}

/** Options of `EmbeddedLog.read`. */
export interface ReadRecordsOptions {
  /** Most records returned (default 500). */
  maxRecords?: number;
  /** Rough byte budget of batches read (default 1 MiB; at least one batch is read). */
  maxBytes?: number;
}

/** A durable log of topics and partitions, in-process. */
export class EmbeddedLog {
  readonly #store: TopicStore;
  readonly #options: EmbeddedLogOptions;
  readonly #clock: Clock;
  #roundRobin = 0;

  private constructor(store: TopicStore, options: EmbeddedLogOptions) {
    this.#store = store;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Opens (creating) a log in `dir`, recovering it after a crash.
   * @throws {StorageError} when the directory cannot be used.
   */
  static open(dir: string, options: EmbeddedLogOptions = {}): EmbeddedLog {
    const store = TopicStore.open(dir, {
      logDefaults: { ...options.log, fsync: options.fsync ?? options.log?.fsync ?? "always" },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    return new EmbeddedLog(store, options);
  }

  /** The underlying topic store (batch-level access). */
  get store(): TopicStore {
    return this.#store;
  }

  /**
   * Creates a topic.
   * @throws {TopicError} when the name, partitions or configs are invalid or it exists.
   */
  createTopic(
    name: string,
    options: { partitions?: number; configs?: Record<string, string> } = {},
  ): TopicInfo {
    return this.#store.createTopic(name, options.partitions ?? 1, options.configs ?? {});
  }

  /** Every topic. */
  topics(): TopicInfo[] {
    return this.#store.listTopics();
  }

  /** Deletes a topic and its data. */
  deleteTopic(name: string): Promise<void> {
    return this.#store.deleteTopic(name);
  }

  /**
   * Appends records to a topic, one batch per partition; resolves with each record's
   * partition and offset once durable under the configured fsync policy.
   * @throws {TopicError} for an unknown topic (with auto-creation off) or partition.
   * @throws {StorageError} when the disk refuses the write.
   */
  async append(topic: string, records: ProducerRecord[]): Promise<RecordPosition[]> {
    let info = this.#store.topic(topic);
    if (!info && (this.#options.autoCreateTopics ?? true)) {
      info = this.#store.createTopic(topic, this.#options.defaultPartitions ?? 1);
    }
    const partitions = info?.partitions ?? 0;
    const byPartition = new Map<number, number[]>();
    records.forEach((r, i) => {
      const p = this.#choosePartition(r, partitions);
      const list = byPartition.get(p) ?? [];
      list.push(i);
      byPartition.set(p, list);
    });
    const positions: RecordPosition[] = new Array(records.length);
    const now = this.#clock.nowMs();
    const logAppendTime = info?.configs["message.timestamp.type"] === "LogAppendTime";
    await Promise.all([...byPartition].map(async ([p, indexes]) => {
      const log = this.#store.partition(topic, p);
      const batch = buildBatch({
        records: indexes.map((i) => toRecordInput(records[i] as ProducerRecord, now)),
        ...(this.#options.compression ? { compression: this.#options.compression } : {}),
      });
      const res = await log.append(batch, { logAppendTime });
      indexes.forEach((i, k) => (positions[i] = { partition: p, offset: res.baseOffset + k }));
    }));
    return positions;
  }

  /**
   * Reads records of one partition from `offset`. Returns the records and the offset to read
   * next. An offset below the log start or past its end throws a `RangeError`.
   */
  read(
    topic: string,
    partition: number,
    offset: number,
    options: ReadRecordsOptions = {},
  ): { records: StoredRecord[]; nextOffset: number } {
    const log = this.#store.partition(topic, partition);
    const maxRecords = options.maxRecords ?? 500;
    const r = log.read(offset, options.maxBytes ?? 1024 * 1024);
    if (r.type === "offsetOutOfRange") {
      throw new RangeError(
        `Offset "${offset}" of "${topic}-${partition}" is out of range [${r.logStartOffset}, ${r.logEndOffset}]`,
      );
    }
    const records: StoredRecord[] = [];
    let next = offset;
    for (const frame of iterateBatches(r.bytes)) {
      for (const rec of decodeBatch(frame.bytes).records) {
        if (rec.offset < offset || rec.offset < log.logStartOffset) continue;
        if (records.length >= maxRecords) return { records, nextOffset: next };
        records.push({
          topic,
          partition,
          offset: rec.offset,
          timestamp: rec.timestampMs,
          key: rec.key,
          value: rec.value,
          headers: Object.fromEntries(rec.headers.map((h) => [h.key, h.value])),
        });
        next = rec.offset + 1;
      }
      next = Math.max(next, frame.header.baseOffset + frame.header.lastOffsetDelta + 1);
    }
    return { records, nextOffset: next };
  }

  /** The offset of the first record with a timestamp >= `timestamp`, or null if none. */
  offsetForTimestamp(topic: string, partition: number, timestamp: number): number | null {
    const log = this.#store.partition(topic, partition);
    const hit = log.findByTimestamp(timestamp);
    if (!hit) return null;
    for (const rec of decodeBatch(hit.batch).records) {
      if (rec.timestampMs >= timestamp && rec.offset >= log.logStartOffset) return rec.offset;
    }
    return null;
  }

  /** First and next offsets of a partition. */
  offsets(topic: string, partition: number): { start: number; end: number } {
    const log = this.#store.partition(topic, partition);
    return { start: log.logStartOffset, end: log.logEndOffset };
  }

  /** Deletes the records of a partition before `offset`. */
  deleteRecordsBefore(topic: string, partition: number, offset: number): void {
    this.#store.partition(topic, partition).deleteRecordsBefore(offset);
  }

  /** Flushes and closes every partition. */
  close(): Promise<void> {
    return this.#store.close();
  }

  #choosePartition(r: ProducerRecord, partitions: number): number {
    if (r.partition !== undefined) return r.partition;
    if (partitions <= 0) return 0;
    if (r.key !== undefined && r.key !== null) return partitionForKey(toBytes(r.key), partitions);
    return this.#roundRobin++ % partitions;
  }
}

function toBytes(d: Data): Uint8Array {
  return typeof d === "string" ? enc.encode(d) : d;
}

function toRecordInput(r: ProducerRecord, nowMs: number) {
  return {
    key: r.key === undefined || r.key === null ? null : toBytes(r.key),
    value: r.value === null ? null : toBytes(r.value),
    headers: Object.entries(r.headers ?? {}).map(([key, v]) => ({
      key,
      value: v === null ? null : toBytes(v),
    })),
    timestampMs: r.timestamp ?? nowMs,
  };
}
