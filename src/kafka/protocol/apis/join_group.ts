/**
 * JoinGroup (key 11): JoinGroupRequest.json / JoinGroupResponse.json, v0-9.
 * v1 RebalanceTimeoutMs; v2 ThrottleTimeMs; v4 MEMBER_ID_REQUIRED handshake (KIP-394); v5
 * GroupInstanceId, static membership (KIP-345); v6 flexible; v7 ProtocolType in the
 * response (KIP-559); v8 Reason (KIP-800); v9 SkipAssignment (KIP-814).
 */
import type { MessageSpec } from "../message_spec.ts";

/** JoinGroupRequest, v0-9. */
export const JOIN_GROUP_REQUEST = {
  apiKey: 11,
  type: "request",
  name: "JoinGroupRequest",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "sessionTimeoutMs", type: "int32", versions: "0+" },
    // v0 clients have no rebalance timeout; Kafka then uses the session timeout.
    { name: "rebalanceTimeoutMs", type: "int32", versions: "1+", default: -1 },
    { name: "memberId", type: "string", versions: "0+" },
    {
      name: "groupInstanceId",
      type: "string",
      versions: "5+",
      nullableVersions: "5+",
      default: null,
    },
    { name: "protocolType", type: "string", versions: "0+" },
    {
      name: "protocols",
      type: "[]JoinGroupRequestProtocol",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "metadata", type: "bytes", versions: "0+" },
      ],
    },
    { name: "reason", type: "string", versions: "8+", nullableVersions: "8+", default: null },
  ],
} as const satisfies MessageSpec;

/** JoinGroupResponse, v0-9. */
export const JOIN_GROUP_RESPONSE = {
  apiKey: 11,
  type: "response",
  name: "JoinGroupResponse",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "generationId", type: "int32", versions: "0+", default: -1 },
    { name: "protocolType", type: "string", versions: "7+", nullableVersions: "7+", default: null },
    { name: "protocolName", type: "string", versions: "0+", nullableVersions: "7+" },
    { name: "leader", type: "string", versions: "0+" },
    { name: "skipAssignment", type: "bool", versions: "9+", default: false },
    { name: "memberId", type: "string", versions: "0+" },
    {
      name: "members",
      type: "[]JoinGroupResponseMember",
      versions: "0+",
      fields: [
        { name: "memberId", type: "string", versions: "0+" },
        {
          name: "groupInstanceId",
          type: "string",
          versions: "5+",
          nullableVersions: "5+",
          default: null,
        },
        { name: "metadata", type: "bytes", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
