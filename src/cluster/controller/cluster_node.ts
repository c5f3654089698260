/**
 * The cluster side of one node (issue #6): its replica of the metadata quorum
 * (`${dataDir}/__cluster_metadata-0`, voters = this node and its peers), the `Controller` that
 * decides while this node leads, the controller RPC server and client, a `GroupRouter` binding
 * them to the node's transport, and the broker loop: register with a fresh incarnation, then
 * heartbeat every `sessionTimeoutMs / 4`, register again when the controller answers
 * `stale_broker_epoch` or `unknown_broker` (this process was fenced out or forgotten).
 *
 * After KRaft's combined mode (KIP-631: a node both votes in the metadata quorum and registers
 * as a broker through the BrokerRegistration and BrokerHeartbeat RPCs).
 *
 * - One broker request is in flight at a time, and each is bounded by the heartbeat interval,
 *   so the loop never piles up calls behind a dead controller.
 * - `shutdown()` is a controlled shutdown: a heartbeat with `wantFence` (so the controller
 *   stops recording this broker as a leader before the session expires), then `close()`.
 * - `reportPartition` is how this node's partition Raft groups tell the controller that they
 *   lead (the term is the leader epoch) and which replicas are in sync.
 * - The transport belongs to the caller: `close()` leaves it open.
 *
 * Must not: read the clock or randomness other than through the injected ones (the
 * incarnation comes from `prng` unless given), or keep a timer after `close()`.
 */
import { assert, type Clock, type NodeId, type Prng } from "../../util/mod.ts";
import { GroupRouter } from "../replication/mod.ts";
import type { PeerAddress, Scheduler, Timer, Transport } from "../transport/mod.ts";
import type { LogConfig } from "../../storage/mod.ts";
import { Controller, DEFAULT_SESSION_TIMEOUT_MS, randomTopicId } from "./controller.ts";
import {
  type CallOptions,
  ControllerClient,
  type ControllerClientResult,
  ControllerRpcServer,
} from "./controller_rpc.ts";
import type { MetadataImage } from "./metadata_image.ts";
import { METADATA_GROUP_ID, MetadataQuorum } from "./metadata_quorum.ts";
import type { BrokerEndpoint } from "./metadata_record.ts";

/** Default Raft tick of the metadata group (and the controller's tick). */
export const DEFAULT_CLUSTER_TICK_MS = 50;
/** Most time a controlled-shutdown heartbeat may take. */
const SHUTDOWN_BEAT_MS_MAX = 2_000;

/** Settings of one node's cluster side. */
export interface ClusterNodeOptions {
  readonly nodeId: NodeId;
  /** The node's data directory; the metadata log lives in `__cluster_metadata-0` under it. */
  readonly dataDir: string;
  /** The other voters of the metadata quorum and their RPC addresses (this node excluded). */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /** The node transport, already connected to `peers` (owned by the caller). */
  readonly transport: Transport;
  readonly scheduler: Scheduler;
  /** Liveness and deadlines use `monotonicMs`. */
  readonly clock: Clock;
  /** Seeds the Raft group, the controller's topic ids and the incarnation. */
  readonly prng: Prng;
  readonly rack?: string | undefined;
  /** The listeners this broker registers (Kafka, HTTP, RPC). */
  readonly endpoints: readonly BrokerEndpoint[];
  /** A fixed incarnation (default: drawn from `prng`, fresh per start). */
  readonly incarnation?: string;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly sessionTimeoutMs?: number;
  /** Metadata records after which the controller writes a snapshot (Controller's default). */
  readonly snapshotEveryRecords?: number;
  /** Broker heartbeat interval (default: a quarter of the session timeout). */
  readonly heartbeatIntervalMs?: number;
  readonly logConfig?: Partial<LogConfig>;
  readonly onWarning?: (message: string) => void;
}

/** One node's metadata replica, controller, controller RPC and broker registration. */
export class ClusterNode {
  readonly nodeId: NodeId;
  readonly quorum: MetadataQuorum;
  readonly controller: Controller;
  readonly server: ControllerRpcServer;
  /** The client for admin requests (createTopic etc.) to the active controller. */
  readonly client: ControllerClient;
  readonly router: GroupRouter;
  /** This process's incarnation (a new one per start). */
  readonly incarnation: string;
  readonly #o: ClusterNodeOptions;
  readonly #beatMs: number;
  #epoch: number | undefined;
  #fenced = true;
  #timer: Timer | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;
  /** Registrations answered `ok` by a controller. */
  registrations = 0;

  private constructor(o: ClusterNodeOptions, quorum: MetadataQuorum) {
    this.#o = o;
    this.nodeId = o.nodeId;
    this.quorum = quorum;
    const sessionMs = o.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.#beatMs = o.heartbeatIntervalMs ?? Math.max(1, Math.floor(sessionMs / 4));
    const clock = () => o.clock.monotonicMs();
    this.controller = new Controller({
      nodeId: o.nodeId,
      quorum,
      prng: o.prng.fork(),
      sessionTimeoutMs: sessionMs,
      ...(o.snapshotEveryRecords !== undefined
        ? { snapshotEveryRecords: o.snapshotEveryRecords }
        : {}),
      ...(o.onWarning !== undefined ? { onWarning: o.onWarning } : {}),
    });
    this.server = new ControllerRpcServer({
      controller: this.controller,
      transport: o.transport,
      clock,
    });
    this.client = new ControllerClient({
      nodeId: o.nodeId,
      transport: o.transport,
      scheduler: o.scheduler,
      clock,
      controllerHint: () => quorum.leaderId(),
      local: this.server,
    });
    this.router = new GroupRouter(o.transport);
    this.router.add(quorum.group);
    this.router.add(this.server);
    this.router.add(this.client);
    this.incarnation = o.incarnation ?? randomTopicId(o.prng.fork());
  }

  /**
   * Opens (or recovers) the node's metadata replica, starts its controller and the broker loop.
   * @throws {StorageError} when the metadata log cannot be opened.
   */
  static async start(o: ClusterNodeOptions): Promise<ClusterNode> {
    assert(!o.peers.has(o.nodeId), `node ${o.nodeId} lists itself as a peer`);
    const dir = `${o.dataDir}/${METADATA_GROUP_ID}`;
    await Deno.mkdir(dir, { recursive: true });
    const voters = [o.nodeId, ...o.peers.keys()].sort((a, b) => a - b);
    const quorum = MetadataQuorum.open({
      nodeId: o.nodeId,
      dir,
      membership: { voters, learners: [] },
      transport: o.transport,
      scheduler: o.scheduler,
      prng: o.prng.fork(),
      tickMs: o.tickMs ?? DEFAULT_CLUSTER_TICK_MS,
      ...(o.electionTicks !== undefined ? { electionTicks: o.electionTicks } : {}),
      ...(o.logConfig !== undefined ? { logConfig: o.logConfig } : {}),
      ...(o.onWarning !== undefined ? { onWarning: o.onWarning } : {}),
    });
    const node = new ClusterNode(o, quorum);
    node.controller.start(
      o.scheduler,
      () => o.clock.monotonicMs(),
      o.tickMs ?? DEFAULT_CLUSTER_TICK_MS,
    );
    node.#arm(0);
    return node;
  }

  /** The metadata image this node applied (committed records only). */
  get image(): MetadataImage {
    return this.quorum.image;
  }

  /** The controller (metadata leader) this node knows, if any. */
  get controllerId(): NodeId | undefined {
    return this.quorum.leaderId();
  }

  /** True while this node's controller decides. */
  get isActiveController(): boolean {
    return this.controller.isActive;
  }

  /** This broker's epoch, once registered. */
  get brokerEpoch(): number | undefined {
    return this.#epoch;
  }

  /** Whether the controller last reported this broker fenced. */
  get isFenced(): boolean {
    return this.#fenced;
  }

  /**
   * Reports that this node's Raft group of partition `partition` of `topicId` leads at term
   * `leaderEpoch` with ISR `isr` (the controller's `alterPartition`, with this broker's id and
   * current epoch). Before the broker is registered it answers `unknown_broker` without a call.
   */
  reportPartition(
    topicId: string,
    partition: number,
    leaderEpoch: number,
    isr: readonly NodeId[],
    opts?: CallOptions,
  ): Promise<ControllerClientResult<{ leaderEpoch: number }>> {
    const brokerEpoch = this.#epoch;
    if (brokerEpoch === undefined) {
      return Promise.resolve({
        type: "error",
        kind: "unknown_broker",
        message:
          `Cannot report partition "${partition}" of topic "${topicId}": broker "${this.nodeId}" is not registered yet`,
      });
    }
    return this.client.alterPartition(
      { brokerId: this.nodeId, brokerEpoch, topicId, partition, leaderEpoch, isr },
      opts,
    );
  }

  /** Controlled shutdown: asks to be fenced (bounded wait), then closes. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#inFlight;
    const epoch = this.#epoch;
    if (epoch !== undefined && !this.#closed) {
      const timeoutMs = Math.min(this.#beatMs * 2, SHUTDOWN_BEAT_MS_MAX);
      const r = await this.client.brokerHeartbeat(
        { brokerId: this.nodeId, brokerEpoch: epoch, wantFence: true },
        { timeoutMs },
      );
      if (r.type === "ok") this.#fenced = r.isFenced;
    }
    await this.close();
  }

  /** Stops the broker loop, the RPC, the controller and the metadata replica. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.client.close();
    this.server.close();
    await this.#inFlight;
    await this.controller.stop();
    await this.quorum.close();
    this.router.remove(METADATA_GROUP_ID);
    this.router.remove(this.server.groupId);
    this.router.remove(this.client.groupId);
  }

  #arm(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = this.#o.scheduler.setTimer(() => {
      this.#timer = undefined;
      if (this.#closed || this.#inFlight !== undefined) return this.#arm(this.#beatMs);
      this.#inFlight = this.#beat().finally(() => (this.#inFlight = undefined));
      this.#arm(this.#beatMs);
    }, delayMs);
  }

  /** One step of the broker loop: register, or heartbeat (each bounded by the interval). */
  async #beat(): Promise<void> {
    const timeoutMs = this.#beatMs;
    if (this.#epoch === undefined) {
      const r = await this.client.registerBroker({
        brokerId: this.nodeId,
        incarnation: this.incarnation,
        rack: this.#o.rack,
        endpoints: this.#o.endpoints,
      }, { timeoutMs });
      if (r.type !== "ok" || this.#closed) return;
      this.#epoch = r.brokerEpoch;
      this.#fenced = true;
      this.registrations++;
      // Heartbeat at once: a new registration is fenced until its first heartbeat.
    }
    const epoch = this.#epoch;
    const r = await this.client.brokerHeartbeat(
      { brokerId: this.nodeId, brokerEpoch: epoch },
      { timeoutMs },
    );
    if (r.type === "ok") this.#fenced = r.isFenced;
    else if (
      r.type === "error" && (r.kind === "stale_broker_epoch" || r.kind === "unknown_broker")
    ) {
      // This process was fenced out (or the controller lost it): register again.
      this.#epoch = undefined;
      this.#fenced = true;
    }
  }
}
