/**
 * DeleteTopics (key 20): DeleteTopicsRequest.json / DeleteTopicsResponse.json, v0-6.
 * v1 ThrottleTimeMs; v4 flexible; v5 ErrorMessage; v6 topics by name or id (KIP-516): the
 * request's TopicNames list is replaced by Topics {Name (nullable), TopicId}.
 */
import type { MessageSpec } from "../message_spec.ts";

/** DeleteTopicsRequest, v0-6. */
export const DELETE_TOPICS_REQUEST = {
  apiKey: 20,
  type: "request",
  name: "DeleteTopicsRequest",
  validVersions: "0-6",
  flexibleVersions: "4+",
  fields: [
    {
      name: "topics",
      type: "[]DeleteTopicState",
      versions: "6+",
      fields: [
        { name: "name", type: "string", versions: "6+", nullableVersions: "6+", default: null },
        { name: "topicId", type: "uuid", versions: "6+" },
      ],
    },
    { name: "topicNames", type: "[]string", versions: "0-5" },
    { name: "timeoutMs", type: "int32", versions: "0+" },
  ],
} as const satisfies MessageSpec;

/** DeleteTopicsResponse, v0-6. */
export const DELETE_TOPICS_RESPONSE = {
  apiKey: 20,
  type: "response",
  name: "DeleteTopicsResponse",
  validVersions: "0-6",
  flexibleVersions: "4+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    {
      name: "responses",
      type: "[]DeletableTopicResult",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+", nullableVersions: "6+" },
        { name: "topicId", type: "uuid", versions: "6+" },
        { name: "errorCode", type: "int16", versions: "0+" },
        {
          name: "errorMessage",
          type: "string",
          versions: "5+",
          nullableVersions: "5+",
          default: null,
        },
      ],
    },
  ],
} as const satisfies MessageSpec;
