/**
 * DescribeGroups (key 15): DescribeGroupsRequest.json / DescribeGroupsResponse.json, v0-5.
 * v1 ThrottleTimeMs; v3 authorized operations (KIP-430); v4 GroupInstanceId (KIP-345); v5
 * flexible. (Kafka 4.0's v6 is not implemented.)
 */
import type { MessageSpec } from "../message_spec.ts";

/** DescribeGroupsRequest, v0-5. */
export const DESCRIBE_GROUPS_REQUEST = {
  apiKey: 15,
  type: "request",
  name: "DescribeGroupsRequest",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "groups", type: "[]string", versions: "0+" },
    { name: "includeAuthorizedOperations", type: "bool", versions: "3+" },
  ],
} as const satisfies MessageSpec;

/** DescribeGroupsResponse, v0-5. */
export const DESCRIBE_GROUPS_RESPONSE = {
  apiKey: 15,
  type: "response",
  name: "DescribeGroupsResponse",
  validVersions: "0-5",
  flexibleVersions: "5+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "groups",
      type: "[]DescribedGroup",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "groupId", type: "string", versions: "0+" },
        { name: "groupState", type: "string", versions: "0+" },
        { name: "protocolType", type: "string", versions: "0+" },
        { name: "protocolData", type: "string", versions: "0+" },
        {
          name: "members",
          type: "[]DescribedGroupMember",
          versions: "0+",
          fields: [
            { name: "memberId", type: "string", versions: "0+" },
            {
              name: "groupInstanceId",
              type: "string",
              versions: "4+",
              nullableVersions: "4+",
              default: null,
            },
            { name: "clientId", type: "string", versions: "0+" },
            { name: "clientHost", type: "string", versions: "0+" },
            { name: "memberMetadata", type: "bytes", versions: "0+" },
            { name: "memberAssignment", type: "bytes", versions: "0+" },
          ],
        },
        {
          name: "authorizedOperations",
          type: "int32",
          versions: "3+",
          default: -2147483648,
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
