/**
 * OffsetCommit (key 8): stores a group's consumed positions durably in `__consumer_offsets`
 * and answers once they are durable. v0 (no generation, no member) and generation -1 are
 * "simple" commits into an empty or new group; from v1 a group member's generation and id
 * are checked. v1 carries a per-partition commit timestamp; v2-4 a retention time (ignored:
 * offsets do not expire, KIP-211 removed it in v5); v6+ the leader epoch (KIP-320); v7+
 * group.instance.id (KIP-345). Unknown topics get UNKNOWN_TOPIC_OR_PARTITION per partition.
 */
import type { Handler } from "../broker_context.ts";
import { toNumber } from "./_common.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** The OffsetCommit handler. */
export const handleOffsetCommit: Handler<"OffsetCommit"> = async (req, ctx) => {
  const v = ctx.version;
  const outcomes = await ctx.broker.groups.commitOffsets({
    groupId: req.groupId,
    generationId: v >= 1 ? req.generationIdOrMemberEpoch : -1,
    memberId: v >= 1 ? req.memberId : "",
    groupInstanceId: v >= 7 ? req.groupInstanceId : null,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionIndex,
        offset: toNumber(p.committedOffset),
        leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
        metadata: p.committedMetadata,
        commitTimestampMs: v === 1 ? toNumber(p.commitTimestamp) : -1,
      })),
    })),
  });
  // The service answers partitions in request order; regroup them under their topics.
  let i = 0;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: groupErrorCode(outcomes[i++]?.error ?? null),
      })),
    })),
  };
};
