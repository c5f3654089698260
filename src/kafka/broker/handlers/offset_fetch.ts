/**
 * OffsetFetch (key 9): a group's committed offsets; -1 (with empty metadata) for partitions
 * without one, which tells the consumer to apply its auto.offset.reset. v2+ null topics mean
 * every committed partition and add a top-level error; v5+ the committed leader epoch
 * (KIP-320); v7 requireStable (KIP-447: nothing is pending without transactions, so every
 * offset is stable); v8+ several groups per request (KIP-709). Empty group ids are allowed,
 * as Kafka allows them for offset APIs.
 */
import type { FetchedOffset } from "../../../cluster/mod.ts";
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** Version from which OffsetFetch batches groups (KIP-709). */
const BATCH_VERSION = 8;

function partitionOf(p: FetchedOffset) {
  return {
    partitionIndex: p.partition,
    committedOffset: BigInt(p.committed?.offset ?? -1),
    committedLeaderEpoch: p.committed?.leaderEpoch ?? -1,
    metadata: p.committed?.metadata ?? "",
    errorCode: ErrorCode.NONE,
  };
}

/** The OffsetFetch handler. */
export const handleOffsetFetch: Handler<"OffsetFetch"> = (req, ctx) => {
  const groups = ctx.broker.groups;
  const fetch = (groupId: string, topics: typeof req.topics) =>
    // Not this node's group (cluster mode): every listed partition says NOT_COORDINATOR too,
    // for the versions without a top-level error code.
    !groups.coordinates(groupId)
      ? (topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => ({
          ...partitionOf({ partition: p, committed: undefined }),
          errorCode: ErrorCode.NOT_COORDINATOR,
        })),
      }))
      : groups.fetchOffsets(
        groupId,
        topics === null
          ? null
          : topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes })),
      ).map((t) => ({ name: t.topic, partitions: t.partitions.map(partitionOf) }));
  if (ctx.version >= BATCH_VERSION) {
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => ({
        groupId: g.groupId,
        topics: fetch(g.groupId, g.topics),
        errorCode: groups.coordinates(g.groupId) ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR,
      })),
    };
  }
  return {
    throttleTimeMs: 0,
    topics: fetch(req.groupId, req.topics),
    errorCode: groups.coordinates(req.groupId) ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR,
  };
};
