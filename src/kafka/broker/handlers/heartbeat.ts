/**
 * Heartbeat (key 12): keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
 * rejoin, ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID that it was left behind or removed, and
 * FENCED_INSTANCE_ID (v3+) that another instance took its group.instance.id (KIP-345).
 */
import type { Handler } from "../broker_context.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** The Heartbeat handler. */
export const handleHeartbeat: Handler<"Heartbeat"> = (req, ctx) => {
  const r = ctx.broker.groups.heartbeat({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: ctx.version >= 3 ? req.groupInstanceId : null,
  });
  return { throttleTimeMs: 0, errorCode: groupErrorCode(r.type === "error" ? r.error : null) };
};
