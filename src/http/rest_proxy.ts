/**
 * Compatibility with the Confluent REST Proxy API v2 (as Redpanda's HTTP Proxy offers it) for
 * produce and topic listing/description, so REST Proxy users can point existing code at
 * Pyralog. Formats: `application/vnd.kafka.json.v2+json` (keys and values are JSON values,
 * stored as their JSON text, as the REST Proxy serialises them) and
 * `application/vnd.kafka.binary.v2+json` (base64). Schema-registry formats (avro, protobuf,
 * jsonschema) are refused with 415: Pyralog has no schema registry.
 * Responses carry `application/vnd.kafka.v2+json`.
 */
import type { Context, Hono } from "hono";
import type { OutgoingRecord, RecordService } from "../cluster/mod.ts";
import type { HttpDeps } from "./http_deps.ts";
import { fromPartitionError, HttpErrors } from "./http_error.ts";
import { readJsonObject } from "./read_json.ts";
import { fromBase64 } from "./records_json.ts";

/** The REST Proxy v2 response media type. */
export const V2_MEDIA_TYPE = "application/vnd.kafka.v2+json";
const enc = new TextEncoder();

/** Which embedded format a request body uses, from its content type. */
export function embeddedFormat(contentType: string | undefined): "json" | "binary" {
  const ct = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (ct === "application/vnd.kafka.json.v2+json") return "json";
  if (ct === "application/vnd.kafka.binary.v2+json") return "binary";
  if (/^application\/vnd\.kafka\.(avro|protobuf|jsonschema)\.v2\+json$/.test(ct)) {
    throw HttpErrors.unsupportedMediaType(
      `Format "${ct}" needs a schema registry, which Pyralog does not have`,
    );
  }
  throw HttpErrors.unsupportedMediaType(
    `Content-Type must be application/vnd.kafka.json.v2+json or application/vnd.kafka.binary.v2+json, got "${ct}"`,
  );
}

function v2(c: Context, body: unknown, status = 200): Response {
  return c.body(JSON.stringify(body), status as 200, { "content-type": V2_MEDIA_TYPE });
}

function bytesOf(v: unknown, format: "json" | "binary", what: string): Uint8Array | null {
  if (v === undefined || v === null) return null;
  if (format === "binary") {
    if (typeof v !== "string") throw HttpErrors.unprocessable(`${what} must be a base64 string`);
    return fromBase64(v, what);
  }
  return enc.encode(JSON.stringify(v));
}

/** Adds the REST Proxy v2 routes to `app`. */
export function mountRestProxy(app: Hono, deps: HttpDeps, records: RecordService): void {
  app.get("/topics", (c) => v2(c, deps.store.listTopics().map((t) => t.name)));

  app.get("/topics/:topic", (c) => {
    const info = deps.store.topic(c.req.param("topic"));
    if (!info) throw HttpErrors.topicNotFound(c.req.param("topic"));
    return v2(c, {
      name: info.name,
      configs: info.configs,
      partitions: partitionsOf(deps, info.partitions),
    });
  });

  app.get("/topics/:topic/partitions", (c) => {
    const info = deps.store.topic(c.req.param("topic"));
    if (!info) throw HttpErrors.topicNotFound(c.req.param("topic"));
    return v2(c, partitionsOf(deps, info.partitions));
  });

  const produce = async (c: Context, fixedPartition: number | null) => {
    const topic = c.req.param("topic") ?? "";
    const format = embeddedFormat(c.req.header("content-type"));
    const body = await readJsonObject(c);
    if (!Array.isArray(body.records) || body.records.length === 0) {
      throw HttpErrors.unprocessable(`"records" must be a non-empty array`);
    }
    const info = deps.logs.topicFor(topic, true);
    if (!info) throw HttpErrors.topicNotFound(topic);
    if (fixedPartition !== null && fixedPartition >= info.partitions) {
      throw HttpErrors.partitionNotFound(topic, fixedPartition);
    }
    const now = Date.now();
    const list: OutgoingRecord[] = body.records.map((raw: unknown, i: number) => {
      if (typeof raw !== "object" || raw === null) {
        throw HttpErrors.unprocessable(`records[${i}] must be an object`);
      }
      const r = raw as Record<string, unknown>;
      let partition = fixedPartition;
      if (partition === null && r.partition !== undefined && r.partition !== null) {
        if (
          !Number.isInteger(r.partition) || (r.partition as number) < 0 ||
          (r.partition as number) >= info.partitions
        ) {
          throw HttpErrors.partitionNotFound(topic, String(r.partition));
        }
        partition = r.partition as number;
      }
      return {
        key: bytesOf(r.key, format, `records[${i}].key`),
        value: bytesOf(r.value, format, `records[${i}].value`),
        headers: [],
        timestampMs: now,
        partition,
      };
    });
    const results = await records.produce(topic, list);
    return v2(c, {
      key_schema_id: null,
      value_schema_id: null,
      offsets: results.map((r) => {
        if (r.type === "ok") {
          return { partition: r.partition, offset: r.offset, error_code: null, error: null };
        }
        const e = fromPartitionError(r.kind, r.message);
        return { partition: r.partition, offset: null, error_code: e.errorCode, error: e.message };
      }),
    });
  };

  app.post("/topics/:topic", (c) => produce(c, null));
  app.post("/topics/:topic/partitions/:partition", (c) => {
    const p = c.req.param("partition");
    if (!/^\d+$/.test(p)) throw HttpErrors.partitionNotFound(c.req.param("topic"), p);
    return produce(c, Number(p));
  });
}

function partitionsOf(deps: HttpDeps, count: number) {
  return Array.from({ length: count }, (_, p) => ({
    partition: p,
    leader: deps.nodeId,
    replicas: [{ broker: deps.nodeId, leader: true, in_sync: true }],
  }));
}
