/**
 * Pyralog's HTTP API (hono on web standards): a native JSON API under `/v1` for topics,
 * records (produce, long-poll read, Server-Sent Events), and the cluster; `/healthz`,
 * `/readyz` and `/metrics`. It calls the same services as the Kafka broker (`src/cluster`)
 * and never imports the Kafka layer.
 *
 * Bad input never yields a 500: bodies are size-limited and validated, and every refusal is
 * a JSON `{error_code, message}` with the right status (see http_error.ts).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import {
  AdminService,
  type ClusterView,
  ConfigOperation,
  parseConsumerAssignment,
  RecordService,
  SingleNodeView,
} from "../cluster/mod.ts";
import { TopicError } from "../storage/mod.ts";
import {
  fromAdminError,
  fromPartitionError,
  fromTopicError,
  HttpError,
  HttpErrors,
} from "./http_error.ts";
import type { HttpDeps } from "./http_deps.ts";
import { HTTP_BODY_BYTES_MAX, readJsonObject } from "./read_json.ts";
import { mountRestConsumers } from "./rest_consumers.ts";
import { mountRestProxy } from "./rest_proxy.ts";
import {
  parseOutgoing,
  type ProduceEncoding,
  type ReadEncoding,
  recordJson,
} from "./records_json.ts";

/** Most records in one produce request. */
export const HTTP_RECORDS_PER_REQUEST_MAX = 10_000;
/** Most records one read returns. */
export const HTTP_READ_RECORDS_MAX = 10_000;
/** Longest long poll (ms). */
export const HTTP_WAIT_MS_MAX = 30_000;
/** Interval of SSE keep-alive comments (ms). */
const SSE_KEEPALIVE_MS = 15_000;

/** Builds the HTTP application. */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  const records = new RecordService(deps.logs, deps.forwardProduce);
  const view = viewOf(deps);
  const requests = deps.metrics.counter(
    "pyralog_http_requests_total",
    "HTTP requests by route and status.",
    ["route", "status"],
  );
  const latency = deps.metrics.histogram(
    "pyralog_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["route"],
  );

  app.use("*", async (c, next) => {
    const start = performance.now();
    await next();
    const route = c.req.routePath || "unmatched";
    requests.inc([route, String(c.res.status)]);
    latency.observe([route], (performance.now() - start) / 1000);
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) {
      return c.json({ error_code: err.errorCode, message: err.message }, err.status as 400);
    }
    if (err instanceof TopicError) {
      const e = fromTopicError(err);
      return c.json({ error_code: e.errorCode, message: e.message }, e.status as 400);
    }
    // A bug: log it with its stack, show none.
    console.error("HTTP handler failed", err);
    return c.json({ error_code: 50001, message: "Internal server error" }, 500);
  });
  app.notFound((c) => {
    const e = HttpErrors.routeNotFound(new URL(c.req.url).pathname);
    return c.json({ error_code: e.errorCode, message: e.message }, 404);
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Single node: it is its own controller and serves its partitions once started.
  app.get(
    "/readyz",
    (c) =>
      (deps.ready?.() ?? true)
        ? c.json({ status: "ready", node_id: deps.nodeId })
        : c.json({ status: "not ready", node_id: deps.nodeId }, 503),
  );
  app.get(
    "/metrics",
    (c) =>
      c.body(deps.metrics.render(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }),
  );

  app.get("/v1/cluster", (c) =>
    c.json({
      cluster_id: deps.clusterId,
      controller: view.controllerId(),
      node_id: deps.nodeId,
      version: deps.version,
      uptime_ms: Date.now() - deps.startedMs,
      nodes: view.brokers().map((b) => ({
        node_id: b.nodeId,
        host: b.host,
        kafka_port: b.port,
        rack: b.rack,
      })),
    }));

  app.get("/v1/topics", (c) =>
    c.json({
      topics: deps.store.listTopics().map((t) => ({
        name: t.name,
        id: t.id,
        partitions: t.partitions,
      })),
    }));

  app.post("/v1/topics", async (c) => {
    const body = await readJsonObject(c);
    const name = body.name;
    if (typeof name !== "string") throw HttpErrors.invalid(`"name" must be a string`);
    const partitions = body.partitions ?? 1;
    if (!Number.isInteger(partitions)) throw HttpErrors.invalid(`"partitions" must be an integer`);
    const rf = body.replication_factor ?? -1;
    if (!Number.isInteger(rf)) {
      throw HttpErrors.invalid(`"replication_factor" must be an integer`);
    }
    const configs = stringMap(body.configs ?? {}, "configs");
    // The same path as Kafka's CreateTopics (through the controller in a cluster).
    const made = await adminOf(deps).createTopic({
      name,
      numPartitions: partitions as number,
      replicationFactor: rf as number,
      assignments: [],
      configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
    }, false);
    if (made.type === "error") throw fromAdminError(made);
    return c.json(describeTopic(deps, name), 201);
  });

  app.get("/v1/topics/:topic", (c) => c.json(describeTopic(deps, c.req.param("topic"))));

  app.patch("/v1/topics/:topic/configs", async (c) => {
    const body = await readJsonObject(c);
    const raw = body.configs ?? body;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw HttpErrors.invalid(`"configs" must be an object of name to string or null`);
    }
    const changes: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (v !== null && typeof v !== "string" && typeof v !== "number") {
        throw HttpErrors.invalid(`Config "${k}" must be a string, a number or null`);
      }
      changes[k] = v === null ? null : String(v);
    }
    const topic = c.req.param("topic");
    const out = await adminOf(deps).alterTopicConfigs(topic, {
      mode: "incremental",
      changes: Object.entries(changes).map(([k, v]) => ({
        name: k,
        operation: v === null ? ConfigOperation.DELETE : ConfigOperation.SET,
        value: v,
      })),
    }, false);
    if (out.type === "error") throw fromAdminError(out);
    return c.json({ name: topic, configs: out.configs });
  });

  app.delete("/v1/topics/:topic", async (c) => {
    const topic = c.req.param("topic");
    // The same path as Kafka's DeleteTopics: data, producer state and committed offsets go.
    const out = await adminOf(deps).deleteTopic(topic);
    if (out.type === "error") {
      if (out.kind === "unknown_topic") throw HttpErrors.topicNotFound(topic);
      if (out.kind === "invalid_request") throw HttpErrors.invalid(out.message);
      throw HttpErrors.storage(out.message);
    }
    return c.body(null, 204);
  });

  app.post("/v1/topics/:topic/records", async (c) => {
    const topic = c.req.param("topic");
    const acks = c.req.query("acks") ?? "all";
    if (!["0", "1", "all", "-1"].includes(acks)) {
      throw HttpErrors.invalid(`"acks" must be 0, 1 or all`);
    }
    const body = await readJsonObject(c);
    const encoding = (body.encoding ?? "json") as ProduceEncoding;
    if (!["json", "text", "base64"].includes(encoding)) {
      throw HttpErrors.invalid(`"encoding" must be json, text or base64`);
    }
    if (!Array.isArray(body.records) || body.records.length === 0) {
      throw HttpErrors.invalid(`"records" must be a non-empty array`);
    }
    if (body.records.length > HTTP_RECORDS_PER_REQUEST_MAX) {
      throw HttpErrors.tooLarge(`At most ${HTTP_RECORDS_PER_REQUEST_MAX} records per request`);
    }
    const info = deps.logs.topicFor(topic, true);
    if (!info) throw HttpErrors.topicNotFound(topic);
    const now = Date.now();
    const list = body.records.map((r: unknown, i: number) =>
      parseOutgoing(r, i, encoding, now, info.partitions)
    );
    const produced = records.produce(topic, list, acks === "all" || acks === "-1");
    if (acks === "0") {
      // Fire and forget, as Kafka's acks=0: failures are logged, not reported.
      produced.catch((e) => console.error(`HTTP produce with acks=0 failed`, e));
      return c.json({ offsets: null }, 202);
    }
    const results = await produced;
    const failed = results.find((r) => r.type === "error");
    if (failed && failed.type === "error" && results.every((r) => r.type === "error")) {
      throw fromPartitionError(failed.kind, failed.message);
    }
    return c.json({
      offsets: results.map((r) =>
        r.type === "ok" ? { partition: r.partition, offset: r.offset } : {
          partition: r.partition,
          offset: null,
          error_code: fromPartitionError(r.kind, r.message).errorCode,
          message: r.message,
        }
      ),
    });
  });

  app.get("/v1/topics/:topic/partitions/:partition/records", async (c) => {
    const { topic, partition } = partitionParams(deps, c);
    const log = deps.store.partition(topic, partition);
    const offset = intQuery(c, "offset", log.logStartOffset, 0, Number.MAX_SAFE_INTEGER);
    const maxRecords = intQuery(c, "max_records", 100, 1, HTTP_READ_RECORDS_MAX);
    const maxBytes = intQuery(c, "max_bytes", 1024 * 1024, 1, HTTP_BODY_BYTES_MAX);
    const waitMs = intQuery(c, "wait_ms", 0, 0, HTTP_WAIT_MS_MAX);
    const encoding = readEncoding(c);
    let r = records.read(topic, partition, offset, maxRecords, maxBytes);
    if (r.type === "ok" && r.records.length === 0 && waitMs > 0) {
      // Long poll: wait for new data once, bounded by wait_ms, the client and shutdown.
      await deps.logs.waitForDataWithin([[topic, partition]], waitMs, [
        c.req.raw.signal,
        deps.shutdown,
      ]);
      r = records.read(topic, partition, offset, maxRecords, maxBytes);
    }
    if (r.type === "error") throw fromPartitionError(r.kind, r.message);
    return c.json({
      records: r.records.map((x) => recordJson(x, encoding, topic, partition)),
      next_offset: r.nextOffset,
      high_watermark: r.highWatermark,
      log_start_offset: r.logStartOffset,
    });
  });

  app.get("/v1/topics/:topic/partitions/:partition/stream", (c) => {
    const { topic, partition } = partitionParams(deps, c);
    const log = deps.store.partition(topic, partition);
    const lastId = c.req.header("last-event-id");
    let offset: number;
    if (lastId !== undefined) {
      if (!/^\d+$/.test(lastId)) throw HttpErrors.invalid(`Last-Event-ID must be an offset`);
      offset = Number(lastId) + 1;
    } else {
      offset = intQuery(c, "offset", log.logStartOffset, 0, Number.MAX_SAFE_INTEGER);
    }
    const encoding = readEncoding(c);
    const first = records.read(topic, partition, offset, 1, 1);
    if (first.type === "error") throw fromPartitionError(first.kind, first.message);
    return streamSSE(c, async (stream) => {
      const signals = [c.req.raw.signal, deps.shutdown];
      const closed = () => signals.some((s) => s.aborted);
      stream.onAbort(() => {/* the loop below sees stream.aborted */});
      let keepaliveAt = Date.now() + SSE_KEEPALIVE_MS;
      // Runs until the client disconnects or the node shuts down; every wait is bounded.
      while (!closed() && !stream.aborted) {
        const r = records.read(topic, partition, offset, 500, 1024 * 1024);
        if (r.type === "error") {
          await stream.writeSSE({
            event: "error",
            data: JSON.stringify({
              error_code: fromPartitionError(r.kind, r.message).errorCode,
              message: r.message,
            }),
          });
          return;
        }
        if (r.records.length > 0) {
          // One write per read, not per record: the events are framed here (JSON has no
          // raw newlines, so each record is one data line).
          let text = "";
          for (const rec of r.records) {
            text += `event: record\ndata: ${
              JSON.stringify(recordJson(rec, encoding, topic, partition))
            }\nid: ${rec.offset}\n\n`;
          }
          await stream.write(text);
        }
        offset = r.nextOffset;
        if (r.records.length > 0) continue;
        await deps.logs.waitForDataWithin(
          [[topic, partition]],
          Math.max(1, keepaliveAt - Date.now()),
          signals,
        );
        if (Date.now() >= keepaliveAt) {
          await stream.write(": keep-alive\n\n");
          keepaliveAt = Date.now() + SSE_KEEPALIVE_MS;
        }
      }
    });
  });

  app.get("/v1/groups", (c) =>
    c.json({
      groups: deps.groups.coordinator.list().map((g) => ({
        group_id: g.groupId,
        state: g.state,
        protocol_type: g.protocolType,
      })),
    }));

  app.get("/v1/groups/:group", (c) => c.json(describeGroup(deps, c.req.param("group"))));

  mountRestProxy(app, deps, records);
  mountRestConsumers(app, deps, records);
  return app;
}

function describeTopic(deps: HttpDeps, topic: string) {
  const info = deps.store.topic(topic);
  if (!info) throw HttpErrors.topicNotFound(topic);
  return {
    name: info.name,
    id: info.id,
    internal: info.name.startsWith("__"),
    configs: info.configs,
    partitions: viewOf(deps).placement(info.name, info.partitions).map((p) => {
      // Offsets as this node's replica holds them (null where it holds none).
      const log = deps.store.openPartition(info.name, p.partition) ??
        (deps.cluster?.clustered ? undefined : deps.store.partition(info.name, p.partition));
      return {
        partition: p.partition,
        leader: p.leader === -1 ? null : p.leader,
        leader_epoch: p.leaderEpoch,
        replicas: p.replicas,
        in_sync_replicas: p.isr,
        offline_replicas: p.offline,
        log_start_offset: log?.logStartOffset ?? null,
        log_end_offset: log?.logEndOffset ?? null,
        high_watermark: log ? deps.logs.highWatermark(log) : null,
      };
    }),
  };
}

/** The node's cluster view (this node alone unless the node gives one). */
function viewOf(deps: HttpDeps): ClusterView {
  return deps.cluster ??
    new SingleNodeView(() => ({
      nodeId: deps.nodeId,
      host: deps.kafka.host,
      port: deps.kafka.port,
      rack: null,
    }));
}

/** The admin service the Kafka admin APIs use, over the same services. */
function adminOf(deps: HttpDeps): AdminService {
  return new AdminService(deps.store, deps.logs, {
    nodeId: deps.nodeId,
    groups: deps.groups,
    defaultReplicationFactor: deps.defaultReplicationFactor ?? 1,
    ...(deps.topicController ? { controller: deps.topicController } : {}),
  });
}

/** A group's members, assignments, committed offsets and lag per partition. */
function describeGroup(deps: HttpDeps, groupId: string) {
  const d = deps.groups.coordinator.describe(groupId);
  const committed = deps.groups.coordinator.committedOffsets(groupId);
  if (d.state === "Dead" && committed.length === 0) throw HttpErrors.groupNotFound(groupId);
  const offsets = committed.flatMap((t) =>
    t.partitions.map((p) => {
      const info = deps.store.topic(t.topic);
      const log = info && p.partition < info.partitions
        ? deps.store.partition(t.topic, p.partition)
        : null;
      const hw = log ? deps.logs.highWatermark(log) : null;
      return {
        topic: t.topic,
        partition: p.partition,
        committed_offset: p.committed.offset,
        metadata: p.committed.metadata,
        high_watermark: hw,
        lag: hw === null ? null : Math.max(0, hw - p.committed.offset),
      };
    })
  );
  return {
    group_id: d.groupId,
    state: d.state,
    protocol_type: d.protocolType,
    protocol: d.protocolName,
    members: d.members.map((m) => ({
      member_id: m.memberId,
      group_instance_id: m.groupInstanceId,
      client_id: m.clientId,
      client_host: m.clientHost,
      assignments: d.protocolType === "consumer" ? parseConsumerAssignment(m.assignment) : null,
    })),
    offsets,
    total_lag: offsets.reduce((n, o) => n + (o.lag ?? 0), 0),
  };
}

function partitionParams(deps: HttpDeps, c: Context): { topic: string; partition: number } {
  const topic = c.req.param("topic") ?? "";
  const p = c.req.param("partition") ?? "";
  const info = deps.store.topic(topic);
  if (!info) throw HttpErrors.topicNotFound(topic);
  if (!/^\d+$/.test(p) || Number(p) >= info.partitions) {
    throw HttpErrors.partitionNotFound(topic, p);
  }
  return { topic, partition: Number(p) };
}

function intQuery(c: Context, name: string, dflt: number, min: number, max: number): number {
  const v = c.req.query(name);
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw HttpErrors.invalid(`"${name}" must be an integer from ${min} to ${max}`);
  }
  return n;
}

function readEncoding(c: Context): ReadEncoding {
  const e = c.req.query("encoding") ?? "text";
  if (e !== "text" && e !== "json" && e !== "base64") {
    throw HttpErrors.invalid(`"encoding" must be text, json or base64`);
  }
  return e;
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw HttpErrors.invalid(`"${what}" must be an object of name to string`);
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string" && typeof x !== "number") {
      throw HttpErrors.invalid(`"${what}.${k}" must be a string`);
    }
    out[k] = String(x);
  }
  return out;
}

export { HTTP_BODY_BYTES_MAX, type HttpDeps };
