/**
 * HTTP errors as values: every user mistake becomes a JSON body `{error_code, message}` with
 * the right status (never a 500); a 500 means a bug and shows no stack. Error codes follow the
 * Confluent REST Proxy's scheme (the HTTP status times 100 plus a detail number, e.g. 40401
 * "topic not found"), so REST Proxy users recognise them.
 */
import type { AdminError, PartitionErrorKind } from "../cluster/mod.ts";
import type { TopicError } from "../storage/mod.ts";

/** A failure to report to the HTTP caller. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly errorCode: number;
  constructor(status: number, errorCode: number, message: string) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** Well-known errors. */
export const HttpErrors = {
  badJson: (m: string) => new HttpError(400, 40001, `Malformed JSON: ${m}`),
  invalid: (m: string) => new HttpError(400, 40002, m),
  unsupportedMediaType: (m: string) => new HttpError(415, 41501, m),
  tooLarge: (m: string) => new HttpError(413, 41301, m),
  topicNotFound: (t: string) => new HttpError(404, 40401, `Topic "${t}" not found`),
  partitionNotFound: (t: string, p: number | string) =>
    new HttpError(404, 40402, `Partition "${p}" of topic "${t}" not found`),
  consumerNotFound: (m: string) => new HttpError(404, 40403, m),
  groupNotFound: (g: string) => new HttpError(404, 40404, `Group "${g}" not found`),
  routeNotFound: (p: string) => new HttpError(404, 40400, `No route for "${p}"`),
  conflict: (m: string) => new HttpError(409, 40901, m),
  offsetOutOfRange: (m: string) => new HttpError(416, 41601, m),
  unprocessable: (m: string) => new HttpError(422, 42201, m),
  storage: (m: string) => new HttpError(503, 50301, m),
} as const;

/** Maps an admin refusal to an HTTP error. */
export function fromAdminError(e: AdminError): HttpError {
  switch (e.kind) {
    case "unknown_topic":
    case "unknown_topic_id":
      return new HttpError(404, 40401, e.message);
    case "topic_exists":
      return new HttpError(409, 40901, e.message);
    case "invalid_config":
      return new HttpError(422, 42201, e.message);
    case "offset_out_of_range":
      return new HttpError(416, 41601, e.message);
    case "not_controller":
    case "not_leader":
    case "storage":
      return new HttpError(503, 50301, e.message);
    case "corrupt":
      return new HttpError(500, 50002, e.message);
    case "timed_out":
      return new HttpError(504, 50401, e.message);
    case "invalid_topic":
    case "invalid_partitions":
    case "invalid_replication_factor":
    case "invalid_replica_assignment":
    case "invalid_request":
    case "fenced_leader_epoch":
    case "unknown_leader_epoch":
      return new HttpError(400, 40002, e.message);
  }
}

/** Maps a topic store refusal to an HTTP error. */
export function fromTopicError(e: TopicError): HttpError {
  switch (e.code) {
    case "unknown_topic":
      return new HttpError(404, 40401, e.message);
    case "topic_exists":
      return new HttpError(409, 40901, e.message);
    case "invalid_topic":
    case "invalid_partitions":
      return new HttpError(400, 40002, e.message);
    case "invalid_config":
      return new HttpError(422, 42201, e.message);
  }
}

/** Maps a partition-level failure to an HTTP error. */
export function fromPartitionError(kind: PartitionErrorKind, message: string): HttpError {
  switch (kind) {
    case "unknown_topic":
      return new HttpError(404, 40402, message);
    case "not_enough_replicas":
      return new HttpError(503, 50302, message);
    case "internal_topic":
      return new HttpError(403, 40301, message);
    case "offset_out_of_range":
      return new HttpError(416, 41601, message);
    case "too_large":
      return new HttpError(413, 41302, message);
    case "storage":
      return new HttpError(503, 50301, message);
    case "corrupt":
      return new HttpError(500, 50002, message);
    case "invalid_record":
    case "invalid_request":
    case "unsupported_format":
      return new HttpError(400, 40002, message);
    case "out_of_order_sequence":
    case "invalid_producer_epoch":
      return new HttpError(409, 40902, message);
    case "not_leader":
      // Another node leads the partition: the message names it (no forwarding yet).
      return new HttpError(421, 42101, message);
    case "timed_out":
      return new HttpError(504, 50401, message);
    case "offset_not_available":
      return new HttpError(503, 50303, message);
  }
}
