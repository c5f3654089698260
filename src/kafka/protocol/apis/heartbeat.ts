/**
 * Heartbeat (key 12): HeartbeatRequest.json / HeartbeatResponse.json, v0-4.
 * v1 ThrottleTimeMs; v3 GroupInstanceId (KIP-345); v4 flexible.
 */
import type { MessageSpec } from "../message_spec.ts";

/** HeartbeatRequest, v0-4. */
export const HEARTBEAT_REQUEST = {
  apiKey: 12,
  type: "request",
  name: "HeartbeatRequest",
  validVersions: "0-4",
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
  ],
} as const satisfies MessageSpec;

/** HeartbeatResponse, v0-4. */
export const HEARTBEAT_RESPONSE = {
  apiKey: 12,
  type: "response",
  name: "HeartbeatResponse",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
  ],
} as const satisfies MessageSpec;
