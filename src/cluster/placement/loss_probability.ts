/**
 * The probability that a simultaneous failure of k nodes, drawn uniformly among the cluster's
 * nodes, loses data: that every replica of at least one partition is on a failed node. This is
 * the measure of Cidon et al., "Copysets: Reducing the Frequency of Data Loss in Cloud
 * Storage", USENIX ATC 2013 (§2–§3): P(loss) = P(some used replica set ⊆ failed set). Only
 * distinct replica sets matter, so a placement is judged by the sets it uses, not by how many
 * partitions share each.
 *
 * Three ways to compute it, all counting over node indices with integer keys:
 * - exact by failed sets: enumerate all C(N, k) failed sets, and test each one's C(k, s)
 *   subsets against the used sets of size s. Cheap for small clusters (9 or 30 nodes).
 * - exact by replica sets: count the failed sets that contain a used set, each counted once,
 *   under the first used set (in a fixed order) it contains: for each used set C, enumerate the
 *   C(N - |C|, k - |C|) ways to add failed nodes and keep the failed sets whose first contained
 *   set is C. No inclusion–exclusion; cheap when the used sets are few (copyset placement on
 *   100 nodes).
 * - Monte Carlo: draw failed sets with a seeded `Prng`, report the hit rate and its standard
 *   error sqrt(p(1 - p) / samples). Used when both exact counts exceed the budget (random
 *   placement of thousands of partitions on 100 nodes with k >= 5).
 * `lossProbability` takes the cheaper exact method within `exactBudget` subset tests, else
 * Monte Carlo; the result says which.
 *
 * Pure and deterministic: randomness only from the `Prng` passed in; no I/O, no clock.
 */
import type { NodeId, Prng } from "../../util/mod.ts";
import { checkInteger } from "./_placement_nodes.ts";

/** Subset tests an exact computation may spend by default (well under a second). */
export const DEFAULT_EXACT_BUDGET = 10_000_000;
/** Failed sets drawn by default in Monte Carlo. */
export const DEFAULT_SAMPLES = 100_000;
/** Most failed sets one Monte Carlo run draws. */
export const MAX_SAMPLES = 100_000_000;

/** What to evaluate. */
export interface LossProbabilityOptions {
  /** Every node of the cluster; the k failed nodes are drawn uniformly among them. */
  readonly nodes: readonly NodeId[];
  /** The replica set of every partition (order and repeats across partitions do not matter). */
  readonly replicaSets: readonly (readonly NodeId[])[];
  /** k, how many nodes fail at once, 0 <= k <= nodes. */
  readonly failures: number;
  /** Randomness for Monte Carlo; without it `lossProbability` must compute exactly. */
  readonly prng?: Prng | undefined;
  /** Failed sets drawn in Monte Carlo (default `DEFAULT_SAMPLES`). */
  readonly samples?: number | undefined;
  /** Subset tests an exact method may use (default `DEFAULT_EXACT_BUDGET`). */
  readonly exactBudget?: number | undefined;
  /** Forces one exact method (to cross-check them); by default the cheaper one runs. */
  readonly exactMethod?: ExactMethod | undefined;
}

/** The two exact counting methods (see the file comment). */
export type ExactMethod = "exactByFailedSets" | "exactByReplicaSets";

/** A loss probability and how it was obtained. */
export interface LossEstimate {
  /** P(at least one partition loses all its replicas). */
  readonly probability: number;
  readonly method: ExactMethod | "monteCarlo";
  /** Failed sets drawn (0 when exact). */
  readonly samples: number;
  /** Standard error of `probability` (0 when exact). */
  readonly standardError: number;
  /** Distinct replica sets that can be lost (size <= k). */
  readonly lossableSets: number;
}

/**
 * P(loss) for k simultaneous failures: exact when within budget, else Monte Carlo.
 * @throws {RangeError} on invalid input, or when exact is too costly and no `prng` is given.
 */
export function lossProbability(options: LossProbabilityOptions): LossEstimate {
  const problem = prepare("Cannot compute loss probability", options);
  const budget = options.exactBudget ?? DEFAULT_EXACT_BUDGET;
  const method = exactMethodOf(problem, options.exactMethod);
  if (costOf(problem, method) <= budget) return exact(problem, method);
  if (options.prng === undefined) {
    throw new RangeError(
      `Cannot compute loss probability: exact counting needs more than "${budget}" subset ` +
        `tests and no prng was given for Monte Carlo`,
    );
  }
  return monteCarlo(problem, options.prng, options.samples ?? DEFAULT_SAMPLES);
}

/**
 * Exact P(loss), by the cheaper of the two counting methods.
 * @throws {RangeError} on invalid input or when both methods exceed `exactBudget`.
 */
export function exactLossProbability(options: LossProbabilityOptions): LossEstimate {
  const problem = prepare("Cannot compute exact loss probability", options);
  const budget = options.exactBudget ?? DEFAULT_EXACT_BUDGET;
  const method = exactMethodOf(problem, options.exactMethod);
  const cost = costOf(problem, method);
  if (cost > budget) {
    throw new RangeError(
      `Cannot compute exact loss probability: "${cost}" subset tests exceed the budget ` +
        `"${budget}"`,
    );
  }
  return exact(problem, method);
}

/**
 * Monte Carlo P(loss) over `samples` failed sets drawn with `prng`.
 * @throws {RangeError} on invalid input or a sample count outside [1, `MAX_SAMPLES`].
 */
export function monteCarloLossProbability(
  options: LossProbabilityOptions & { readonly prng: Prng },
): LossEstimate {
  const problem = prepare("Cannot estimate loss probability", options);
  return monteCarlo(problem, options.prng, options.samples ?? DEFAULT_SAMPLES);
}

/** A validated problem: node indices, used sets by size, and the cost of each exact method. */
interface Problem {
  readonly n: number;
  readonly k: number;
  /** Lossable distinct sets, as sorted node indices, in first-seen order. */
  readonly sets: readonly (readonly number[])[];
  /** Per set size s <= k: set key -> the set's position in `sets`. */
  readonly bySize: ReadonlyMap<number, ReadonlyMap<number, number>>;
  /** Per set size s: the C(k, s) position patterns picking s of k sorted failed nodes. */
  readonly patterns: ReadonlyMap<number, readonly (readonly number[])[]>;
  readonly costByFailedSets: number;
  readonly costByReplicaSets: number;
}

function prepare(action: string, options: LossProbabilityOptions): Problem {
  const n = options.nodes.length;
  if (n === 0) throw new RangeError(`${action}: the node list is empty`);
  const k = options.failures;
  checkInteger(action, "failure count", k, 0, n);
  const index = new Map<NodeId, number>();
  options.nodes.forEach((id, i) => {
    if (index.has(id)) throw new RangeError(`${action}: node "${id}" appears twice`);
    index.set(id, i);
  });
  const sets: number[][] = [];
  const bySize = new Map<number, Map<number, number>>();
  for (const replicas of options.replicaSets) {
    const set = replicas.map((id) => {
      const i = index.get(id);
      if (i === undefined) throw new RangeError(`${action}: replica node "${id}" is not a node`);
      return i;
    }).sort((a, b) => a - b);
    if (set.length === 0) throw new RangeError(`${action}: a replica set is empty`);
    if (set.some((x, i) => i > 0 && set[i - 1] === x)) {
      throw new RangeError(`${action}: replica set "${replicas.join(",")}" repeats a node`);
    }
    if (set.length > k) continue; // k failures cannot take all of it
    // Keys are base-N numbers with one digit per replica; they must stay exact integers.
    if (Math.pow(n, set.length) > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `${action}: replica sets of "${set.length}" nodes among "${n}" overflow set keys`,
      );
    }
    let keys = bySize.get(set.length);
    if (keys === undefined) bySize.set(set.length, keys = new Map());
    const key = keyOf(set, n);
    if (keys.has(key)) continue;
    keys.set(key, sets.length);
    sets.push(set);
  }
  const patterns = new Map<number, number[][]>();
  let testsPerFailedSet = 0;
  for (const s of bySize.keys()) {
    patterns.set(s, [...combinations(range(k), s)]);
    testsPerFailedSet += binomial(k, s);
  }
  const costByReplicaSets =
    sets.reduce((sum, set) => sum + binomial(n - set.length, k - set.length), 0) *
    testsPerFailedSet;
  return {
    n,
    k,
    sets,
    bySize,
    patterns,
    costByFailedSets: binomial(n, k) * testsPerFailedSet,
    costByReplicaSets,
  };
}

function exactMethodOf(p: Problem, forced: ExactMethod | undefined): ExactMethod {
  if (forced !== undefined) return forced;
  return p.costByReplicaSets <= p.costByFailedSets ? "exactByReplicaSets" : "exactByFailedSets";
}

function costOf(p: Problem, method: ExactMethod): number {
  return method === "exactByReplicaSets" ? p.costByReplicaSets : p.costByFailedSets;
}

function exact(p: Problem, method: ExactMethod): LossEstimate {
  const total = binomial(p.n, p.k);
  let lost = 0;
  if (method === "exactByReplicaSets") {
    p.sets.forEach((set, j) => {
      const inSet = new Set(set);
      const others = range(p.n).filter((i) => !inSet.has(i));
      for (const extra of combinations(others, p.k - set.length)) {
        // Count the failed set once: under the first used set it contains, here set j.
        if (firstContained(p, merge(set, extra)) === j) lost++;
      }
    });
  } else {
    for (const failed of combinations(range(p.n), p.k)) {
      if (firstContained(p, failed) < Infinity) lost++;
    }
  }
  return {
    probability: lost / total,
    method,
    samples: 0,
    standardError: 0,
    lossableSets: p.sets.length,
  };
}

function monteCarlo(p: Problem, prng: Prng, samples: number): LossEstimate {
  checkInteger("Cannot estimate loss probability", "sample count", samples, 1, MAX_SAMPLES);
  const pool = range(p.n);
  const failed = new Array<number>(p.k).fill(0);
  let lost = 0;
  for (let t = 0; t < samples; t++) {
    // Partial Fisher–Yates: the last k slots become a uniform k-subset. The pool need not be
    // reset: a uniform draw from any arrangement of it is still uniform.
    for (let i = 0; i < p.k; i++) {
      const end = p.n - 1 - i;
      const j = prng.int(0, end);
      const x = pool[j] as number;
      pool[j] = pool[end] as number;
      pool[end] = x;
      failed[i] = x;
    }
    failed.sort((a, b) => a - b);
    if (firstContained(p, failed) < Infinity) lost++;
  }
  const probability = lost / samples;
  return {
    probability,
    method: "monteCarlo",
    samples,
    standardError: Math.sqrt((probability * (1 - probability)) / samples),
    lossableSets: p.sets.length,
  };
}

/** The lowest position of a used set inside `failed` (sorted, length k), or Infinity. */
function firstContained(p: Problem, failed: readonly number[]): number {
  let first = Infinity;
  for (const [s, keys] of p.bySize) {
    for (const pattern of p.patterns.get(s) ?? []) {
      let key = 0;
      for (const pos of pattern) key = key * p.n + (failed[pos] as number);
      const j = keys.get(key);
      if (j !== undefined && j < first) first = j;
    }
  }
  return first;
}

function keyOf(sorted: readonly number[], n: number): number {
  let key = 0;
  for (const x of sorted) key = key * n + x;
  return key;
}

function merge(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0, j = 0;
  for (;;) {
    const x = a[i], y = b[j];
    if (x === undefined && y === undefined) return out;
    if (y === undefined || (x !== undefined && x < y)) {
      out.push(x as number);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** All `size`-subsets of `items`, in lexicographic order of positions. */
function* combinations(items: readonly number[], size: number): Generator<number[]> {
  if (size > items.length) return;
  const pos = range(size);
  for (;;) {
    yield pos.map((i) => items[i] as number);
    let i = size - 1;
    while (i >= 0 && (pos[i] as number) === items.length - size + i) i--;
    if (i < 0) return;
    pos[i] = (pos[i] as number) + 1;
    for (let j = i + 1; j < size; j++) pos[j] = (pos[j - 1] as number) + 1;
  }
}

/** C(n, k) as a float (exact below 2^53). */
function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let c = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) c = (c * (n - i + 1)) / i;
  return Math.round(c);
}
