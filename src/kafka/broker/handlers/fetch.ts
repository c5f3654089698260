/**
 * Fetch (key 1): reads each partition from its fetch offset up to the high watermark, within
 * the request's per-partition and total byte limits (KIP-74: the first batch is returned even
 * when larger, so a consumer always progresses), and long-polls until `minBytes` arrive or
 * `maxWaitMs` passes. Fetch sessions (KIP-227) are not kept: the answer's session id is 0, so
 * clients send full fetch requests, which the KIP allows. v13+ names topics by id.
 */
import type { FetchOutcome, LogService } from "../../../cluster/mod.ts";
import type { TopicStore } from "../../../storage/mod.ts";
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { partitionErrorCode, toNumber, wireUuid } from "./_common.ts";

/** Longest long poll honoured, whatever the client asks (bounds every wait). */
export const FETCH_MAX_WAIT_MS = 30_000;

interface Slot {
  topic: string | null;
  topicId: string;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  epochError: number;
}

/** The Fetch handler. */
export const handleFetch: Handler<"Fetch"> = async (req, ctx) => {
  const b = ctx.broker;
  const slots: Slot[] = [];
  let rebuilt = false;
  for (const t of req.topics) {
    let name: string | null = t.topic;
    if (ctx.version >= 13) {
      const hit = topicNameOf(b.store, t.topicId, !rebuilt);
      rebuilt ||= hit.rebuilt;
      name = hit.name;
    }
    for (const p of t.partitions) {
      const epoch = p.currentLeaderEpoch;
      slots.push({
        topic: name,
        topicId: t.topicId,
        partition: p.partition,
        fetchOffset: toNumber(p.fetchOffset),
        maxBytes: Math.max(0, p.partitionMaxBytes),
        // Our leader epoch is 0: a newer epoch is unknown to us, an older one is fenced.
        epochError: epoch > 0
          ? ErrorCode.UNKNOWN_LEADER_EPOCH
          : epoch < -1
          ? ErrorCode.FENCED_LEADER_EPOCH
          : 0,
      });
    }
  }
  const totalMax = ctx.version >= 3 ? Math.max(0, req.maxBytes) : Number.MAX_SAFE_INTEGER;
  const waitMs = Math.min(Math.max(0, req.maxWaitMs), FETCH_MAX_WAIT_MS);
  const deadline = b.clock.monotonicMs() + waitMs;
  let outcomes = readAll(slots, ctx.broker.logs, totalMax, ctx.version);
  // Long poll: bounded by the deadline; every wake-up re-reads once.
  while (needsMore(outcomes, req.minBytes) && !ctx.signal.aborted) {
    const left = deadline - b.clock.monotonicMs();
    if (left <= 0) break;
    const keys = slots.filter((s) => s.topic !== null).map((s) =>
      [s.topic as string, s.partition] as [string, number]
    );
    const timedOut = await b.logs.waitForDataWithin(keys, left, [ctx.signal]);
    outcomes = readAll(slots, ctx.broker.logs, totalMax, ctx.version);
    if (timedOut) break;
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    sessionId: 0,
    responses: group(slots, outcomes),
  };
};

/**
 * Topic names by wire id per store, for Fetch v13+. Listing every topic on every Fetch cost
 * ~0.6 ms per request with 1,000 topics, so the map is kept and rebuilt only when an id is
 * not found (a new topic). A hit is checked against the store (the topic may have been
 * deleted, or recreated under a new id), so the map is never trusted blindly.
 */
const topicIdMaps = new WeakMap<TopicStore, Map<string, string>>();

function topicNameOf(
  store: TopicStore,
  topicId: string,
  mayRebuild: boolean,
): { name: string | null; rebuilt: boolean } {
  const map = topicIdMaps.get(store);
  const name = map?.get(topicId);
  if (name !== undefined) {
    const info = store.topic(name);
    if (info && wireUuid(info.id) === topicId) return { name, rebuilt: false };
  }
  if (!mayRebuild) return { name: null, rebuilt: false };
  // Bounded: at most one rebuild per request (the caller passes mayRebuild once).
  const fresh = new Map(store.listTopics().map((t) => [wireUuid(t.id), t.name]));
  topicIdMaps.set(store, fresh);
  return { name: fresh.get(topicId) ?? null, rebuilt: true };
}

type Outcome = FetchOutcome | { type: "error"; code: number; message: string };

function readAll(
  slots: Slot[],
  logs: LogService,
  totalMax: number,
  version: number,
): Outcome[] {
  let budget = totalMax;
  let first = true;
  return slots.map((s) => {
    if (s.topic === null) {
      return { type: "error", code: ErrorCode.UNKNOWN_TOPIC_ID, message: "Unknown topic id" };
    }
    if (s.epochError) {
      return { type: "error", code: s.epochError, message: "Leader epoch mismatch" };
    }
    const limit = Math.min(s.maxBytes, budget);
    // KIP-74: the first non-empty partition returns at least one batch; before v3 every
    // partition does, or an oversized batch would stall its consumer forever.
    const o = logs.fetch(s.topic, s.partition, s.fetchOffset, limit, first || version < 3);
    if (o.type === "ok" && o.records.length > 0) {
      first = false;
      budget = Math.max(0, budget - o.records.length);
    }
    return o;
  });
}

function needsMore(outcomes: Outcome[], minBytes: number): boolean {
  let bytes = 0;
  for (const o of outcomes) {
    if (o.type === "error") return false; // errors are answered at once
    bytes += o.records.length;
  }
  return bytes < Math.max(1, minBytes);
}

function group(slots: Slot[], outcomes: Outcome[]) {
  const topics: Array<
    { topic: string; topicId: string; partitions: ReturnType<typeof partitionOf>[] }
  > = [];
  slots.forEach((s, i) => {
    const o = outcomes[i];
    if (!o) return;
    let t = topics[topics.length - 1];
    if (!t || t.topicId !== s.topicId || t.topic !== (s.topic ?? "")) {
      t = { topic: s.topic ?? "", topicId: s.topicId, partitions: [] };
      topics.push(t);
    }
    t.partitions.push(partitionOf(s.partition, o));
  });
  return topics;
}

function partitionOf(partition: number, o: Outcome) {
  const base = {
    partitionIndex: partition,
    errorCode: ErrorCode.NONE as number,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records: new Uint8Array(0) as Uint8Array | null,
  };
  if ("code" in o) return { ...base, errorCode: o.code };
  const hw = BigInt(o.highWatermark);
  const marks = {
    highWatermark: hw,
    lastStableOffset: hw,
    logStartOffset: BigInt(o.logStartOffset),
  };
  if (o.type === "error") return { ...base, ...marks, errorCode: partitionErrorCode(o.kind) };
  return { ...base, ...marks, records: o.records };
}
