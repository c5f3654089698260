/**
 * Test fixture: the metadata quorum of three (or more) nodes in one process over a
 * `SimNetwork`, with real partition logs in temporary directories, one `Controller` per node
 * ticking on virtual time, and simulated brokers that register with and heartbeat to whichever
 * controller is active (they call it directly; the RPC has its own tests). After every simulated event the fixture waits for the I/O it caused, so a run is
 * a function of the seed (STYLE.md principle 4). Private to tests.
 */
import { SimNetwork } from "../../testing/sim_network.ts";
import { assert, createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { GroupRouter } from "../replication/mod.ts";
import type { Timer } from "../transport/mod.ts";
import { Controller } from "./controller.ts";
import { MetadataQuorum } from "./metadata_quorum.ts";

/** Virtual ms of one Raft tick (and of one controller tick). */
export const TICK_MS = 10;
/** The brokers' session timeout. */
export const SESSION_MS = 2_000;
/** Heartbeat interval of the simulated brokers. */
export const BEAT_MS = 200;
/** Events one `runUntil` may process (a livelock guard). */
const EVENTS_MAX = 200_000;

interface SimBroker {
  readonly id: NodeId;
  readonly rack: string | undefined;
  readonly incarnation: string;
  epoch: number | undefined;
  busy: boolean;
  timer: Timer | undefined;
}

/** Settings beyond the defaults. */
export interface SimMetadataOptions {
  /** The controllers' snapshot interval in records (Controller's default otherwise). */
  readonly snapshotEveryRecords?: number;
  /** segment.bytes of the metadata logs (so that compaction deletes files). */
  readonly segmentBytes?: number;
}

/** A simulated metadata quorum with its controllers and brokers. */
export class SimMetadataCluster {
  readonly net: SimNetwork;
  readonly ids: NodeId[];
  readonly dirs = new Map<NodeId, string>();
  readonly quorums = new Map<NodeId, MetadataQuorum>();
  readonly controllers = new Map<NodeId, Controller>();
  readonly brokers = new Map<NodeId, SimBroker>();
  readonly #seed: number;
  readonly #o: SimMetadataOptions;
  #incarnation = 0;

  private constructor(seed: number, n: number, o: SimMetadataOptions) {
    this.#seed = seed;
    this.#o = o;
    this.net = new SimNetwork({ seed });
    this.ids = Array.from({ length: n }, (_, i) => nodeId(i + 1));
  }

  /** Starts `n` metadata replicas in fresh temporary directories. */
  static async start(
    seed: number,
    n = 3,
    o: SimMetadataOptions = {},
  ): Promise<SimMetadataCluster> {
    const c = new SimMetadataCluster(seed, n, o);
    for (const id of c.ids) {
      c.dirs.set(id, await Deno.makeTempDir({ prefix: `pyralog-meta-${id}-` }));
      c.net.addNode(id);
    }
    for (const id of c.ids) c.#open(id);
    return c;
  }

  #open(id: NodeId): void {
    const dir = this.dirs.get(id);
    assert(dir !== undefined, `no directory for node ${id}`);
    const transport = this.net.transport(id);
    const quorum = MetadataQuorum.open({
      nodeId: id,
      dir,
      logConfig: {
        fsync: "never",
        ...(this.#o.segmentBytes !== undefined ? { segmentBytes: this.#o.segmentBytes } : {}),
      },
      membership: { voters: this.ids, learners: [] },
      transport,
      scheduler: this.net.scheduler,
      prng: createPrng(this.#seed * 31 + id * 7 + this.#incarnation++),
      tickMs: TICK_MS,
      onWarning: () => {},
    });
    new GroupRouter(transport).add(quorum.group);
    const controller = new Controller({
      nodeId: id,
      quorum,
      prng: createPrng(this.#seed * 17 + id + 1000 * this.#incarnation),
      sessionTimeoutMs: SESSION_MS,
      ...(this.#o.snapshotEveryRecords !== undefined
        ? { snapshotEveryRecords: this.#o.snapshotEveryRecords }
        : {}),
      onWarning: () => {},
    });
    controller.start(this.net.scheduler, () => this.net.nowMs, TICK_MS);
    this.quorums.set(id, quorum);
    this.controllers.set(id, controller);
  }

  /** The running quorum of node `id`. */
  quorum(id: NodeId): MetadataQuorum {
    const q = this.quorums.get(id);
    assert(q !== undefined, `node ${id} is down`);
    return q;
  }

  /** The active controller (the one of the highest term when several think so). */
  active(): Controller | undefined {
    let best: Controller | undefined;
    let bestTerm = -1;
    for (const [id, c] of this.controllers) {
      const term = this.quorum(id).group.term;
      if (c.isActive && term > bestTerm) [best, bestTerm] = [c, term];
    }
    return best;
  }

  /** Crashes node `id`: its broker stops, its controller and quorum close, its network halts. */
  async crash(id: NodeId): Promise<void> {
    this.stopBroker(id);
    const c = this.controllers.get(id);
    const q = this.quorums.get(id);
    this.controllers.delete(id);
    this.quorums.delete(id);
    this.net.crash(id);
    const stopping = c?.stop();
    await q?.close();
    await stopping;
  }

  /** Restarts node `id` from its directory (its image replays the log). */
  restart(id: NodeId): void {
    this.net.restart(id);
    this.#open(id);
  }

  /** Starts a broker process `id` that registers, then heartbeats every `BEAT_MS`. */
  startBroker(id: NodeId, rack?: string): void {
    this.stopBroker(id);
    const b: SimBroker = {
      id,
      rack,
      incarnation: `broker-${id}-${this.#incarnation++}`,
      epoch: undefined,
      busy: false,
      timer: undefined,
    };
    this.brokers.set(id, b);
    this.#beat(b);
  }

  /** Stops broker `id`'s heartbeats (a crash of the broker process). */
  stopBroker(id: NodeId): void {
    this.brokers.get(id)?.timer?.cancel();
    this.brokers.delete(id);
  }

  #beat(b: SimBroker): void {
    b.timer = this.net.scheduler.setTimer(() => {
      if (this.brokers.get(b.id) !== b) return;
      this.#beat(b);
      const c = this.active();
      if (c === undefined || b.busy) return;
      b.busy = true;
      const now = this.net.nowMs;
      const done = () => (b.busy = false);
      if (b.epoch === undefined) {
        const endpoints = [{ name: "kafka", host: `node${b.id}`, port: 9092 }];
        c.registerBroker(
          { brokerId: b.id, incarnation: b.incarnation, rack: b.rack, endpoints },
          now,
        )
          .then((r) => {
            if (r.type === "ok") b.epoch = r.brokerEpoch;
          }).finally(done);
      } else {
        c.brokerHeartbeat({ brokerId: b.id, brokerEpoch: b.epoch }, now).then((r) => {
          // A stale epoch means this process was fenced out: register again.
          if (r.type === "error") b.epoch = undefined;
        }).finally(done);
      }
    }, BEAT_MS);
  }

  async #settle(): Promise<void> {
    await Promise.all([...this.quorums.values()].map((q) => q.group.idle()));
  }

  /** Runs events (each followed by the I/O it caused) until `cond` or `maxMs` pass. */
  async runUntil(cond: () => boolean, maxMs: number): Promise<boolean> {
    return await this.net.runSettled(
      cond,
      maxMs,
      () => this.#settle(),
      EVENTS_MAX,
      `seed ${this.#seed}`,
    );
  }

  /** Runs until a controller is active; returns it. */
  async awaitActive(maxMs = 5_000): Promise<Controller> {
    const ok = await this.runUntil(() => this.active() !== undefined, maxMs);
    const c = this.active();
    assert(ok && c !== undefined, `seed ${this.#seed}: no active controller in ${maxMs} ms`);
    return c;
  }

  /** Sends a request to the active controller and runs until it is answered. */
  async request<R>(fn: (c: Controller) => Promise<R>, maxMs = 5_000): Promise<R> {
    const c = await this.awaitActive(maxMs);
    let result: { value: R } | undefined;
    const p = fn(c).then((value) => (result = { value }));
    await this.runUntil(() => result !== undefined, maxMs);
    assert(result !== undefined, `seed ${this.#seed}: no answer within ${maxMs} ms`);
    await p;
    return result.value;
  }

  /** Closes brokers, controllers, quorums and the network, and removes the directories. */
  async close(): Promise<void> {
    for (const id of [...this.brokers.keys()]) this.stopBroker(id);
    for (const id of [...this.quorums.keys()]) await this.crash(id);
    await this.net.close();
    for (const dir of this.dirs.values()) await Deno.remove(dir, { recursive: true });
  }
}
