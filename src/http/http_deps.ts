/** The services and facts the HTTP API is built over (passed in by the node). */
import type {
  ClusterView,
  GroupService,
  LogService,
  ProduceForwarder,
  TopicController,
} from "../cluster/mod.ts";
import type { Metrics } from "../metrics/mod.ts";
import type { TopicStore } from "../storage/mod.ts";

/** What the HTTP API needs from the node. */
export interface HttpDeps {
  logs: LogService;
  store: TopicStore;
  /** Consumer groups and their committed offsets. */
  groups: GroupService;
  metrics: Metrics;
  nodeId: number;
  clusterId: string;
  version: string;
  startedMs: number;
  kafka: { host: string; port: number };
  /** Aborts when the node shuts down (ends SSE streams and long polls). */
  shutdown: AbortSignal;
  /** Brokers, controller and partition placement (default: this node alone). */
  cluster?: ClusterView;
  /** Whether the node serves its partitions (/readyz); default: always. */
  ready?: () => boolean;
  /** Cluster mode: topic changes go through the controller. */
  topicController?: TopicController;
  /** Replication factor of topics created without one (default 1). */
  defaultReplicationFactor?: number;
  /** Cluster mode: sends records for partitions another node leads to that node. */
  forwardProduce?: ProduceForwarder;
}
