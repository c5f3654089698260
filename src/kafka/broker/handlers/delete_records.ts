/**
 * DeleteRecords (key 21), v0-2 (KIP-107): moves each partition's log start offset forward
 * to the requested offset (-1: the high watermark), deleting the segments wholly below it,
 * and answers the new low watermark. An offset past the high watermark (or below -1) is
 * OFFSET_OUT_OF_RANGE; an offset at or below the current start changes nothing and answers
 * the current start, as Kafka does. On a replicated partition the answer waits (up to the
 * request's timeout, then REQUEST_TIMED_OUT) until every replica will delete the prefix.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf } from "./_admin_common.ts";
import { toNumber } from "./_common.ts";

/** The DeleteRecords handler. */
export const handleDeleteRecords: Handler<"DeleteRecords"> = async (req, ctx) => {
  const admin = adminOf(ctx.broker);
  // A non-positive timeout still gets a moment to commit (Kafka answers at once; a
  // replicated deletion cannot be known done without waiting for the commit).
  const timeoutMs = Math.max(1, req.timeoutMs);
  return {
    throttleTimeMs: 0,
    topics: await Promise.all(req.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(t.partitions.map(async (p) => {
        const r = await admin.deleteRecords(
          t.name,
          p.partitionIndex,
          toNumber(p.offset),
          timeoutMs,
        );
        if (r.type === "error") {
          return {
            partitionIndex: p.partitionIndex,
            lowWatermark: -1n,
            errorCode: adminErrorCode(r.kind),
          };
        }
        return {
          partitionIndex: p.partitionIndex,
          lowWatermark: BigInt(r.lowWatermark),
          errorCode: ErrorCode.NONE,
        };
      })),
    }))),
  };
};
