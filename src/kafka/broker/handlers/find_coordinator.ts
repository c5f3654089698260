/**
 * FindCoordinator (key 10): a group is coordinated by the leader of its `__consumer_offsets`
 * partition (the node's `ClusterView`: on a single node, this node for every group);
 * `__consumer_offsets` is created on this first use, as Kafka does (in a cluster, by the
 * controller: COORDINATOR_NOT_AVAILABLE until it has a leader, and the client retries).
 * Transaction keys (type 1) get COORDINATOR_NOT_AVAILABLE: transactions are not built yet;
 * share-group keys (type 2, KIP-932) and unknown types get INVALID_REQUEST.
 * v0-3 carry one key; v4+ batch keys (KIP-699) and answer per key.
 */
import type { Handler, RequestContext } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** FindCoordinator key types (FindCoordinatorRequest.json). */
const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

interface Answer {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

function answer(keyType: number, key: string, ctx: RequestContext): Answer {
  const b = ctx.broker;
  const refused = (errorCode: number, errorMessage: string): Answer => ({
    errorCode,
    errorMessage,
    nodeId: -1,
    host: "",
    port: -1,
  });
  if (keyType === KEY_TYPE_TRANSACTION) {
    return refused(ErrorCode.COORDINATOR_NOT_AVAILABLE, "Transactions are not supported yet");
  }
  if (keyType !== KEY_TYPE_GROUP) {
    return refused(ErrorCode.INVALID_REQUEST, `Unsupported coordinator key type "${keyType}"`);
  }
  // Created on first use, as Kafka does (in a cluster: asked of the controller; retry).
  if (!b.groups.ensureOffsetsTopic()) {
    return refused(ErrorCode.COORDINATOR_NOT_AVAILABLE, "The offsets topic is not available yet");
  }
  const coordinator = b.cluster.groupCoordinator(key);
  if (coordinator === undefined) {
    return refused(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      "The group's coordinator has no leader yet",
    );
  }
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    nodeId: coordinator.nodeId,
    host: coordinator.host,
    port: coordinator.port,
  };
}

/** The FindCoordinator handler. */
export const handleFindCoordinator: Handler<"FindCoordinator"> = (req, ctx) => {
  // v0 has no key type: it always asks for a group coordinator.
  const keyType = ctx.version >= 1 ? req.keyType : KEY_TYPE_GROUP;
  if (ctx.version >= 4) {
    return {
      throttleTimeMs: 0,
      coordinators: req.coordinatorKeys.map((key) => ({ key, ...answer(keyType, key, ctx) })),
    };
  }
  return { throttleTimeMs: 0, ...answer(keyType, req.key, ctx) };
};
