/**
 * DescribeGroups (key 15): state, protocol and members of each group. As Kafka's
 * GroupSummary, member metadata and assignments are filled only in Stable; an unknown
 * group is answered as state "Dead" with no error. v3+ authorized operations are not
 * computed (INT32_MIN = "not requested / unknown"); v4+ group.instance.id.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** Kafka's "authorized operations not included" value. */
const OPERATIONS_OMITTED = -2147483648;

/** The DescribeGroups handler. */
export const handleDescribeGroups: Handler<"DescribeGroups"> = (req, ctx) => ({
  throttleTimeMs: 0,
  groups: req.groups.map((id) => {
    const d = ctx.broker.groups.coordinator.describe(id);
    return {
      // In a cluster another node may coordinate it: the client asks that one.
      errorCode: ctx.broker.groups.coordinates(id) ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR,
      groupId: d.groupId,
      groupState: d.state,
      protocolType: d.protocolType,
      protocolData: d.protocolName,
      members: d.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.metadata,
        memberAssignment: m.assignment,
      })),
      authorizedOperations: OPERATIONS_OMITTED,
    };
  }),
});
