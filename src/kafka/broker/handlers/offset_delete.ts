/**
 * OffsetDelete (key 47, KIP-496): removes committed offsets of a group with tombstones in
 * `__consumer_offsets`. A partition whose topic a live member of a "consumer" group
 * subscribes to is refused with GROUP_SUBSCRIBED_TO_TOPIC; a non-empty group of another
 * protocol type with NON_EMPTY_GROUP; an unknown group with GROUP_ID_NOT_FOUND.
 */
import type { Handler } from "../broker_context.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** The OffsetDelete handler. */
export const handleOffsetDelete: Handler<"OffsetDelete"> = async (req, ctx) => {
  const r = await ctx.broker.groups.deleteOffsets(
    req.groupId,
    req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => p.partitionIndex),
    })),
  );
  if (r.type === "error") {
    return { errorCode: groupErrorCode(r.error), throttleTimeMs: 0, topics: [] };
  }
  let i = 0;
  return {
    errorCode: groupErrorCode(null),
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: groupErrorCode(r.results[i++]?.error ?? null),
      })),
    })),
  };
};
