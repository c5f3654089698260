/**
 * `pyralog serve`: runs one node. A node opens its data directory (recovering every
 * partition log it touches), runs the storage background duties, serves the Kafka protocol,
 * the HTTP API and the health, readiness and metrics endpoints of DESIGN.md's contract. With
 * `--peers` it is a member of a cluster (issue #6): the cluster runtime (transport,
 * controller, partition replicas) is composed here with the front doors.
 *
 * SIGTERM and SIGINT stop it gracefully: a cluster member first hands its leaderships to
 * in-sync followers, then it stops accepting, flushes every log and exits 0.
 */
import { startKafkaBroker } from "../kafka/broker/mod.ts";
import {
  ClusterRuntime,
  type GroupService,
  KAFKA_ENDPOINT,
  type LogService,
  ProducerIdAllocator,
  type RaftGroup,
} from "../cluster/mod.ts";
import { nodeId as toNodeId } from "../util/mod.ts";
import { createHttpApp } from "../http/mod.ts";
import { Metrics } from "../metrics/mod.ts";
import { type PartitionLog, TopicStore } from "../storage/mod.ts";
import { LeaderForwarder } from "./leader_forwarder.ts";
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
  const metrics = new Metrics();
  const fsyncSeconds = metrics.histogram(
    "pyralog_fsync_duration_seconds",
    "Duration of each fdatasync of a partition log.",
  );
  const kafkaRequests = metrics.counter(
    "pyralog_kafka_requests_total",
    "Kafka protocol requests handled, by API.",
    ["api"],
  );
  const kafkaErrors = metrics.counter(
    "pyralog_kafka_request_errors_total",
    "Error codes other than NONE in Kafka responses (or a closed connection), by API.",
    ["api"],
  );
  const kafkaLatency = metrics.histogram(
    "pyralog_kafka_request_duration_seconds",
    "Time to handle a Kafka request (long polls included), by API.",
    ["api"],
  );
  const bytesIn = metrics.counter(
    "pyralog_topic_bytes_in_total",
    "Record batch bytes produced, by topic.",
    ["topic"],
  );
  const recordsIn = metrics.counter(
    "pyralog_topic_records_in_total",
    "Records produced, by topic.",
    ["topic"],
  );
  const bytesOut = metrics.counter(
    "pyralog_topic_bytes_out_total",
    "Record batch bytes read for consumers (Kafka and HTTP; long-poll re-reads included), by topic.",
    ["topic"],
  );
  const recordsOut = metrics.counter(
    "pyralog_topic_records_out_total",
    "Records read for consumers, by topic.",
    [
      "topic",
    ],
  );
  // Cluster mode (issue #6): --peers names the other nodes of the initial cluster.
  let runtime: ClusterRuntime | undefined;
  // Set once the broker (and its log service) exists; commits before that wake no one.
  const commits: { logs?: LogService } = {};
  const store = TopicStore.open(config.dataDir, {
    logDefaults: { fsync: config.fsync },
    onWarning: (m) => log("warn", m),
    onSyncMs: (ms) => fsyncSeconds.observe([], ms / 1000),
    ...(config.peers.length > 0
      ? { resolveLog: (t: string, p: number) => runtime?.logOf(t, p) ?? "absent" as const }
      : {}),
  });
  if (config.peers.length > 0) {
    try {
      runtime = new ClusterRuntime({
        nodeId: toNodeId(config.nodeId),
        dataDir: config.dataDir,
        rpcListen: config.rpcListen,
        peers: new Map(
          config.peers.map((p) => [toNodeId(p.id), { hostname: p.host, port: p.port }]),
        ),
        rack: config.rack ?? undefined,
        writeCaching: config.writeCaching,
        store,
        logDefaults: { fsync: config.fsync },
        defaultPartitions: config.defaultPartitions,
        defaultReplicationFactor: config.defaultReplicationFactor,
        partitionElectionTimeoutMs: config.electionTimeoutMs,
        metadataSnapshotRecords: config.metadataSnapshotRecords,
        onSyncMs: (ms) => fsyncSeconds.observe([], ms / 1000),
        onCommit: (t, p) => commits.logs?.notifyCommitted(t, p),
        log: (lvl, m) => log(lvl, m),
      });
    } catch (err) {
      store.close().catch(() => {/* the bind error is the one to report */});
      throw err;
    }
  }
  const cluster = runtime;
  let broker;
  try {
    broker = startKafkaBroker(store, {
      nodeId: config.nodeId,
      host: config.kafkaListen.host,
      port: config.kafkaListen.port,
      advertisedHost: config.advertise,
      autoCreateTopics: config.autoCreateTopics,
      defaultPartitions: config.defaultPartitions,
      log,
      observer: (api, ms, errors) => {
        kafkaRequests.inc([api]);
        if (errors > 0) kafkaErrors.inc([api], errors);
        kafkaLatency.observe([api], ms / 1000);
      },
      onRecordsIn: (topic, bytes, records) => {
        bytesIn.inc([topic], bytes);
        recordsIn.inc([topic], records);
      },
      onRecordsOut: (topic, bytes, records) => {
        bytesOut.inc([topic], bytes);
        recordsOut.inc([topic], records);
      },
      ...(cluster
        ? {
          cluster: {
            clusterId: cluster.clusterId,
            view: cluster.view,
            replicas: cluster.replicas,
            topicController: cluster.topicController,
            requestTopic: (name: string, partitions?: number, configs?: Record<string, string>) =>
              cluster.requestTopic(name, partitions, configs),
            defaultReplicationFactor: config.defaultReplicationFactor,
            producerIds: new ProducerIdAllocator(config.dataDir, config.nodeId),
          },
        }
        : {}),
    });
  } catch (err) {
    // Release the data directory before reporting, so nothing is left half-open.
    (async () => {
      await cluster?.close();
      await store.close();
    })().catch(() => {/* the bind error is the one to report */});
    throw err;
  }
  commits.logs = broker.context.logs;
  const kafka = { host: broker.addr.hostname, port: broker.addr.port };
  nodeMetrics(metrics, store, broker.context.logs, startedMs);
  if (cluster) replicaMetrics(metrics, cluster);
  const kafkaBroker = broker;
  metrics.gauge("pyralog_kafka_connections", "Open Kafka protocol client connections.")
    .collect((set) => set([], kafkaBroker.connectionCount));
  groupMetrics(metrics, store, broker.context.logs, broker.context.groups);
  const shutdownSignal = new AbortController();
  // Cluster mode: HTTP produce to a partition another node leads goes to that node.
  const forwarder = new LeaderForwarder({
    host: broker.context.advertisedHost,
    port: broker.context.advertisedPort,
  });
  const app = createHttpApp({
    logs: broker.context.logs,
    store,
    groups: broker.context.groups,
    metrics,
    nodeId: config.nodeId,
    clusterId: broker.context.clusterId,
    version: VERSION,
    startedMs,
    kafka: { host: broker.context.advertisedHost, port: broker.context.advertisedPort },
    shutdown: shutdownSignal.signal,
    cluster: broker.context.cluster,
    defaultReplicationFactor: broker.context.defaultReplicationFactor,
    ...(cluster
      ? {
        ready: () => cluster.isReady,
        topicController: cluster.topicController,
        forwardProduce: forwarder.forward,
      }
      : {}),
  });
  const server = Deno.serve({
    hostname: config.httpListen.host,
    port: config.httpListen.port,
    onListen: () => {},
  }, app.fetch);
  const addr = server.addr as Deno.NetAddr;
  const http = { host: addr.hostname, port: addr.port };
  const rpc = cluster
    ? `, rpc ${cluster.transport.addr.hostname}:${cluster.transport.addr.port}, peers ${
      config.peers.map((p) => `${p.id}@${p.host}:${p.port}`).join(",")
    }${config.writeCaching ? ", write caching" : ""}`
    : "";
  log(
    "info",
    `pyralog ${VERSION} node ${config.nodeId} started: data "${config.dataDir}", fsync ${config.fsync}, kafka ${kafka.host}:${kafka.port}, http ${http.host}:${http.port}${rpc}`,
  );
  const joining = cluster?.start([
    {
      name: KAFKA_ENDPOINT,
      host: broker.context.advertisedHost,
      port: broker.context.advertisedPort,
    },
    { name: "http", host: config.advertise ?? http.host, port: http.port },
  ]);
  let stopping: Promise<void> | null = null;
  let resolveFinished = () => {};
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const shutdown = () => {
    stopping ??= (async () => {
      log("info", "Shutting down: stop accepting, flush logs");
      // A cluster member hands its leaderships over while it still answers, so clients
      // move to the new leaders at once (Kafka's controlled shutdown).
      await joining?.catch(() => {/* reported when it failed */});
      await cluster?.handOffLeaderships();
      // End SSE streams and long polls first, so the HTTP server can drain.
      shutdownSignal.abort();
      await Promise.all([server.shutdown(), broker.close()]);
      await forwarder.close();
      // Replicas close (and flush) before the store; then a controlled shutdown of the node.
      await joining?.catch(() => {/* reported when it failed */});
      await cluster?.close();
      await store.close();
      log("info", "Stopped");
      resolveFinished();
    })();
    return stopping;
  };
  joining?.catch((err: unknown) => {
    log("error", `Cannot join the cluster: ${(err as Error).message}`);
    shutdown();
  });
  return { http, kafka, store, shutdown, finished };
}

/** Consumer-group lag per partition (high watermark minus committed offset), read at scrape. */
function groupMetrics(m: Metrics, store: TopicStore, logs: LogService, groups: GroupService): void {
  m.gauge(
    "pyralog_consumer_group_lag",
    "Records between a group's committed offset and the high watermark.",
    [
      "group",
      "topic",
      "partition",
    ],
  ).collect((set) => {
    for (const g of groups.coordinator.list()) {
      for (const t of groups.coordinator.committedOffsets(g.groupId)) {
        const info = store.topic(t.topic);
        if (!info) continue;
        for (const p of t.partitions) {
          if (p.partition >= info.partitions) continue;
          // In a cluster only partitions with a replica here are known to this node.
          const log = store.openPartition(t.topic, p.partition) ??
            (logs.clustered ? undefined : store.partition(t.topic, p.partition));
          if (log === undefined) continue;
          const hw = logs.highWatermark(log);
          set([g.groupId, t.topic, String(p.partition)], Math.max(0, hw - p.committed.offset));
        }
      }
    }
  });
}

/** Cluster mode: per-replica leadership, in-sync set and replication lag, read at scrape. */
function replicaMetrics(m: Metrics, cluster: ClusterRuntime): void {
  const labels = ["topic", "partition"];
  const each = (
    visit: (
      set: (labels: string[], value: number) => void,
      r: { topic: string; partition: number; group: RaftGroup },
    ) => void,
  ) =>
  (set: (labels: string[], value: number) => void) => {
    for (const r of cluster.replicaManager?.hosted() ?? []) visit(set, r);
  };
  m.gauge("pyralog_partition_leader", "1 where this node leads the partition's Raft group.", labels)
    .collect(
      each((set, r) => set([r.topic, String(r.partition)], r.group.role === "leader" ? 1 : 0)),
    );
  m.gauge(
    "pyralog_partition_leader_epoch",
    "Raft term (Kafka leader epoch) this replica is in.",
    labels,
  )
    .collect(each((set, r) => set([r.topic, String(r.partition)], r.group.term)));
  m.gauge(
    "pyralog_partition_in_sync_replicas",
    "Replicas in the in-sync set, on the leader.",
    labels,
  ).collect(each((set, r) => {
    const isr = cluster.replicaManager?.inSyncSet(r.topic, r.partition);
    if (isr !== undefined) set([r.topic, String(r.partition)], isr.length);
  }));
  m.gauge(
    "pyralog_partition_under_replicated",
    "1 where this node leads the partition and a replica is out of the in-sync set.",
    labels,
  ).collect(each((set, r) => {
    const isr = cluster.replicaManager?.inSyncSet(r.topic, r.partition);
    if (isr === undefined) return;
    set([r.topic, String(r.partition)], isr.length < r.group.membership.voters.length ? 1 : 0);
  }));
  m.gauge(
    "pyralog_partition_follower_lag_records",
    "On the leader: offsets between its log end and what each follower is known to hold.",
    ["topic", "partition", "follower"],
  ).collect(each((set, r) => {
    const g = r.group;
    if (g.role !== "leader") return;
    for (const v of g.membership.voters) {
      if (v === g.nodeId) continue;
      const lag = Math.max(0, g.logEndOffset - (g.matchOf(v) ?? 0));
      set([r.topic, String(r.partition), String(v)], lag);
    }
  }));
  m.gauge("pyralog_cluster_ready", "1 once the node knows the controller and is registered.")
    .collect((set) => set([], cluster.isReady ? 1 : 0));
}

/** The node's metrics: process and storage gauges read at scrape time. */
function nodeMetrics(m: Metrics, store: TopicStore, logs: LogService, startedMs: number): void {
  m.gauge("pyralog_up", "1 while the node serves.").set([], 1);
  m.gauge("pyralog_uptime_seconds", "Seconds since the node started.")
    .collect((set) => set([], (Date.now() - startedMs) / 1000));
  m.gauge("process_resident_memory_bytes", "Resident memory of this process.")
    .collect((set) => set([], Deno.memoryUsage().rss));
  m.gauge(
    "pyralog_memory_bytes",
    "JavaScript heap in use and reserved, and memory outside it (buffers), in bytes.",
    ["kind"],
  ).collect((set) => {
    const u = Deno.memoryUsage();
    set(["heap_used"], u.heapUsed);
    set(["heap_total"], u.heapTotal);
    set(["external"], u.external);
  });
  m.gauge("pyralog_topics", "Topics held by this node.")
    .collect((set) => set([], store.listTopics().length));
  m.gauge("pyralog_open_partition_logs", "Partition logs currently open.")
    .collect((set) => set([], store.openLogCount));
  const offsets = (name: string, help: string, pick: (log: PartitionLog) => number) =>
    m.gauge(name, help, ["topic", "partition"]).collect((set) => {
      for (const t of store.listTopics()) {
        for (let p = 0; p < t.partitions; p++) {
          const log = store.openPartition(t.name, p);
          if (log) set([t.name, String(p)], pick(log));
        }
      }
    });
  offsets(
    "pyralog_partition_log_start_offset",
    "First offset held by an open partition log.",
    (l) => l.logStartOffset,
  );
  offsets(
    "pyralog_partition_log_end_offset",
    "Next offset of an open partition log.",
    (l) => l.logEndOffset,
  );
  offsets(
    "pyralog_partition_high_watermark",
    "Offset consumers can read up to.",
    (l) => logs.highWatermark(l),
  );
  offsets(
    "pyralog_partition_segments",
    "Segments of an open partition log.",
    (l) => l.segmentCount,
  );
  m.gauge("pyralog_open_segment_files", "Segment files held open by the descriptor pool.")
    .collect((set) => set([], store.openFileCount));
}
