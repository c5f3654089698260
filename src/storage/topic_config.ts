/**
 * Kafka topic configs (string key/value pairs as clients send them) validated and mapped onto
 * a partition's `LogConfig`. Unknown keys and bad values are refused with a clear message, as
 * Kafka answers INVALID_CONFIG. Some keys are for the cluster, not the log
 * (`replication.quorum`, the Raft replication quorum of the topic's partitions): storage
 * checks their syntax and otherwise ignores them.
 */
import { type LogConfig, resolveLogConfig } from "./log_config.ts";

/** Topic configs Pyralog understands, with how each is checked. */
const KNOWN: Record<string, (v: string) => string | null> = {
  "retention.ms": (v) => intAtLeast(v, -1),
  "retention.bytes": (v) => intAtLeast(v, -1),
  "segment.bytes": (v) =>
    intAtLeast(v, 1024) ?? (Number(v) > 0x7fffffff ? "at most 2147483647" : null),
  "segment.ms": (v) => intAtLeast(v, 1),
  "max.message.bytes": (v) => intAtLeast(v, 61),
  "min.insync.replicas": (v) => intAtLeast(v, 1),
  "index.interval.bytes": (v) => intAtLeast(v, 1),
  "flush.ms": (v) => intAtLeast(v, 1),
  "flush.messages": (v) => intAtLeast(v, 1),
  // Pyralog's own: the replication quorum W of each partition's Raft group (Flexible Paxos).
  // The controller checks it against the replication factor; the log ignores it.
  "replication.quorum": (v) => intAtLeast(v, 1),
  "cleanup.policy": (v) =>
    v === "delete"
      ? null
      : v === "compact" || v === "compact,delete" || v === "delete,compact"
      ? 'compaction is not built yet; only "delete" is supported'
      : 'must be "delete"',
  "message.timestamp.type": (v) =>
    v === "CreateTime" || v === "LogAppendTime" ? null : "must be CreateTime or LogAppendTime",
  "compression.type": (v) =>
    ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"].includes(v)
      ? (v === "producer" ? null : 'only "producer" is supported (batches are stored as sent)')
      : "unknown codec",
};

function intAtLeast(v: string, min: number): string | null {
  if (!/^-?\d+$/.test(v.trim())) return "must be an integer";
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) return `must be an integer >= ${min}`;
  return null;
}

/** Kafka's defaults for the configs above, reported by DescribeConfigs when unset. */
export const TOPIC_CONFIG_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  "retention.ms": "604800000",
  "retention.bytes": "-1",
  "segment.bytes": "1073741824",
  "segment.ms": "604800000",
  "max.message.bytes": "1048588",
  "min.insync.replicas": "1",
  "index.interval.bytes": "4096",
  "cleanup.policy": "delete",
  "message.timestamp.type": "CreateTime",
  "compression.type": "producer",
});

/** A config key, or a whole set, was refused. */
export class InvalidConfigError extends Error {
  override name = "InvalidConfigError";
}

/**
 * Checks every entry of `configs`.
 * @throws {InvalidConfigError} naming the first bad key and why.
 */
export function validateTopicConfigs(configs: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(configs)) {
    const check = KNOWN[key];
    if (!check) throw new InvalidConfigError(`Invalid topic config "${key}": unknown config`);
    if (typeof value !== "string") {
      throw new InvalidConfigError(`Invalid topic config "${key}": value must be a string`);
    }
    const problem = check(value);
    if (problem) {
      throw new InvalidConfigError(`Invalid topic config "${key}"="${value}": ${problem}`);
    }
  }
}

/** The partition log settings for a topic with `configs`, over the node's `base` settings. */
export function logConfigFor(
  configs: Readonly<Record<string, string>>,
  base: Partial<LogConfig> = {},
): LogConfig {
  const c: Partial<LogConfig> = { ...base };
  const num = (k: string) => (configs[k] === undefined ? undefined : Number(configs[k]));
  const set = <K extends keyof LogConfig>(key: K, v: LogConfig[K] | undefined) => {
    if (v !== undefined) c[key] = v;
  };
  set("retentionMs", num("retention.ms"));
  set("retentionBytes", num("retention.bytes"));
  set("segmentBytes", num("segment.bytes"));
  set("segmentMs", num("segment.ms"));
  set("maxBatchBytes", num("max.message.bytes"));
  set("indexIntervalBytes", num("index.interval.bytes"));
  set("flushIntervalMs", num("flush.ms"));
  return resolveLogConfig(c);
}
