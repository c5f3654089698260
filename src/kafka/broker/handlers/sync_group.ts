/**
 * SyncGroup (key 14): the leader hands in every member's assignment; followers wait for it
 * (bounded by the rebalance timeout, aborted when the connection closes). The answer always
 * carries the member's assignment bytes, empty rather than absent (clients such as franz-go
 * fail on a missing assignment; the Tansu trap). v3+ group.instance.id; v5+ protocol type
 * and name are checked and echoed (KIP-559).
 */
import type { Handler } from "../broker_context.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** The SyncGroup handler. */
export const handleSyncGroup: Handler<"SyncGroup"> = async (req, ctx) => {
  const v5 = ctx.version >= 5;
  const outcome = await ctx.broker.groups.sync({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: ctx.version >= 3 ? req.groupInstanceId : null,
    protocolType: v5 ? req.protocolType : null,
    protocolName: v5 ? req.protocolName : null,
    assignments: req.assignments.map((a) => ({
      memberId: a.memberId,
      assignment: a.assignment,
    })),
  }, ctx.signal);
  if (outcome.type === "error") {
    return {
      throttleTimeMs: 0,
      errorCode: groupErrorCode(outcome.error),
      protocolType: null,
      protocolName: null,
      assignment: new Uint8Array(0),
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode: groupErrorCode(null),
    protocolType: outcome.protocolType,
    protocolName: outcome.protocolName,
    assignment: outcome.assignment,
  };
};
