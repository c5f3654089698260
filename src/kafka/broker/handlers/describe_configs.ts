/**
 * DescribeConfigs (key 32), v0-4 (KIP-133): the configs of topics and of this broker.
 *
 * - Topics (resource type 2): every config Pyralog knows with its effective value: set ones
 *   with source DYNAMIC_TOPIC_CONFIG (1), the rest DEFAULT_CONFIG (5); v0 says the same with
 *   IsDefault. Nothing is read-only or sensitive. `includeSynonyms` (v1+, KIP-226) lists the
 *   topic's own value, then the broker config it falls back to. v3+ adds the config type and,
 *   with `includeDocumentation`, a line of documentation (KIP-569). An unknown topic is
 *   UNKNOWN_TOPIC_OR_PARTITION, a bad name INVALID_TOPIC_EXCEPTION.
 * - This broker (type 4, named by its node id or "" for the cluster default): its few
 *   settings and the broker-level defaults of topic configs, all read-only. Another broker id
 *   is INVALID_REQUEST, as Kafka answers "Unexpected broker id".
 * - Any other resource type is INVALID_REQUEST.
 *
 * `configurationKeys` (non-null) limits the answer to those keys; unknown keys are left out.
 */
import {
  ConfigSource,
  ConfigType,
  effectiveTopicConfigs,
  TOPIC_CONFIG_CATALOG,
} from "../../../cluster/mod.ts";
import { validateTopicName } from "../../../storage/mod.ts";
import type { BrokerContext, Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminOf, ResourceType } from "./_admin_common.ts";

/** One described config before it is shaped for a version. */
interface Described {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  type: number;
  documentation: string;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
}

/** The DescribeConfigs handler. */
export const handleDescribeConfigs: Handler<"DescribeConfigs"> = (req, ctx) => {
  const v = ctx.version;
  const results = req.resources.map((r) => {
    const base = {
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      errorCode: ErrorCode.NONE as number,
      errorMessage: null as string | null,
    };
    const found = describeResource(r.resourceType, r.resourceName, ctx.broker);
    if (found.type === "error") {
      return { ...base, errorCode: found.code, errorMessage: found.message, configs: [] };
    }
    const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
    const configs = found.configs.filter((c) => keys === null || keys.has(c.name)).map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: c.readOnly,
      isDefault: c.source === ConfigSource.DEFAULT_CONFIG,
      configSource: c.source,
      isSensitive: false,
      synonyms: v >= 1 && req.includeSynonyms ? c.synonyms : [],
      configType: c.type,
      documentation: v >= 3 && req.includeDocumentation ? c.documentation : null,
    }));
    return { ...base, configs };
  });
  return { throttleTimeMs: 0, results };
};

type Found =
  | { type: "ok"; configs: Described[] }
  | { type: "error"; code: number; message: string };

function describeResource(type: number, name: string, b: BrokerContext): Found {
  if (type === ResourceType.TOPIC) return describeTopic(name, b);
  if (type === ResourceType.BROKER) {
    if (name !== "" && name !== String(b.nodeId)) {
      return {
        type: "error",
        code: ErrorCode.INVALID_REQUEST,
        message: `Unexpected broker id "${name}": this is broker ${b.nodeId}`,
      };
    }
    return { type: "ok", configs: brokerConfigs(b) };
  }
  return {
    type: "error",
    code: ErrorCode.INVALID_REQUEST,
    message: `Unsupported config resource type "${type}": use 2 (topic) or 4 (broker)`,
  };
}

function describeTopic(name: string, b: BrokerContext): Found {
  try {
    validateTopicName(name);
  } catch (e) {
    return {
      type: "error",
      code: ErrorCode.INVALID_TOPIC_EXCEPTION,
      message: e instanceof Error ? e.message : String(e),
    };
  }
  const r = adminOf(b).topicConfigs(name);
  if (r.type === "error") {
    return { type: "error", code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: r.message };
  }
  const configs = effectiveTopicConfigs(r.configs).map((c): Described => {
    const source = c.source === "topic"
      ? ConfigSource.DYNAMIC_TOPIC_CONFIG
      : ConfigSource.DEFAULT_CONFIG;
    const synonyms = [];
    if (c.source === "topic") synonyms.push({ name: c.name, value: c.value, source });
    if (c.spec.defaultValue !== null) {
      synonyms.push({
        name: c.spec.brokerSynonym,
        value: c.spec.defaultValue,
        source: ConfigSource.DEFAULT_CONFIG,
      });
    }
    return {
      name: c.name,
      value: c.value,
      readOnly: false,
      source,
      type: c.spec.type,
      documentation: c.spec.documentation,
      synonyms,
    };
  });
  return { type: "ok", configs };
}

/** This node's settings and the broker-level defaults of topic configs, read-only. */
function brokerConfigs(b: BrokerContext): Described[] {
  const node = (name: string, value: string, type: number, documentation: string) => ({
    name,
    value,
    readOnly: true,
    source: ConfigSource.STATIC_BROKER_CONFIG as number,
    type,
    documentation,
    synonyms: [{ name, value, source: ConfigSource.STATIC_BROKER_CONFIG as number }],
  });
  const list: Described[] = [
    node("broker.id", String(b.nodeId), ConfigType.INT, "This node's id"),
    node("node.id", String(b.nodeId), ConfigType.INT, "This node's id"),
    node(
      "advertised.listeners",
      `PLAINTEXT://${b.advertisedHost}:${b.advertisedPort}`,
      ConfigType.STRING,
      "Where clients reach this node's Kafka listener",
    ),
    node("log.dirs", b.store.dataDir, ConfigType.STRING, "This node's data directory"),
    node(
      "num.partitions",
      String(adminOf(b).defaultPartitions),
      ConfigType.INT,
      "Partitions of a topic created without a count",
    ),
    node(
      "default.replication.factor",
      "1",
      ConfigType.INT,
      "Replicas of a new topic; a single node holds one",
    ),
  ];
  for (const [topicKey, spec] of Object.entries(TOPIC_CONFIG_CATALOG)) {
    if (spec.defaultValue === null || list.some((c) => c.name === spec.brokerSynonym)) continue;
    list.push({
      name: spec.brokerSynonym,
      value: spec.defaultValue,
      readOnly: true,
      source: ConfigSource.DEFAULT_CONFIG,
      type: spec.type,
      documentation: `Default of topic config "${topicKey}": ${spec.documentation}`,
      synonyms: [{
        name: spec.brokerSynonym,
        value: spec.defaultValue,
        source: ConfigSource.DEFAULT_CONFIG,
      }],
    });
  }
  return list.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}
