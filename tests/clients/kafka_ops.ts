/**
 * Small typed operations over `WireClient` shared by the client tests and the benchmarks:
 * produce a batch, fetch a partition's batches, list an offset, get a producer id, and run an
 * external client command with a time bound. Each returns the one partition's answer or
 * throws with the broker's error code, so callers stay short. No retries.
 */
import { decodeBatch, type DecodedRecord, iterateBatches } from "../../src/records/mod.ts";
import type { WireClient } from "./wire_client.ts";

/** Default versions: the highest non-flexible ones, as kafkajs and librdkafka-era clients use. */
export const PRODUCE_VERSION = 7;
export const FETCH_VERSION = 11;

/** One partition's produce answer. */
export interface ProducePartitionResult {
  errorCode: number;
  baseOffset: bigint;
}

/** Produces `records` (one or more whole batches) to one partition. */
export async function produceRaw(
  client: WireClient,
  topic: string,
  partition: number,
  records: Uint8Array,
  acks = -1,
  version = PRODUCE_VERSION,
): Promise<ProducePartitionResult> {
  const r = await client.request("Produce", version, {
    transactionalId: null,
    acks,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  if (r === null) throw new Error("Produce: the broker closed the connection");
  const p = r.responses[0]?.partitionResponses[0];
  if (!p) throw new Error("Produce: no partition in the response");
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

/** One partition's fetch answer. */
export interface FetchPartitionResult {
  errorCode: number;
  highWatermark: bigint;
  records: Uint8Array;
}

/** Fetches one partition from `offset` (no wait unless `maxWaitMs` is given). */
export async function fetchRaw(
  client: WireClient,
  topic: string,
  partition: number,
  offset: number,
  opts: { maxWaitMs?: number; minBytes?: number; maxBytes?: number } = {},
): Promise<FetchPartitionResult> {
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  const r = await client.request("Fetch", FETCH_VERSION, {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      topicId: "00000000000000000000000000000000",
      partitions: [{
        partition,
        currentLeaderEpoch: -1,
        fetchOffset: BigInt(offset),
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: maxBytes,
      }],
    }],
    forgottenTopicsData: [],
    rackId: "",
  });
  if (r === null) throw new Error("Fetch: the broker closed the connection");
  const p = r.responses[0]?.partitions[0];
  if (!p) throw new Error("Fetch: no partition in the response");
  return {
    errorCode: p.errorCode,
    highWatermark: p.highWatermark,
    records: p.records ?? new Uint8Array(0),
  };
}

/** Reads every record of a partition from `from` up to the high watermark (bounded). */
export async function readAll(
  client: WireClient,
  topic: string,
  partition = 0,
  from = 0,
): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  let at = from;
  // Bounded: each round advances past at least one batch or stops.
  for (let round = 0; round < 10_000; round++) {
    const f = await fetchRaw(client, topic, partition, at);
    if (f.errorCode !== 0) throw new Error(`Fetch failed with error ${f.errorCode}`);
    let advanced = false;
    for (const frame of iterateBatches(f.records)) {
      for (const rec of decodeBatch(frame.bytes).records) {
        if (rec.offset >= at) out.push(rec);
      }
      at = frame.header.baseOffset + frame.header.lastOffsetDelta + 1;
      advanced = true;
    }
    if (!advanced || at >= Number(f.highWatermark)) return out;
  }
  throw new Error("readAll did not reach the high watermark");
}

/** ListOffsets for one partition: the offset (and timestamp) for `timestamp` (-1, -2, -3 or ms). */
export async function listOffsetRaw(
  client: WireClient,
  topic: string,
  timestamp: bigint,
  version = 7,
): Promise<{ errorCode: number; offset: bigint; timestamp: bigint }> {
  const r = await client.request("ListOffsets", version, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{
      name: topic,
      partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }],
    }],
  });
  if (r === null) throw new Error("ListOffsets: the broker closed the connection");
  const p = r.topics[0]?.partitions[0];
  if (!p) throw new Error("ListOffsets: no partition in the response");
  return { errorCode: p.errorCode, offset: p.offset, timestamp: p.timestamp };
}

/** A fresh idempotent producer id and epoch from InitProducerId v1. */
export async function initProducerId(
  client: WireClient,
): Promise<{ producerId: bigint; producerEpoch: number }> {
  const r = await client.request("InitProducerId", 1, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
  });
  if (r === null || r.errorCode !== 0) {
    throw new Error(`InitProducerId failed: ${r === null ? "closed" : r.errorCode}`);
  }
  return { producerId: r.producerId, producerEpoch: r.producerEpoch };
}

/** The result of an external command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd` with `args` (and `stdin` text), killed after `timeoutMs`.
 * @throws when the command cannot be spawned.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  opts: { stdin?: Uint8Array | string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, opts.timeoutMs ?? 60_000);
  try {
    if (opts.stdin !== undefined) {
      const w = child.stdin.getWriter();
      const bytes = typeof opts.stdin === "string"
        ? new TextEncoder().encode(opts.stdin)
        : opts.stdin;
      await w.write(bytes);
      await w.close();
    }
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
