/**
 * The cluster side of one `pyralog serve` process (issue #6), composed in two phases so the
 * front doors can be built before the node knows its client addresses:
 *
 *   1. `new ClusterRuntime(...)` binds the RPC transport and hands out the facades the Kafka
 *      broker and the HTTP API take (`view`, `replicas`, `topicController`, `requestTopic`,
 *      `logOf` for the topic store); until phase 2 they answer "not ready" (no leader, no
 *      controller);
 *   2. `start(endpoints)` opens the metadata replica, the controller and the broker loop
 *      (`ClusterNode`), then the partition replicas (`ReplicaManager`).
 *
 * Controller refusals are mapped here, once, to admin error kinds; a change made through the
 * controller is answered only after this node's mirror shows it (bounded wait), so a client
 * that creates a topic and then asks this node for its metadata finds it.
 *
 * Must not: leave a timer, a group or the transport open after `close()`.
 */
import { createHash } from "node:crypto";
import {
  type LogConfig,
  type PartitionLog,
  type TopicStore,
  writeFileAtomic,
} from "../storage/mod.ts";
import { existsSync } from "node:fs";
import { createPrng, type NodeId, StorageError, systemClock } from "../util/mod.ts";
import type {
  AdminError,
  AdminErrorKind,
  ControllerOutcome,
  TopicController,
} from "./admin_service.ts";
import { MetadataClusterView, unplaced } from "./cluster_view.ts";
import type { BrokerAddress, ClusterView, PartitionPlacement } from "./cluster_view.ts";
import {
  type BrokerEndpoint,
  ClusterNode,
  type ControllerClientResult,
  MetadataImage,
} from "./controller/mod.ts";
import type { ReplicaDirectory } from "./log_service.ts";
import { MIRROR_FILE, ReplicaManager } from "./replica_manager.ts";
import type { ReplicaHandle } from "./replica_manager.ts";
import { type PeerAddress, realScheduler, TcpTransport } from "./transport/mod.ts";

/** Longest wait for this node's mirror to show a change the controller committed. */
const MIRROR_WAIT_MS = 10_000;
/** Poll period of that wait. */
const MIRROR_POLL_MS = 10;
/** Election timeout of partition groups in ticks (the tick is the timeout / this). */
const PARTITION_ELECTION_TICKS = 10;
/** Auto-creation requests for one name are not repeated more often than this. */
const AUTO_CREATE_RETRY_MS = 1_000;

/** Settings of a node's cluster side. */
export interface ClusterRuntimeOptions {
  readonly nodeId: NodeId;
  readonly dataDir: string;
  readonly rpcListen: { readonly host: string; readonly port: number };
  /** The other nodes of the initial cluster with their RPC addresses. */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  readonly rack?: string | undefined;
  /** Acknowledge once W replicas hold a batch in memory (else once W synced it). */
  readonly writeCaching: boolean;
  readonly store: TopicStore;
  readonly logDefaults?: Partial<LogConfig>;
  readonly defaultPartitions: number;
  /** Replication factor of auto-created topics (capped by the live brokers). */
  readonly defaultReplicationFactor: number;
  /** Raft tick of the metadata group (default 50 ms). */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /**
   * Least election timeout of partition groups (randomized up to twice it); their tick is a
   * tenth of it (default 300 ms: a 30 ms tick, heartbeats every 60 ms).
   */
  readonly partitionElectionTimeoutMs?: number;
  readonly sessionTimeoutMs?: number;
  /** Metadata records after which the controller writes a snapshot (Controller's default). */
  readonly metadataSnapshotRecords?: number;
  readonly isrLagMs?: number;
  /** Told when a partition's high watermark advanced (wakes long polls). */
  readonly onCommit?: (topic: string, partition: number) => void;
  /** Told the duration of every fdatasync of a replica's log (ms), for metrics. */
  readonly onSyncMs?: (durationMs: number) => void;
  readonly log: (level: "info" | "warn", message: string) => void;
}

/**
 * The cluster id every node derives from the initial voters (the transport refuses peers
 * of another cluster): 22 base64url characters, the form of Kafka's cluster ids.
 */
export function deriveClusterId(voters: readonly NodeId[]): string {
  const ids = [...voters].sort((a, b) => a - b).join(",");
  return createHash("sha256").update(`pyralog cluster ${ids}`).digest("base64url").slice(0, 22);
}

/** One node's cluster side. */
export class ClusterRuntime {
  readonly clusterId: string;
  readonly transport: TcpTransport;
  readonly view: ClusterView;
  readonly replicas: ReplicaDirectory;
  readonly topicController: TopicController;
  readonly #o: ClusterRuntimeOptions;
  readonly #empty = new MetadataImage();
  #node: ClusterNode | undefined;
  #manager: ReplicaManager | undefined;
  #view: MetadataClusterView | undefined;
  readonly #autoCreating = new Map<string, number>();
  #closed = false;

  /** Phase 1: binds the RPC listener. @throws when the address cannot be bound. */
  constructor(o: ClusterRuntimeOptions) {
    this.#o = o;
    const strays = o.store.listTopics();
    if (strays.length > 0 && !existsSync(`${o.dataDir}/${MIRROR_FILE}`)) {
      // Topics written by a single node, never mirrored from a controller: cluster mode would
      // neither serve them nor keep them (the mirror drops what the controller does not know).
      throw new StorageError(
        "invalid_argument",
        `Cannot start a cluster node on "${o.dataDir}": it holds ${strays.length} topics of a single-node Pyralog (${
          strays.slice(0, 3).map((t) => `"${t.name}"`).join(", ")
        }${strays.length > 3 ? ", ..." : ""}); use an empty data directory`,
      );
    }
    if (!existsSync(`${o.dataDir}/${MIRROR_FILE}`)) {
      // Marks the directory as a cluster member's before anything is mirrored into it, so a
      // crash after the first mirrored topic does not look like single-node data next time.
      writeFileAtomic(
        o.dataDir,
        MIRROR_FILE,
        new TextEncoder().encode(JSON.stringify({ image_offset: 0 })),
      );
    }
    this.clusterId = deriveClusterId([o.nodeId, ...o.peers.keys()]);
    this.transport = TcpTransport.listen({
      nodeId: o.nodeId,
      clusterId: this.clusterId,
      hostname: o.rpcListen.host,
      port: o.rpcListen.port,
      peers: o.peers,
      prng: createPrng((o.nodeId * 7919 + Date.now()) >>> 0),
      scheduler: realScheduler,
      // Heartbeats of every group to one peer leave in one frame per interval.
      heartbeatIntervalMs: 10,
    });

    this.view = {
      clustered: true,
      controllerId: () => this.#view?.controllerId() ?? -1,
      brokers: (): BrokerAddress[] => this.#view?.brokers() ?? [],
      placement: (topic: string, count: number): PartitionPlacement[] =>
        this.#view?.placement(topic, count) ?? Array.from({ length: count }, (_, p) => unplaced(p)),
      groupCoordinator: (groupId: string) => this.#view?.groupCoordinator(groupId),
    };
    this.replicas = {
      replica: (topic: string, partition: number): ReplicaHandle | undefined =>
        this.#manager?.replica(topic, partition),
      commitOf: (log: PartitionLog) => this.#manager?.commitOf(log),
    };
    this.topicController = {
      createTopic: (req) => this.#createTopic(req),
      deleteTopic: (name) => this.#deleteTopic(name),
      createPartitions: (name, total) => this.#createPartitions(name, total),
      alterConfigs: (name, changes) => this.#alterConfigs(name, changes),
    };
  }

  /** The topic store's `resolveLog`: replicated partitions' logs belong to their groups. */
  logOf(topic: string, partition: number): PartitionLog | "local" | "absent" {
    return this.#manager?.logOf(topic, partition) ?? "absent";
  }

  /** The node's cluster side, once started. */
  get node(): ClusterNode | undefined {
    return this.#node;
  }

  /** The replica manager, once started. */
  get replicaManager(): ReplicaManager | undefined {
    return this.#manager;
  }

  /** Ready (DESIGN.md /readyz): the controller is known and this broker is registered, unfenced. */
  get isReady(): boolean {
    const n = this.#node;
    return n !== undefined && n.controllerId !== undefined && n.brokerEpoch !== undefined &&
      !n.isFenced;
  }

  /** Phase 2: starts the metadata replica, the broker loop and the partition replicas. */
  async start(endpoints: readonly BrokerEndpoint[]): Promise<void> {
    const o = this.#o;
    const prng = createPrng((o.nodeId * 104729 + Date.now() * 31) >>> 0);
    const node = await ClusterNode.start({
      nodeId: o.nodeId,
      dataDir: o.dataDir,
      peers: o.peers,
      transport: this.transport,
      scheduler: realScheduler,
      clock: systemClock,
      prng,
      rack: o.rack,
      endpoints,
      ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
      ...(o.electionTicks !== undefined ? { electionTicks: o.electionTicks } : {}),
      ...(o.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: o.sessionTimeoutMs } : {}),
      ...(o.metadataSnapshotRecords !== undefined
        ? { snapshotEveryRecords: o.metadataSnapshotRecords }
        : {}),
      onWarning: (m) => o.log("warn", m),
    });
    if (this.#closed) {
      await node.close();
      return;
    }
    this.#node = node;
    const manager = new ReplicaManager({
      nodeId: o.nodeId,
      dataDir: o.dataDir,
      store: o.store,
      image: () => node.image,
      router: node.router,
      transport: this.transport,
      scheduler: realScheduler,
      prng: prng.fork(),
      clock: () => systemClock.monotonicMs(),
      tickMs: Math.max(
        5,
        Math.round((o.partitionElectionTimeoutMs ?? 300) / PARTITION_ELECTION_TICKS),
      ),
      electionTicks: PARTITION_ELECTION_TICKS,
      durability: o.writeCaching ? "writeCaching" : "sync",
      ...(o.logDefaults !== undefined ? { logDefaults: o.logDefaults } : {}),
      report: (topicId, partition, leaderEpoch, isr) =>
        node.reportPartition(topicId, partition, leaderEpoch, isr),
      ...(o.onCommit !== undefined ? { onCommit: o.onCommit } : {}),
      ...(o.onSyncMs !== undefined ? { onSyncMs: o.onSyncMs } : {}),
      // The transport sends every group's heartbeats to a peer in one frame per 10 ms.
      coalesceHeartbeats: true,
      ...(o.isrLagMs !== undefined ? { isrLagMs: o.isrLagMs } : {}),
      onWarning: (m) => o.log("warn", m),
    });
    this.#manager = manager;
    this.#view = new MetadataClusterView({
      image: () => node.image,
      controllerId: () => node.controllerId,
      replicas: manager,
    });
    manager.start();
  }

  /**
   * Cluster mode auto-creation: asks the controller once a second at most per name, with the
   * node's defaults unless `partitions` and `configs` are given.
   */
  requestTopic(name: string, partitions?: number, configs?: Record<string, string>): void {
    const node = this.#node;
    if (node === undefined) return;
    const now = systemClock.monotonicMs();
    const last = this.#autoCreating.get(name);
    if (last !== undefined && now - last < AUTO_CREATE_RETRY_MS) return;
    if (this.#autoCreating.size > 10_000) this.#autoCreating.clear(); // a bound, not a cache
    this.#autoCreating.set(name, now);
    const live = node.image.unfencedBrokers().length;
    node.client.createTopic({
      name,
      numPartitions: partitions ?? this.#o.defaultPartitions,
      replicationFactor: Math.max(1, Math.min(this.#o.defaultReplicationFactor, live)),
      ...(configs !== undefined ? { configs } : {}),
    }).then((r) => {
      if (r.type === "ok") this.#o.log("info", `Auto-created topic "${name}"`);
    }, (err: unknown) => this.#o.log("warn", `Cannot auto-create "${name}": ${String(err)}`));
  }

  /**
   * First step of a controlled shutdown, while the node still serves: every partition it
   * leads is handed to an in-sync follower (bounded wait), so clients that get
   * NOT_LEADER_OR_FOLLOWER find the new leader at once instead of after an election.
   */
  async handOffLeaderships(): Promise<void> {
    const still = await this.#manager?.handOffLeaderships();
    if (still !== undefined && still > 0) {
      this.#o.log("warn", `Shutting down while leading ${still} partitions`);
    }
  }

  /** Stops the replicas, the node (controlled shutdown) and the transport. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.handOffLeaderships();
    await this.#manager?.close();
    await this.#node?.shutdown();
    await this.transport.close();
  }

  // ---------------------------------------------------------------- topic changes

  async #createTopic(req: {
    name: string;
    numPartitions: number;
    replicationFactor: number;
    configs: Record<string, string>;
  }): Promise<ControllerOutcome> {
    const node = this.#node;
    if (node === undefined) return notReady();
    const r = await node.client.createTopic(req);
    if (r.type !== "ok") return refusal(r);
    return this.#until(() => this.#o.store.topic(req.name)?.id === r.topicId, req.name);
  }

  async #deleteTopic(name: string): Promise<ControllerOutcome> {
    const node = this.#node;
    if (node === undefined) return notReady();
    const r = await node.client.deleteTopic(name);
    if (r.type !== "ok") return refusal(r);
    return this.#until(() => this.#o.store.topic(name)?.id !== r.topicId, name);
  }

  async #createPartitions(name: string, total: number): Promise<ControllerOutcome> {
    const node = this.#node;
    if (node === undefined) return notReady();
    const r = await node.client.createPartitions(name, total);
    if (r.type !== "ok") return refusal(r);
    return this.#until(() => (this.#o.store.topic(name)?.partitions ?? 0) >= total, name);
  }

  async #alterConfigs(
    name: string,
    changes: ReadonlyArray<{ name: string; value: string | null }>,
  ): Promise<ControllerOutcome> {
    const node = this.#node;
    if (node === undefined) return notReady();
    const r = await node.client.alterConfigs({
      resourceType: "topic",
      resourceName: name,
      changes,
    });
    if (r.type !== "ok") return refusal(r);
    return this.#until(() => {
      const now = this.#o.store.topic(name)?.configs ?? {};
      return changes.every((c) => (c.value === null ? !(c.name in now) : now[c.name] === c.value));
    }, name);
  }

  /** Waits (bounded) until this node's mirror satisfies `done`. */
  async #until(done: () => boolean, name: string): Promise<ControllerOutcome> {
    const deadline = systemClock.monotonicMs() + MIRROR_WAIT_MS;
    for (let i = 0; i < MIRROR_WAIT_MS / MIRROR_POLL_MS + 10; i++) {
      await this.#manager?.reconcile();
      if (done()) return { type: "ok" };
      if (systemClock.monotonicMs() >= deadline) break;
      await new Promise((r) => setTimeout(r, MIRROR_POLL_MS));
    }
    return {
      type: "error",
      kind: "not_controller",
      message: `The change to "${name}" was committed but this node has not applied it yet; retry`,
    };
  }
}

function notReady(): AdminError {
  return {
    type: "error",
    kind: "not_controller",
    message: "This node has not joined its cluster yet",
  };
}

/** Maps a controller refusal to an admin error kind (the one place this mapping lives). */
function refusal(r: Exclude<ControllerClientResult<unknown>, { type: "ok" }>): AdminError {
  if (r.type === "notController" || r.type === "unavailable") {
    const message = r.type === "unavailable" ? r.message : "No controller is available";
    return { type: "error", kind: "not_controller", message };
  }
  const kinds: Partial<Record<string, AdminErrorKind>> = {
    invalid_topic: "invalid_topic",
    topic_exists: "topic_exists",
    unknown_topic: "unknown_topic",
    invalid_partitions: "invalid_partitions",
    invalid_replication_factor: "invalid_replication_factor",
    invalid_config: "invalid_config",
  };
  return { type: "error", kind: kinds[r.kind] ?? "invalid_request", message: r.message };
}
