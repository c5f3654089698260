/**
 * IncrementalAlterConfigs (key 44): IncrementalAlterConfigsRequest.json / ...Response.json,
 * v0-1 (KIP-339). v1 is flexible. ConfigOperation: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT.
 */
import type { MessageSpec } from "../message_spec.ts";

/** IncrementalAlterConfigsRequest, v0-1. */
export const INCREMENTAL_ALTER_CONFIGS_REQUEST = {
  apiKey: 44,
  type: "request",
  name: "IncrementalAlterConfigsRequest",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    {
      name: "resources",
      type: "[]AlterConfigsResource",
      versions: "0+",
      fields: [
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
        {
          name: "configs",
          type: "[]AlterableConfig",
          versions: "0+",
          fields: [
            { name: "name", type: "string", versions: "0+" },
            { name: "configOperation", type: "int8", versions: "0+" },
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

/** IncrementalAlterConfigsResponse, v0-1. */
export const INCREMENTAL_ALTER_CONFIGS_RESPONSE = {
  apiKey: 44,
  type: "response",
  name: "IncrementalAlterConfigsResponse",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "responses",
      type: "[]AlterConfigsResourceResponse",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
        { name: "resourceType", type: "int8", versions: "0+" },
        { name: "resourceName", type: "string", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageSpec;
