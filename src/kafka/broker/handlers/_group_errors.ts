/**
 * The one mapping of group and offset outcomes (tagged values from src/cluster) to Kafka
 * error codes, shared by the consumer-group handlers (STYLE.md principle 3).
 */
import type { OffsetErrorKind } from "../../../cluster/mod.ts";
import { ErrorCode, type ErrorCodeValue } from "../error_codes.ts";

/** The Kafka error code of a group or offset refusal; null means success (NONE). */
export function groupErrorCode(kind: OffsetErrorKind | null): ErrorCodeValue {
  switch (kind) {
    case null:
      return ErrorCode.NONE;
    case "invalid_group_id":
      return ErrorCode.INVALID_GROUP_ID;
    case "coordinator_not_available":
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case "not_coordinator":
      return ErrorCode.NOT_COORDINATOR;
    case "unknown_member_id":
      return ErrorCode.UNKNOWN_MEMBER_ID;
    case "illegal_generation":
      return ErrorCode.ILLEGAL_GENERATION;
    case "inconsistent_group_protocol":
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    case "rebalance_in_progress":
      return ErrorCode.REBALANCE_IN_PROGRESS;
    case "member_id_required":
      return ErrorCode.MEMBER_ID_REQUIRED;
    case "fenced_instance_id":
      return ErrorCode.FENCED_INSTANCE_ID;
    case "invalid_session_timeout":
      return ErrorCode.INVALID_SESSION_TIMEOUT;
    case "group_max_size_reached":
      return ErrorCode.GROUP_MAX_SIZE_REACHED;
    case "non_empty_group":
      return ErrorCode.NON_EMPTY_GROUP;
    case "group_id_not_found":
      return ErrorCode.GROUP_ID_NOT_FOUND;
    case "group_subscribed_to_topic":
      return ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
    case "unknown_topic":
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case "offset_metadata_too_large":
      return ErrorCode.OFFSET_METADATA_TOO_LARGE;
    case "invalid_commit_offset_size":
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
  }
}
