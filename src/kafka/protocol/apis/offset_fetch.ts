/**
 * OffsetFetch (key 9): OffsetFetchRequest.json / OffsetFetchResponse.json, v0-9.
 * v1 offsets from Kafka storage instead of ZooKeeper; v2 null Topics = all partitions and a
 * top-level ErrorCode; v3 ThrottleTimeMs; v5 CommittedLeaderEpoch (KIP-320); v6 flexible;
 * v7 RequireStable (KIP-447); v8 batches several groups (KIP-709): Groups replaces
 * GroupId/Topics; v9 MemberId/MemberEpoch for KIP-848 groups.
 */
import type { MessageSpec } from "../message_spec.ts";

/** OffsetFetchRequest, v0-9. */
export const OFFSET_FETCH_REQUEST = {
  apiKey: 9,
  type: "request",
  name: "OffsetFetchRequest",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "groupId", type: "string", versions: "0-7" },
    {
      name: "topics",
      type: "[]OffsetFetchRequestTopic",
      versions: "0-7",
      nullableVersions: "2-7",
      fields: [
        { name: "name", type: "string", versions: "0-7" },
        { name: "partitionIndexes", type: "[]int32", versions: "0-7" },
      ],
    },
    {
      name: "groups",
      type: "[]OffsetFetchRequestGroup",
      versions: "8+",
      fields: [
        { name: "groupId", type: "string", versions: "8+" },
        { name: "memberId", type: "string", versions: "9+", nullableVersions: "9+", default: null },
        { name: "memberEpoch", type: "int32", versions: "9+", default: -1 },
        {
          name: "topics",
          type: "[]OffsetFetchRequestTopics",
          versions: "8+",
          nullableVersions: "8+",
          fields: [
            { name: "name", type: "string", versions: "8+" },
            { name: "partitionIndexes", type: "[]int32", versions: "8+" },
          ],
        },
      ],
    },
    { name: "requireStable", type: "bool", versions: "7+", default: false },
  ],
} as const satisfies MessageSpec;

/** OffsetFetchResponse, v0-9. */
export const OFFSET_FETCH_RESPONSE = {
  apiKey: 9,
  type: "response",
  name: "OffsetFetchResponse",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "3+" },
    {
      name: "topics",
      type: "[]OffsetFetchResponseTopic",
      versions: "0-7",
      fields: [
        { name: "name", type: "string", versions: "0-7" },
        {
          name: "partitions",
          type: "[]OffsetFetchResponsePartition",
          versions: "0-7",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0-7" },
            { name: "committedOffset", type: "int64", versions: "0-7" },
            { name: "committedLeaderEpoch", type: "int32", versions: "5-7", default: -1 },
            { name: "metadata", type: "string", versions: "0-7", nullableVersions: "0-7" },
            { name: "errorCode", type: "int16", versions: "0-7" },
          ],
        },
      ],
    },
    { name: "errorCode", type: "int16", versions: "2-7", default: 0 },
    {
      name: "groups",
      type: "[]OffsetFetchResponseGroup",
      versions: "8+",
      fields: [
        { name: "groupId", type: "string", versions: "8+" },
        {
          name: "topics",
          type: "[]OffsetFetchResponseTopics",
          versions: "8+",
          fields: [
            { name: "name", type: "string", versions: "8+" },
            {
              name: "partitions",
              type: "[]OffsetFetchResponsePartitions",
              versions: "8+",
              fields: [
                { name: "partitionIndex", type: "int32", versions: "8+" },
                { name: "committedOffset", type: "int64", versions: "8+" },
                { name: "committedLeaderEpoch", type: "int32", versions: "8+", default: -1 },
                { name: "metadata", type: "string", versions: "8+", nullableVersions: "8+" },
                { name: "errorCode", type: "int16", versions: "8+" },
              ],
            },
          ],
        },
        { name: "errorCode", type: "int16", versions: "8+", default: 0 },
      ],
    },
  ],
} as const satisfies MessageSpec;
