/**
 * CreateTopics (key 19): CreateTopicsRequest.json / CreateTopicsResponse.json, v0-7.
 * v1 ValidateOnly and ErrorMessage; v2 ThrottleTimeMs; v4 default partitions/replication
 * (-1, KIP-464); v5 flexible and the created topic's configs in the response (KIP-525);
 * v7 TopicId (KIP-516).
 */
import type { MessageSpec } from "../message_spec.ts";

/** CreateTopicsRequest, v0-7. */
export const CREATE_TOPICS_REQUEST = {
  apiKey: 19,
  type: "request",
  name: "CreateTopicsRequest",
  validVersions: "0-7",
  flexibleVersions: "5+",
  fields: [
    {
      name: "topics",
      type: "[]CreatableTopic",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "numPartitions", type: "int32", versions: "0+" },
        { name: "replicationFactor", type: "int16", versions: "0+" },
        {
          name: "assignments",
          type: "[]CreatableReplicaAssignment",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "brokerIds", type: "[]int32", versions: "0+" },
          ],
        },
        {
          name: "configs",
          type: "[]CreatableTopicConfig",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "timeoutMs", type: "int32", versions: "0+", default: 60000 },
    { name: "validateOnly", type: "bool", versions: "1+", default: false },
  ],
} as const satisfies MessageSpec;

/** CreateTopicsResponse, v0-7. */
export const CREATE_TOPICS_RESPONSE = {
  apiKey: 19,
  type: "response",
  name: "CreateTopicsResponse",
  validVersions: "0-7",
  flexibleVersions: "5+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "2+" },
    {
      name: "topics",
      type: "[]CreatableTopicResult",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "topicId", type: "uuid", versions: "7+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        {
          name: "errorMessage",
          type: "string",
          versions: "1+",
          nullableVersions: "0+",
          default: null,
        },
        {
          name: "topicConfigErrorCode",
          type: "int16",
          versions: "5+",
          taggedVersions: "5+",
          tag: 0,
          default: 0,
        },
        { name: "numPartitions", type: "int32", versions: "5+", default: -1 },
        { name: "replicationFactor", type: "int16", versions: "5+", default: -1 },
        {
          name: "configs",
          type: "[]CreatableTopicConfigs",
          versions: "5+",
          nullableVersions: "5+",
          fields: [
            { name: "name", type: "string", versions: "5+" },
            { name: "value", type: "string", versions: "5+", nullableVersions: "5+" },
            { name: "readOnly", type: "bool", versions: "5+" },
            { name: "configSource", type: "int8", versions: "5+", default: -1 },
            { name: "isSensitive", type: "bool", versions: "5+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
