/**
 * DeleteRecords (key 21), v0-2 (KIP-107): moves each partition's log start offset forward
 * to the requested offset (-1: the high watermark), deleting the segments wholly below it,
 * and answers the new low watermark. An offset past the high watermark (or below -1) is
 * OFFSET_OUT_OF_RANGE; an offset at or below the current start changes nothing and answers
 * the current start, as Kafka does.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf } from "./_admin_common.ts";
import { toNumber } from "./_common.ts";

/** The DeleteRecords handler. */
export const handleDeleteRecords: Handler<"DeleteRecords"> = (req, ctx) => {
  const admin = adminOf(ctx.broker);
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const r = admin.deleteRecords(t.name, p.partitionIndex, toNumber(p.offset));
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
      }),
    })),
  };
};
