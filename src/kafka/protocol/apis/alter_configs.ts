/**
 * AlterConfigs (key 33): AlterConfigsRequest.json / AlterConfigsResponse.json, v0-2.
 * v1 same as v0; v2 flexible. Superseded by IncrementalAlterConfigs (KIP-339) but still
 * sent by older admin tools.
 */
import type { MessageSpec } from "../message_spec.ts";

/** AlterConfigsRequest, v0-2. */
export const ALTER_CONFIGS_REQUEST = {
  apiKey: 33,
  type: "request",
  name: "AlterConfigsRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
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
            { name: "value", type: "string", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    { name: "validateOnly", type: "bool", versions: "0+" },
  ],
} as const satisfies MessageSpec;

/** AlterConfigsResponse, v0-2. */
export const ALTER_CONFIGS_RESPONSE = {
  apiKey: 33,
  type: "response",
  name: "AlterConfigsResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
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
