/**
 * DescribeProducers (key 61), v0 (KIP-664): the idempotent producers each partition knows,
 * with their epoch, last sequence and last timestamp. Transactions are not built, so the
 * coordinator epoch and current transaction start offset are always -1. An unknown topic or
 * partition is UNKNOWN_TOPIC_OR_PARTITION; a log that cannot be read answers its storage
 * error for that partition only.
 */
import { StorageError } from "../../../util/mod.ts";
import type { Handler, RequestContext } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** The DescribeProducers handler. */
export const handleDescribeProducers: Handler<"DescribeProducers"> = (req, ctx) => ({
  throttleTimeMs: 0,
  topics: req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((p) => describePartition(t.name, p, ctx)),
  })),
});

function describePartition(topic: string, partition: number, ctx: RequestContext) {
  const base = {
    partitionIndex: partition,
    errorCode: ErrorCode.NONE as number,
    errorMessage: null as string | null,
    activeProducers: [],
  };
  const info = ctx.broker.store.topic(topic);
  if (!info || partition < 0 || partition >= info.partitions) {
    return {
      ...base,
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `Unknown topic or partition "${topic}-${partition}"`,
    };
  }
  try {
    return {
      ...base,
      activeProducers: ctx.broker.logs.producers(topic, partition).map((s) => ({
        producerId: s.producerId,
        producerEpoch: s.epoch,
        lastSequence: s.lastSequence,
        lastTimestamp: BigInt(s.lastTimestampMs),
        coordinatorEpoch: -1,
        currentTxnStartOffset: -1n,
      })),
    };
  } catch (e) {
    if (!(e instanceof StorageError)) throw e;
    return {
      ...base,
      errorCode: e.code === "corrupt" ? ErrorCode.CORRUPT_MESSAGE : ErrorCode.KAFKA_STORAGE_ERROR,
      errorMessage: e.message,
    };
  }
}
