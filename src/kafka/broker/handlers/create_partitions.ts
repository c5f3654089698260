/**
 * CreatePartitions (key 37), v0-3 (KIP-195): grows each topic to `count` partitions, or with
 * `validateOnly` only checks it. A count that does not grow the topic is INVALID_PARTITIONS;
 * an assignment must give one replica list per new partition naming only this node
 * (INVALID_REPLICA_ASSIGNMENT otherwise); an unknown topic is UNKNOWN_TOPIC_OR_PARTITION; a
 * topic named twice is refused in both entries (INVALID_REQUEST), as Kafka does.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf, duplicatesOf } from "./_admin_common.ts";

/** The CreatePartitions handler. */
export const handleCreatePartitions: Handler<"CreatePartitions"> = async (req, ctx) => {
  const admin = adminOf(ctx.broker);
  const dup = duplicatesOf(req.topics.map((t) => t.name));
  const results = await Promise.all(req.topics.map(async (t) => {
    if (dup.has(t.name)) {
      return {
        name: t.name,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Topic "${t.name}" is named more than once`,
      };
    }
    const assignments = t.assignments === null ? null : t.assignments.map((a) => a.brokerIds);
    const r = await admin.createPartitions(t.name, t.count, assignments, req.validateOnly);
    if (r.type === "error") {
      return { name: t.name, errorCode: adminErrorCode(r.kind), errorMessage: r.message };
    }
    if (!req.validateOnly) {
      ctx.broker.log("info", `Topic "${t.name}" now has ${r.partitions} partitions`);
    }
    return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
  }));
  return { throttleTimeMs: 0, results };
};
