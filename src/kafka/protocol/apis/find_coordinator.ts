/**
 * FindCoordinator (key 10): FindCoordinatorRequest.json / ...Response.json, v0-6.
 * v1 KeyType (0 group, 1 transaction), ThrottleTimeMs, ErrorMessage; v3 flexible; v4
 * batches keys (KIP-699): CoordinatorKeys replaces Key and the response moves to a
 * Coordinators list; v5 TRANSACTION_ABORTABLE (KIP-890); v6 share groups (KeyType 2,
 * KIP-932).
 */
import type { MessageSpec } from "../message_spec.ts";

/** FindCoordinatorRequest, v0-6. */
export const FIND_COORDINATOR_REQUEST = {
  apiKey: 10,
  type: "request",
  name: "FindCoordinatorRequest",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "key", type: "string", versions: "0-3" },
    { name: "keyType", type: "int8", versions: "1+", default: 0 },
    { name: "coordinatorKeys", type: "[]string", versions: "4+" },
  ],
} as const satisfies MessageSpec;

/** FindCoordinatorResponse, v0-6. */
export const FIND_COORDINATOR_RESPONSE = {
  apiKey: 10,
  type: "response",
  name: "FindCoordinatorResponse",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0-3" },
    {
      name: "errorMessage",
      type: "string",
      versions: "1-3",
      nullableVersions: "1-3",
      default: null,
    },
    { name: "nodeId", type: "int32", versions: "0-3" },
    { name: "host", type: "string", versions: "0-3" },
    { name: "port", type: "int32", versions: "0-3" },
    {
      name: "coordinators",
      type: "[]Coordinator",
      versions: "4+",
      fields: [
        { name: "key", type: "string", versions: "4+" },
        { name: "nodeId", type: "int32", versions: "4+" },
        { name: "host", type: "string", versions: "4+" },
        { name: "port", type: "int32", versions: "4+" },
        { name: "errorCode", type: "int16", versions: "4+" },
        {
          name: "errorMessage",
          type: "string",
          versions: "4+",
          nullableVersions: "4+",
          default: null,
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
