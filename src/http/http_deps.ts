/** The services and facts the HTTP API is built over (passed in by the node). */
import type { GroupService, LogService } from "../cluster/mod.ts";
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
}
