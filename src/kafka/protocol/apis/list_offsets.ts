/**
 * ListOffsets (key 2): ListOffsetsRequest.json / ListOffsetsResponse.json, v0-9.
 * v0 answers a list of old-style offsets (MaxNumOffsets); v1 a single Timestamp/Offset
 * (KIP-79); v2 IsolationLevel and ThrottleTimeMs (KIP-98); v4 leader epochs (KIP-320); v6
 * flexible; v7 MAX_TIMESTAMP (-3, KIP-734); v8 EARLIEST_LOCAL (-4, KIP-405); v9
 * LATEST_TIERED (-5, KIP-1005). Kafka 4.0's v10 is not implemented.
 */
import type { MessageSpec } from "../message_spec.ts";

/** ListOffsetsRequest, v0-9. */
export const LIST_OFFSETS_REQUEST = {
  apiKey: 2,
  type: "request",
  name: "ListOffsetsRequest",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "replicaId", type: "int32", versions: "0+" },
    { name: "isolationLevel", type: "int8", versions: "2+", default: 0 },
    {
      name: "topics",
      type: "[]ListOffsetsTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]ListOffsetsPartition",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "currentLeaderEpoch", type: "int32", versions: "4+", default: -1 },
            { name: "timestamp", type: "int64", versions: "0+" },
            { name: "maxNumOffsets", type: "int32", versions: "0", default: 1 },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** ListOffsetsResponse, v0-9. */
export const LIST_OFFSETS_RESPONSE = {
  apiKey: 2,
  type: "response",
  name: "ListOffsetsResponse",
  validVersions: "0-9",
  flexibleVersions: "6+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "[]ListOffsetsTopicResponse",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]ListOffsetsPartitionResponse",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "oldStyleOffsets", type: "[]int64", versions: "0" },
            { name: "timestamp", type: "int64", versions: "1+", default: -1 },
            { name: "offset", type: "int64", versions: "1+", default: -1 },
            { name: "leaderEpoch", type: "int32", versions: "4+", default: -1 },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
