/**
 * OffsetForLeaderEpoch (key 23): OffsetForLeaderEpochRequest.json / ...Response.json, v0-4.
 * v1 response LeaderEpoch (KIP-279); v2 CurrentLeaderEpoch and ThrottleTimeMs (KIP-320); v3
 * ReplicaId (-1 consumer, -2 debug; KIP-392); v4 flexible. Kafka 4.0 accepts v2+.
 */
import type { MessageSpec } from "../message_spec.ts";

/** OffsetForLeaderEpochRequest, v0-4. */
export const OFFSET_FOR_LEADER_EPOCH_REQUEST = {
  apiKey: 23,
  type: "request",
  name: "OffsetForLeaderEpochRequest",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "replicaId", type: "int32", versions: "3+", default: -2 },
    {
      name: "topics",
      type: "[]OffsetForLeaderTopic",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]OffsetForLeaderPartition",
          versions: "0+",
          fields: [
            { name: "partition", type: "int32", versions: "0+" },
            { name: "currentLeaderEpoch", type: "int32", versions: "2+", default: -1 },
            { name: "leaderEpoch", type: "int32", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** OffsetForLeaderEpochResponse, v0-4. */
export const OFFSET_FOR_LEADER_EPOCH_RESPONSE = {
  apiKey: 23,
  type: "response",
  name: "OffsetForLeaderEpochResponse",
  validVersions: "0-4",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "[]OffsetForLeaderTopicResult",
      versions: "0+",
      fields: [
        { name: "topic", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]EpochEndOffset",
          versions: "0+",
          fields: [
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "partition", type: "int32", versions: "0+" },
            { name: "leaderEpoch", type: "int32", versions: "1+", default: -1 },
            { name: "endOffset", type: "int64", versions: "0+", default: -1 },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
