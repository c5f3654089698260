/**
 * Record-level produce and read over the `LogService`, for front doors that speak in records
 * rather than Kafka batches (the HTTP API, the REST Proxy compatibility layer). Records are
 * grouped per partition into one RecordBatch v2 each (Kafka's default partitioner: explicit
 * partition, else murmur2 of the key, else round-robin) and decoded back on read.
 */
import { buildBatch, decodeBatch, iterateBatches, type RecordHeader } from "../records/mod.ts";
import { partitionForKey } from "../util/mod.ts";
import type { LogService, PartitionError, ProduceOutcome } from "./log_service.ts";

/** A record to produce; key, value and header values are bytes (null allowed). */
export interface OutgoingRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  timestampMs: number;
  partition: number | null;
}

/** Where one produced record landed, or why it did not. */
export type RecordResult =
  | { type: "ok"; partition: number; offset: number }
  | (PartitionError & { partition: number });

/** A record read back. */
export interface IncomingRecord {
  offset: number;
  timestampMs: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/** The answer to a read. */
export type RecordRead =
  | {
    type: "ok";
    records: IncomingRecord[];
    nextOffset: number;
    highWatermark: number;
    logStartOffset: number;
  }
  | (PartitionError & { highWatermark: number; logStartOffset: number });

/**
 * Cluster mode: sends one partition's batch to its leader (another node) and answers as
 * `LogService.produce` would; given by the node runtime (it speaks the Kafka protocol).
 */
export type ProduceForwarder = (
  topic: string,
  partition: number,
  batch: Uint8Array,
  acksAll: boolean,
) => Promise<ProduceOutcome>;

/** Record-level produce and read. */
export class RecordService {
  readonly logs: LogService;
  readonly #forward: ProduceForwarder | undefined;
  #roundRobin = 0;

  /**
   * `forward`: in a cluster, records for partitions led by another node go to that node, so
   * an HTTP client may use any node; reads are served by any replica up to its commit end.
   */
  constructor(logs: LogService, forward?: ProduceForwarder) {
    this.logs = logs;
    this.#forward = forward;
  }

  /**
   * Produces records to a topic (auto-created when allowed); resolves with one result per
   * record, in order, once each partition's batch is durable per the node's policy.
   */
  async produce(topic: string, records: OutgoingRecord[], acksAll = true): Promise<RecordResult[]> {
    const info = this.logs.topicFor(topic, true);
    const partitions = info?.partitions ?? 0;
    const groups = new Map<number, number[]>();
    records.forEach((r, i) => {
      const p = r.partition ??
        (r.key !== null && partitions > 0
          ? partitionForKey(r.key, partitions)
          : (partitions > 0 ? this.#roundRobin++ % partitions : 0));
      const list = groups.get(p) ?? [];
      list.push(i);
      groups.set(p, list);
    });
    const results: RecordResult[] = new Array(records.length);
    // One batch per partition; their appends start now and their syncs overlap.
    await Promise.all([...groups].map(async ([p, idx]) => {
      const batch = buildBatch({
        records: idx.map((i) => {
          const r = records[i] as OutgoingRecord;
          return { key: r.key, value: r.value, headers: r.headers, timestampMs: r.timestampMs };
        }),
      });
      let out = await this.logs.produce(topic, p, batch, acksAll);
      if (out.type === "error" && out.kind === "not_leader" && this.#forward !== undefined) {
        out = await this.#forward(topic, p, batch, acksAll);
      }
      idx.forEach((i, k) => {
        results[i] = out.type === "ok"
          ? { type: "ok", partition: p, offset: out.baseOffset + k }
          : { ...out, partition: p };
      });
    }));
    return results;
  }

  /** Reads up to `maxRecords` records of one partition from `offset` (records before it skipped). */
  read(
    topic: string,
    partition: number,
    offset: number,
    maxRecords: number,
    maxBytes: number,
  ): RecordRead {
    const r = this.logs.fetch(topic, partition, offset, maxBytes, true, { fromFollower: true });
    if (r.type === "error") return r;
    const records: IncomingRecord[] = [];
    let next = offset;
    outer: for (const frame of iterateBatches(r.records)) {
      const batch = decodeBatch(frame.bytes);
      // Control batches (Raft's leader changes in a cluster, transaction markers) are not
      // records a reader sees, as Kafka consumers skip them; the position moves past them.
      if (batch.isControl) {
        next = Math.max(next, frame.header.baseOffset + frame.header.lastOffsetDelta + 1);
        continue;
      }
      for (const rec of batch.records) {
        if (rec.offset < offset || rec.offset < r.logStartOffset) continue;
        if (records.length >= maxRecords) break outer;
        records.push({
          offset: rec.offset,
          timestampMs: rec.timestampMs,
          key: rec.key,
          value: rec.value,
          headers: rec.headers,
        });
        next = rec.offset + 1;
      }
      next = Math.max(next, frame.header.baseOffset + frame.header.lastOffsetDelta + 1);
    }
    return {
      type: "ok",
      records,
      nextOffset: records.length >= maxRecords ? next : Math.max(next, r.nextOffset),
      highWatermark: r.highWatermark,
      logStartOffset: r.logStartOffset,
    };
  }
}
