/**
 * Test fixture: N nodes, each with its own `TopicStore` (a temporary directory), its own
 * `ReplicaManager` and a cluster-mode `LogService`, over one `SimNetwork` on virtual time
 * driven from one seed. Every node applies the same `MetadataImage`, which the test builds
 * and changes, and a fake controller answers leadership reports with the controller's rule
 * (`Controller.alterPartition`: a newer epoch, or the same epoch with the same or no recorded
 * leader; no fenced broker in the ISR, KIP-841) by applying a `partition` record to that image.
 *
 * After every simulated event the fixture waits until every Raft group has finished the I/O
 * that event caused (and the microtasks of reconciliation passes and produce paths ran), so a
 * run is a function of the seed (STYLE.md principle 4) although the disks are real. A crash
 * halts the node's transport and closes its manager (its directory stays for a restart).
 * Private to tests.
 */
import { ATTR, decodeBatch, iterateBatches } from "../records/mod.ts";
import { TopicStore } from "../storage/mod.ts";
import { type SimFaults, SimNetwork } from "../testing/sim_network.ts";
import { assert, type Clock, createPrng, type NodeId, nodeId } from "../util/mod.ts";
import { MetadataClusterView } from "./cluster_view.ts";
import { fenceChanges, MetadataImage, type MetadataRecord } from "./controller/mod.ts";
import { LogService, type ProduceOptions, type ProduceOutcome } from "./log_service.ts";
import { ReplicaManager, type ReportResult } from "./replica_manager.ts";
import { GroupRouter } from "./replication/mod.ts";

/** Events one `runUntil` may process (a livelock guard). */
const EVENTS_MAX = 500_000;
/** Microtask turns given to reconciliation passes and produce continuations after I/O. */
const MICROTASK_TURNS = 16;
/** Virtual ms of one Raft tick. */
export const TICK_MS = 10;
/** Wall-clock origin of virtual time (record timestamps, log append times). */
export const EPOCH_MS = 1_700_000_000_000;
/** The topic every scenario uses. */
export const TOPIC = "t";
/** Its id (a lower-case UUID, as the controller draws them). */
export const TOPIC_ID = "00000000-0000-4000-8000-000000000001";
/** Read bound of one log read in the fixture's helpers. */
const READ_BYTES_MAX = 64 * 1024 * 1024;

/** Settings of a simulated cluster. */
export interface ReplicaClusterOptions {
  readonly seed: number;
  readonly nodes?: number;
  /** Replica lists of the topic's partitions (default: one partition on every node). */
  readonly partitions?: ReadonlyArray<readonly number[]>;
  /** Topic configs (retention is switched off unless given). */
  readonly configs?: Record<string, string>;
  readonly isrLagMs?: number;
  /** 0 (the default here) turns preferred-leader rebalancing off. */
  readonly preferredLeaderDelayMs?: number;
  readonly faults?: Partial<SimFaults>;
}

/** A leadership report a node made, with the fake controller's answer. */
export interface Report {
  readonly atMs: number;
  readonly from: NodeId;
  readonly topicId: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly isr: readonly NodeId[];
  readonly accepted: boolean;
}

/** One running node. */
export interface SimNode {
  readonly id: NodeId;
  readonly store: TopicStore;
  readonly manager: ReplicaManager;
  readonly logs: LogService;
  readonly view: MetadataClusterView;
}

/** A simulated cluster of replica managers. */
export class SimReplicaCluster {
  readonly seed: number;
  readonly net: SimNetwork;
  readonly ids: NodeId[];
  readonly dirs = new Map<NodeId, string>();
  readonly nodes = new Map<NodeId, SimNode>();
  /** The metadata image every node applies (the controller's committed state). */
  readonly image = new MetadataImage();
  readonly reports: Report[] = [];
  /** Reports that broke a rule of the controller's (a replica's bug); should stay empty. */
  readonly violations: string[] = [];
  readonly warnings: string[] = [];
  readonly clock: Clock;
  readonly #o: ReplicaClusterOptions;
  readonly #brokerEpochs = new Map<NodeId, number>();
  #incarnation = 0;

  private constructor(o: ReplicaClusterOptions) {
    this.#o = o;
    this.seed = o.seed;
    this.net = new SimNetwork({ seed: o.seed, faults: o.faults ?? {} });
    this.ids = Array.from({ length: o.nodes ?? 3 }, (_, i) => nodeId(i + 1));
    const net = this.net;
    this.clock = { nowMs: () => EPOCH_MS + net.nowMs, monotonicMs: () => net.nowMs };
  }

  /** Builds the image (brokers, topic, configs, partitions) and starts every node. */
  static async start(o: ReplicaClusterOptions): Promise<SimReplicaCluster> {
    const c = new SimReplicaCluster(o);
    for (const id of c.ids) {
      c.dirs.set(id, await Deno.makeTempDir({ prefix: `pyralog-replica-${id}-` }));
      c.net.addNode(id);
      c.#brokerEpochs.set(id, 1);
      c.apply(registration(id, 1));
      c.apply({ type: "unfenceBroker", brokerId: id, brokerEpoch: 1 });
    }
    const configs = { "retention.ms": "-1", ...o.configs };
    c.apply({ type: "topic", name: TOPIC, topicId: TOPIC_ID });
    for (const [name, value] of Object.entries(configs)) c.setConfig(name, value);
    const lists = o.partitions ?? [c.ids];
    for (const [partition, list] of lists.entries()) {
      const replicas = list.map((n) => nodeId(n));
      const leader = replicas[0];
      assert(leader !== undefined, "a partition has a replica");
      c.apply({
        type: "partition",
        topicId: TOPIC_ID,
        partition,
        replicas,
        isr: replicas,
        leader,
        leaderEpoch: 0,
      });
    }
    for (const id of c.ids) c.#open(id);
    return c;
  }

  /** Applies a record to the shared image at its next offset. */
  apply(record: MetadataRecord): void {
    this.image.apply(record, this.image.nextOffset);
  }

  /** Sets (or with null removes) a config of the topic. */
  setConfig(name: string, value: string | null): void {
    this.apply({ type: "config", resourceType: "topic", resourceName: TOPIC, name, value });
  }

  /** Opens node `id` over its directory (its store, manager, service and view). */
  #open(id: NodeId): SimNode {
    const dir = this.dirs.get(id);
    assert(dir !== undefined, `no directory for node ${id}`);
    const transport = this.net.transport(id);
    const router = new GroupRouter(transport);
    let manager: ReplicaManager | undefined = undefined;
    const store = TopicStore.open(dir, {
      logDefaults: { fsync: "never" },
      background: false,
      clock: this.clock,
      resolveLog: (t, p) => manager?.logOf(t, p) ?? "absent",
      onWarning: (m) => this.warnings.push(`node ${id}: ${m}`),
    });
    let logs: LogService | undefined = undefined;
    manager = new ReplicaManager({
      nodeId: id,
      dataDir: dir,
      store,
      image: () => this.image,
      router,
      transport,
      scheduler: this.net.scheduler,
      prng: createPrng(this.seed * 7919 + id * 31 + this.#incarnation++),
      clock: () => this.net.nowMs,
      nowMs: () => this.clock.nowMs(),
      tickMs: TICK_MS,
      durability: "sync",
      report: (topicId, partition, leaderEpoch, isr) =>
        Promise.resolve(this.#report(id, topicId, partition, leaderEpoch, isr)),
      onCommit: (t, p) => logs?.notifyCommitted(t, p),
      isrLagMs: this.#o.isrLagMs ?? 300,
      preferredLeaderDelayMs: this.#o.preferredLeaderDelayMs ?? 0,
      onWarning: (m) => this.warnings.push(`node ${id}: ${m}`),
    });
    logs = new LogService(store, {
      autoCreateTopics: false,
      defaultPartitions: 1,
      clock: this.clock,
      replicas: manager,
    });
    const view = new MetadataClusterView({
      image: () => this.image,
      controllerId: () => nodeId(1),
      replicas: manager,
    });
    const node: SimNode = { id, store, manager, logs, view };
    this.nodes.set(id, node);
    manager.start();
    return node;
  }

  /** The fake controller: `Controller.alterPartition`'s rule, applied to the image. */
  #report(
    from: NodeId,
    topicId: string,
    partition: number,
    leaderEpoch: number,
    isr: NodeId[],
  ): ReportResult {
    const atMs = this.net.nowMs;
    const p = this.image.topicById(topicId)?.partitions[partition];
    const record = (accepted: boolean) =>
      this.reports.push({ atMs, from, topicId, partition, leaderEpoch, isr: [...isr], accepted });
    const b = this.image.broker(from);
    if (p === undefined || b === undefined || b.fenced) {
      record(false);
      return { type: "refused" };
    }
    if (
      !p.replicas.includes(from) || !isr.includes(from) || isr.some((i) => !p.replicas.includes(i))
    ) {
      this.violations.push(
        `node ${from} reported a malformed ISR [${isr}] for partition ${partition}`,
      );
      record(false);
      return { type: "invalid_request" };
    }
    // KIP-841, as `Controller.alterPartition`: a fenced (or unknown) broker is not eligible
    // for the ISR, whatever the leader believes; the leader retries with a fresher view.
    if (isr.some((i) => this.image.broker(i)?.fenced !== false)) {
      record(false);
      return { type: "invalid_request" };
    }
    const current = leaderEpoch > p.leaderEpoch ||
      (leaderEpoch === p.leaderEpoch && (p.leader === undefined || p.leader === from));
    record(current);
    if (!current) return { type: "stale_leader_epoch" };
    const ordered = p.replicas.filter((r) => isr.includes(r));
    const same = p.leader === from && p.leaderEpoch === leaderEpoch &&
      ordered.length === p.isr.length && ordered.every((r, i) => r === p.isr[i]);
    if (!same) {
      this.apply({
        type: "partition",
        topicId,
        partition,
        replicas: p.replicas,
        isr: ordered,
        leader: from,
        leaderEpoch,
      });
    }
    return { type: "ok" };
  }

  /** The running node `id`. */
  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    assert(n !== undefined, `seed ${this.seed}: node ${id} is down`);
    return n;
  }

  /** The replica manager of running node `id`. */
  manager(id: NodeId): ReplicaManager {
    return this.node(id).manager;
  }

  /** The Raft group of partition `p` on node `id`, if the node hosts it. */
  group(id: NodeId, p = 0) {
    return this.nodes.get(id)?.manager.hosted().find((h) => h.topic === TOPIC && h.partition === p)
      ?.group;
  }

  /** The leader of partition `p` among running nodes (the highest term when several think so). */
  leaderOf(p = 0): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const id of this.nodes.keys()) {
      const g = this.group(id, p);
      if (
        g?.role === "leader" && g.failure === undefined &&
        (best === undefined || g.term > best.term)
      ) {
        best = { id, term: g.term };
      }
    }
    return best?.id;
  }

  /** Running nodes that consider themselves leader of partition `p`. */
  leadersOf(p = 0): NodeId[] {
    return [...this.nodes.keys()].filter((id) => this.group(id, p)?.role === "leader");
  }

  async #settle(): Promise<void> {
    // Twice: I/O completions may start more work (a follower's append after a leader's).
    for (let round = 0; round < 2; round++) {
      const groups = [...this.nodes.values()].flatMap((n) =>
        n.manager.hosted().map((h) => h.group)
      );
      await Promise.all(groups.map((g) => g.idle()));
      for (let i = 0; i < MICROTASK_TURNS; i++) await Promise.resolve();
    }
  }

  /** Runs events (each followed by the I/O it caused) until `cond` or `maxMs` pass. */
  async runUntil(cond: () => boolean, maxMs: number): Promise<boolean> {
    return await this.net.runSettled(
      cond,
      maxMs,
      () => this.#settle(),
      EVENTS_MAX,
      `seed ${this.seed}`,
    );
  }

  /** Runs for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  /** Runs until partition `p` has a leader whose report the image shows; returns it. */
  async settledLeader(p = 0, maxMs = 5_000): Promise<NodeId> {
    const ok = await this.runUntil(() => {
      const l = this.leaderOf(p);
      if (l === undefined) return false;
      const rec = this.image.topicById(TOPIC_ID)?.partitions[p];
      return rec?.leader === l && rec.leaderEpoch === this.group(l, p)?.term;
    }, maxMs);
    const l = this.leaderOf(p);
    assert(
      ok && l !== undefined,
      `seed ${this.seed}: no reported leader of ${p} within ${maxMs} ms`,
    );
    return l;
  }

  /** Produces on node `id` and runs the simulation until the answer arrives. */
  async produce(
    id: NodeId,
    records: Uint8Array,
    o: { partition?: number; acksAll?: boolean; maxMs?: number } & ProduceOptions = {},
  ): Promise<ProduceOutcome> {
    let out: ProduceOutcome | undefined;
    const p = this.node(id).logs.produce(
      TOPIC,
      o.partition ?? 0,
      records,
      o.acksAll ?? true,
      o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs },
    ).then((r) => (out = r));
    const maxMs = o.maxMs ?? 5_000;
    await this.runUntil(() => out !== undefined, maxMs);
    assert(out !== undefined, `seed ${this.seed}: produce on node ${id} unanswered in ${maxMs} ms`);
    await p;
    return out;
  }

  /** Cuts node `id` off from every other node. */
  isolate(id: NodeId): void {
    for (const other of this.ids) if (other !== id) this.net.partition(id, other);
  }

  /**
   * Crashes node `id`: its transport halts, its manager closes (its directory stays), and
   * the controller fences it as a missed session would (`fenceChanges`).
   */
  async crash(id: NodeId): Promise<void> {
    const n = this.nodes.get(id);
    this.nodes.delete(id);
    this.net.crash(id);
    await n?.manager.close();
    await n?.store.close();
    const epoch = this.#brokerEpochs.get(id) ?? 1;
    this.apply({ type: "fenceBroker", brokerId: id, brokerEpoch: epoch });
    for (const r of fenceChanges(this.image, new Set([id]))) this.apply(r);
  }

  /** Restarts node `id` from its directory; it registers again and is unfenced. */
  restart(id: NodeId): SimNode {
    this.net.restart(id);
    const epoch = (this.#brokerEpochs.get(id) ?? 1) + 1;
    this.#brokerEpochs.set(id, epoch);
    this.apply(registration(id, epoch));
    this.apply({ type: "unfenceBroker", brokerId: id, brokerEpoch: epoch });
    return this.#open(id);
  }

  /** The stored bytes of partition `p` on node `id` below `end` (default: its commit end). */
  logBytes(id: NodeId, p = 0, end?: number): Uint8Array {
    const g = this.group(id, p);
    assert(g !== undefined, `seed ${this.seed}: node ${id} hosts no partition ${p}`);
    const log = g.log.partitionLog;
    const r = log.read(log.logStartOffset, READ_BYTES_MAX, {
      maxOffsetExclusive: end ?? g.commitOffset,
    });
    assert(r.type === "ok", "log readable");
    return r.bytes;
  }

  /** Closes every node and the network, and removes the directories. */
  async close(): Promise<void> {
    for (const n of this.nodes.values()) {
      await n.manager.close();
      await n.store.close();
    }
    this.nodes.clear();
    await this.net.close();
    for (const dir of this.dirs.values()) await Deno.remove(dir, { recursive: true });
  }
}

/** A data batch read back: its base offset and record values (control batches skipped). */
export interface DataBatch {
  readonly baseOffset: number;
  readonly values: string[];
}

/** The data batches of `bytes` (Raft's control batches, e.g. leader changes, left out). */
export function dataBatches(bytes: Uint8Array): DataBatch[] {
  const out: DataBatch[] = [];
  const dec = new TextDecoder();
  for (const f of iterateBatches(bytes)) {
    if ((f.header.attributes & ATTR.control) !== 0) continue;
    out.push({
      baseOffset: f.header.baseOffset,
      values: decodeBatch(f.bytes).records.map((r) => dec.decode(r.value ?? new Uint8Array())),
    });
  }
  return out;
}

function registration(id: NodeId, epoch: number): MetadataRecord {
  return {
    type: "registerBroker",
    brokerId: id,
    brokerEpoch: epoch,
    incarnation: `node-${id}-${epoch}`,
    rack: undefined,
    endpoints: [{ name: "kafka", host: "127.0.0.1", port: 9000 + id }],
  };
}
