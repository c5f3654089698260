/**
 * Produce (key 0): appends each partition's record batches through the log service and
 * answers per partition with the base offset or an error code. acks=0 sends no response:
 * the handler returns the body all the same and the connection loop drops it, closing the
 * connection when a partition failed, as Kafka's KafkaApis does (the producer learns of the
 * failure by reconnecting);
 * acks=1 and acks=-1 (all) answer once the append is durable per the node's fsync policy (on
 * one node the leader is the whole replication quorum). Transactions are not supported yet.
 * Internal topics (__consumer_offsets, ...) are written by the node only, never by clients.
 */
import type { ProduceOutcome } from "../../../cluster/mod.ts";
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { partitionErrorCode } from "./_common.ts";

/** The Produce handler. */
export const handleProduce: Handler<"Produce"> = async (req, ctx) => {
  const acks = req.acks;
  const validAcks = acks === 0 || acks === 1 || acks === -1;
  const transactional = req.transactionalId !== null;
  const pending: Array<
    { topic: number; partition: number; index: number; outcome: Promise<ProduceOutcome> }
  > = [];
  const responses = req.topicData.map((t, ti) => ({
    name: t.name,
    partitionResponses: t.partitionData.map((p, pi) => {
      const base = {
        index: p.index,
        errorCode: ErrorCode.NONE as number,
        baseOffset: -1n,
        logAppendTimeMs: -1n,
        logStartOffset: -1n,
        recordErrors: [],
        errorMessage: null as string | null,
      };
      if (!validAcks) return { ...base, errorCode: ErrorCode.INVALID_REQUIRED_ACKS };
      if (transactional) {
        return {
          ...base,
          errorCode: ErrorCode.INVALID_TXN_STATE,
          errorMessage: "Transactions are not supported yet",
        };
      }
      if (p.records === null) {
        return { ...base, errorCode: ErrorCode.CORRUPT_MESSAGE, errorMessage: "No records" };
      }
      // Every partition's append starts now, in request order; their syncs overlap.
      pending.push({
        topic: ti,
        partition: pi,
        index: p.index,
        outcome: ctx.broker.logs.produce(t.name, p.index, p.records, acks === -1, {
          // Cluster mode waits this long for the replication quorum (REQUEST_TIMED_OUT after).
          timeoutMs: req.timeoutMs > 0 ? req.timeoutMs : undefined,
        }),
      });
      return base;
    }),
  }));
  const settled = await Promise.all(pending.map((x) => x.outcome));
  settled.forEach((outcome, i) => {
    const slot = pending[i];
    const resp = slot && responses[slot.topic]?.partitionResponses[slot.partition];
    if (!resp) return;
    if (outcome.type === "ok") {
      resp.baseOffset = BigInt(outcome.baseOffset);
      resp.logAppendTimeMs = BigInt(outcome.logAppendTimeMs);
      resp.logStartOffset = BigInt(outcome.logStartOffset);
    } else {
      resp.errorCode = partitionErrorCode(outcome.kind);
      resp.errorMessage = outcome.message;
    }
  });
  return { responses, throttleTimeMs: 0 };
};
