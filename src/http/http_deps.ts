/** The services and facts the HTTP API is built over (passed in by the node). */
import type { LogService } from "../cluster/mod.ts";
import type { Metrics } from "../metrics/mod.ts";
import type { TopicStore } from "../storage/mod.ts";

/** What the HTTP API needs from the node. */
export interface HttpDeps {
  logs: LogService;
  store: TopicStore;
  metrics: Metrics;
  nodeId: number;
  clusterId: string;
  version: string;
  startedMs: number;
  kafka: { host: string; port: number };
  /** Aborts when the node shuts down (ends SSE streams and long polls). */
  shutdown: AbortSignal;
}
