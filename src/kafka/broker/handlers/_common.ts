/**
 * Helpers shared by handlers: mapping service outcomes to Kafka error codes (the one place
 * this mapping lives), topic ids in wire form, int64 conversion at the edge.
 */
import type { PartitionErrorKind } from "../../../cluster/mod.ts";
import { ErrorCode, type ErrorCodeValue } from "../error_codes.ts";

/** The all-zero topic id Kafka uses for "no id". */
export const ZERO_UUID = "00000000000000000000000000000000";

/** A topic id as 32 lowercase hex digits (how the codec reads uuids). */
export function wireUuid(id: string): string {
  return id.replaceAll("-", "").toLowerCase();
}

/** The Kafka error code of a partition-level failure. */
export function partitionErrorCode(kind: PartitionErrorKind): ErrorCodeValue {
  switch (kind) {
    case "unknown_topic":
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    case "not_enough_replicas":
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    case "internal_topic":
      // Kafka refuses client appends to internal topics with InvalidTopicException.
      return ErrorCode.INVALID_TOPIC_EXCEPTION;
    case "corrupt":
      return ErrorCode.CORRUPT_MESSAGE;
    case "too_large":
      return ErrorCode.MESSAGE_TOO_LARGE;
    case "invalid_record":
      return ErrorCode.INVALID_RECORD;
    case "storage":
      return ErrorCode.KAFKA_STORAGE_ERROR;
    case "out_of_order_sequence":
      return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
    case "invalid_producer_epoch":
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case "offset_out_of_range":
      return ErrorCode.OFFSET_OUT_OF_RANGE;
    case "invalid_request":
      return ErrorCode.INVALID_REQUEST;
    case "unsupported_format":
      return ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case "not_leader":
      return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    case "timed_out":
      return ErrorCode.REQUEST_TIMED_OUT;
    case "offset_not_available":
      return ErrorCode.OFFSET_NOT_AVAILABLE;
  }
}

/** An int64 from the wire as a number, clamped into the safe range (offsets, timestamps). */
export function toNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(v);
}
