/**
 * Composes a Kafka broker: node identity, the log service over a topic store, the handler
 * table and the listener; in a cluster (issue #6) also the node's cluster view, replicas,
 * controller client and producer-id range. The serving process and tests start brokers here.
 */
import {
  type ClusterView,
  GroupService,
  loadClusterId,
  LogService,
  OFFSETS_TOPIC,
  ProducerIdAllocator,
  type ReplicaDirectory,
  SingleNodeView,
  type TopicController,
} from "../../cluster/mod.ts";
import type { TopicStore } from "../../storage/mod.ts";
import { type Clock, systemClock } from "../../util/mod.ts";
import type { BrokerContext, BrokerLogLevel } from "./broker_context.ts";
import { HANDLERS } from "./handlers/mod.ts";
import { KafkaServer, type RequestObserver } from "./kafka_server.ts";

/** Settings of a broker. */
export interface KafkaBrokerOptions {
  nodeId: number;
  host: string;
  port: number;
  /** Host advertised to clients; defaults to the listen host. */
  advertisedHost?: string | null;
  autoCreateTopics?: boolean;
  defaultPartitions?: number;
  maxFrameBytes?: number;
  idleTimeoutMs?: number;
  /** group.initial.rebalance.delay.ms (KIP-134); Kafka's 3 000 by default. */
  groupInitialRebalanceDelayMs?: number;
  clock?: Clock;
  log?: (level: BrokerLogLevel, message: string) => void;
  /** Told about every request (metrics). */
  observer?: RequestObserver;
  /** Told the bytes and records produced and read per topic (metrics). */
  onRecordsIn?: (topic: string, bytes: number, records: number) => void;
  onRecordsOut?: (topic: string, bytes: number, records: number) => void;
  /** Cluster mode (issue #6); absent on a single node. */
  cluster?: BrokerClusterOptions;
}

/** What a broker in a multi-node cluster is given by the node runtime. */
export interface BrokerClusterOptions {
  readonly clusterId: string;
  readonly view: ClusterView;
  readonly replicas: ReplicaDirectory;
  readonly topicController: TopicController;
  /** Asks the controller to create a topic (auto-creation; partitions and configs optional). */
  readonly requestTopic: (
    name: string,
    partitions?: number,
    configs?: Record<string, string>,
  ) => void;
  readonly defaultReplicationFactor: number;
  /** Allocates cluster-wide unique producer ids. */
  readonly producerIds: ProducerIdAllocator;
}

/** A running broker. */
export interface KafkaBroker {
  readonly context: BrokerContext;
  readonly addr: Deno.NetAddr;
  /** Open client connections. */
  readonly connectionCount: number;
  /** Stops the listener after in-flight requests (the store is the caller's to close). */
  close(): Promise<void>;
}

/**
 * Starts a broker serving `store`.
 * @throws when the listen address cannot be bound.
 */
export function startKafkaBroker(store: TopicStore, o: KafkaBrokerOptions): KafkaBroker {
  const clock = o.clock ?? systemClock;
  const c = o.cluster;
  let self: { host: string; port: number } = { host: o.host, port: o.port };
  const context: BrokerContext = {
    nodeId: o.nodeId,
    clusterId: c?.clusterId ?? loadClusterId(store.dataDir),
    advertisedHost: o.advertisedHost ?? o.host,
    advertisedPort: o.port,
    logs: new LogService(store, {
      autoCreateTopics: o.autoCreateTopics ?? true,
      defaultPartitions: o.defaultPartitions ?? 1,
      clock,
      ...(o.onRecordsIn ? { onRecordsIn: o.onRecordsIn } : {}),
      ...(o.onRecordsOut ? { onRecordsOut: o.onRecordsOut } : {}),
      ...(c ? { replicas: c.replicas, requestTopic: c.requestTopic } : {}),
    }),
    store,
    producerIds: c?.producerIds ?? new ProducerIdAllocator(store.dataDir),
    // Replays __consumer_offsets; its deadline timer stops in close() below.
    groups: new GroupService(store, {
      clock,
      ...(o.groupInitialRebalanceDelayMs !== undefined
        ? { initialRebalanceDelayMs: o.groupInitialRebalanceDelayMs }
        : {}),
      log: o.log ?? ((level, m) => console.error(`${level} ${m}`)),
      ...(c
        ? {
          offsetsReplicas: {
            replica: (p: number) => c.replicas.replica(OFFSETS_TOPIC, p),
            requestTopic: (partitions: number, configs: Record<string, string>) =>
              c.requestTopic(OFFSETS_TOPIC, partitions, configs),
          },
        }
        : {}),
    }),
    clock,
    log: o.log ?? ((level, m) => console.error(`${level} ${m}`)),
    cluster: c?.view ??
      new SingleNodeView(() => ({
        nodeId: o.nodeId,
        host: self.host,
        port: self.port,
        rack: null,
      })),
    ...(c ? { topicController: c.topicController } : {}),
    defaultReplicationFactor: c?.defaultReplicationFactor ?? 1,
  };
  let server: KafkaServer;
  try {
    server = KafkaServer.start(context, HANDLERS, {
      host: o.host,
      port: o.port,
      ...(o.maxFrameBytes ? { maxFrameBytes: o.maxFrameBytes } : {}),
      ...(o.idleTimeoutMs ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.observer ? { observer: o.observer } : {}),
    });
  } catch (err) {
    context.groups.close(); // no timer may outlive a broker that did not start
    throw err;
  }
  context.advertisedPort = server.addr.port;
  if (context.advertisedHost === "0.0.0.0" || context.advertisedHost === "::") {
    context.advertisedHost = "127.0.0.1";
  }
  self = { host: context.advertisedHost, port: context.advertisedPort };
  const listening = server;
  return {
    context,
    addr: server.addr,
    get connectionCount() {
      return listening.connectionCount;
    },
    close: () => {
      // Stop the group timer first and answer waiting JoinGroup/SyncGroup requests, so the
      // listener's drain of in-flight requests does not wait for rebalances.
      context.groups.close();
      return server.close();
    },
  };
}
