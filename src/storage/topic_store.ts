/**
 * The topics of one node: their ids, partition counts and configs (kept in an atomically
 * rewritten `topics.json`) and a `PartitionLog` per partition in `<data>/<topic>-<p>/`, as
 * Kafka lays out its log directories. Partition logs open lazily on first use and share one
 * bounded `FilePool`, so thousands of partitions cost little until they are touched.
 *
 * The store also runs the two background duties of a log directory: periodic flushes for
 * `fsync=interval` and the retention sweep. Both stop on `close()`.
 */
import fs from "node:fs";
import { type Clock, StorageError, systemClock } from "../util/mod.ts";
import { FilePool, wrapIoError, writeFileAtomic } from "./file_pool.ts";
import type { LogConfig } from "./log_config.ts";
import { PartitionLog } from "./partition_log.ts";
import { InvalidConfigError, logConfigFor, validateTopicConfigs } from "./topic_config.ts";

const META_FILE = "topics.json";
const META_VERSION = 1;
/** Kafka's limit on topic name length. */
const TOPIC_NAME_MAX = 249;
/** A sanity bound on partitions per topic. */
export const PARTITIONS_MAX = 10_000;
const RETENTION_CHECK_MS = 60_000;

/** What the store knows of one topic. */
export interface TopicInfo {
  name: string;
  /** A UUID, as Kafka's topic ids (KIP-516). */
  id: string;
  partitions: number;
  configs: Record<string, string>;
}

/** Settings of a `TopicStore`. */
export interface TopicStoreOptions {
  /** Settings every partition starts from (the node's flags), before topic configs. */
  logDefaults?: Partial<LogConfig>;
  maxOpenFiles?: number;
  clock?: Clock;
  /** Run the flush and retention timers (off for tests that drive them by hand). */
  background?: boolean;
  onWarning?: (message: string) => void;
  /** Told the duration of every fdatasync of every partition log (ms), for metrics. */
  onSyncMs?: (durationMs: number) => void;
  /**
   * Who owns a partition's log (issue #6). Unset or "local": this store opens it. A log: an
   * owner outside the store (a partition's Raft group) opened it, and the store hands that
   * one out, never opening a second on the same directory, never closing or trimming it.
   * "absent": the partition is not hosted on this node (another node's replica).
   */
  resolveLog?: (topic: string, partition: number) => PartitionLog | "local" | "absent";
}

/** Why a topic operation was refused; mapped once to a Kafka error code and an HTTP status. */
export class TopicError extends Error {
  override name = "TopicError";
  readonly code:
    | "unknown_topic"
    | "topic_exists"
    | "invalid_topic"
    | "invalid_partitions"
    | "invalid_config";
  constructor(code: TopicError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Checks a topic name as Kafka does: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
 * @throws {TopicError} "invalid_topic".
 */
export function validateTopicName(name: string): void {
  if (
    typeof name !== "string" || name.length === 0 || name.length > TOPIC_NAME_MAX ||
    name === "." || name === ".." || !/^[a-zA-Z0-9._-]+$/.test(name)
  ) {
    throw new TopicError(
      "invalid_topic",
      `Invalid topic name "${name}": use 1-${TOPIC_NAME_MAX} characters of a-z, A-Z, 0-9, ".", "_", "-"`,
    );
  }
}

/** All topics and partition logs under one data directory. */
export class TopicStore {
  readonly dataDir: string;
  #options: TopicStoreOptions;
  #pool: FilePool;
  #clock: Clock;
  #topics = new Map<string, TopicInfo>();
  #logs = new Map<string, PartitionLog>();
  /** Topics whose data is being removed: their name cannot be reused until that is done. */
  #deleting = new Set<string>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #closed = false;

  private constructor(dataDir: string, options: TopicStoreOptions) {
    this.dataDir = dataDir;
    this.#options = options;
    this.#pool = new FilePool(options.maxOpenFiles);
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Opens (creating) the data directory and reads its topics. Partition logs open on use.
   * @throws {StorageError} when the directory or its metadata cannot be read.
   */
  static open(dataDir: string, options: TopicStoreOptions = {}): TopicStore {
    const store = new TopicStore(dataDir, options);
    try {
      fs.mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw wrapIoError(`Cannot create data directory "${dataDir}"`, err);
    }
    store.#loadMeta();
    if (options.background ?? true) store.#startTimers();
    return store;
  }

  /** Every topic, sorted by name. */
  listTopics(): TopicInfo[] {
    return [...this.#topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One topic, or undefined. */
  topic(name: string): TopicInfo | undefined {
    return this.#topics.get(name);
  }

  /**
   * Creates a topic.
   * @throws {TopicError} when the name, partition count or configs are invalid or it exists.
   */
  createTopic(
    name: string,
    partitions = 1,
    configs: Record<string, string> = {},
    id: string = crypto.randomUUID(),
  ): TopicInfo {
    this.#open();
    validateTopicName(name);
    if (this.#topics.has(name)) {
      throw new TopicError("topic_exists", `Topic "${name}" already exists`);
    }
    if (this.#deleting.has(name)) {
      // Kafka answers the same while a topic is marked for deletion: until its directories
      // are gone, a new topic of that name would open (and then lose) the old data.
      throw new TopicError("topic_exists", `Cannot create topic "${name}": it is being deleted`);
    }
    checkPartitions(partitions);
    this.#validateConfigs(configs);
    this.#removeStaleDirs(name, 0, partitions);
    const info: TopicInfo = { name, id, partitions, configs: { ...configs } };
    this.#topics.set(name, info);
    this.#saveMeta();
    return info;
  }

  /**
   * Deletes a topic and its data.
   * @throws {TopicError} "unknown_topic".
   */
  async deleteTopic(name: string): Promise<void> {
    this.#open();
    const info = this.#require(name);
    this.#topics.delete(name);
    this.#deleting.add(name);
    try {
      this.#saveMeta();
      for (let p = 0; p < info.partitions; p++) {
        const key = `${name}-${p}`;
        const log = this.#logs.get(key);
        this.#logs.delete(key);
        if (log) await log.close();
        fs.rmSync(`${this.dataDir}/${key}`, { recursive: true, force: true });
      }
    } finally {
      this.#deleting.delete(name);
    }
  }

  /**
   * Grows a topic to `total` partitions (Kafka never shrinks them).
   * @throws {TopicError} when the topic is unknown or `total` is not larger.
   */
  createPartitions(name: string, total: number): TopicInfo {
    this.#open();
    const info = this.#require(name);
    checkPartitions(total);
    if (total <= info.partitions) {
      throw new TopicError(
        "invalid_partitions",
        `Cannot grow topic "${name}" to ${total} partitions: it has ${info.partitions}`,
      );
    }
    this.#removeStaleDirs(name, info.partitions, total);
    info.partitions = total;
    this.#saveMeta();
    return info;
  }

  /**
   * Replaces (`replace`) or merges a topic's configs; a value of null removes a key.
   * Open partition logs pick the new settings up on their next open.
   * @throws {TopicError} "unknown_topic" or "invalid_config".
   */
  alterConfigs(name: string, changes: Record<string, string | null>, replace = false): TopicInfo {
    this.#open();
    const info = this.#require(name);
    const next: Record<string, string> = replace ? {} : { ...info.configs };
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    this.#validateConfigs(next);
    info.configs = next;
    this.#saveMeta();
    // Reopen open logs so retention and segment settings take effect now.
    for (let p = 0; p < info.partitions; p++) {
      const key = `${name}-${p}`;
      const log = this.#logs.get(key);
      if (log) {
        this.#logs.delete(key);
        // Closing flushes; a failure there is reported by the next open of the log.
        log.close().catch((err) => this.#warn(`Cannot close "${key}": ${(err as Error).message}`));
      }
    }
    return info;
  }

  /**
   * The log of one partition, opened on first use.
   * @throws {TopicError} "unknown_topic" when the topic or partition does not exist.
   */
  partition(name: string, partition: number): PartitionLog {
    this.#open();
    const info = this.#require(name);
    if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitions) {
      throw new TopicError("unknown_topic", `Unknown partition "${partition}" of topic "${name}"`);
    }
    const owner = this.#options.resolveLog?.(name, partition) ?? "local";
    if (owner === "absent") {
      throw new TopicError(
        "unknown_topic",
        `Partition "${name}-${partition}" has no replica on this node`,
      );
    }
    if (owner !== "local") return owner;
    const key = `${name}-${partition}`;
    let log = this.#logs.get(key);
    if (!log) {
      log = PartitionLog.open(`${this.dataDir}/${key}`, {
        config: logConfigFor(info.configs, this.#options.logDefaults),
        pool: this.#pool,
        clock: this.#clock,
        onWarning: (m) => this.#warn(m),
      });
      log.onSyncMs = this.#options.onSyncMs ?? null;
      this.#logs.set(key, log);
    }
    return log;
  }

  /** The log of a partition if it is open now, without opening it (for metrics). */
  openPartition(name: string, partition: number): PartitionLog | undefined {
    const owner = this.#options.resolveLog?.(name, partition) ?? "local";
    if (owner === "absent") return undefined;
    if (owner !== "local") return owner;
    return this.#logs.get(`${name}-${partition}`);
  }

  /** The descriptor pool of this store's logs (replica logs share it too). */
  get filePool(): FilePool {
    return this.#pool;
  }

  /** Descriptors held open by the shared pool (segment files). */
  get openFileCount(): number {
    return this.#pool.openCount;
  }

  /** Number of partition logs currently open. */
  get openLogCount(): number {
    return this.#logs.size;
  }

  /** Runs retention over every partition log; returns segments deleted. */
  applyRetention(): number {
    let n = 0;
    // Every partition, not only open ones: a partition nobody has touched since a restart or
    // a config change must still be trimmed. Opening is cheap (lazy, pooled descriptors).
    for (const t of this.listTopics()) {
      for (let p = 0; p < t.partitions; p++) {
        // Replicated logs belong to their Raft group (a prefix deletion must go through it).
        if ((this.#options.resolveLog?.(t.name, p) ?? "local") !== "local") continue;
        n += this.partition(t.name, p).applyRetention(this.#clock.nowMs());
      }
    }
    return n;
  }

  /** Flushes every open log, then closes them all and stops the timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const errors: unknown[] = [];
    for (const log of this.#logs.values()) {
      try {
        await log.close();
      } catch (err) {
        errors.push(err);
      }
    }
    this.#logs.clear();
    this.#pool.closeAll();
    if (errors.length > 0) {
      throw new StorageError("io", `Cannot close ${errors.length} partition logs cleanly`, {
        cause: errors[0],
      });
    }
  }

  #startTimers(): void {
    const interval = this.#options.logDefaults?.flushIntervalMs ?? 1000;
    if (this.#options.logDefaults?.fsync === "interval") {
      this.#timers.push(setInterval(() => {
        for (const log of this.#logs.values()) log.flushIfDue();
      }, interval));
    }
    this.#timers.push(setInterval(() => {
      try {
        this.applyRetention();
      } catch (err) {
        // Retention is retried on the next sweep; the data it failed to delete stays readable.
        this.#warn(`Retention sweep failed: ${(err as Error).message}`);
      }
    }, RETENTION_CHECK_MS));
  }

  #validateConfigs(configs: Record<string, string>): void {
    try {
      validateTopicConfigs(configs);
    } catch (err) {
      if (err instanceof InvalidConfigError) throw new TopicError("invalid_config", err.message);
      throw err;
    }
  }

  /**
   * Removes partition directories `from`..`to`-1 of `name` left by a deletion that crashed
   * after `topics.json` forgot the topic: no live partition owns them, and a new partition
   * must start empty rather than recover the deleted data.
   */
  #removeStaleDirs(name: string, from: number, to: number): void {
    for (let p = from; p < to; p++) {
      const dir = `${this.dataDir}/${name}-${p}`;
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        throw wrapIoError(`Cannot remove stale partition directory "${dir}"`, err);
      }
    }
  }

  #require(name: string): TopicInfo {
    const info = this.#topics.get(name);
    if (!info) throw new TopicError("unknown_topic", `Unknown topic "${name}"`);
    return info;
  }

  #open(): void {
    if (this.#closed) {
      throw new StorageError("closed", `Cannot use "${this.dataDir}": store is closed`);
    }
  }

  #warn(message: string): void {
    (this.#options.onWarning ?? ((m: string) => console.warn(m)))(message);
  }

  #loadMeta(): void {
    const path = `${this.dataDir}/${META_FILE}`;
    let text: string;
    try {
      text = fs.readFileSync(path, "utf8");
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") return;
      throw wrapIoError(`Cannot read "${path}"`, err);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new StorageError("corrupt", `Cannot parse "${path}": ${(err as Error).message}`);
    }
    const topics = (parsed as { topics?: unknown }).topics;
    if (!Array.isArray(topics)) {
      throw new StorageError("corrupt", `Cannot parse "${path}": no topics list`);
    }
    for (const t of topics as TopicInfo[]) {
      if (
        typeof t.name !== "string" || typeof t.id !== "string" || !Number.isInteger(t.partitions)
      ) {
        throw new StorageError("corrupt", `Cannot parse "${path}": bad topic entry`);
      }
      this.#topics.set(t.name, {
        name: t.name,
        id: t.id,
        partitions: t.partitions,
        configs: t.configs ?? {},
      });
    }
  }

  #saveMeta(): void {
    const body = JSON.stringify({ version: META_VERSION, topics: this.listTopics() }, null, 1);
    writeFileAtomic(this.dataDir, META_FILE, new TextEncoder().encode(body));
  }
}

function checkPartitions(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > PARTITIONS_MAX) {
    throw new TopicError(
      "invalid_partitions",
      `Invalid partition count "${n}": must be 1-${PARTITIONS_MAX}`,
    );
  }
}
