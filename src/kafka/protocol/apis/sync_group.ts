/**
 * SyncGroup (key 14): SyncGroupRequest.json / SyncGroupResponse.json, v0-5.
 * v1 ThrottleTimeMs; v3 GroupInstanceId (KIP-345); v4 flexible; v5 ProtocolType and
 * ProtocolName on both sides (KIP-559).
 */
import type { MessageSpec } from "../message_spec.ts";

/** SyncGroupRequest, v0-5. */
export const SYNC_GROUP_REQUEST = {
  apiKey: 14,
  type: "request",
  name: "SyncGroupRequest",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "generationId", type: "int32", versions: "0+" },
    { name: "memberId", type: "string", versions: "0+" },
    {
      name: "groupInstanceId",
      type: "string",
      versions: "3+",
      nullableVersions: "3+",
      default: null,
    },
    { name: "protocolType", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolName", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    {
      name: "assignments",
      type: "[]SyncGroupRequestAssignment",
      versions: "0+",
      fields: [
        { name: "memberId", type: "string", versions: "0+" },
        { name: "assignment", type: "bytes", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** SyncGroupResponse, v0-5. */
export const SYNC_GROUP_RESPONSE = {
  apiKey: 14,
  type: "response",
  name: "SyncGroupResponse",
  validVersions: "0-5",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "protocolType", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "protocolName", type: "string", versions: "5+", nullableVersions: "5+", default: null },
    { name: "assignment", type: "bytes", versions: "0+" },
  ],
} as const satisfies MessageSpec;
