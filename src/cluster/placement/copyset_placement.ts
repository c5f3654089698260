/**
 * Copyset replica placement (Cidon, Rumble, Stutsman, Katti, Ousterhout, Rosenblum,
 * "Copysets: Reducing the Frequency of Data Loss in Cloud Storage", USENIX ATC 2013, §4
 * "Copyset Replication"). Data is lost when every replica of some partition fails at once;
 * random placement spreads partitions over almost every R-subset of nodes, so almost any
 * failure of R nodes loses something. Copyset placement draws each replica set from a small
 * family of copysets instead, so only failures that cover one of those few sets lose data.
 *
 * Construction (the paper's permutation phase, made rack-aware):
 * - P = ceil(S / (R - 1)) permutations of the nodes (P = 1 when R = 1), each cut into groups of
 *   R nodes; every group is a copyset, so every node sits in at least P copysets and shares
 *   them with about S other nodes (its scatter width).
 * - A permutation is cut rack-wise: each group takes the next node (in a shuffled per-rack
 *   order) from each of the R racks with the most nodes still ungrouped, ties broken by a
 *   random rack order. With no racks every node is its own rack, which is exactly the paper's
 *   "cut a random permutation into consecutive groups".
 * - The N mod R tail (m < R nodes left over) becomes a ring: g full groups (g = 1 without
 *   racks) plus the m leftovers, B = gR + m nodes in a circle, covered by its B windows of R
 *   consecutive nodes, so each of those nodes is in exactly R copysets of the permutation (the
 *   others in one). This tail keeps the node/copyset incidence regular enough that it lets
 *   `place` balance replicas; the paper's plain wrap-around (leftovers completed with nodes
 *   from earlier groups) puts a leftover node in fewer copysets than its fillers, which with
 *   P = 1 on 100 nodes left replica counts spread by 280 around a mean of 300 (now 2).
 *   With racks, the ring may take several groups so that nodes of one rack sit R apart on it;
 *   when no ring is found (3 racks and R = 3 admit none), or when more than R - 1 nodes are
 *   left (the surplus of a rack larger than N/R), the leftovers wrap as in the paper: each
 *   leftover group takes one leftover node per leftover rack and is completed with
 *   already-grouped nodes of other racks, least used first.
 * - So every copyset spans R distinct racks whenever the cluster has at least R racks, and
 *   every node is in every permutation.
 * - With racks on fewer than R distinct racks, rack diversity is impossible: racks are ignored
 *   (copysets are R distinct nodes) and `rackDiversity` reports "impossible".
 * - Beyond the paper, each permutation is the best of `PERMUTATION_CANDIDATES` seeded draws:
 *   the one adding the most node pairs not yet sharing a copyset, so that overlaps between
 *   permutations waste less of the scatter width and fewer copysets repeat. Repeated copysets
 *   are kept once.
 *
 * Placement (`place`): the leader of each new partition is the node leading the fewest
 * partitions (then holding the fewest replicas, then a seeded node order), so leaders stay
 * within one of each other; its replica set is the copyset containing the leader whose members
 * hold the fewest replicas, which spreads followers. `place` is a pure function of the family
 * and its arguments: the same seed and inputs always give the same replica lists.
 *
 * Known limit: when a permutation's tail must wrap (skewed racks), the wrapped nodes are in
 * more copysets than the others, and with balanced leaders their replica counts cannot be
 * exactly even; a larger S dilutes this (bench/placement_bench.ts reports `replicaSpread`).
 *
 * Pure and deterministic: randomness only from the `Prng` passed in; no I/O, no clock.
 */
import { assert, type NodeId, type Prng } from "../../util/mod.ts";
import {
  checkInteger,
  type IndexedNodes,
  indexNodes,
  type PlacementNode,
  shuffle,
} from "./_placement_nodes.ts";

export type { PlacementNode } from "./_placement_nodes.ts";

/** Most permutations one family may draw: bounds the family (S <= 1024 * (R - 1)). */
export const MAX_PERMUTATIONS = 1024;
/** Seeded permutations drawn per permutation kept; the one adding most new pairs wins. */
export const PERMUTATION_CANDIDATES = 8;
/** Most full groups a permutation's tail ring may absorb (see `#ring`). */
export const MAX_RING_GROUPS = 4;
/** Seeded choices of groups tried per ring size. */
export const RING_ATTEMPTS = 8;
/** Most partitions one `place` call assigns. */
export const MAX_PLACED_PARTITIONS = 1_000_000;

/**
 * How the copysets use racks: `unracked` when no node has a rack; `distinct` when every copyset
 * spans R distinct racks; `impossible` when the nodes sit on fewer than R racks, so copysets
 * are only distinct nodes; `partial` when an extended family mixes both (see `withAddedNodes`).
 */
export type RackDiversity = "unracked" | "distinct" | "impossible" | "partial";

/** What a node already carries, so new partitions even it out. */
export interface NodeLoad {
  /** Replicas the node holds (leaders included). */
  readonly replicas: number;
  /** Partitions the node leads. */
  readonly leaders: number;
}

/** Options of `CopysetPlacement.create`. */
export interface CopysetPlacementOptions {
  /** The cluster's nodes, with racks on all of them or none. */
  readonly nodes: readonly PlacementNode[];
  /** R: replicas per partition, 1 <= R <= nodes. */
  readonly replicationFactor: number;
  /** S: the scatter width aimed at (other nodes each node shares copysets with), S >= R - 1. */
  readonly scatterWidth: number;
  /** The only source of randomness; the same seed gives the same family. */
  readonly prng: Prng;
}

/** A bounded family of copysets over a cluster, and placement of partitions onto it. */
export class CopysetPlacement {
  /** R, the size of every copyset. */
  readonly replicationFactor: number;
  /** S, the scatter width asked for. */
  readonly scatterWidth: number;
  /** P = ceil(S / (R - 1)), the permutations drawn per node set. */
  readonly permutations: number;
  /** Whether copysets span distinct racks (see `RackDiversity`). */
  readonly rackDiversity: RackDiversity;
  /** The nodes, sorted by id. */
  readonly nodes: readonly PlacementNode[];
  /** The copysets, each sorted by node id, without repeats. */
  readonly copysets: readonly (readonly NodeId[])[];
  /** Per node, the indices of the copysets holding it. */
  #byNode: Map<NodeId, number[]>;
  /** Per node, a seeded rank breaking ties in `place`. */
  #rank: Map<NodeId, number>;

  private constructor(
    options: CopysetPlacementOptions,
    nodes: readonly PlacementNode[],
    copysets: readonly (readonly NodeId[])[],
    rackDiversity: RackDiversity,
  ) {
    this.replicationFactor = options.replicationFactor;
    this.scatterWidth = options.scatterWidth;
    this.permutations = permutationCount(options.replicationFactor, options.scatterWidth);
    this.nodes = nodes;
    this.copysets = copysets;
    this.rackDiversity = rackDiversity;
    this.#byNode = new Map(nodes.map((n) => [n.id, []]));
    copysets.forEach((set, i) => {
      for (const id of set) (this.#byNode.get(id) as number[]).push(i);
    });
    const ranks = shuffle(nodes.map((_, i) => i), options.prng);
    this.#rank = new Map(nodes.map((n, i) => [n.id, ranks[i] as number]));
    for (const [id, sets] of this.#byNode) {
      assert(sets.length > 0, `node ${id} belongs to no copyset`);
    }
  }

  /**
   * Builds the copyset family of a cluster.
   * @throws {RangeError} when R is not in [1, nodes], S < R - 1, S needs more than
   * `MAX_PERMUTATIONS` permutations, or the node list is invalid (see `PlacementNode`).
   */
  static create(options: CopysetPlacementOptions): CopysetPlacement {
    const action = "Cannot build copysets";
    const indexed = indexNodes(action, options.nodes);
    checkParameters(action, indexed.nodes.length, options.replicationFactor, options.scatterWidth);
    const family = new FamilyBuilder(indexed, options.replicationFactor);
    const p = permutationCount(options.replicationFactor, options.scatterWidth);
    for (let i = 0; i < p; i++) family.addPermutation(options.prng, () => true);
    return new CopysetPlacement(options, indexed.nodes, family.copysets(), family.diversity());
  }

  /**
   * A family over the current nodes plus `added`, keeping every existing copyset so that the
   * replica sets already placed stay copysets of the family and nothing has to move. It draws
   * P fresh permutations of the whole cluster and keeps only their groups holding a new node,
   * so each new node joins at least P copysets (scatter width about S, with old nodes as
   * peers) and the family grows by at most P copysets per new node; old nodes gain a few peers.
   * Rebuilding with `create` instead gives a fresh family (lower loss for future partitions)
   * whose copysets no longer match the replica sets already placed, which would then count as
   * extra copysets until reassigned. When the old family had fewer than R racks and the new
   * nodes bring enough, only the new copysets span distinct racks: `rackDiversity` is `partial`.
   * @throws {RangeError} on an invalid or repeated node.
   */
  withAddedNodes(added: readonly PlacementNode[], prng: Prng): CopysetPlacement {
    const action = "Cannot add nodes to copysets";
    const indexed = indexNodes(action, [...this.nodes, ...added]);
    const options = {
      nodes: indexed.nodes,
      replicationFactor: this.replicationFactor,
      scatterWidth: this.scatterWidth,
      prng,
    };
    const family = new FamilyBuilder(indexed, this.replicationFactor);
    for (const set of this.copysets) family.addCopyset(set.map((id) => family.indexOf(id)));
    const isNew = new Set(added.map((n) => n.id));
    for (let i = 0; i < this.permutations; i++) {
      family.addPermutation(prng, (group) => group.some((n) => isNew.has(family.idOf(n))));
    }
    return new CopysetPlacement(options, indexed.nodes, family.copysets(), family.diversity());
  }

  /** The copysets holding `id` (empty for an unknown node). */
  copysetsOf(id: NodeId): (readonly NodeId[])[] {
    return (this.#byNode.get(id) ?? []).map((i) => this.copysets[i] as readonly NodeId[]);
  }

  /** The scatter width `id` reached: how many other nodes share a copyset with it. */
  scatterWidthOf(id: NodeId): number {
    const peers = new Set(this.copysetsOf(id).flat());
    peers.delete(id);
    return peers.size;
  }

  /**
   * Replica lists for `count` new partitions, the leader first, each list one copyset. Leaders
   * go to the nodes leading the fewest partitions, so over many partitions the leader counts
   * (with `existingLoad`) differ by at most one; replica sets go to the least-loaded copyset of
   * the leader. Loads of nodes outside the family are ignored. Pure: same inputs, same lists.
   * @throws {RangeError} when `count` is not an integer in [0, `MAX_PLACED_PARTITIONS`].
   */
  place(count: number, existingLoad: ReadonlyMap<NodeId, NodeLoad> = new Map()): NodeId[][] {
    checkInteger("Cannot place partitions", "count", count, 0, MAX_PLACED_PARTITIONS);
    const replicas = new Map<NodeId, number>();
    const leaders = new Map<NodeId, number>();
    for (const n of this.nodes) {
      replicas.set(n.id, existingLoad.get(n.id)?.replicas ?? 0);
      leaders.set(n.id, existingLoad.get(n.id)?.leaders ?? 0);
    }
    const load = (id: NodeId) => replicas.get(id) as number;
    // Partitions placed on each copyset by this call: among equally loaded copysets the least
    // used wins, so that balanced loads do not keep every partition on the first permutation's
    // copysets (which would waste the scatter width).
    const used = new Array<number>(this.copysets.length).fill(0);
    const out: NodeId[][] = [];
    for (let p = 0; p < count; p++) {
      const leader = this.#leastLeading(leaders, replicas);
      let best = -1;
      let bestKey = [Infinity, Infinity];
      for (const i of this.#byNode.get(leader) as number[]) {
        const set = this.copysets[i] as readonly NodeId[];
        const key = [set.reduce((sum, id) => sum + load(id), 0), used[i] as number];
        if (lexLess(key, bestKey)) [best, bestKey] = [i, key];
      }
      const set = this.copysets[best];
      assert(set !== undefined, `leader ${leader} has a copyset`);
      used[best] = (used[best] as number) + 1;
      const list = [leader, ...set.filter((id) => id !== leader)];
      for (const id of list) replicas.set(id, load(id) + 1);
      leaders.set(leader, (leaders.get(leader) as number) + 1);
      out.push(list);
    }
    return out;
  }

  /** The node leading fewest partitions, then holding fewest replicas, then lowest rank. */
  #leastLeading(leaders: Map<NodeId, number>, replicas: Map<NodeId, number>): NodeId {
    let best: NodeId | undefined;
    let key = [Infinity, Infinity, Infinity];
    for (const { id } of this.nodes) {
      const k = [
        leaders.get(id) as number,
        replicas.get(id) as number,
        this.#rank.get(id) as number,
      ];
      if (lexLess(k, key)) [best, key] = [id, k];
    }
    assert(best !== undefined, "a family has nodes");
    return best;
  }
}

/** P = ceil(S / (R - 1)), or 1 when R = 1 (a copyset is then a single node). */
function permutationCount(r: number, s: number): number {
  return r === 1 ? 1 : Math.max(1, Math.ceil(s / (r - 1)));
}

function checkParameters(action: string, nodes: number, r: number, s: number): void {
  checkInteger(action, "replication factor", r, 1);
  if (r > nodes) {
    throw new RangeError(`${action}: replication factor "${r}" exceeds the node count "${nodes}"`);
  }
  checkInteger(action, "scatter width", s, 0);
  if (s < r - 1) {
    throw new RangeError(
      `${action}: scatter width "${s}" is below replication factor - 1 ("${r - 1}")`,
    );
  }
  const p = permutationCount(r, s);
  if (p > MAX_PERMUTATIONS) {
    throw new RangeError(
      `${action}: scatter width "${s}" needs "${p}" permutations, above the limit ` +
        `"${MAX_PERMUTATIONS}"`,
    );
  }
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number, y = b[i] as number;
    if (x !== y) return x < y;
  }
  return false;
}

/** Accumulates copysets (as node indices) and the node pairs they cover. */
class FamilyBuilder {
  readonly #indexed: IndexedNodes;
  readonly #r: number;
  /** Racks the permutations cut along: real racks, or one per node when racks are unusable. */
  readonly #racks: readonly (readonly number[])[];
  readonly #rackOf: readonly number[];
  readonly #sets: number[][] = [];
  readonly #setKeys = new Set<string>();
  readonly #pairs = new Set<number>();
  /** Per node, how many copysets hold it. */
  readonly #uses: number[];
  readonly #indexOf: Map<NodeId, number>;

  constructor(indexed: IndexedNodes, r: number) {
    this.#indexed = indexed;
    this.#r = r;
    const n = indexed.nodes.length;
    const useRacks = indexed.racks.length >= r;
    this.#racks = useRacks ? indexed.racks : indexed.nodes.map((_, i) => [i]);
    this.#rackOf = useRacks ? indexed.rackOf : indexed.nodes.map((_, i) => i);
    this.#uses = new Array<number>(n).fill(0);
    this.#indexOf = new Map(indexed.nodes.map((node, i) => [node.id, i]));
  }

  indexOf(id: NodeId): number {
    const i = this.#indexOf.get(id);
    assert(i !== undefined, `node ${id} is in the family`);
    return i;
  }

  idOf(index: number): NodeId {
    return (this.#indexed.nodes[index] as PlacementNode).id;
  }

  /** Draws `PERMUTATION_CANDIDATES` permutations and keeps the groups (passing `keep`) of the
   * one adding the most uncovered node pairs. */
  addPermutation(prng: Prng, keep: (group: readonly number[]) => boolean): void {
    let best: number[][] = [];
    let bestScore = -1;
    for (let c = 0; c < PERMUTATION_CANDIDATES; c++) {
      const groups = this.#cutPermutation(prng).filter(keep);
      const seen = new Set<number>();
      for (const g of groups) for (const pair of this.#pairsOf(g)) seen.add(pair);
      let score = 0;
      for (const pair of seen) if (!this.#pairs.has(pair)) score++;
      if (score > bestScore) [best, bestScore] = [groups, score];
    }
    for (const g of best) this.addCopyset(g);
  }

  addCopyset(group: readonly number[]): void {
    assert(group.length === this.#r, `copyset has ${this.#r} nodes`);
    const sorted = [...group].sort((a, b) => a - b);
    assert(sorted.every((x, i) => i === 0 || sorted[i - 1] !== x), "copyset nodes are distinct");
    const key = sorted.join(",");
    if (this.#setKeys.has(key)) return;
    this.#setKeys.add(key);
    this.#sets.push(sorted);
    for (const i of sorted) this.#uses[i] = (this.#uses[i] as number) + 1;
    for (const pair of this.#pairsOf(sorted)) this.#pairs.add(pair);
  }

  copysets(): (readonly NodeId[])[] {
    return this.#sets.map((set) => set.map((i) => this.idOf(i)));
  }

  diversity(): RackDiversity {
    const { racks, rackOf } = this.#indexed;
    if (racks.length === 0) return "unracked";
    const distinct = this.#sets.filter((set) =>
      new Set(set.map((i) => rackOf[i])).size === set.length
    );
    if (distinct.length === this.#sets.length) return "distinct";
    return racks.length < this.#r ? "impossible" : "partial";
  }

  *#pairsOf(group: readonly number[]): Generator<number> {
    const n = this.#indexed.nodes.length;
    for (let a = 0; a < group.length; a++) {
      for (let b = a + 1; b < group.length; b++) {
        const x = group[a] as number, y = group[b] as number;
        yield x < y ? x * n + y : y * n + x;
      }
    }
  }

  /** One permutation cut into rack-distinct groups of R, leftovers wrapped (file comment). */
  #cutPermutation(prng: Prng): number[][] {
    const r = this.#r;
    const queues = this.#racks.map((members) => shuffle([...members], prng));
    const rackRank = shuffle(this.#racks.map((_, i) => i), prng);
    const taken = new Array<number>(queues.length).fill(0);
    const left = (k: number) => (queues[k] as number[]).length - (taken[k] as number);
    const order = this.#racks.map((_, i) => i);
    const groups: number[][] = [];
    // Each group: one node from each of the R racks with most ungrouped nodes. Taking from the
    // fullest racks first keeps the most racks non-empty, so as many full groups as possible.
    for (;;) {
      order.sort((a, b) => left(b) - left(a) || (rackRank[a] as number) - (rackRank[b] as number));
      const chosen = order.slice(0, r);
      if (chosen.length < r || left(chosen[r - 1] as number) === 0) break;
      groups.push(chosen.map((k) => this.#take(queues, taken, k)));
    }
    const leftovers = order.flatMap((k) => (queues[k] as number[]).slice(taken[k] as number));
    if (leftovers.length > 0 && leftovers.length < r) {
      if (this.#ring(groups, leftovers, prng)) return groups;
    }
    const appearances = [...this.#uses];
    for (const g of groups) for (const i of g) appearances[i] = (appearances[i] as number) + 1;
    const tiebreak = this.#indexed.nodes.map(() => prng.nextU32());
    // Fewer than R racks hold ungrouped nodes: wrap them with nodes of other racks.
    for (;;) {
      const group: number[] = [];
      for (const k of order) if (left(k) > 0) group.push(this.#take(queues, taken, k));
      if (group.length === 0) break;
      assert(group.length < r, "leftover nodes span fewer than R racks");
      const used = new Set(group.map((i) => this.#rackOf[i]));
      const fillers = this.#indexed.nodes.map((_, i) => i)
        .filter((i) => !used.has(this.#rackOf[i]))
        .sort((a, b) =>
          (appearances[a] as number) - (appearances[b] as number) ||
          (tiebreak[a] as number) - (tiebreak[b] as number)
        );
      for (const i of fillers) {
        if (group.length === r) break;
        if (used.has(this.#rackOf[i])) continue;
        used.add(this.#rackOf[i]);
        group.push(i);
      }
      assert(group.length === r, "at least R racks complete a leftover group");
      for (const i of group) appearances[i] = (appearances[i] as number) + 1;
      groups.push(group);
    }
    return groups;
  }

  /**
   * The balanced tail for m = leftovers < R nodes: g full groups and the leftovers, B = gR + m
   * nodes, placed on a ring and covered by its B windows of R consecutive nodes, so each of them
   * is in exactly R copysets of this permutation. A regular tail lets `place` give every node
   * the same replica count; a plain wrap cannot (with P = 1 its leftover node would be in one
   * copyset and its fillers in two). With racks every window must hold distinct racks, so
   * nodes of one rack must sit at least R apart on the ring; g grows from 1 to
   * `MAX_RING_GROUPS` (4 racks and R = 3 need g = 2: A B C D A B C D), each g tried over
   * `RING_ATTEMPTS` seeded choices of groups (first the least used, then random). Replaces the
   * groups in `groups` by the windows and returns true, or returns false (leaving `groups`
   * alone) when no ring is found, e.g. 3 racks and R = 3, where no ring of 3g + m racks exists.
   */
  #ring(groups: number[][], leftovers: readonly number[], prng: Prng): boolean {
    const r = this.#r;
    const byUse = groups.map((g, gi) => ({
      gi,
      uses: g.reduce((sum, i) => sum + (this.#uses[i] as number), 0),
    })).sort((a, b) => a.uses - b.uses || a.gi - b.gi).map((x) => x.gi);
    for (let g = 1; g <= Math.min(MAX_RING_GROUPS, groups.length); g++) {
      for (let attempt = 0; attempt < RING_ATTEMPTS; attempt++) {
        const picks = attempt === 0 ? byUse.slice(0, g) : shuffle([...byUse], prng).slice(0, g);
        const block = [...picks.flatMap((gi) => groups[gi] as number[]), ...leftovers];
        const ring = this.#arrangeRing(block, prng);
        if (ring === undefined) continue;
        const windows = ring.map((_, i) =>
          Array.from({ length: r }, (_, j) => ring[(i + j) % ring.length] as number)
        );
        for (const gi of [...picks].sort((a, b) => b - a)) groups.splice(gi, 1);
        groups.push(...windows);
        return true;
      }
    }
    return false;
  }

  /**
   * A seeded ring order of `block` in which every R consecutive nodes (cyclically) have
   * distinct racks, or undefined. Greedy: each position takes a node of the rack with most
   * nodes left among racks absent from the previous R - 1 positions (ties by a seeded rack
   * order); the wrap-around windows are then checked.
   */
  #arrangeRing(block: readonly number[], prng: Prng): number[] | undefined {
    const r = this.#r;
    const rackOf = this.#rackOf;
    const byRack = new Map<number, number[]>();
    for (const i of shuffle([...block], prng)) {
      const k = rackOf[i] as number;
      const list = byRack.get(k);
      if (list === undefined) byRack.set(k, [i]);
      else list.push(i);
    }
    const racks = shuffle([...byRack.keys()], prng);
    const ring: number[] = [];
    while (ring.length < block.length) {
      const recent = new Set(ring.slice(Math.max(0, ring.length - (r - 1))).map((i) => rackOf[i]));
      let best: number[] | undefined;
      for (const k of racks) {
        const list = byRack.get(k) as number[];
        if (list.length === 0 || recent.has(k)) continue;
        if (best === undefined || list.length > best.length) best = list;
      }
      if (best === undefined) return undefined;
      ring.push(best.pop() as number);
    }
    for (let i = 0; i < ring.length; i++) {
      const window = Array.from(
        { length: r },
        (_, j) => rackOf[ring[(i + j) % ring.length] as number],
      );
      if (new Set(window).size < r) return undefined;
    }
    return ring;
  }

  #take(queues: readonly number[][], taken: number[], k: number): number {
    const node = (queues[k] as number[])[taken[k] as number] as number;
    taken[k] = (taken[k] as number) + 1;
    return node;
  }
}
