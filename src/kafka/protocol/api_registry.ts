/**
 * Every API schema Pyralog speaks, keyed by Kafka's API name, and lookups by API key. This
 * is the one list the frame codec, the supported-versions table and the tests iterate.
 * Adding an API = one file in apis/ and one line here.
 */
import { ALTER_CONFIGS_REQUEST, ALTER_CONFIGS_RESPONSE } from "./apis/alter_configs.ts";
import { API_VERSIONS_REQUEST, API_VERSIONS_RESPONSE } from "./apis/api_versions.ts";
import { CREATE_PARTITIONS_REQUEST, CREATE_PARTITIONS_RESPONSE } from "./apis/create_partitions.ts";
import { CREATE_TOPICS_REQUEST, CREATE_TOPICS_RESPONSE } from "./apis/create_topics.ts";
import { DELETE_GROUPS_REQUEST, DELETE_GROUPS_RESPONSE } from "./apis/delete_groups.ts";
import { DELETE_RECORDS_REQUEST, DELETE_RECORDS_RESPONSE } from "./apis/delete_records.ts";
import { DELETE_TOPICS_REQUEST, DELETE_TOPICS_RESPONSE } from "./apis/delete_topics.ts";
import { DESCRIBE_CLUSTER_REQUEST, DESCRIBE_CLUSTER_RESPONSE } from "./apis/describe_cluster.ts";
import { DESCRIBE_CONFIGS_REQUEST, DESCRIBE_CONFIGS_RESPONSE } from "./apis/describe_configs.ts";
import { DESCRIBE_GROUPS_REQUEST, DESCRIBE_GROUPS_RESPONSE } from "./apis/describe_groups.ts";
import {
  DESCRIBE_PRODUCERS_REQUEST,
  DESCRIBE_PRODUCERS_RESPONSE,
} from "./apis/describe_producers.ts";
import { FETCH_REQUEST, FETCH_RESPONSE } from "./apis/fetch.ts";
import { FIND_COORDINATOR_REQUEST, FIND_COORDINATOR_RESPONSE } from "./apis/find_coordinator.ts";
import { HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE } from "./apis/heartbeat.ts";
import {
  INCREMENTAL_ALTER_CONFIGS_REQUEST,
  INCREMENTAL_ALTER_CONFIGS_RESPONSE,
} from "./apis/incremental_alter_configs.ts";
import { INIT_PRODUCER_ID_REQUEST, INIT_PRODUCER_ID_RESPONSE } from "./apis/init_producer_id.ts";
import { JOIN_GROUP_REQUEST, JOIN_GROUP_RESPONSE } from "./apis/join_group.ts";
import { LEAVE_GROUP_REQUEST, LEAVE_GROUP_RESPONSE } from "./apis/leave_group.ts";
import { LIST_GROUPS_REQUEST, LIST_GROUPS_RESPONSE } from "./apis/list_groups.ts";
import { LIST_OFFSETS_REQUEST, LIST_OFFSETS_RESPONSE } from "./apis/list_offsets.ts";
import { METADATA_REQUEST, METADATA_RESPONSE } from "./apis/metadata.ts";
import { OFFSET_COMMIT_REQUEST, OFFSET_COMMIT_RESPONSE } from "./apis/offset_commit.ts";
import { OFFSET_DELETE_REQUEST, OFFSET_DELETE_RESPONSE } from "./apis/offset_delete.ts";
import { OFFSET_FETCH_REQUEST, OFFSET_FETCH_RESPONSE } from "./apis/offset_fetch.ts";
import {
  OFFSET_FOR_LEADER_EPOCH_REQUEST,
  OFFSET_FOR_LEADER_EPOCH_RESPONSE,
} from "./apis/offset_for_leader_epoch.ts";
import { PRODUCE_REQUEST, PRODUCE_RESPONSE } from "./apis/produce.ts";
import { SASL_AUTHENTICATE_REQUEST, SASL_AUTHENTICATE_RESPONSE } from "./apis/sasl_authenticate.ts";
import { SASL_HANDSHAKE_REQUEST, SASL_HANDSHAKE_RESPONSE } from "./apis/sasl_handshake.ts";
import { SYNC_GROUP_REQUEST, SYNC_GROUP_RESPONSE } from "./apis/sync_group.ts";
import type { ApiSpec, MessageInput, MessageValue } from "./message_spec.ts";

/** Request and response schema of every API, keyed by Kafka's API name. */
export const API_REGISTRY = {
  Produce: { request: PRODUCE_REQUEST, response: PRODUCE_RESPONSE },
  Fetch: { request: FETCH_REQUEST, response: FETCH_RESPONSE },
  ListOffsets: { request: LIST_OFFSETS_REQUEST, response: LIST_OFFSETS_RESPONSE },
  Metadata: { request: METADATA_REQUEST, response: METADATA_RESPONSE },
  OffsetCommit: { request: OFFSET_COMMIT_REQUEST, response: OFFSET_COMMIT_RESPONSE },
  OffsetFetch: { request: OFFSET_FETCH_REQUEST, response: OFFSET_FETCH_RESPONSE },
  FindCoordinator: { request: FIND_COORDINATOR_REQUEST, response: FIND_COORDINATOR_RESPONSE },
  JoinGroup: { request: JOIN_GROUP_REQUEST, response: JOIN_GROUP_RESPONSE },
  Heartbeat: { request: HEARTBEAT_REQUEST, response: HEARTBEAT_RESPONSE },
  LeaveGroup: { request: LEAVE_GROUP_REQUEST, response: LEAVE_GROUP_RESPONSE },
  SyncGroup: { request: SYNC_GROUP_REQUEST, response: SYNC_GROUP_RESPONSE },
  DescribeGroups: { request: DESCRIBE_GROUPS_REQUEST, response: DESCRIBE_GROUPS_RESPONSE },
  ListGroups: { request: LIST_GROUPS_REQUEST, response: LIST_GROUPS_RESPONSE },
  SaslHandshake: { request: SASL_HANDSHAKE_REQUEST, response: SASL_HANDSHAKE_RESPONSE },
  ApiVersions: { request: API_VERSIONS_REQUEST, response: API_VERSIONS_RESPONSE },
  CreateTopics: { request: CREATE_TOPICS_REQUEST, response: CREATE_TOPICS_RESPONSE },
  DeleteTopics: { request: DELETE_TOPICS_REQUEST, response: DELETE_TOPICS_RESPONSE },
  DeleteRecords: { request: DELETE_RECORDS_REQUEST, response: DELETE_RECORDS_RESPONSE },
  InitProducerId: { request: INIT_PRODUCER_ID_REQUEST, response: INIT_PRODUCER_ID_RESPONSE },
  OffsetForLeaderEpoch: {
    request: OFFSET_FOR_LEADER_EPOCH_REQUEST,
    response: OFFSET_FOR_LEADER_EPOCH_RESPONSE,
  },
  DescribeConfigs: { request: DESCRIBE_CONFIGS_REQUEST, response: DESCRIBE_CONFIGS_RESPONSE },
  AlterConfigs: { request: ALTER_CONFIGS_REQUEST, response: ALTER_CONFIGS_RESPONSE },
  SaslAuthenticate: { request: SASL_AUTHENTICATE_REQUEST, response: SASL_AUTHENTICATE_RESPONSE },
  CreatePartitions: { request: CREATE_PARTITIONS_REQUEST, response: CREATE_PARTITIONS_RESPONSE },
  DeleteGroups: { request: DELETE_GROUPS_REQUEST, response: DELETE_GROUPS_RESPONSE },
  IncrementalAlterConfigs: {
    request: INCREMENTAL_ALTER_CONFIGS_REQUEST,
    response: INCREMENTAL_ALTER_CONFIGS_RESPONSE,
  },
  OffsetDelete: { request: OFFSET_DELETE_REQUEST, response: OFFSET_DELETE_RESPONSE },
  DescribeCluster: { request: DESCRIBE_CLUSTER_REQUEST, response: DESCRIBE_CLUSTER_RESPONSE },
  DescribeProducers: {
    request: DESCRIBE_PRODUCERS_REQUEST,
    response: DESCRIBE_PRODUCERS_RESPONSE,
  },
} as const satisfies Record<string, ApiSpec>;

/** Kafka's name of an API this codec knows, e.g. "Produce". */
export type ApiName = keyof typeof API_REGISTRY;
/** The decoded request body of API `N` (every field present, absent ones as defaults). */
export type RequestOf<N extends ApiName> = MessageValue<(typeof API_REGISTRY)[N]["request"]>;
/** The decoded response body of API `N`. */
export type ResponseOf<N extends ApiName> = MessageValue<(typeof API_REGISTRY)[N]["response"]>;
/** What `encodeRequest` accepts for API `N`. */
export type RequestInput<N extends ApiName> = MessageInput<(typeof API_REGISTRY)[N]["request"]>;
/** What `encodeResponse` accepts for API `N`. */
export type ResponseInput<N extends ApiName> = MessageInput<(typeof API_REGISTRY)[N]["response"]>;

/** Every API name, in API-key order of the registry. */
export const API_NAMES: readonly ApiName[] = Object.keys(API_REGISTRY) as ApiName[];

const BY_KEY = new Map<number, ApiName>(API_NAMES.map((n) => [API_REGISTRY[n].request.apiKey, n]));

/** The API with Kafka key `apiKey`, or undefined when this codec does not know it. */
export function apiNameOf(apiKey: number): ApiName | undefined {
  return BY_KEY.get(apiKey);
}

/** The Kafka API key of `api`. */
export function apiKeyOf(api: ApiName): number {
  return API_REGISTRY[api].request.apiKey;
}
