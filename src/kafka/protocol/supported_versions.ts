/**
 * The API version ranges Pyralog implements and, by default, advertises in ApiVersions
 * responses. One row per API; the schemas' `validVersions` equal these ranges (a test
 * checks it). Chosen from what real clients send (shared/KAFKA-CLIENTS.md section 2.2):
 * every range reaches the highest version of librdkafka 2.x, the Java client 3.9,
 * KafkaJS 2.2.4 and kafka-python 2.0.2, and starts at 0 so old clients still connect.
 *
 * Notes per row where the choice is not just "Kafka 3.9's full range":
 * - Produce starts at 0 although Kafka 4.0 rejects v0-2: librdkafka < 2.11.1 enables
 *   compression only when the advertised range contains v0 (KAFKA-18659). Max 11 (3.9);
 *   Kafka 4.0's v12 is not implemented, Java 4.x negotiates down to 11.
 * - Fetch up to 17 and Metadata from 10 carry topic ids (uuid): Pyralog gives every topic an
 *   id, so librdkafka may use Fetch 13+ (it drops to 12 without topic ids).
 * - kafka-python 2.0.2 infers the broker version from a few maxima (Produce 8 → 2.4, Fetch
 *   11 → 2.3, ...; its newest probe, DescribeAcls v2 → 2.5, fails since we have no ACL
 *   APIs), so it settles on 2.4 mode; the fixed versions it then sends are all at or below
 *   those probes and therefore inside these ranges.
 * - ListOffsets max 9, Metadata max 12, DescribeGroups max 5, DescribeCluster max 1: the 3.9
 *   ranges; the 4.0 additions (10, 13, 6, 2) are not implemented.
 * - SaslHandshake stays at 0-1 (KAFKA-9577).
 */
import type { ApiName } from "./api_registry.ts";
import type { ApiVersionRange } from "./frame_codec.ts";

/** One advertised range. */
export interface SupportedVersion {
  readonly api: ApiName;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** The default advertised ranges, in API-key order. */
export const SUPPORTED_VERSIONS: readonly SupportedVersion[] = [
  { api: "Produce", apiKey: 0, minVersion: 0, maxVersion: 11 },
  { api: "Fetch", apiKey: 1, minVersion: 0, maxVersion: 17 },
  { api: "ListOffsets", apiKey: 2, minVersion: 0, maxVersion: 9 },
  { api: "Metadata", apiKey: 3, minVersion: 0, maxVersion: 12 },
  { api: "OffsetCommit", apiKey: 8, minVersion: 0, maxVersion: 9 },
  { api: "OffsetFetch", apiKey: 9, minVersion: 0, maxVersion: 9 },
  { api: "FindCoordinator", apiKey: 10, minVersion: 0, maxVersion: 6 },
  { api: "JoinGroup", apiKey: 11, minVersion: 0, maxVersion: 9 },
  { api: "Heartbeat", apiKey: 12, minVersion: 0, maxVersion: 4 },
  { api: "LeaveGroup", apiKey: 13, minVersion: 0, maxVersion: 5 },
  { api: "SyncGroup", apiKey: 14, minVersion: 0, maxVersion: 5 },
  { api: "DescribeGroups", apiKey: 15, minVersion: 0, maxVersion: 5 },
  { api: "ListGroups", apiKey: 16, minVersion: 0, maxVersion: 5 },
  { api: "SaslHandshake", apiKey: 17, minVersion: 0, maxVersion: 1 },
  { api: "ApiVersions", apiKey: 18, minVersion: 0, maxVersion: 4 },
  { api: "CreateTopics", apiKey: 19, minVersion: 0, maxVersion: 7 },
  { api: "DeleteTopics", apiKey: 20, minVersion: 0, maxVersion: 6 },
  { api: "DeleteRecords", apiKey: 21, minVersion: 0, maxVersion: 2 },
  { api: "InitProducerId", apiKey: 22, minVersion: 0, maxVersion: 5 },
  { api: "OffsetForLeaderEpoch", apiKey: 23, minVersion: 0, maxVersion: 4 },
  { api: "DescribeConfigs", apiKey: 32, minVersion: 0, maxVersion: 4 },
  { api: "AlterConfigs", apiKey: 33, minVersion: 0, maxVersion: 2 },
  { api: "SaslAuthenticate", apiKey: 36, minVersion: 0, maxVersion: 2 },
  { api: "CreatePartitions", apiKey: 37, minVersion: 0, maxVersion: 3 },
  { api: "DeleteGroups", apiKey: 42, minVersion: 0, maxVersion: 2 },
  { api: "IncrementalAlterConfigs", apiKey: 44, minVersion: 0, maxVersion: 1 },
  { api: "OffsetDelete", apiKey: 47, minVersion: 0, maxVersion: 0 },
  { api: "DescribeCluster", apiKey: 60, minVersion: 0, maxVersion: 1 },
  { api: "DescribeProducers", apiKey: 61, minVersion: 0, maxVersion: 0 },
];

/** The `apiKeys` list of an ApiVersions response advertising `SUPPORTED_VERSIONS`. */
export const ADVERTISED_API_KEYS: readonly ApiVersionRange[] = SUPPORTED_VERSIONS.map((
  { apiKey, minVersion, maxVersion },
) => ({ apiKey, minVersion, maxVersion }));
