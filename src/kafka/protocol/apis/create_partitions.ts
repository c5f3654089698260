/**
 * CreatePartitions (key 37): CreatePartitionsRequest.json / CreatePartitionsResponse.json,
 * v0-3. v1 is the same as v0 (throttling after the response, KIP-219); v2 flexible; v3
 * same as v2 (KIP-599 quota errors).
 */
import type { MessageSpec } from "../message_spec.ts";

/** CreatePartitionsRequest, v0-3. */
export const CREATE_PARTITIONS_REQUEST = {
  apiKey: 37,
  type: "request",
  name: "CreatePartitionsRequest",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    {
      name: "topics",
      type: "[]CreatePartitionsTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "count", type: "int32", versions: "0+" },
        {
          name: "assignments",
          type: "[]CreatePartitionsAssignment",
          versions: "0+",
          nullableVersions: "0+",
          fields: [{ name: "brokerIds", type: "[]int32", versions: "0+" }],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+" },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

/** CreatePartitionsResponse, v0-3. */
export const CREATE_PARTITIONS_RESPONSE = {
  apiKey: 37,
  type: "response",
  name: "CreatePartitionsResponse",
  validVersions: "0-3",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "results",
      type: "[]CreatePartitionsTopicResult",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        {
          name: "errorMessage",
          type: "string",
          versions: "0+",
          nullableVersions: "0+",
          default: null,
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
