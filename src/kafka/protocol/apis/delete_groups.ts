/**
 * DeleteGroups (key 42): DeleteGroupsRequest.json / DeleteGroupsResponse.json, v0-2
 * (KIP-229). v1 same as v0; v2 flexible.
 */
import type { MessageSpec } from "../message_spec.ts";

/** DeleteGroupsRequest, v0-2. */
export const DELETE_GROUPS_REQUEST = {
  apiKey: 42,
  type: "request",
  name: "DeleteGroupsRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [{ name: "groupsNames", type: "[]string", versions: "0+" }],
} as const satisfies MessageSpec;

/** DeleteGroupsResponse, v0-2. */
export const DELETE_GROUPS_RESPONSE = {
  apiKey: 42,
  type: "response",
  name: "DeleteGroupsResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "[]DeletableGroupResult",
      versions: "0+",
      fields: [
        { name: "groupId", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
