/**
 * DeleteGroups (key 42, KIP-229): deletes empty groups and tombstones their committed
 * offsets; NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown groups.
 * Answered once the tombstones are durable.
 */
import type { Handler } from "../broker_context.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** The DeleteGroups handler. */
export const handleDeleteGroups: Handler<"DeleteGroups"> = async (req, ctx) => {
  const results = await ctx.broker.groups.deleteGroups(req.groupsNames);
  return {
    throttleTimeMs: 0,
    results: results.map((r) => ({ groupId: r.groupId, errorCode: groupErrorCode(r.error) })),
  };
};
