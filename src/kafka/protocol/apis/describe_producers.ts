/**
 * DescribeProducers (key 61): DescribeProducersRequest.json / ...Response.json, v0 only
 * (KIP-664); flexible from v0.
 */
import type { MessageSpec } from "../message_spec.ts";

/** DescribeProducersRequest, v0. */
export const DESCRIBE_PRODUCERS_REQUEST = {
  apiKey: 61,
  type: "request",
  name: "DescribeProducersRequest",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    {
      name: "topics",
      type: "[]TopicRequest",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "partitionIndexes", type: "[]int32", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** DescribeProducersResponse, v0. */
export const DESCRIBE_PRODUCERS_RESPONSE = {
  apiKey: 61,
  type: "response",
  name: "DescribeProducersResponse",
  validVersions: "0",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "topics",
      type: "[]TopicResponse",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitions",
          type: "[]PartitionResponse",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            {
              name: "errorMessage",
              type: "string",
              versions: "0+",
              nullableVersions: "0+",
              default: null,
            },
            {
              name: "activeProducers",
              type: "[]ProducerState",
              versions: "0+",
              fields: [
                { name: "producerId", type: "int64", versions: "0+" },
                { name: "producerEpoch", type: "int32", versions: "0+" },
                { name: "lastSequence", type: "int32", versions: "0+", default: -1 },
                { name: "lastTimestamp", type: "int64", versions: "0+", default: -1 },
                { name: "coordinatorEpoch", type: "int32", versions: "0+" },
                { name: "currentTxnStartOffset", type: "int64", versions: "0+", default: -1 },
              ],
            },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
