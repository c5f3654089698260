/**
 * Replica placement for new topics and partitions (issue #6): copyset placement after Cidon et
 * al., "Copysets: Reducing the Frequency of Data Loss in Cloud Storage", USENIX ATC 2013, the
 * random baseline it is measured against, and the probability that k simultaneous node
 * failures lose data under a placement. Pure and deterministic (a seeded `Prng` is the only
 * randomness); imports only `src/util`.
 *
 * @example
 * ```ts
 * import { ok, strictEqual } from "node:assert/strict";
 * import { createPrng, nodeId } from "../../util/mod.ts";
 * import { CopysetPlacement, lossProbability, randomPlacement } from "./mod.ts";
 *
 * const nodes = Array.from({ length: 9 }, (_, i) => ({ id: nodeId(i + 1), rack: `r${i % 3}` }));
 * const copysets = CopysetPlacement.create({
 *   nodes,
 *   replicationFactor: 3,
 *   scatterWidth: 2,
 *   prng: createPrng(1),
 * });
 * strictEqual(copysets.rackDiversity, "distinct");
 * const placed = copysets.place(100); // [leader, follower, follower] per partition
 * const random = randomPlacement({ nodes, replicationFactor: 3, partitions: 100, prng: createPrng(1) });
 * const ids = nodes.map((n) => n.id);
 * const pCopyset = lossProbability({ nodes: ids, replicaSets: placed, failures: 3 }).probability;
 * const pRandom = lossProbability({ nodes: ids, replicaSets: random, failures: 3 }).probability;
 * strictEqual(pCopyset, 3 / 84); // three copysets out of C(9, 3) failed sets
 * ok(pRandom > 10 * pCopyset);
 * ```
 * @module
 */
export {
  CopysetPlacement,
  type CopysetPlacementOptions,
  MAX_PERMUTATIONS,
  MAX_PLACED_PARTITIONS,
  MAX_RING_GROUPS,
  type NodeLoad,
  PERMUTATION_CANDIDATES,
  type PlacementNode,
  type RackDiversity,
  RING_ATTEMPTS,
} from "./copyset_placement.ts";
export { randomPlacement, type RandomPlacementOptions } from "./random_placement.ts";
export {
  DEFAULT_EXACT_BUDGET,
  DEFAULT_SAMPLES,
  exactLossProbability,
  type ExactMethod,
  type LossEstimate,
  lossProbability,
  type LossProbabilityOptions,
  MAX_SAMPLES,
  monteCarloLossProbability,
} from "./loss_probability.ts";
