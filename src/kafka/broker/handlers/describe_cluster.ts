/**
 * DescribeCluster (key 60), v0-1 (KIP-700): this node as the only broker and the controller,
 * and the cluster id. v1's endpoint type (KIP-919) must be 1 (brokers): a request for
 * controllers (2) is MISMATCHED_ENDPOINT_TYPE, since this listener is a broker endpoint, and
 * any other value UNSUPPORTED_ENDPOINT_TYPE. No ACLs exist, so authorized operations are
 * reported as "not provided" (INT32_MIN).
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** DescribeClusterRequest `EndpointType` values (KIP-919). */
const EndpointType = { BROKER: 1, CONTROLLER: 2 } as const;
/** Kafka's "authorized operations not provided". */
const OPERATIONS_NOT_PROVIDED = -2147483648;

/** The DescribeCluster handler. */
export const handleDescribeCluster: Handler<"DescribeCluster"> = (req, ctx) => {
  const b = ctx.broker;
  const base = {
    throttleTimeMs: 0,
    endpointType: EndpointType.BROKER,
    clusterId: b.clusterId,
    clusterAuthorizedOperations: OPERATIONS_NOT_PROVIDED,
  };
  if (ctx.version >= 1 && req.endpointType !== EndpointType.BROKER) {
    const mismatched = req.endpointType === EndpointType.CONTROLLER;
    return {
      ...base,
      errorCode: mismatched
        ? ErrorCode.MISMATCHED_ENDPOINT_TYPE
        : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: mismatched
        ? "This is a broker endpoint; controllers are not described separately"
        : `Unsupported endpoint type "${req.endpointType}"`,
      controllerId: -1,
      brokers: [],
    };
  }
  return {
    ...base,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    controllerId: b.cluster.controllerId(),
    brokers: b.cluster.brokers().map((x) => ({
      brokerId: x.nodeId,
      host: x.host,
      port: x.port,
      rack: x.rack,
    })),
  };
};
