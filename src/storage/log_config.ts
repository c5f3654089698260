/**
 * Per-partition log settings. Names follow Kafka's topic configs (segment.bytes, segment.ms,
 * retention.ms, retention.bytes, max.message.bytes) with units last, as STYLE.md asks.
 */

/** How appends become durable (DESIGN.md "Storage engine"). */
export type FsyncPolicy = "always" | "interval" | "never";

/** Settings of one partition log. */
export interface LogConfig {
  /** Roll the active segment when it would grow past this size. Kafka: segment.bytes. */
  segmentBytes: number;
  /** Roll the active segment when it is this old and not empty. Kafka: segment.ms. */
  segmentMs: number;
  /** Delete closed segments whose newest record is older than this; -1 keeps forever. */
  retentionMs: number;
  /** Delete the oldest closed segments while the log is larger than this; -1: no limit. */
  retentionBytes: number;
  /** Largest batch accepted. Kafka: max.message.bytes. */
  maxBatchBytes: number;
  /** Bytes between sparse index entries. Kafka: index.interval.bytes. */
  indexIntervalBytes: number;
  /** Durability of appends. */
  fsync: FsyncPolicy;
  /** With `fsync: "interval"`: sync at least this often. */
  flushIntervalMs: number;
  /** With `fsync: "interval"`: sync once this many bytes are unsynced. */
  flushIntervalBytes: number;
}

/** Kafka's defaults where Kafka has one; `fsync: "always"` because losing data is not an option. */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  maxBatchBytes: 1024 * 1024 + 12,
  indexIntervalBytes: 4096,
  fsync: "always",
  flushIntervalMs: 1000,
  flushIntervalBytes: 16 * 1024 * 1024,
});

/**
 * Merges `overrides` over the defaults and validates the result.
 * @throws {RangeError} when a value is out of range.
 */
export function resolveLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  const c: LogConfig = { ...DEFAULT_LOG_CONFIG, ...overrides };
  const positive = (name: keyof LogConfig, min: number) => {
    const v = c[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new RangeError(
        `Invalid log config: "${name}" must be an integer >= ${min}, got "${v}"`,
      );
    }
  };
  positive("segmentBytes", 1024);
  positive("segmentMs", 1);
  positive("maxBatchBytes", 61);
  positive("indexIntervalBytes", 1);
  positive("flushIntervalMs", 1);
  positive("flushIntervalBytes", 1);
  if (!Number.isSafeInteger(c.retentionMs) || c.retentionMs < -1) {
    throw new RangeError(`Invalid log config: "retentionMs" must be >= -1, got "${c.retentionMs}"`);
  }
  if (!Number.isSafeInteger(c.retentionBytes) || c.retentionBytes < -1) {
    throw new RangeError(
      `Invalid log config: "retentionBytes" must be >= -1, got "${c.retentionBytes}"`,
    );
  }
  if (c.segmentBytes > 0x7fffffff) {
    // Index positions are stored as uint32; 2 GiB keeps them well inside it.
    throw new RangeError(`Invalid log config: "segmentBytes" must be <= 2147483647`);
  }
  if (c.fsync !== "always" && c.fsync !== "interval" && c.fsync !== "never") {
    throw new RangeError(`Invalid log config: "fsync" must be always, interval or never`);
  }
  return c;
}
