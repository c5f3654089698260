/**
 * DeleteRecords (key 21): DeleteRecordsRequest.json / DeleteRecordsResponse.json, v0-2
 * (KIP-107). v1 same as v0; v2 flexible. Offset -1 means "up to the high watermark".
 */
import type { MessageSpec } from "../message_spec.ts";

/** DeleteRecordsRequest, v0-2. */
export const DELETE_RECORDS_REQUEST = {
  apiKey: 21,
  type: "request",
  name: "DeleteRecordsRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    {
      name: "topics",
      type: "[]DeleteRecordsTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]DeleteRecordsPartition",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "offset", type: "int64", versions: "0+" },
          ],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+" },
  ],
} as const satisfies MessageSpec;

/** DeleteRecordsResponse, v0-2. */
export const DELETE_RECORDS_RESPONSE = {
  apiKey: 21,
  type: "response",
  name: "DeleteRecordsResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "topics",
      type: "[]DeleteRecordsTopicResult",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]DeleteRecordsPartitionResult",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "lowWatermark", type: "int64", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
