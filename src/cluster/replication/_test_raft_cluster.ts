/**
 * Test fixture: three (or more) `RaftGroup` replicas of one group in one process over a
 * `SimNetwork`, with real `PartitionLog`s in temporary directories, driven by virtual time
 * from one seed. After every simulated event the fixture waits until every replica has
 * finished the I/O that event caused, so a run is a function of the seed (STYLE.md
 * principle 4) even though the disks are real. Crashes close a replica and halt its transport
 * while its directory (log, hard state of Raft §5.1 Figure 2) stays for a restart. Private to
 * tests.
 */
import type { Durability, Membership } from "../../raft/mod.ts";
import { SimNetwork } from "../../testing/sim_network.ts";
import { assert, createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { GroupRouter } from "./group_router.ts";
import { RaftGroup } from "./raft_group.ts";

/** Events one `runUntil` may process (a livelock guard). */
const EVENTS_MAX = 200_000;
/** Virtual ms of one Raft tick. */
export const TICK_MS = 10;
/** The group id every replica uses. */
export const GROUP_ID = "orders-0";

/** A simulated cluster hosting one Raft group. */
export class SimRaftCluster {
  readonly net: SimNetwork;
  readonly ids: NodeId[];
  readonly dirs = new Map<NodeId, string>();
  readonly groups = new Map<NodeId, RaftGroup>();
  readonly #seed: number;
  readonly #durability: Durability;
  #incarnation = 0;

  private constructor(seed: number, n: number, durability: Durability) {
    this.#seed = seed;
    this.#durability = durability;
    this.net = new SimNetwork({ seed });
    this.ids = Array.from({ length: n }, (_, i) => nodeId(i + 1));
  }

  /** Creates and starts `n` replicas in fresh temporary directories. */
  static async start(
    seed: number,
    n = 3,
    durability: Durability = "sync",
  ): Promise<SimRaftCluster> {
    const c = new SimRaftCluster(seed, n, durability);
    for (const id of c.ids) {
      c.dirs.set(id, await Deno.makeTempDir({ prefix: `pyralog-raft-${id}-` }));
      c.net.addNode(id);
    }
    for (const id of c.ids) c.#open(id);
    return c;
  }

  get membership(): Membership {
    return { voters: this.ids, learners: [] };
  }

  #open(id: NodeId): RaftGroup {
    const dir = this.dirs.get(id);
    assert(dir !== undefined, `no directory for node ${id}`);
    const transport = this.net.transport(id);
    const group = RaftGroup.open({
      groupId: GROUP_ID,
      nodeId: id,
      dir,
      logConfig: { fsync: "never" },
      membership: this.membership,
      transport,
      scheduler: this.net.scheduler,
      prng: createPrng(this.#seed * 31 + id * 7 + this.#incarnation++),
      tickMs: TICK_MS,
      durability: this.#durability,
      onWarning: () => {},
    });
    new GroupRouter(transport).add(group);
    this.groups.set(id, group);
    return group;
  }

  /** The running replica `id`. */
  group(id: NodeId): RaftGroup {
    const g = this.groups.get(id);
    assert(g !== undefined, `node ${id} is down`);
    return g;
  }

  /** The replica that is leader (the one of the highest term when several think so). */
  leader(): RaftGroup | undefined {
    let best: RaftGroup | undefined;
    for (const g of this.groups.values()) {
      if (g.role === "leader" && (best === undefined || g.term > best.term)) best = g;
    }
    return best;
  }

  /** Crashes replica `id`: its group closes (its directory stays) and its transport halts. */
  async crash(id: NodeId): Promise<void> {
    const g = this.groups.get(id);
    this.groups.delete(id);
    this.net.crash(id);
    await g?.close();
  }

  /** Restarts replica `id` from its directory. */
  restart(id: NodeId): RaftGroup {
    this.net.restart(id);
    return this.#open(id);
  }

  async #settle(): Promise<void> {
    await Promise.all([...this.groups.values()].map((g) => g.idle()));
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

  /** Runs for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  /** Runs until some replica leads; returns it. */
  async electLeader(maxMs = 5_000): Promise<RaftGroup> {
    const ok = await this.runUntil(() => this.leader() !== undefined, maxMs);
    const l = this.leader();
    assert(ok && l !== undefined, `seed ${this.#seed}: no leader within ${maxMs} virtual ms`);
    return l;
  }

  /** Proposes on the leader and runs until the proposal settles. */
  async propose(batch: Uint8Array, maxMs = 5_000) {
    const l = this.leader();
    assert(l !== undefined, "no leader to propose to");
    let result: Awaited<ReturnType<RaftGroup["propose"]>> | undefined;
    const p = l.propose(batch).then((r) => (result = r));
    await this.runUntil(() => result !== undefined, maxMs);
    if (result === undefined) return undefined;
    await p;
    return result;
  }

  /** The stored bytes of replica `id` from its log start (one read of up to 64 MiB). */
  logBytes(id: NodeId): Uint8Array {
    const log = this.group(id).log.partitionLog;
    const r = log.read(log.logStartOffset, 64 * 1024 * 1024);
    assert(r.type === "ok", "log readable");
    return r.bytes;
  }

  /** Closes every replica and the network, and removes the directories. */
  async close(): Promise<void> {
    for (const g of this.groups.values()) await g.close();
    this.groups.clear();
    await this.net.close();
    for (const dir of this.dirs.values()) await Deno.remove(dir, { recursive: true });
  }
}
