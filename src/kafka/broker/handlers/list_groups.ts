/**
 * ListGroups (key 16): every known group with its protocol type; v4+ with its state and an
 * optional states filter (KIP-518, case-insensitive); v5+ with its type and a types filter
 * (KIP-848): every group here is "classic".
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** The only group type this broker runs (KIP-848 names). */
const GROUP_TYPE = "classic";

/** The ListGroups handler. */
export const handleListGroups: Handler<"ListGroups"> = (req, ctx) => {
  const states = ctx.version >= 4 ? req.statesFilter : [];
  const types = ctx.version >= 5 ? req.typesFilter.map((t) => t.toLowerCase()) : [];
  const groups = types.length > 0 && !types.includes(GROUP_TYPE)
    ? []
    : ctx.broker.groups.coordinator.list(states);
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    groups: groups.map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      groupState: g.state,
      groupType: GROUP_TYPE,
    })),
  };
};
