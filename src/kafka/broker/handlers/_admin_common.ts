/**
 * Helpers of the admin handlers: the node's `AdminService` (stateless over the store and the
 * log service, so made per request rather than kept in a module-level cache), the one
 * mapping of admin outcomes to Kafka error codes, and the resource types of the config APIs
 * (DescribeConfigs/AlterConfigs/IncrementalAlterConfigs `ResourceType`, KIP-133).
 */
import { type AdminErrorKind, AdminService } from "../../../cluster/mod.ts";
import type { BrokerContext } from "../broker_context.ts";
import { ErrorCode, type ErrorCodeValue } from "../error_codes.ts";

/** Kafka's ConfigResource types that Pyralog answers for. */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;

/** The admin service over this broker's store and log service. */
export function adminOf(b: BrokerContext): AdminService {
  return new AdminService(b.store, b.logs, {
    nodeId: b.nodeId,
    groups: b.groups,
    defaultReplicationFactor: b.defaultReplicationFactor,
    ...(b.topicController ? { controller: b.topicController } : {}),
  });
}

/** The Kafka error code of an admin refusal. */
export function adminErrorCode(kind: AdminErrorKind): ErrorCodeValue {
  switch (kind) {
    case "unknown_topic":
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case "unknown_topic_id":
      return ErrorCode.UNKNOWN_TOPIC_ID;
    case "topic_exists":
      return ErrorCode.TOPIC_ALREADY_EXISTS;
    case "invalid_topic":
      return ErrorCode.INVALID_TOPIC_EXCEPTION;
    case "invalid_partitions":
      return ErrorCode.INVALID_PARTITIONS;
    case "invalid_replication_factor":
      return ErrorCode.INVALID_REPLICATION_FACTOR;
    case "invalid_replica_assignment":
      return ErrorCode.INVALID_REPLICA_ASSIGNMENT;
    case "invalid_config":
      return ErrorCode.INVALID_CONFIG;
    case "invalid_request":
      return ErrorCode.INVALID_REQUEST;
    case "offset_out_of_range":
      return ErrorCode.OFFSET_OUT_OF_RANGE;
    case "fenced_leader_epoch":
      return ErrorCode.FENCED_LEADER_EPOCH;
    case "unknown_leader_epoch":
      return ErrorCode.UNKNOWN_LEADER_EPOCH;
    case "corrupt":
      return ErrorCode.CORRUPT_MESSAGE;
    case "storage":
      return ErrorCode.KAFKA_STORAGE_ERROR;
    case "not_controller":
      return ErrorCode.NOT_CONTROLLER;
    case "not_leader":
      return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    case "timed_out":
      return ErrorCode.REQUEST_TIMED_OUT;
  }
}

/**
 * The names that appear more than once in `names`: Kafka answers every entry of a duplicated
 * topic or resource with INVALID_REQUEST instead of acting on any of them.
 */
export function duplicatesOf(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) dup.add(n);
    seen.add(n);
  }
  return dup;
}
