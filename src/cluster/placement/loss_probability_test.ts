import { ok, strictEqual, throws } from "node:assert/strict";
import { createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { CopysetPlacement, type PlacementNode } from "./copyset_placement.ts";
import {
  exactLossProbability,
  type ExactMethod,
  lossProbability,
  monteCarloLossProbability,
} from "./loss_probability.ts";
import { randomPlacement } from "./random_placement.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => nodeId(i + 1));
const sets = (...lists: number[][]) => lists.map((l) => l.map(nodeId));
const METHODS: ExactMethod[] = ["exactByFailedSets", "exactByReplicaSets"];

function cluster(n: number): PlacementNode[] {
  return ids(n).map((id) => ({ id }));
}

Deno.test("exactLossProbability matches hand counts with both methods", () => {
  const nodes = ids(9);
  const cases: Array<[number[][], number, number]> = [
    [[[1, 2, 3]], 3, 1 / 84],
    [[[1, 2, 3]], 4, 6 / 126], // C(6,1) of C(9,4) failed sets contain {1,2,3}
    [[[1, 2, 3], [3, 2, 1], [4, 5, 6]], 3, 2 / 84], // repeats count once
    [[[1, 2, 3], [1, 2, 4]], 4, 11 / 126], // 6 + 6 - {1,2,3,4}
    [[[1, 2, 3], [1, 2]], 3, 7 / 84], // a set of size 2 inside another
    [[[1, 2, 3]], 2, 0], // fewer failures than replicas
    [[[1, 2, 3]], 9, 1],
    [[], 3, 0],
  ];
  for (const [lists, k, expected] of cases) {
    for (const exactMethod of METHODS) {
      const e = exactLossProbability({
        nodes,
        replicaSets: sets(...lists),
        failures: k,
        exactMethod,
      });
      ok(Math.abs(e.probability - expected) < 1e-12, `${exactMethod} ${lists} k=${k}`);
      strictEqual(e.method, exactMethod);
      strictEqual(e.samples, 0);
    }
  }
});

Deno.test("exact methods and Monte Carlo agree on a small random placement", () => {
  const nodes = cluster(14);
  const placed = randomPlacement({
    nodes,
    replicationFactor: 3,
    partitions: 40,
    prng: createPrng(11),
  });
  for (const k of [3, 4, 5]) {
    const input = { nodes: ids(14), replicaSets: placed, failures: k };
    const [a, b] = METHODS.map((exactMethod) => exactLossProbability({ ...input, exactMethod }));
    ok(a !== undefined && b !== undefined);
    strictEqual(a.probability, b.probability, `k=${k}`);
    const mc = monteCarloLossProbability({ ...input, prng: createPrng(k), samples: 20_000 });
    strictEqual(mc.method, "monteCarlo");
    ok(mc.standardError > 0);
    ok(
      Math.abs(mc.probability - a.probability) < 4 * mc.standardError + 1e-3,
      `k=${k}: exact ${a.probability} vs Monte Carlo ${mc.probability} ± ${mc.standardError}`,
    );
  }
});

Deno.test("lossProbability falls back to Monte Carlo beyond the exact budget", () => {
  const input = { nodes: ids(30), replicaSets: sets([1, 2, 3], [4, 5, 6]), failures: 5 };
  strictEqual(lossProbability(input).method, "exactByReplicaSets");
  const small = { ...input, exactBudget: 10 };
  throws(() => lossProbability(small), /no prng was given for Monte Carlo/);
  throws(() => exactLossProbability(small), /exceed the budget "10"/);
  const mc = lossProbability({ ...small, prng: createPrng(1), samples: 1000 });
  strictEqual(mc.method, "monteCarlo");
  strictEqual(mc.samples, 1000);
});

Deno.test("lossProbability refuses invalid input", () => {
  const nodes = ids(5);
  throws(() => lossProbability({ nodes, replicaSets: [], failures: 6 }), /failure count "6"/);
  throws(() => lossProbability({ nodes: [], replicaSets: [], failures: 0 }), /node list is empty/);
  throws(
    () => lossProbability({ nodes, replicaSets: sets([1, 9]), failures: 2 }),
    /replica node "9" is not a node/,
  );
  throws(
    () => lossProbability({ nodes, replicaSets: sets([1, 1]), failures: 2 }),
    /replica set "1,1" repeats a node/,
  );
  throws(
    () => lossProbability({ nodes: [nodeId(1), nodeId(1)], replicaSets: [], failures: 1 }),
    /node "1" appears twice/,
  );
});

/** P(loss) of k = 3 failures for 10,000 partitions at R = 3, copyset (scatter width s) and random. */
function compare(n: number, s: number, seed: number): { copyset: number; random: number } {
  const nodes = cluster(n);
  const copysets = CopysetPlacement.create({
    nodes,
    replicationFactor: 3,
    scatterWidth: s,
    prng: createPrng(seed),
  }).place(10_000);
  const random = randomPlacement({
    nodes,
    replicationFactor: 3,
    partitions: 10_000,
    prng: createPrng(seed),
  });
  const p = (replicaSets: readonly (readonly NodeId[])[]) =>
    exactLossProbability({ nodes: ids(n), replicaSets, failures: 3 }).probability;
  return { copyset: p(copysets), random: p(random) };
}

Deno.test("copyset placement loses data far less often than random on 9, 30 and 100 nodes", () => {
  // k = R = 3 failures, 10,000 partitions, fixed seeds. Exact figures: copyset S = 2 uses
  // about N/3 copysets, so P = (N/3) / C(N,3); random uses nearly every triple.
  const minRatio: Record<number, [number, number]> = {
    9: [20, 10],
    30: [200, 100],
    100: [200, 100],
  };
  for (const n of [9, 30, 100]) {
    const [ratioS2, ratioS4] = minRatio[n] as [number, number];
    const s2 = compare(n, 2, n);
    const s4 = compare(n, 4, n);
    ok(s2.random / s2.copyset >= ratioS2, `${n} nodes, S=2: ${JSON.stringify(s2)}`);
    ok(s4.random / s4.copyset >= ratioS4, `${n} nodes, S=4: ${JSON.stringify(s4)}`);
    ok(s2.copyset <= s4.copyset, "a wider scatter uses more copysets");
  }
});

Deno.test("copyset placement with a huge scatter width is as exposed as random", () => {
  // S = 200 on 9 nodes draws 100 permutations: nearly all 84 triples become copysets, so the
  // copyset family no longer protects anything. This is the check that the test above can fail.
  const { copyset, random } = compare(9, 200, 9);
  ok(copyset >= 0.8 * random, `copyset ${copyset} vs random ${random}`);
});

Deno.test("copyset placement loses data with k = R failures exactly when they form a copyset", () => {
  // 30 nodes on 5 racks: P(loss) = copysets / C(30, 3), racks or not.
  const nodes = ids(30).map((id, i) => ({ id, rack: `r${i % 5}` }));
  const family = CopysetPlacement.create({
    nodes,
    replicationFactor: 3,
    scatterWidth: 4,
    prng: createPrng(8),
  });
  const e = lossProbability({ nodes: ids(30), replicaSets: family.place(1000), failures: 3 });
  strictEqual(e.lossableSets, family.copysets.length);
  strictEqual(e.probability, family.copysets.length / 4060);
});
