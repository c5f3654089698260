/**
 * OffsetDelete (key 47): OffsetDeleteRequest.json / OffsetDeleteResponse.json, v0 only
 * (KIP-496); never flexible.
 */
import type { MessageSpec } from "../message_spec.ts";

/** OffsetDeleteRequest, v0. */
export const OFFSET_DELETE_REQUEST = {
  apiKey: 47,
  type: "request",
  name: "OffsetDeleteRequest",
  validVersions: "0",
  flexibleVersions: "none",
  fields: [
    { name: "groupId", type: "string", versions: "0+" },
    {
      name: "topics",
      type: "[]OffsetDeleteRequestTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]OffsetDeleteRequestPartition",
          versions: "0+",
          fields: [{ name: "partitionIndex", type: "int32", versions: "0+" }],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** OffsetDeleteResponse, v0. */
export const OFFSET_DELETE_RESPONSE = {
  apiKey: 47,
  type: "response",
  name: "OffsetDeleteResponse",
  validVersions: "0",
  flexibleVersions: "none",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "topics",
      type: "[]OffsetDeleteResponseTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]OffsetDeleteResponsePartition",
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
