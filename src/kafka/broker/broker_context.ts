/**
 * What every Kafka request handler can reach: this node's identity and the shared services
 * (the same services the HTTP API will call), plus the per-request header and version.
 */
import type {
  ClusterView,
  GroupService,
  LogService,
  ProducerIdAllocator,
  TopicController,
} from "../../cluster/mod.ts";
import type { TopicStore } from "../../storage/mod.ts";
import type { Clock } from "../../util/mod.ts";
import type { ApiName, RequestHeader, RequestOf, ResponseInput } from "../protocol/mod.ts";

/** Log levels of the broker's log lines. */
export type BrokerLogLevel = "debug" | "info" | "warn" | "error";

/** The node-wide state handlers use. */
export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  /** Host and port clients should connect to (Metadata, FindCoordinator). */
  advertisedHost: string;
  advertisedPort: number;
  readonly logs: LogService;
  readonly store: TopicStore;
  readonly producerIds: ProducerIdAllocator;
  /** Consumer groups and committed offsets (FindCoordinator, JoinGroup, OffsetCommit, ...). */
  readonly groups: GroupService;
  readonly clock: Clock;
  readonly log: (level: BrokerLogLevel, message: string) => void;
  /** Brokers, controller and partition placement (one node, or the cluster of issue #6). */
  readonly cluster: ClusterView;
  /** Cluster mode: topic changes go through the controller. */
  readonly topicController?: TopicController;
  /** Replication factor of topics created with -1. */
  readonly defaultReplicationFactor: number;
}

/** One request being handled. */
export interface RequestContext {
  readonly broker: BrokerContext;
  readonly header: RequestHeader;
  readonly version: number;
  /** Aborts when the connection closes or the broker shuts down. */
  readonly signal: AbortSignal;
}

/** Handles one API: returns the response body, or null to send nothing (Produce acks=0). */
export type Handler<N extends ApiName> = (
  request: RequestOf<N>,
  ctx: RequestContext,
) => Promise<ResponseInput<N> | null> | ResponseInput<N> | null;

/** A set of handlers keyed by API name; APIs without a handler are not advertised. */
export type HandlerTable = { readonly [N in ApiName]?: Handler<N> };
