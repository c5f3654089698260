/**
 * Composes a single-node Kafka broker: node identity, the log service over a topic store,
 * the handler table and the listener. The serving process and tests start brokers here.
 */
import { GroupService, loadClusterId, LogService, ProducerIdAllocator } from "../../cluster/mod.ts";
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
  const context: BrokerContext = {
    nodeId: o.nodeId,
    clusterId: loadClusterId(store.dataDir),
    advertisedHost: o.advertisedHost ?? o.host,
    advertisedPort: o.port,
    logs: new LogService(store, {
      autoCreateTopics: o.autoCreateTopics ?? true,
      defaultPartitions: o.defaultPartitions ?? 1,
      clock,
      ...(o.onRecordsIn ? { onRecordsIn: o.onRecordsIn } : {}),
      ...(o.onRecordsOut ? { onRecordsOut: o.onRecordsOut } : {}),
    }),
    store,
    producerIds: new ProducerIdAllocator(store.dataDir),
    // Replays __consumer_offsets; its deadline timer stops in close() below.
    groups: new GroupService(store, {
      clock,
      ...(o.groupInitialRebalanceDelayMs !== undefined
        ? { initialRebalanceDelayMs: o.groupInitialRebalanceDelayMs }
        : {}),
      log: o.log ?? ((level, m) => console.error(`${level} ${m}`)),
    }),
    clock,
    log: o.log ?? ((level, m) => console.error(`${level} ${m}`)),
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
