/**
 * ListGroups (key 16): ListGroupsRequest.json / ListGroupsResponse.json, v0-5.
 * v1 ThrottleTimeMs; v3 flexible; v4 StatesFilter and GroupState (KIP-518); v5
 * TypesFilter and GroupType (KIP-848).
 */
import type { MessageSpec } from "../message_spec.ts";

/** ListGroupsRequest, v0-5. */
export const LIST_GROUPS_REQUEST = {
  apiKey: 16,
  type: "request",
  name: "ListGroupsRequest",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "statesFilter", type: "[]string", versions: "4+" },
    { name: "typesFilter", type: "[]string", versions: "5+" },
  ],
} as const satisfies MessageSpec;

/** ListGroupsResponse, v0-5. */
export const LIST_GROUPS_RESPONSE = {
  apiKey: 16,
  type: "response",
  name: "ListGroupsResponse",
  validVersions: "0-5",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "groups",
      type: "[]ListedGroup",
      versions: "0+",
      fields: [
        { name: "groupId", type: "string", versions: "0+" },
        { name: "protocolType", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "4+" },
        { name: "groupType", type: "string", versions: "5+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
