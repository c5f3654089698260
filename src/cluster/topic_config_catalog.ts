/**
 * What the admin APIs say about topic configs: every config Pyralog understands with its
 * type (DescribeConfigs v3+ ConfigType, KIP-569), the broker config it falls back to
 * (DescribeConfigs v1+ synonyms, KIP-226), its default and a line of documentation; and the
 * pure rules of IncrementalAlterConfigs (KIP-339: SET, DELETE, APPEND, SUBTRACT).
 *
 * Validation of values stays in storage (`validateTopicConfigs`); this file only decides
 * which keys exist, how a change list turns into a new config map, and how effective values
 * are reported. It does no I/O.
 */
import { TOPIC_CONFIG_DEFAULTS } from "../storage/mod.ts";

/** Kafka's ConfigType enum (DescribeConfigsResponse v3+, `ConfigType`). */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;

/** Kafka's ConfigSource enum (DescribeConfigsResponse v1+, `ConfigSource`). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** One known topic config. */
export interface TopicConfigSpec {
  readonly type: (typeof ConfigType)[keyof typeof ConfigType];
  /** The broker config a topic falls back to when unset (Kafka's synonym). */
  readonly brokerSynonym: string;
  /** Kafka's default, or null where Pyralog's behaviour follows the node's flags instead. */
  readonly defaultValue: string | null;
  readonly documentation: string;
}

const spec = (
  type: TopicConfigSpec["type"],
  brokerSynonym: string,
  key: string,
  documentation: string,
): TopicConfigSpec => ({
  type,
  brokerSynonym,
  defaultValue: TOPIC_CONFIG_DEFAULTS[key] ?? null,
  documentation,
});

/**
 * Every topic config Pyralog accepts (the keys `validateTopicConfigs` knows), sorted by name.
 * flush.ms and flush.messages have no default here: unset, the node's `--fsync` policy
 * decides, so they are reported only when a topic sets them. Neither has replication.quorum
 * (Pyralog's own key, not Kafka's): unset, each partition's Raft group uses majorities.
 */
export const TOPIC_CONFIG_CATALOG: Readonly<Record<string, TopicConfigSpec>> = Object.freeze({
  "cleanup.policy": spec(
    ConfigType.LIST,
    "log.cleanup.policy",
    "cleanup.policy",
    'How old segments are removed; only "delete" is built',
  ),
  "compression.type": spec(
    ConfigType.STRING,
    "compression.type",
    "compression.type",
    'Batches are stored as producers send them ("producer")',
  ),
  "flush.messages": spec(
    ConfigType.LONG,
    "log.flush.interval.messages",
    "flush.messages",
    "Records between forced syncs",
  ),
  "flush.ms": spec(
    ConfigType.LONG,
    "log.flush.interval.ms",
    "flush.ms",
    "Milliseconds between syncs with fsync=interval",
  ),
  "index.interval.bytes": spec(
    ConfigType.INT,
    "log.index.interval.bytes",
    "index.interval.bytes",
    "Bytes between sparse offset index entries",
  ),
  "max.message.bytes": spec(
    ConfigType.INT,
    "message.max.bytes",
    "max.message.bytes",
    "Largest record batch accepted, in bytes",
  ),
  "message.timestamp.type": spec(
    ConfigType.STRING,
    "log.message.timestamp.type",
    "message.timestamp.type",
    "CreateTime keeps the producer's timestamps; LogAppendTime stamps the broker's time",
  ),
  "min.insync.replicas": spec(
    ConfigType.INT,
    "min.insync.replicas",
    "min.insync.replicas",
    "Replicas that must hold a write for acks=all",
  ),
  "replication.quorum": spec(
    ConfigType.INT,
    "replication.quorum",
    "replication.quorum",
    "Replicas that must hold a write before it commits (Raft W); unset means a majority",
  ),
  "retention.bytes": spec(
    ConfigType.LONG,
    "log.retention.bytes",
    "retention.bytes",
    "Largest size of a partition before old segments are deleted; -1 for no limit",
  ),
  "retention.ms": spec(
    ConfigType.LONG,
    "log.retention.ms",
    "retention.ms",
    "Age after which closed segments are deleted; -1 keeps them forever",
  ),
  "segment.bytes": spec(
    ConfigType.INT,
    "log.segment.bytes",
    "segment.bytes",
    "Size at which the active segment is rolled",
  ),
  "segment.ms": spec(
    ConfigType.LONG,
    "log.roll.ms",
    "segment.ms",
    "Age at which a non-empty active segment is rolled",
  ),
});

/** True when `key` is a topic config Pyralog knows. */
export function isKnownTopicConfig(key: string): boolean {
  return Object.hasOwn(TOPIC_CONFIG_CATALOG, key);
}

/** One effective config of a topic, as DescribeConfigs and CreateTopics v5+ report it. */
export interface EffectiveConfig {
  name: string;
  value: string;
  /** "topic" when the topic sets it, "default" otherwise. */
  source: "topic" | "default";
  spec: TopicConfigSpec;
}

/**
 * The effective configs of a topic whose set configs are `configs`: every catalog entry that
 * has a default or is set, sorted by name.
 */
export function effectiveTopicConfigs(
  configs: Readonly<Record<string, string>>,
): EffectiveConfig[] {
  const out: EffectiveConfig[] = [];
  for (const [name, s] of Object.entries(TOPIC_CONFIG_CATALOG)) {
    const set = configs[name];
    if (set !== undefined) out.push({ name, value: set, source: "topic", spec: s });
    else if (s.defaultValue !== null) {
      out.push({ name, value: s.defaultValue, source: "default", spec: s });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** IncrementalAlterConfigs operations (IncrementalAlterConfigsRequest `ConfigOperation`). */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

/** One requested change. */
export interface ConfigChange {
  name: string;
  operation: number;
  value: string | null;
}

/** Why a change list was refused. */
export interface ConfigChangeError {
  type: "error";
  kind: "invalid_config" | "invalid_request";
  message: string;
}

/**
 * Applies IncrementalAlterConfigs changes to `current` (a topic's set configs) and returns the
 * new set configs; values are validated later by storage. Kafka's rules (KIP-339): a key may
 * appear once; SET needs a value; APPEND and SUBTRACT apply to list configs only and work on
 * the effective value (the default when unset); an unknown key is INVALID_CONFIG.
 */
export function applyConfigChanges(
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
): { type: "ok"; configs: Record<string, string> } | ConfigChangeError {
  const seen = new Set<string>();
  const next: Record<string, string> = { ...current };
  for (const c of changes) {
    if (seen.has(c.name)) {
      return invalidRequest(`Cannot alter configs: config "${c.name}" appears more than once`);
    }
    seen.add(c.name);
    const s = TOPIC_CONFIG_CATALOG[c.name];
    if (!s) return invalidConfig(`Invalid topic config "${c.name}": unknown config`);
    switch (c.operation) {
      case ConfigOperation.SET:
        if (c.value === null) {
          return invalidRequest(`Cannot set config "${c.name}": null value not supported`);
        }
        next[c.name] = c.value;
        break;
      case ConfigOperation.DELETE:
        delete next[c.name];
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT: {
        if (s.type !== ConfigType.LIST) {
          const verb = c.operation === ConfigOperation.APPEND ? "append" : "subtract";
          return invalidConfig(
            `Cannot ${verb} to config "${c.name}": it is not a list config`,
          );
        }
        const have = splitList(next[c.name] ?? s.defaultValue ?? "");
        const given = splitList(c.value ?? "");
        const list = c.operation === ConfigOperation.APPEND
          ? [...have, ...given.filter((v) => !have.includes(v))]
          : have.filter((v) => !given.includes(v));
        next[c.name] = list.join(",");
        break;
      }
      default:
        return invalidRequest(
          `Cannot alter config "${c.name}": unknown operation "${c.operation}"`,
        );
    }
  }
  return { type: "ok", configs: next };
}

/**
 * The new set configs of a legacy AlterConfigs (replace semantics: the given entries become
 * the topic's whole set of configs; a key may appear once and a null value is refused, as
 * Kafka's AdminManager does).
 */
export function replaceConfigs(
  entries: ReadonlyArray<{ name: string; value: string | null }>,
): { type: "ok"; configs: Record<string, string> } | ConfigChangeError {
  const next: Record<string, string> = {};
  for (const e of entries) {
    if (Object.hasOwn(next, e.name)) {
      return invalidRequest(`Cannot alter configs: config "${e.name}" appears more than once`);
    }
    if (e.value === null) {
      return invalidRequest(`Cannot set config "${e.name}": null value not supported`);
    }
    next[e.name] = e.value;
  }
  return { type: "ok", configs: next };
}

function splitList(v: string): string[] {
  return v.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
}

function invalidConfig(message: string): ConfigChangeError {
  return { type: "error", kind: "invalid_config", message };
}

function invalidRequest(message: string): ConfigChangeError {
  return { type: "error", kind: "invalid_request", message };
}
