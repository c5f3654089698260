/**
 * Produce (key 0): ProduceRequest.json / ProduceResponse.json, v0-11.
 * Kafka 4.0 rejects v0-2 (KIP-896) but Pyralog advertises from v0: librdkafka < 2.11.1 only
 * enables compression when the advertised range contains v0 (KAFKA-18659, KAFKA-CLIENTS.md).
 * v1 ThrottleTimeMs; v2 LogAppendTimeMs; v3 TransactionalId (RecordBatch v2 only); v5
 * LogStartOffset; v8 RecordErrors/ErrorMessage (KIP-467); v9 flexible; v10 CurrentLeader
 * and NodeEndpoints tagged (KIP-951); v11 same as v10 (KIP-890).
 * Records stay raw bytes: a view into the request frame, never copied or parsed here.
 */
import type { MessageSpec } from "../message_spec.ts";

/** ProduceRequest, v0-11. */
export const PRODUCE_REQUEST = {
  apiKey: 0,
  type: "request",
  name: "ProduceRequest",
  validVersions: "0-11",
  flexibleVersions: "9+",
  fields: [
    {
      name: "transactionalId",
      type: "string",
      versions: "3+",
      nullableVersions: "3+",
      default: null,
    },
    { name: "acks", type: "int16", versions: "0+" },
    { name: "timeoutMs", type: "int32", versions: "0+" },
    {
      name: "topicData",
      type: "[]TopicProduceData",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitionData",
          type: "[]PartitionProduceData",
          versions: "0+",
          fields: [
            { name: "index", type: "int32", versions: "0+" },
            { name: "records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;

/** ProduceResponse, v0-11. */
export const PRODUCE_RESPONSE = {
  apiKey: 0,
  type: "response",
  name: "ProduceResponse",
  validVersions: "0-11",
  flexibleVersions: "9+",
  fields: [
    {
      name: "responses",
      type: "[]TopicProduceResponse",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "partitionResponses",
          type: "[]PartitionProduceResponse",
          versions: "0+",
          fields: [
            { name: "index", type: "int32", versions: "0+" },
            { name: "errorCode", type: "int16", versions: "0+" },
            { name: "baseOffset", type: "int64", versions: "0+" },
            { name: "logAppendTimeMs", type: "int64", versions: "2+", default: -1 },
            { name: "logStartOffset", type: "int64", versions: "5+", default: -1 },
            {
              name: "recordErrors",
              type: "[]BatchIndexAndErrorMessage",
              versions: "8+",
              fields: [
                { name: "batchIndex", type: "int32", versions: "8+" },
                {
                  name: "batchIndexErrorMessage",
                  type: "string",
                  versions: "8+",
                  nullableVersions: "8+",
                  default: null,
                },
              ],
            },
            {
              name: "errorMessage",
              type: "string",
              versions: "8+",
              nullableVersions: "8+",
              default: null,
            },
            {
              name: "currentLeader",
              type: "LeaderIdAndEpoch",
              versions: "10+",
              taggedVersions: "10+",
              tag: 0,
              fields: [
                { name: "leaderId", type: "int32", versions: "10+", default: -1 },
                { name: "leaderEpoch", type: "int32", versions: "10+", default: -1 },
              ],
            },
          ],
        },
      ],
    },
    { name: "throttleTimeMs", type: "int32", versions: "1+", default: 0 },
    {
      name: "nodeEndpoints",
      type: "[]NodeEndpoint",
      versions: "10+",
      taggedVersions: "10+",
      tag: 0,
      fields: [
        { name: "nodeId", type: "int32", versions: "10+" },
        { name: "host", type: "string", versions: "10+" },
        { name: "port", type: "int32", versions: "10+" },
        { name: "rack", type: "string", versions: "10+", nullableVersions: "10+", default: null },
      ],
    },
  ],
} as const satisfies MessageSpec;
