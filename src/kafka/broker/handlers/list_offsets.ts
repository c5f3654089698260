/**
 * ListOffsets (key 2): earliest (-2), latest (-1, the high watermark), max timestamp (-3,
 * v7+) or the first offset whose timestamp is at or after a time. v0 answers in the old
 * style (an array of offsets); v1+ with one offset and its timestamp; v4+ with the epoch.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { partitionErrorCode, toNumber } from "./_common.ts";

/** The ListOffsets handler. */
export const handleListOffsets: Handler<"ListOffsets"> = (req, ctx) => ({
  throttleTimeMs: 0,
  topics: req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      const epoch = p.currentLeaderEpoch;
      const base = {
        partitionIndex: p.partitionIndex,
        errorCode: ErrorCode.NONE as number,
        oldStyleOffsets: [] as bigint[],
        timestamp: -1n,
        offset: -1n,
        leaderEpoch: -1,
      };
      if (epoch > 0) return { ...base, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH };
      const r = ctx.broker.logs.listOffset(t.name, p.partitionIndex, toNumber(p.timestamp));
      if (r.type === "error") return { ...base, errorCode: partitionErrorCode(r.kind) };
      return {
        ...base,
        oldStyleOffsets: r.offset >= 0 ? [BigInt(r.offset)] : [],
        timestamp: BigInt(r.timestampMs),
        offset: BigInt(r.offset),
        leaderEpoch: r.leaderEpoch,
      };
    }),
  })),
});
