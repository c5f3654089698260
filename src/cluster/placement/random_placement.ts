/**
 * Random replica placement: the baseline that Cidon et al., "Copysets: Reducing the Frequency
 * of Data Loss in Cloud Storage" (USENIX ATC 2013, §2) measure copyset placement against, as
 * in HDFS, RAMCloud or Kafka with a random start. Every partition independently gets R distinct
 * nodes drawn uniformly; so with many partitions almost every R-subset of nodes holds some
 * partition, and almost any simultaneous failure of R nodes loses data.
 *
 * Rack-aware on request: each next replica is drawn uniformly among the nodes whose rack the
 * partition does not use yet, which gives R distinct racks whenever there are at least R racks
 * (with fewer, racks are ignored, as in `CopysetPlacement`). The first replica is the leader.
 *
 * Pure and deterministic: randomness only from the `Prng` passed in; no I/O, no clock.
 */
import type { NodeId, Prng } from "../../util/mod.ts";
import { checkInteger, indexNodes, type PlacementNode } from "./_placement_nodes.ts";
import { MAX_PLACED_PARTITIONS } from "./copyset_placement.ts";

/** Options of `randomPlacement`. */
export interface RandomPlacementOptions {
  /** The cluster's nodes, with racks on all of them or none. */
  readonly nodes: readonly PlacementNode[];
  /** R: replicas per partition, 1 <= R <= nodes. */
  readonly replicationFactor: number;
  /** How many partitions to place, at most `MAX_PLACED_PARTITIONS`. */
  readonly partitions: number;
  /** The only source of randomness. */
  readonly prng: Prng;
  /** Put the replicas of a partition on distinct racks when there are at least R racks. */
  readonly rackAware?: boolean | undefined;
}

/**
 * Replica lists (leader first) of `partitions` partitions, each R distinct random nodes.
 * @throws {RangeError} when R is not in [1, nodes], the partition count is out of range, or
 * the node list is invalid.
 */
export function randomPlacement(options: RandomPlacementOptions): NodeId[][] {
  const action = "Cannot place partitions randomly";
  const { nodes, racks, rackOf } = indexNodes(action, options.nodes);
  const r = options.replicationFactor;
  checkInteger(action, "replication factor", r, 1, nodes.length);
  checkInteger(action, "partition count", options.partitions, 0, MAX_PLACED_PARTITIONS);
  const byRack = options.rackAware === true && racks.length >= r;
  const pool = nodes.map((_, i) => i);
  const out: NodeId[][] = [];
  for (let p = 0; p < options.partitions; p++) {
    // A partial Fisher–Yates over `pool` (any order of it is a permutation, so the draw stays
    // uniform without resetting it); with racks, nodes of used racks are skipped.
    const list: NodeId[] = [];
    const usedRacks = new Set<number>();
    let end = pool.length;
    while (list.length < r) {
      const j = options.prng.int(0, end - 1);
      const node = pool[j] as number;
      pool[j] = pool[end - 1] as number;
      pool[end - 1] = node;
      end--;
      if (byRack && usedRacks.has(rackOf[node] as number)) continue;
      usedRacks.add(rackOf[node] as number);
      list.push((nodes[node] as PlacementNode).id);
    }
    out.push(list);
  }
  return out;
}
