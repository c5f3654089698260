/**
 * `pyralog serve`: runs one node. A node opens its data directory (recovering every
 * partition log it touches), runs the storage background duties, serves the Kafka protocol
 * and the HTTP health, readiness and metrics endpoints of DESIGN.md's contract. The HTTP API
 * (#4) and clustering (#6) are not built yet; the node says so at start.
 *
 * SIGTERM and SIGINT stop it gracefully: stop accepting, flush every log, exit 0.
 */
import { startKafkaBroker } from "../kafka/broker/mod.ts";
import { TopicStore } from "../storage/mod.ts";
import type { HostPort, LogLevel, ServeConfig } from "./serve_config.ts";

/** The package version reported by the node. */
export const VERSION = "0.1.0";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A minimal leveled logger writing one line per event to stderr. */
export function makeLogger(level: LogLevel): (lvl: LogLevel, msg: string) => void {
  return (lvl, msg) => {
    if (LEVELS[lvl] >= LEVELS[level]) console.error(`${new Date().toISOString()} ${lvl} ${msg}`);
  };
}

/** A running node. */
export interface RunningNode {
  readonly http: HostPort;
  readonly kafka: HostPort;
  readonly store: TopicStore;
  /** Stops accepting, flushes and closes; resolves when done. */
  shutdown(): Promise<void>;
  /** Resolves when the node has shut down. */
  readonly finished: Promise<void>;
}

/**
 * Starts a node with `config`.
 * @throws {StorageError} when the data directory cannot be opened.
 */
export function startNode(config: ServeConfig): RunningNode {
  const log = makeLogger(config.logLevel);
  const startedMs = Date.now();
  const store = TopicStore.open(config.dataDir, {
    logDefaults: { fsync: config.fsync },
    onWarning: (m) => log("warn", m),
  });
  let broker;
  try {
    broker = startKafkaBroker(store, {
      nodeId: config.nodeId,
      host: config.kafkaListen.host,
      port: config.kafkaListen.port,
      advertisedHost: config.advertise,
      log,
    });
  } catch (err) {
    // Release the data directory before reporting, so nothing is left half-open.
    store.close().catch(() => {/* the bind error is the one to report */});
    throw err;
  }
  const kafka = { host: broker.addr.hostname, port: broker.addr.port };
  const metrics = () =>
    [
      "# HELP pyralog_up 1 while the node serves.",
      "# TYPE pyralog_up gauge",
      "pyralog_up 1",
      "# HELP pyralog_uptime_seconds Seconds since the node started.",
      "# TYPE pyralog_uptime_seconds gauge",
      `pyralog_uptime_seconds ${((Date.now() - startedMs) / 1000).toFixed(3)}`,
      "# HELP pyralog_topics Topics held by this node.",
      "# TYPE pyralog_topics gauge",
      `pyralog_topics ${store.listTopics().length}`,
      "# HELP pyralog_open_partition_logs Partition logs currently open.",
      "# TYPE pyralog_open_partition_logs gauge",
      `pyralog_open_partition_logs ${store.openLogCount}`,
      "",
    ].join("\n");
  const server = Deno.serve({
    hostname: config.httpListen.host,
    port: config.httpListen.port,
    onListen: () => {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET") return json(405, { error_code: 405, message: "Only GET is served" });
    if (path === "/healthz") return json(200, { status: "ok" });
    // Single node: it is its own controller and serves its partitions once the store is open.
    if (path === "/readyz") return json(200, { status: "ready", node_id: config.nodeId });
    if (path === "/metrics") {
      return new Response(metrics(), { headers: { "content-type": "text/plain; version=0.0.4" } });
    }
    return json(404, { error_code: 404, message: `No route for "${path}"` });
  });
  const addr = server.addr as Deno.NetAddr;
  const http = { host: addr.hostname, port: addr.port };
  log(
    "info",
    `pyralog ${VERSION} node ${config.nodeId} started: data "${config.dataDir}", fsync ${config.fsync}, kafka ${kafka.host}:${kafka.port}, http ${http.host}:${http.port}`,
  );
  if (config.peers) log("warn", "Clustering is not built yet (issue #6); --peers is ignored");
  let stopping: Promise<void> | null = null;
  let resolveFinished = () => {};
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const shutdown = () => {
    stopping ??= (async () => {
      log("info", "Shutting down: stop accepting, flush logs");
      await Promise.all([server.shutdown(), broker.close()]);
      await store.close();
      log("info", "Stopped");
      resolveFinished();
    })();
    return stopping;
  };
  return { http, kafka, store, shutdown, finished };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}
