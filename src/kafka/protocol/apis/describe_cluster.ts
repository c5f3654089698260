/**
 * DescribeCluster (key 60): DescribeClusterRequest.json / DescribeClusterResponse.json,
 * v0-1 (KIP-700); flexible from v0. v1 EndpointType (1 brokers, 2 controllers; KIP-919).
 * (Kafka 4.0's v2, which reports fenced brokers, is not implemented.)
 */
import type { MessageSpec } from "../message_spec.ts";

/** DescribeClusterRequest, v0-1. */
export const DESCRIBE_CLUSTER_REQUEST = {
  apiKey: 60,
  type: "request",
  name: "DescribeClusterRequest",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "includeClusterAuthorizedOperations", type: "bool", versions: "0+" },
    { name: "endpointType", type: "int8", versions: "1+", default: 1 },
  ],
} as const satisfies MessageSpec;

/** DescribeClusterResponse, v0-1. */
export const DESCRIBE_CLUSTER_RESPONSE = {
  apiKey: 60,
  type: "response",
  name: "DescribeClusterResponse",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: null },
    { name: "endpointType", type: "int8", versions: "1+", default: 1 },
    { name: "clusterId", type: "string", versions: "0+" },
    { name: "controllerId", type: "int32", versions: "0+", default: -1 },
    {
      name: "brokers",
      type: "[]DescribeClusterBroker",
      versions: "0+",
      fields: [
        { name: "brokerId", type: "int32", versions: "0+" },
        { name: "host", type: "string", versions: "0+" },
        { name: "port", type: "int32", versions: "0+" },
        { name: "rack", type: "string", versions: "0+", nullableVersions: "0+", default: null },
      ],
    },
    {
      name: "clusterAuthorizedOperations",
      type: "int32",
      versions: "0+",
      default: -2147483648,
    },
  ],
} as const satisfies MessageSpec;
