/**
 * LeaveGroup (key 13): LeaveGroupRequest.json / LeaveGroupResponse.json, v0-5.
 * v1 ThrottleTimeMs; v3 batch of Members replaces MemberId (KIP-345); v4 flexible; v5
 * per-member Reason (KIP-800).
 */
import type { MessageSpec } from "../message_spec.ts";

/** LeaveGroupRequest, v0-5. */
export const LEAVE_GROUP_REQUEST = {
  apiKey: 13,
  type: "request",
  name: "LeaveGroupRequest",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "memberId", type: "string", versions: "0-2" },
    {
      name: "members",
      type: "[]MemberIdentity",
      versions: "3+",
      fields: [
        { name: "memberId", type: "string", versions: "3+" },
        {
          name: "groupInstanceId",
          type: "string",
          versions: "3+",
          nullableVersions: "3+",
          default: null,
        },
        { name: "reason", type: "string", versions: "5+", nullableVersions: "5+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** LeaveGroupResponse, v0-5. */
export const LEAVE_GROUP_RESPONSE = {
  apiKey: 13,
  type: "response",
  name: "LeaveGroupResponse",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "members",
      type: "[]MemberResponse",
      versions: "3+",
      fields: [
        { name: "memberId", type: "string", versions: "3+" },
        { name: "groupInstanceId", type: "string", versions: "3+", nullableVersions: "3+" },
        { name: "errorCode", type: "int16", versions: "3+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
