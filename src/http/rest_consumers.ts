/**
 * Confluent REST Proxy API v2 consumer instances: `/consumers/{group}` creates an instance,
 * which subscribes (becoming a real member of the consumer group through `GroupMember`, so
 * it shares partitions with Kafka clients of the same group) or takes a manual assignment,
 * then fetches records, commits and seeks, until it is deleted or idle for
 * `consumer.instance.timeout.ms`.
 *
 * Semantics, as the REST Proxy's (KafkaConsumerManager / KafkaConsumerState):
 * - A position is the next offset to read. It starts at the group's committed offset, else
 *   at `auto.offset.reset` (earliest or latest, default latest), and is reset the same way
 *   when it falls out of the log. A rebalance drops every position (eager protocol), so
 *   partitions resume from their committed offsets.
 * - `POST .../offsets` with offsets commits `offset + 1` for each (the REST Proxy takes the
 *   last consumed offset); with no body, the positions of everything fetched so far.
 *   `GET .../offsets` answers the committed offsets as stored (the next offset to read).
 * - With `auto.commit.enable` "true" (the default), each records call commits the positions
 *   it returned before answering, and a member commits its positions before giving up its
 *   partitions in a rebalance: at most once, like the REST Proxy's auto commit.
 * - Records long-poll up to `timeout` ms (default `consumer.request.timeout.ms`, 1 s; at most
 *   30 s), answering early once `fetch.min.bytes` (default: any record) are collected.
 *
 * Instances live in this process only; idle ones are closed lazily on the next consumer
 * request and all of them when the node shuts down. No timers are owned here (each
 * `GroupMember` stops its own on shutdown).
 */
import type { Context, Hono } from "hono";
import {
  EARLIEST_TIMESTAMP,
  type GroupErrorKind,
  GroupMember,
  GroupMemberError,
  type IncomingRecord,
  LATEST_TIMESTAMP,
  type MemberOffset,
  type OffsetErrorKind,
  type PartitionOutcome,
  type RecordService,
} from "../cluster/mod.ts";
import type { HttpDeps } from "./http_deps.ts";
import { fromPartitionError, HttpError, HttpErrors } from "./http_error.ts";
import { HTTP_BODY_BYTES_MAX, readJsonObject } from "./read_json.ts";
import { toBase64 } from "./records_json.ts";
import { V2_MEDIA_TYPE } from "./rest_proxy.ts";

/** Idle instances are closed after this long (the REST Proxy's default). */
export const CONSUMER_INSTANCE_TIMEOUT_MS = 300_000;
/** Most instances one node keeps. */
export const CONSUMER_INSTANCES_MAX = 1_000;
/** Longest records long poll (ms). */
export const CONSUMER_RECORDS_WAIT_MS_MAX = 30_000;
/** Default `consumer.request.timeout.ms` (the REST Proxy's). */
const REQUEST_TIMEOUT_MS_DEFAULT = 1_000;
/** Most records in one records response. */
const RECORDS_PER_RESPONSE_MAX = 10_000;
/** A long poll re-reads the assignment at least this often (it may change in a rebalance). */
const ASSIGNMENT_RECHECK_MS = 500;
/** Most partitions named in one request. */
const PARTITIONS_PER_REQUEST_MAX = 10_000;

const JSON_V2 = "application/vnd.kafka.json.v2+json";
const BINARY_V2 = "application/vnd.kafka.binary.v2+json";
const SCHEMA_FORMATS = new Set(["avro", "protobuf", "jsonschema"]);
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,255}$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** REST Proxy error codes this module adds. */
const Errors = {
  exists: (m: string) => new HttpError(409, 40902, m),
  illegalState: (m: string) => new HttpError(409, 40903, m),
  notAcceptable: (m: string) => new HttpError(406, 40601, m),
  badConfig: (m: string) => new HttpError(422, 42204, m),
  tooMany: (m: string) => new HttpError(429, 42901, m),
  unavailable: (m: string) => new HttpError(503, 50302, m),
};

type Format = "json" | "binary";

interface TopicPartition {
  topic: string;
  partition: number;
}

/** One consumer instance. */
interface Instance {
  readonly group: string;
  readonly name: string;
  readonly format: Format;
  readonly reset: "earliest" | "latest";
  readonly autoCommit: boolean;
  readonly fetchMinBytes: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  lastUsedMs: number;
  /** Group membership while subscribed. */
  member: GroupMember | null;
  pattern: RegExp | null;
  /** A manual assignment (no group membership), or null. */
  manual: TopicPartition[] | null;
  /** Next offset to read, by `topic\0partition`. */
  readonly positions: Map<string, number>;
  /** The generation whose positions `positions` holds. */
  positionsGeneration: number;
  /** Where the next records call starts (fairness across partitions). */
  nextStart: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const instanceKey = (group: string, name: string) => `${group}\u0000${name}`;

/** Adds the REST Proxy v2 consumer routes to `app`. */
export function mountRestConsumers(app: Hono, deps: HttpDeps, records: RecordService): void {
  const consumers = new RestConsumers(deps, records);
  app.post("/consumers/:group", (c) => consumers.create(c));
  app.delete("/consumers/:group/instances/:name", async (c) => {
    await consumers.remove(consumers.instance(c));
    return c.body(null, 204);
  });
  app.post("/consumers/:group/instances/:name/subscription", (c) => consumers.subscribe(c));
  app.get("/consumers/:group/instances/:name/subscription", (c) => {
    const inst = consumers.instance(c);
    return v2(c, { topics: inst.member ? [...inst.member.topics] : [] });
  });
  app.delete("/consumers/:group/instances/:name/subscription", async (c) => {
    await consumers.unsubscribe(consumers.instance(c));
    return c.body(null, 204);
  });
  app.post("/consumers/:group/instances/:name/assignments", (c) => consumers.assign(c));
  app.get("/consumers/:group/instances/:name/assignments", (c) => {
    const inst = consumers.instance(c);
    return v2(c, { partitions: assignedPartitions(inst) });
  });
  app.get("/consumers/:group/instances/:name/records", (c) => consumers.records(c));
  app.post("/consumers/:group/instances/:name/offsets", (c) => consumers.commit(c));
  app.get("/consumers/:group/instances/:name/offsets", (c) => consumers.committed(c));
  app.post("/consumers/:group/instances/:name/positions", (c) => consumers.seek(c));
  app.post("/consumers/:group/instances/:name/positions/beginning", (c) => consumers.seekTo(c, 0));
  app.post("/consumers/:group/instances/:name/positions/end", (c) => consumers.seekTo(c, 1));
}

function v2(c: Context, body: unknown, status = 200): Response {
  return c.body(JSON.stringify(body), status as 200, { "content-type": V2_MEDIA_TYPE });
}

/** The partitions an instance reads now: its manual assignment or its group assignment. */
function assignedPartitions(inst: Instance): TopicPartition[] {
  if (inst.manual) return inst.manual;
  return (inst.member?.assignment ?? []).flatMap((a) =>
    a.partitions.map((partition) => ({ topic: a.topic, partition }))
  );
}

/** The consumer instances of one node and their request handlers. */
class RestConsumers {
  readonly #deps: HttpDeps;
  readonly #records: RecordService;
  readonly #instances = new Map<string, Instance>();

  constructor(deps: HttpDeps, records: RecordService) {
    this.#deps = deps;
    this.#records = records;
    deps.shutdown.addEventListener("abort", () => {
      // Each member stops its own timer on the same signal; forget the instances.
      this.#instances.clear();
    }, { once: true });
  }

  /** The instance a request names, after closing idle ones. @throws 404 40403. */
  instance(c: Context): Instance {
    this.#expireIdle();
    const group = c.req.param("group") ?? "";
    const name = c.req.param("name") ?? "";
    const inst = this.#instances.get(instanceKey(group, name));
    if (!inst) {
      throw HttpErrors.consumerNotFound(
        `Consumer instance "${name}" of group "${group}" not found`,
      );
    }
    inst.lastUsedMs = Date.now();
    return inst;
  }

  async create(c: Context): Promise<Response> {
    this.#expireIdle();
    const group = c.req.param("group") ?? "";
    const body = await readOptionalJsonObject(c); // every field has a default
    const name = body.name ?? body.id ?? `rest-consumer-${crypto.randomUUID()}`;
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      throw Errors.badConfig(`"name" must be 1-255 letters, digits, ".", "_" or "-"`);
    }
    if (this.#instances.has(instanceKey(group, name))) {
      throw Errors.exists(`Consumer instance "${name}" of group "${group}" already exists`);
    }
    if (this.#instances.size >= CONSUMER_INSTANCES_MAX) {
      throw Errors.tooMany(`Cannot create a consumer instance: ${CONSUMER_INSTANCES_MAX} exist`);
    }
    const inst: Instance = {
      group,
      name,
      format: parseFormat(body.format),
      reset: parseReset(body["auto.offset.reset"]),
      autoCommit: parseBool(body["auto.commit.enable"], "auto.commit.enable", true),
      fetchMinBytes: parseInt(body["fetch.min.bytes"], "fetch.min.bytes", -1, -1, 1 << 30),
      requestTimeoutMs: parseInt(
        body["consumer.request.timeout.ms"],
        "consumer.request.timeout.ms",
        REQUEST_TIMEOUT_MS_DEFAULT,
        0,
        CONSUMER_RECORDS_WAIT_MS_MAX,
      ),
      // An extension for short-lived instances (the REST Proxy sets it per server only).
      idleTimeoutMs: parseInt(
        body["consumer.instance.timeout.ms"],
        "consumer.instance.timeout.ms",
        CONSUMER_INSTANCE_TIMEOUT_MS,
        1,
        24 * 3600_000,
      ),
      lastUsedMs: Date.now(),
      member: null,
      pattern: null,
      manual: null,
      positions: new Map(),
      positionsGeneration: -1,
      nextStart: 0,
    };
    this.#instances.set(instanceKey(group, name), inst);
    const url = new URL(c.req.url);
    const host = c.req.header("host") ?? url.host;
    const path = `/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`;
    return v2(c, { instance_id: name, base_uri: `${url.protocol}//${host}${path}` });
  }

  /** Closes an instance: leaves the group, forgets it. */
  async remove(inst: Instance): Promise<void> {
    this.#instances.delete(instanceKey(inst.group, inst.name));
    await this.unsubscribe(inst);
  }

  async subscribe(c: Context): Promise<Response> {
    const inst = this.instance(c);
    const body = await readJsonObject(c);
    if (inst.manual) {
      throw Errors.illegalState(
        "Cannot subscribe: the instance has a manual assignment (they are mutually exclusive)",
      );
    }
    let topics: string[];
    let pattern: RegExp | null = null;
    if (body.topic_pattern !== undefined && body.topic_pattern !== null) {
      if (body.topics !== undefined) {
        throw HttpErrors.unprocessable(`Give "topics" or "topic_pattern", not both`);
      }
      if (typeof body.topic_pattern !== "string") {
        throw HttpErrors.unprocessable(`"topic_pattern" must be a regular expression string`);
      }
      try {
        pattern = new RegExp(`^(?:${body.topic_pattern})$`);
      } catch (err) {
        throw HttpErrors.unprocessable(`Invalid "topic_pattern": ${(err as Error).message}`);
      }
      topics = this.#matching(pattern);
    } else {
      topics = stringList(body.topics, "topics");
      if (topics.length === 0) throw HttpErrors.unprocessable(`"topics" must not be empty`);
    }
    inst.pattern = pattern;
    this.#subscribeMember(inst, topics);
    return c.body(null, 204);
  }

  /** Drops the subscription or assignment; with auto commit, commits positions first. */
  async unsubscribe(inst: Instance): Promise<void> {
    const member = inst.member;
    if (inst.autoCommit) {
      // As KafkaConsumer.close and unsubscribe do with auto commit; a refusal (the group is
      // rebalancing) loses nothing that was committed before.
      this.#syncGeneration(inst);
      await this.#commitPositions(inst, member, assignedPartitions(inst));
    }
    inst.member = null;
    inst.pattern = null;
    inst.manual = null;
    inst.positions.clear();
    await member?.close();
  }

  async assign(c: Context): Promise<Response> {
    const inst = this.instance(c);
    const body = await readJsonObject(c);
    if (inst.member) {
      throw Errors.illegalState(
        "Cannot assign partitions: the instance is subscribed (they are mutually exclusive)",
      );
    }
    const partitions = this.#partitionList(body.partitions);
    inst.manual = partitions;
    const wanted = new Set(partitions.map((p) => key(p.topic, p.partition)));
    for (const k of [...inst.positions.keys()]) if (!wanted.has(k)) inst.positions.delete(k);
    return c.body(null, 204);
  }

  async seek(c: Context): Promise<Response> {
    const inst = this.instance(c);
    const body = await readJsonObject(c);
    const offsets = this.#offsetList(body.offsets);
    this.#syncGeneration(inst);
    const assigned = new Set(assignedPartitions(inst).map((p) => key(p.topic, p.partition)));
    for (const o of offsets) this.#checkAssigned(assigned, o);
    for (const o of offsets) inst.positions.set(key(o.topic, o.partition), o.offset);
    return c.body(null, 204);
  }

  /** Seeks to the beginning (0) or the end (1) of the listed partitions. */
  async seekTo(c: Context, end: 0 | 1): Promise<Response> {
    const inst = this.instance(c);
    const body = await readJsonObject(c);
    const partitions = this.#partitionList(body.partitions);
    this.#syncGeneration(inst);
    const assigned = new Set(assignedPartitions(inst).map((p) => key(p.topic, p.partition)));
    for (const p of partitions) this.#checkAssigned(assigned, p);
    for (const p of partitions) {
      const at = this.#boundary(p, end === 0 ? "earliest" : "latest");
      inst.positions.set(key(p.topic, p.partition), at);
    }
    return c.body(null, 204);
  }

  async commit(c: Context): Promise<Response> {
    const inst = this.instance(c);
    const body = await readOptionalJsonObject(c);
    if (body.offsets === undefined || body.offsets === null) {
      this.#syncGeneration(inst);
      const outcomes = await this.#commitPositions(inst, inst.member, assignedPartitions(inst));
      throwFirstError(outcomes);
      return c.body(null, 200);
    }
    // The REST Proxy commits the offset after the one given (the last one consumed).
    const offsets = this.#offsetList(body.offsets).map((o) => ({ ...o, offset: o.offset + 1 }));
    throwFirstError(await this.#commitOffsets(inst, inst.member, offsets));
    return c.body(null, 200);
  }

  /** GET offsets: the committed offsets of the partitions in the body (else the assigned). */
  async committed(c: Context): Promise<Response> {
    const inst = this.instance(c);
    const body = await readOptionalJsonObject(c);
    const partitions = body.partitions === undefined
      ? assignedPartitions(inst)
      : this.#partitionList(body.partitions);
    const offsets = [];
    for (const p of partitions) {
      const got = this.#deps.groups.fetchOffsets(inst.group, [{
        name: p.topic,
        partitions: [p.partition],
      }]);
      const committed = got[0]?.partitions[0]?.committed;
      if (!committed) continue; // the REST Proxy leaves out partitions with no commit
      offsets.push({
        topic: p.topic,
        partition: p.partition,
        offset: committed.offset,
        metadata: committed.metadata,
      });
    }
    return v2(c, { offsets });
  }

  /** GET records: long poll, then every assigned partition from its position. */
  async records(c: Context): Promise<Response> {
    const inst = this.instance(c);
    const mediaType = acceptedFormat(c.req.header("accept"), inst.format);
    const timeoutMs = queryInt(
      c,
      "timeout",
      inst.requestTimeoutMs,
      0,
      CONSUMER_RECORDS_WAIT_MS_MAX,
    );
    const maxBytes = queryInt(c, "max_bytes", HTTP_BODY_BYTES_MAX, 1, HTTP_BODY_BYTES_MAX);
    if (!inst.member && !inst.manual) {
      throw Errors.illegalState(
        "Cannot fetch records: the instance has no subscription or assignment",
      );
    }
    const deadline = Date.now() + timeoutMs;
    // A local controller with listeners removed below: AbortSignal.any on the node's
    // long-lived shutdown signal would keep every request's signal alive (a leak).
    const stopper = new AbortController();
    const onStop = () => stopper.abort();
    const sources = [c.req.raw.signal, this.#deps.shutdown];
    for (const s of sources) s.addEventListener("abort", onStop, { once: true });
    if (sources.some((s) => s.aborted)) stopper.abort();
    const stop = stopper.signal;
    const out: Array<Record<string, unknown>> = [];
    let bytes = 0;
    try {
      // Bounded by the deadline: every wait below ends by it (or by the client or shutdown).
      for (;;) {
        if (inst.pattern && inst.member) this.#refreshPattern(inst);
        const member = inst.member;
        if (member) {
          // Each poll heartbeats as Kafka's poll does, so a rebalance another member started
          // is joined now rather than at the next timer beat.
          const joined = await withinMs(
            member.isStable ? member.heartbeat() : member.ensureJoined(),
            Math.max(1, deadline - Date.now()), // a settled heartbeat wins even at timeout=0
            stop,
          );
          if (!joined) break;
        }
        const got = this.#readOnce(inst, maxBytes - bytes, out.length === 0);
        for (const r of got.records) out.push(r);
        bytes += got.bytes;
        const enough = inst.fetchMinBytes <= 0 ? out.length > 0 : bytes >= inst.fetchMinBytes;
        const remaining = deadline - Date.now();
        if (enough || remaining <= 0 || stop.aborted || bytes >= maxBytes) break;
        if (out.length >= RECORDS_PER_RESPONSE_MAX) break;
        const parts = assignedPartitions(inst).map((p): [string, number] => [p.topic, p.partition]);
        await this.#deps.logs.waitForDataWithin(parts, Math.min(remaining, ASSIGNMENT_RECHECK_MS), [
          stop,
        ]);
      }
    } finally {
      for (const s of sources) s.removeEventListener("abort", onStop);
    }
    if (inst.autoCommit && out.length > 0) {
      this.#syncGeneration(inst);
      await this.#commitPositions(inst, inst.member, assignedPartitions(inst));
    }
    return c.body(JSON.stringify(out), 200, { "content-type": mediaType });
  }

  /** One pass over the assigned partitions, synchronous so the assignment cannot change. */
  #readOnce(
    inst: Instance,
    budget: number,
    firstAnyway: boolean,
  ): { records: Array<Record<string, unknown>>; bytes: number } {
    this.#syncGeneration(inst);
    const parts = assignedPartitions(inst);
    const out: Array<Record<string, unknown>> = [];
    let bytes = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[(inst.nextStart + i) % parts.length];
      if (!p) continue;
      if (bytes >= budget && !(firstAnyway && out.length === 0)) break;
      const k = key(p.topic, p.partition);
      let at = inst.positions.get(k) ?? this.#startingOffset(inst, p);
      let r = this.#records.read(
        p.topic,
        p.partition,
        at,
        RECORDS_PER_RESPONSE_MAX,
        Math.max(1, budget - bytes),
      );
      if (r.type === "error" && r.kind === "offset_out_of_range") {
        at = this.#boundary(p, inst.reset);
        r = this.#records.read(
          p.topic,
          p.partition,
          at,
          RECORDS_PER_RESPONSE_MAX,
          Math.max(1, budget - bytes),
        );
      }
      if (r.type === "error") throw fromPartitionError(r.kind, r.message);
      let next = at;
      for (const rec of r.records) {
        const size = (rec.key?.length ?? 0) + (rec.value?.length ?? 0);
        const allowFirst = firstAnyway && out.length === 0;
        if ((bytes + size > budget && !allowFirst) || out.length >= RECORDS_PER_RESPONSE_MAX) break;
        out.push(recordOf(rec, inst.format, p));
        bytes += size;
        next = rec.offset + 1;
      }
      if (r.records.length === 0) next = Math.max(at, r.nextOffset);
      inst.positions.set(k, next);
    }
    inst.nextStart = parts.length === 0 ? 0 : (inst.nextStart + 1) % parts.length;
    return { records: out, bytes };
  }

  /** The committed offset, else the `auto.offset.reset` boundary; clamped into the log. */
  #startingOffset(inst: Instance, p: TopicPartition): number {
    const got = this.#deps.groups.fetchOffsets(inst.group, [{
      name: p.topic,
      partitions: [p.partition],
    }]);
    const committed = got[0]?.partitions[0]?.committed?.offset;
    if (committed === undefined || committed < 0) return this.#boundary(p, inst.reset);
    const start = this.#boundary(p, "earliest");
    const end = this.#boundary(p, "latest");
    return committed < start || committed > end ? this.#boundary(p, inst.reset) : committed;
  }

  #boundary(p: TopicPartition, which: "earliest" | "latest"): number {
    const r = this.#deps.logs.listOffset(
      p.topic,
      p.partition,
      which === "earliest" ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
      { fromFollower: true },
    );
    if (r.type === "error") throw fromPartitionError(r.kind, r.message);
    return r.offset;
  }

  /** After a rebalance, positions of the old generation are dropped (eager protocol). */
  #syncGeneration(inst: Instance): void {
    if (!inst.member) return;
    const generation = inst.member.generationId;
    if (generation === inst.positionsGeneration) return;
    inst.positions.clear();
    inst.positionsGeneration = generation;
  }

  #subscribeMember(inst: Instance, topics: string[]): void {
    if (inst.member) {
      inst.member.subscribe(topics);
      return;
    }
    const member = new GroupMember({
      groups: this.#deps.groups,
      groupId: inst.group,
      topics,
      partitionCount: (t) => this.#deps.store.topic(t)?.partitions ?? 0,
      clientId: inst.name,
      signal: this.#deps.shutdown,
      onRevoke: async (revoked) => {
        // Commit what was fetched before the partitions move (auto commit only).
        if (!inst.autoCommit || inst.member !== member) return;
        this.#syncGeneration(inst);
        const outcomes = await this.#commitPositions(
          inst,
          member,
          revoked.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))),
        );
        const failed = outcomes.find((o) => o.error !== null);
        if (failed) {
          throw new Error(`commit of "${failed.topic}-${failed.partition}": ${failed.error}`);
        }
      },
      log: (level, message) => {
        if (level === "warn" || level === "error") {
          console.warn(`REST consumer "${inst.name}": ${message}`);
        }
      },
    });
    inst.member = member;
    inst.positions.clear();
    inst.positionsGeneration = -1;
    member.start();
  }

  #refreshPattern(inst: Instance): void {
    if (!inst.pattern || !inst.member) return;
    const topics = this.#matching(inst.pattern);
    const current = inst.member.topics;
    if (topics.length !== current.length || topics.some((t, i) => t !== current[i])) {
      inst.member.subscribe(topics);
    }
  }

  #matching(pattern: RegExp): string[] {
    return this.#deps.store.listTopics().map((t) => t.name)
      .filter((n) => !n.startsWith("__") && pattern.test(n)).sort();
  }

  /** Commits the positions held for `partitions`. */
  #commitPositions(
    inst: Instance,
    member: GroupMember | null,
    partitions: readonly TopicPartition[],
  ): Promise<PartitionOutcome[]> {
    const offsets: MemberOffset[] = [];
    for (const p of partitions) {
      const at = inst.positions.get(key(p.topic, p.partition));
      if (at !== undefined) offsets.push({ topic: p.topic, partition: p.partition, offset: at });
    }
    return this.#commitOffsets(inst, member, offsets);
  }

  #commitOffsets(
    inst: Instance,
    member: GroupMember | null,
    offsets: readonly MemberOffset[],
  ): Promise<PartitionOutcome[]> {
    if (offsets.length === 0) return Promise.resolve([]);
    if (member) return member.commit(offsets);
    // A manual assignment commits as Kafka's "simple" consumers do: no generation, no member.
    const byTopic = new Map<string, MemberOffset[]>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    return this.#deps.groups.commitOffsets({
      groupId: inst.group,
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({
          partition: o.partition,
          offset: o.offset,
          leaderEpoch: -1,
          metadata: o.metadata ?? "",
          commitTimestampMs: -1,
        })),
      })),
    });
  }

  #checkAssigned(assigned: ReadonlySet<string>, p: TopicPartition): void {
    if (!assigned.has(key(p.topic, p.partition))) {
      throw Errors.illegalState(
        `Partition "${p.topic}-${p.partition}" is not assigned to this instance`,
      );
    }
  }

  #partitionList(v: unknown): TopicPartition[] {
    const list = objectList(v, "partitions");
    return list.map((o, i) => this.#partitionOf(o, `partitions[${i}]`));
  }

  #offsetList(v: unknown): Array<MemberOffset> {
    const list = objectList(v, "offsets");
    return list.map((o, i) => {
      const p = this.#partitionOf(o, `offsets[${i}]`);
      const offset = o.offset;
      if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
        throw HttpErrors.unprocessable(`offsets[${i}].offset must be a non-negative integer`);
      }
      const metadata = o.metadata;
      if (metadata !== undefined && metadata !== null && typeof metadata !== "string") {
        throw HttpErrors.unprocessable(`offsets[${i}].metadata must be a string`);
      }
      return {
        ...p,
        offset: offset as number,
        ...(typeof metadata === "string" ? { metadata } : {}),
      };
    });
  }

  #partitionOf(o: Record<string, unknown>, what: string): TopicPartition {
    if (typeof o.topic !== "string" || o.topic === "") {
      throw HttpErrors.unprocessable(`${what}.topic must be a topic name`);
    }
    if (!Number.isInteger(o.partition) || (o.partition as number) < 0) {
      throw HttpErrors.unprocessable(`${what}.partition must be a non-negative integer`);
    }
    const info = this.#deps.store.topic(o.topic);
    if (!info) throw HttpErrors.topicNotFound(o.topic);
    if ((o.partition as number) >= info.partitions) {
      throw HttpErrors.partitionNotFound(o.topic, o.partition as number);
    }
    return { topic: o.topic, partition: o.partition as number };
  }

  /** Closes instances idle past their timeout (checked on each consumer request). */
  #expireIdle(): void {
    const now = Date.now();
    for (const inst of [...this.#instances.values()]) {
      if (now - inst.lastUsedMs < inst.idleTimeoutMs) continue;
      this.#instances.delete(instanceKey(inst.group, inst.name));
      const member = inst.member;
      inst.member = null;
      // Closing leaves the group at once (synchronously); the rest settles in the background.
      member?.close().catch((err) => {
        if (!(err instanceof GroupMemberError)) throw err;
      });
    }
  }
}

/** Resolves true when `p` settles in time, false at the bound or on `signal`. @throws as `p`. */
async function withinMs(p: Promise<void>, ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0 || signal.aborted) {
    p.catch(() => {/* the caller gave up waiting; a failed join is retried by the member */});
    return false;
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  let onAbort = () => {};
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const won = await Promise.race([p.then(() => true), late]);
    if (!won) p.catch(() => {/* as above */});
    return won;
  } catch (err) {
    if (err instanceof GroupMemberError) throw joinError(err);
    throw err;
  } finally {
    if (timer !== null) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function joinError(err: GroupMemberError): HttpError {
  if (err.kind === "coordinator_not_available") return Errors.unavailable(err.message);
  return Errors.illegalState(err.message);
}

function throwFirstError(outcomes: readonly PartitionOutcome[]): void {
  const failed = outcomes.find((o) => o.error !== null);
  if (!failed || failed.error === null) return;
  throw commitError(failed.topic, failed.partition, failed.error);
}

function commitError(topic: string, partition: number, error: OffsetErrorKind): HttpError {
  const m = `Cannot commit the offset of "${topic}-${partition}": ${error}`;
  const rebalance: ReadonlySet<GroupErrorKind> = new Set([
    "rebalance_in_progress",
    "illegal_generation",
    "unknown_member_id",
  ]);
  if (rebalance.has(error as GroupErrorKind)) {
    return Errors.illegalState(`${m} (the group is rebalancing; fetch records to rejoin)`);
  }
  if (error === "unknown_topic") return HttpErrors.partitionNotFound(topic, partition);
  if (error === "offset_metadata_too_large") return HttpErrors.unprocessable(m);
  return Errors.unavailable(m);
}

/** The response media type of a records call: the Accept header must match the format. */
function acceptedFormat(accept: string | undefined, format: Format): string {
  const mine = format === "json" ? JSON_V2 : BINARY_V2;
  const wanted = (accept ?? "").split(",").map((s) => s.split(";")[0]?.trim().toLowerCase() ?? "")
    .filter((s) => s !== "");
  if (wanted.length === 0) return mine;
  if (wanted.includes(mine)) return mine;
  if (wanted.some((w) => w === "*/*" || w === "application/*" || w === V2_MEDIA_TYPE)) {
    return mine;
  }
  throw Errors.notAcceptable(
    `The instance's format is "${format}": Accept must be ${mine}, got "${accept}"`,
  );
}

function recordOf(r: IncomingRecord, format: Format, p: TopicPartition): Record<string, unknown> {
  return {
    topic: p.topic,
    key: embedded(r.key, format),
    value: embedded(r.value, format),
    partition: p.partition,
    offset: r.offset,
  };
}

/** JSON format: the bytes' JSON value (text that is not JSON as a string); binary: base64. */
function embedded(b: Uint8Array | null, format: Format): unknown {
  if (b === null) return null;
  if (format === "binary") return toBase64(b);
  let text: string;
  try {
    text = strictUtf8.decode(b);
  } catch {
    return toBase64(b); // not text: the bytes as base64 rather than a broken string
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A JSON object body, or {} when there is none. */
async function readOptionalJsonObject(c: Context): Promise<Record<string, unknown>> {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") return {};
  return await readJsonObject(c);
}

function parseFormat(v: unknown): Format {
  if (v === undefined || v === null) return "binary"; // the REST Proxy's default
  if (v === "json" || v === "binary") return v;
  if (typeof v === "string" && SCHEMA_FORMATS.has(v)) {
    throw Errors.badConfig(`Format "${v}" needs a schema registry, which Pyralog does not have`);
  }
  throw Errors.badConfig(`"format" must be "json" or "binary", got ${JSON.stringify(v)}`);
}

function parseReset(v: unknown): "earliest" | "latest" {
  if (v === undefined || v === null) return "latest"; // Kafka's default
  if (v === "earliest" || v === "latest") return v;
  throw Errors.badConfig(`"auto.offset.reset" must be "earliest" or "latest"`);
}

function parseBool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw Errors.badConfig(`"${name}" must be "true" or "false"`);
}

function parseInt(v: unknown, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined || v === null) return dflt;
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (!Number.isSafeInteger(n) || (n as number) < min || (n as number) > max) {
    throw Errors.badConfig(`"${name}" must be an integer from ${min} to ${max}`);
  }
  return n as number;
}

function queryInt(c: Context, name: string, dflt: number, min: number, max: number): number {
  const v = c.req.query(name);
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw HttpErrors.invalid(`"${name}" must be an integer of at least ${min}`);
  }
  return Math.min(n, max); // the REST Proxy caps these rather than refusing
}

function stringList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((t) => typeof t !== "string" || t === "")) {
    throw HttpErrors.unprocessable(`"${what}" must be an array of topic names`);
  }
  if (v.length > PARTITIONS_PER_REQUEST_MAX) {
    throw HttpErrors.unprocessable(`"${what}" names more than ${PARTITIONS_PER_REQUEST_MAX}`);
  }
  return [...new Set(v as string[])].sort();
}

function objectList(v: unknown, what: string): Array<Record<string, unknown>> {
  if (!Array.isArray(v) || v.some((o) => typeof o !== "object" || o === null || Array.isArray(o))) {
    throw HttpErrors.unprocessable(`"${what}" must be an array of objects`);
  }
  if (v.length > PARTITIONS_PER_REQUEST_MAX) {
    throw HttpErrors.unprocessable(`"${what}" names more than ${PARTITIONS_PER_REQUEST_MAX}`);
  }
  return v as Array<Record<string, unknown>>;
}
