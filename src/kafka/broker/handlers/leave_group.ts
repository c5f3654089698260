/**
 * LeaveGroup (key 13): members leave so the group rebalances at once instead of waiting for
 * their sessions to expire. v0-2 name one member and answer with one error; v3+ batch
 * members, by member id or by group.instance.id (KIP-345), and answer per member.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** Version from which LeaveGroup carries a batch of members. */
const BATCH_VERSION = 3;

/** The LeaveGroup handler. */
export const handleLeaveGroup: Handler<"LeaveGroup"> = (req, ctx) => {
  const batch = ctx.version >= BATCH_VERSION;
  const leaving = batch
    ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
    : [{ memberId: req.memberId, groupInstanceId: null }];
  const r = ctx.broker.groups.leave(req.groupId, leaving);
  if (r.type === "error") {
    return { throttleTimeMs: 0, errorCode: groupErrorCode(r.error), members: [] };
  }
  const members = r.members.map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    errorCode: groupErrorCode(m.error),
  }));
  // Before v3 the single member's error is the response's error (LeaveGroupResponse.java).
  const first = members[0]?.errorCode ?? ErrorCode.NONE;
  return { throttleTimeMs: 0, errorCode: batch ? ErrorCode.NONE : first, members };
};
