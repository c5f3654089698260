/**
 * Metadata (key 3): brokers, cluster id, controller, and topics with their partitions, as the
 * node's `ClusterView` tells them (a single node leads every partition at epoch 0; in a
 * cluster, the metadata image corrected by the node's own Raft groups).
 * Topic semantics by version (MetadataRequest.json): v0 empty list = all topics; v1+ null =
 * all, empty = none; v4+ allowAutoTopicCreation; v10+ a topic may be named by id only.
 */
import type { TopicInfo } from "../../../storage/mod.ts";
import { validateTopicName } from "../../../storage/mod.ts";
import type { Handler, RequestContext } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { wireUuid, ZERO_UUID } from "./_common.ts";

/** Internal topics are flagged isInternal (Kafka: __consumer_offsets, __transaction_state). */
function isInternal(name: string): boolean {
  return name.startsWith("__");
}

function describe(info: TopicInfo, ctx: RequestContext) {
  return {
    errorCode: ErrorCode.NONE,
    name: info.name,
    topicId: wireUuid(info.id),
    isInternal: isInternal(info.name),
    partitions: ctx.broker.cluster.placement(info.name, info.partitions).map((p) => ({
      // No leader yet (an election in progress): clients retry (LEADER_NOT_AVAILABLE).
      errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      offlineReplicas: [...p.offline],
    })),
    topicAuthorizedOperations: -2147483648,
  };
}

/** The Metadata handler. */
export const handleMetadata: Handler<"Metadata"> = (req, ctx) => {
  const b = ctx.broker;
  const all = req.topics === null || (ctx.version === 0 && req.topics.length === 0);
  const autoCreate = ctx.version < 4 ? true : req.allowAutoTopicCreation;
  const topics = [];
  if (all) {
    for (const info of b.store.listTopics()) topics.push(describe(info, ctx));
  } else {
    for (const t of req.topics ?? []) {
      let info: TopicInfo | undefined;
      if (t.name === null) {
        const id = t.topicId;
        info = b.store.listTopics().find((x) => wireUuid(x.id) === id);
        if (!info) {
          topics.push(missing(ctx.version >= 12 ? null : "", id, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
      } else {
        try {
          validateTopicName(t.name);
        } catch {
          // A name Kafka would refuse: reported per topic, like Kafka's INVALID_TOPIC_EXCEPTION.
          topics.push(missing(t.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
          continue;
        }
        info = b.logs.topicFor(t.name, autoCreate);
      }
      if (info) topics.push(describe(info, ctx));
      else topics.push(missing(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    }
  }
  return {
    throttleTimeMs: 0,
    brokers: b.cluster.brokers().map((x) => ({
      nodeId: x.nodeId,
      host: x.host,
      port: x.port,
      rack: x.rack,
    })),
    clusterId: b.clusterId,
    controllerId: b.cluster.controllerId(),
    topics,
    clusterAuthorizedOperations: -2147483648,
  };
};

function missing(name: string | null, topicId: string, errorCode: number) {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: -2147483648,
  };
}
