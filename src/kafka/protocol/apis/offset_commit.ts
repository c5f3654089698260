/**
 * OffsetCommit (key 8): OffsetCommitRequest.json / OffsetCommitResponse.json, v0-9.
 * v1 GenerationId, MemberId and a per-partition CommitTimestamp (v1 only); v2-4
 * RetentionTimeMs (removed in v5, KIP-211); v3 ThrottleTimeMs; v6 CommittedLeaderEpoch
 * (KIP-320); v7 GroupInstanceId (KIP-345); v8 flexible; v9 the generation field carries a
 * member epoch for KIP-848 groups (hence its name).
 */
import type { MessageSpec } from "../message_spec.ts";

/** OffsetCommitRequest, v0-9. */
export const OFFSET_COMMIT_REQUEST = {
  apiKey: 8,
  type: "request",
  name: "OffsetCommitRequest",
  validVersions: "0-9",
  flexibleVersions: "8+",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    { name: "generationIdOrMemberEpoch", type: "int32", versions: "1+", default: -1 },
    { name: "memberId", type: "string", versions: "1+", default: "" },
    {
      name: "groupInstanceId",
      type: "string",
      versions: "7+",
      nullableVersions: "7+",
      default: null,
    },
    { name: "retentionTimeMs", type: "int64", versions: "2-4", default: -1 },
    {
      name: "topics",
      type: "[]OffsetCommitRequestTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]OffsetCommitRequestPartition",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "committedOffset", type: "int64", versions: "0+" },
            { name: "committedLeaderEpoch", type: "int32", versions: "6+", default: -1 },
            { name: "commitTimestamp", type: "int64", versions: "1", default: -1 },
            { name: "committedMetadata", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** OffsetCommitResponse, v0-9. */
export const OFFSET_COMMIT_RESPONSE = {
  apiKey: 8,
  type: "response",
  name: "OffsetCommitResponse",
  validVersions: "0-9",
  flexibleVersions: "8+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "3+" },
    {
      name: "topics",
      type: "[]OffsetCommitResponseTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]OffsetCommitResponsePartition",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
