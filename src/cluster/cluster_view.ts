/**
 * Who serves what, as the front doors report it (Metadata, FindCoordinator, DescribeCluster,
 * the HTTP cluster and topic routes): the brokers with their client addresses, the
 * controller, and per partition its leader, leader epoch, replicas and in-sync replicas.
 *
 * Two implementations: `SingleNodeView` (this node is the only broker, leads every partition
 * at epoch 0) and `MetadataClusterView` (issue #6: the metadata image every node applies,
 * corrected by this node's own Raft groups, which know a new leader before the image does).
 *
 * Must not: do I/O. Answers are sorted (by node id, by partition) so every node gives the
 * same answer for the same state.
 */
import { type NodeId, partitionForKey } from "../util/mod.ts";
import { OFFSETS_TOPIC } from "./group_service.ts";
import type { MetadataImage } from "./controller/mod.ts";
import type { ReplicaManager } from "./replica_manager.ts";

/** A broker as clients reach it. */
export interface BrokerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** One partition's placement. `leader` is -1 when no leader is known. */
export interface PartitionPlacement {
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** Replicas on brokers that are fenced or gone (Metadata's offlineReplicas). */
  readonly offline: readonly number[];
}

/** The cluster as this node sees it. */
export interface ClusterView {
  /** True in a multi-node cluster (issue #6). */
  readonly clustered: boolean;
  /** The active controller's node id, or -1 when unknown. */
  controllerId(): number;
  /** Brokers clients may use, by node id. */
  brokers(): BrokerAddress[];
  /** The placement of a topic's partitions (`count` of them), in partition order. */
  placement(topic: string, count: number): PartitionPlacement[];
  /** The broker that coordinates group `groupId`, or undefined when none is available. */
  groupCoordinator(groupId: string): BrokerAddress | undefined;
}

/** A single node: it is every partition's leader and only replica, at epoch 0. */
export class SingleNodeView implements ClusterView {
  readonly clustered = false;
  readonly #self: () => BrokerAddress;

  /** `self` is read at each call (the advertised port is known only after binding). */
  constructor(self: () => BrokerAddress) {
    this.#self = self;
  }
  controllerId(): number {
    return this.#self().nodeId;
  }
  brokers(): BrokerAddress[] {
    return [this.#self()];
  }
  placement(_topic: string, count: number): PartitionPlacement[] {
    const id = this.#self().nodeId;
    return Array.from({ length: count }, (_, partition) => ({
      partition,
      leader: id,
      leaderEpoch: 0,
      replicas: [id],
      isr: [id],
      offline: [],
    }));
  }
  groupCoordinator(): BrokerAddress {
    return this.#self();
  }
}

/** A partition with no known placement or leader (not in the image, or not joined yet). */
export function unplaced(partition: number): PartitionPlacement {
  return { partition, leader: -1, leaderEpoch: -1, replicas: [], isr: [], offline: [] };
}

/** The name of the listener clients use in broker registrations. */
export const KAFKA_ENDPOINT = "kafka";

/** Cluster mode: the metadata image, corrected by this node's own replicas. */
export class MetadataClusterView implements ClusterView {
  readonly clustered = true;
  readonly #image: () => MetadataImage;
  readonly #controller: () => NodeId | undefined;
  readonly #replicas: ReplicaManager;
  readonly #endpoint: string;

  constructor(o: {
    image: () => MetadataImage;
    controllerId: () => NodeId | undefined;
    replicas: ReplicaManager;
    endpoint?: string;
  }) {
    this.#image = o.image;
    this.#controller = o.controllerId;
    this.#replicas = o.replicas;
    this.#endpoint = o.endpoint ?? KAFKA_ENDPOINT;
  }

  controllerId(): number {
    return this.#controller() ?? -1;
  }

  brokers(): BrokerAddress[] {
    const out: BrokerAddress[] = [];
    for (const b of this.#image().unfencedBrokers()) {
      const e = b.endpoints.find((x) => x.name === this.#endpoint);
      if (e !== undefined) {
        out.push({ nodeId: b.id, host: e.host, port: e.port, rack: b.rack ?? null });
      }
    }
    return out.sort((a, b) => a.nodeId - b.nodeId);
  }

  placement(topic: string, count: number): PartitionPlacement[] {
    const image = this.#image();
    const t = image.describeTopic(topic);
    const live = new Set(image.unfencedBrokers().map((b) => b.id as number));
    const out: PartitionPlacement[] = [];
    for (let partition = 0; partition < count; partition++) {
      const p = t?.partitions[partition];
      if (p === undefined) {
        out.push(unplaced(partition));
        continue;
      }
      // Epoch 0 is the controller's placement, not an elected leader (Raft terms start at 1):
      // until the partition's group reports one, there is none to name.
      let leader: number = p.leaderEpoch > 0 ? p.leader ?? -1 : -1;
      let leaderEpoch = p.leaderEpoch;
      let isr: readonly number[] = p.isr;
      // This node's own group knows a newer leader (or its own leadership) first.
      const local = this.#replicas.replica(topic, partition);
      if (local !== undefined && local.leaderEpoch > leaderEpoch && local.leaderId !== undefined) {
        leader = local.leaderId;
        leaderEpoch = local.leaderEpoch;
      }
      if (local?.isLeader === true) {
        isr = this.#replicas.inSyncSet(topic, partition) ?? isr;
      }
      // A leader on a fenced broker cannot be reached by clients.
      if (leader !== -1 && !live.has(leader)) leader = -1;
      out.push({
        partition,
        leader,
        leaderEpoch,
        replicas: p.replicas,
        isr,
        offline: p.replicas.filter((id) => !live.has(id)),
      });
    }
    return out;
  }

  /**
   * A group is coordinated by the leader of its `__consumer_offsets` partition (Kafka's
   * rule: murmur2 of the group id modulo the partition count), so coordination moves with
   * that partition's leadership.
   */
  groupCoordinator(groupId: string): BrokerAddress | undefined {
    const t = this.#image().describeTopic(OFFSETS_TOPIC);
    if (t === undefined || t.partitions.length === 0) return undefined;
    const p = partitionForKey(new TextEncoder().encode(groupId), t.partitions.length);
    const leader = this.placement(OFFSETS_TOPIC, t.partitions.length)[p]?.leader ?? -1;
    return this.brokers().find((b) => b.nodeId === leader);
  }
}
