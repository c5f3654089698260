/**
 * ApiVersions (key 18): ApiVersionsRequest.json / ApiVersionsResponse.json.
 * v1 adds ThrottleTimeMs; v2 is the same as v1; v3 is flexible (KIP-482) and adds the client
 * software name and version (KIP-511) plus tagged feature fields (KIP-584); v4 is identical
 * to v3 and tells the broker the client handles UNSUPPORTED_VERSION in v0 format
 * (KAFKA-17011). The response header is always v0, even for v3+ (see response_header.ts).
 */
import type { MessageSpec } from "../message_spec.ts";

/** ApiVersionsRequest, v0-4. */
export const API_VERSIONS_REQUEST = {
  apiKey: 18,
  type: "request",
  name: "ApiVersionsRequest",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "clientSoftwareName", type: "string", versions: "3+" },
    { name: "clientSoftwareVersion", type: "string", versions: "3+" },
  ],
} as const satisfies MessageSpec;

/** ApiVersionsResponse, v0-4. */
export const API_VERSIONS_RESPONSE = {
  apiKey: 18,
  type: "response",
  name: "ApiVersionsResponse",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    {
      name: "apiKeys",
      type: "[]ApiVersion",
      versions: "0+",
      fields: [
        { name: "apiKey", type: "int16", versions: "0+" },
        { name: "minVersion", type: "int16", versions: "0+" },
        { name: "maxVersion", type: "int16", versions: "0+" },
      ],
    },
    { name: "throttleTimeMs", type: "int32", versions: "1+" },
    // KIP-584 feature versioning, tagged in v3+.
    {
      name: "supportedFeatures",
      type: "[]SupportedFeatureKey",
      versions: "3+",
      taggedVersions: "3+",
      tag: 0,
      fields: [
        { name: "name", type: "string", versions: "3+" },
        { name: "minVersion", type: "int16", versions: "3+" },
        { name: "maxVersion", type: "int16", versions: "3+" },
      ],
    },
    {
      name: "finalizedFeaturesEpoch",
      type: "int64",
      versions: "3+",
      taggedVersions: "3+",
      tag: 1,
      default: -1,
    },
    {
      name: "finalizedFeatures",
      type: "[]FinalizedFeatureKey",
      versions: "3+",
      taggedVersions: "3+",
      tag: 2,
      fields: [
        { name: "name", type: "string", versions: "3+" },
        { name: "maxVersionLevel", type: "int16", versions: "3+" },
        { name: "minVersionLevel", type: "int16", versions: "3+" },
      ],
    },
    // KIP-866: set by a ZooKeeper-mode broker ready to migrate; always false for us.
    {
      name: "zkMigrationReady",
      type: "bool",
      versions: "3+",
      taggedVersions: "3+",
      tag: 3,
      default: false,
    },
  ],
} as const satisfies MessageSpec;
