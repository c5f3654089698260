/**
 * Copyset versus random replica placement (Cidon et al., "Copysets: Reducing the Frequency of
 * Data Loss in Cloud Storage", USENIX ATC 2013), printing one JSON object per line:
 *
 * - `placement`: for clusters of 9, 30 and 100 nodes, R = 3, 1,000 and 10,000 partitions,
 *   copyset placement with scatter width S = 2, 4, 8 and random placement: the time to build the
 *   family and place the partitions (wall clock, ms), the distinct replica sets used, and the
 *   spread of leaders and replicas per node (max - min).
 * - `placement_loss`: P(loss), the probability that k = 2..5 simultaneous node failures (drawn
 *   uniformly) take every replica of at least one partition, with the method (exact counting
 *   when within 10^7 subset tests, else Monte Carlo over 200,000 seeded samples, with its
 *   standard error) and `randomOverCopyset`, random's P(loss) over copyset's.
 * - The same for rack-aware placement on 30 nodes in 5 racks and 100 nodes in 10 racks.
 *
 * Every figure comes from fixed seeds and replays exactly (timings aside).
 *
 * Run: deno run bench/placement_bench.ts [--seed=N]
 */
import { parseArgs } from "node:util";
import { createPrng, type NodeId, nodeId } from "../src/util/mod.ts";
import {
  CopysetPlacement,
  lossProbability,
  type PlacementNode,
  randomPlacement,
} from "../src/cluster/placement/mod.ts";

const REPLICATION_FACTOR = 3;
const MONTE_CARLO_SAMPLES = 200_000;
const FAILURES = [2, 3, 4, 5];
const SCATTER_WIDTHS = [2, 4, 8];
const CLUSTERS: Array<{ nodes: number; racks: number; partitions: number[] }> = [
  { nodes: 9, racks: 0, partitions: [1_000, 10_000] },
  { nodes: 30, racks: 0, partitions: [1_000, 10_000] },
  { nodes: 100, racks: 0, partitions: [1_000, 10_000] },
  { nodes: 30, racks: 5, partitions: [10_000] },
  { nodes: 100, racks: 10, partitions: [10_000] },
];

const { values } = parseArgs({ args: Deno.args, options: { seed: { type: "string" } } });
const seed = Number(values.seed ?? "1");

function spread(lists: readonly (readonly NodeId[])[], nodes: readonly PlacementNode[]) {
  const leaders = new Map(nodes.map((n) => [n.id, 0]));
  const replicas = new Map(nodes.map((n) => [n.id, 0]));
  for (const l of lists) {
    const leader = l[0] as NodeId;
    leaders.set(leader, (leaders.get(leader) as number) + 1);
    for (const id of l) replicas.set(id, (replicas.get(id) as number) + 1);
  }
  const range = (m: Map<NodeId, number>) => Math.max(...m.values()) - Math.min(...m.values());
  return { leaderSpread: range(leaders), replicaSpread: range(replicas) };
}

interface Placed {
  readonly placement: "copyset" | "random";
  readonly scatterWidth: number | null;
  readonly lists: NodeId[][];
}

function placeAll(nodes: PlacementNode[], partitions: number, rackAware: boolean): Placed[] {
  const params = {
    nodes: nodes.length,
    racks: rackAware ? new Set(nodes.map((n) => n.rack)).size : 0,
    partitions,
  };
  const out: Placed[] = [];
  const runs: Array<[Placed["placement"], number | null, () => NodeId[][]]> = [
    ...SCATTER_WIDTHS.map((s): [Placed["placement"], number, () => NodeId[][]] => [
      "copyset",
      s,
      () =>
        CopysetPlacement.create({
          nodes,
          replicationFactor: REPLICATION_FACTOR,
          scatterWidth: s,
          prng: createPrng(seed),
        }).place(partitions),
    ]),
    ["random", null, () =>
      randomPlacement({
        nodes,
        replicationFactor: REPLICATION_FACTOR,
        partitions,
        prng: createPrng(seed),
        rackAware,
      })],
  ];
  for (const [placement, scatterWidth, run] of runs) {
    const start = performance.now();
    const lists = run();
    const placeMs = performance.now() - start;
    const used = new Set(lists.map((l) => [...l].sort((a, b) => a - b).join())).size;
    console.log(JSON.stringify({
      bench: "placement",
      ...params,
      replicationFactor: REPLICATION_FACTOR,
      placement,
      scatterWidth,
      placeMs: Number(placeMs.toFixed(2)),
      replicaSets: used,
      ...spread(lists, nodes),
    }));
    out.push({ placement, scatterWidth, lists });
  }
  return out;
}

for (const cluster of CLUSTERS) {
  const nodes: PlacementNode[] = Array.from({ length: cluster.nodes }, (_, i) => ({
    id: nodeId(i + 1),
    ...(cluster.racks > 0 ? { rack: `rack-${i % cluster.racks}` } : {}),
  }));
  const ids = nodes.map((n) => n.id);
  for (const partitions of cluster.partitions) {
    const placed = placeAll(nodes, partitions, cluster.racks > 0);
    for (const k of FAILURES) {
      const estimates = placed.map((p) => ({
        p,
        e: lossProbability({
          nodes: ids,
          replicaSets: p.lists,
          failures: k,
          prng: createPrng(seed * 1000 + k),
          samples: MONTE_CARLO_SAMPLES,
        }),
      }));
      const random = estimates.find(({ p }) => p.placement === "random");
      for (const { p, e } of estimates) {
        const ratio = random === undefined || e.probability === 0
          ? null
          : Number((random.e.probability / e.probability).toPrecision(4));
        console.log(JSON.stringify({
          bench: "placement_loss",
          nodes: cluster.nodes,
          racks: cluster.racks,
          replicationFactor: REPLICATION_FACTOR,
          partitions,
          placement: p.placement,
          scatterWidth: p.scatterWidth,
          failures: k,
          pLoss: Number(e.probability.toPrecision(4)),
          method: e.method,
          samples: e.samples,
          standardError: Number(e.standardError.toPrecision(2)),
          lossableSets: e.lossableSets,
          randomOverCopyset: p.placement === "random" ? null : ratio,
        }));
      }
    }
  }
}
