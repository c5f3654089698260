/**
 * OffsetForLeaderEpoch (key 23), v0-4: the end offset of a leader epoch, used by consumers to
 * detect log truncation after a leader change (KIP-320) and by followers (KIP-101).
 *
 * On a single node every partition has one leader epoch, 0, from its log start offset on. As
 * Kafka's leader answers (Partition.lastOffsetForLeaderEpoch):
 * - `currentLeaderEpoch` (v2+; -1 = not given) older than 0 is FENCED_LEADER_EPOCH, newer
 *   is UNKNOWN_LEADER_EPOCH (the client has heard of a leader this node has not);
 * - requested epoch 0 (the latest) answers epoch 0 and the log end offset;
 * - requested epoch -1, or one newer than 0, answers epoch -1 and offset -1 with no error
 *   (Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET: the client then knows nothing was
 *   ever written in that epoch here);
 * - a requested epoch below 0 (other than -1) answers that epoch and the log start offset.
 * v1+ carry the epoch, v2+ the throttle time and current epoch, v3+ the replica id (ignored:
 * consumers and followers get the same answer on one node), v4 is flexible.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf } from "./_admin_common.ts";

/** Kafka's "no current epoch given" (also what versions before v2 decode to). */
const NO_CURRENT_EPOCH = -1;

/** The OffsetForLeaderEpoch handler. */
export const handleOffsetForLeaderEpoch: Handler<"OffsetForLeaderEpoch"> = (req, ctx) => {
  const admin = adminOf(ctx.broker);
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const current = ctx.version >= 2 ? p.currentLeaderEpoch : NO_CURRENT_EPOCH;
        const r = admin.offsetForLeaderEpoch(t.topic, p.partition, current, p.leaderEpoch);
        if (r.type === "error") {
          return {
            errorCode: adminErrorCode(r.kind),
            partition: p.partition,
            leaderEpoch: -1,
            endOffset: -1n,
          };
        }
        return {
          errorCode: ErrorCode.NONE,
          partition: p.partition,
          leaderEpoch: r.leaderEpoch,
          endOffset: BigInt(r.endOffset),
        };
      }),
    })),
  };
};
