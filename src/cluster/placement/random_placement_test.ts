import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import type { PlacementNode } from "./copyset_placement.ts";
import { randomPlacement } from "./random_placement.ts";

function cluster(n: number, racks = 0): PlacementNode[] {
  return Array.from({ length: n }, (_, i) => ({
    id: nodeId(i + 1),
    ...(racks > 0 ? { rack: `r${i % racks}` } : {}),
  }));
}

Deno.test("randomPlacement gives R distinct nodes per partition, deterministically", () => {
  const nodes = cluster(30);
  const place = (seed: number) =>
    randomPlacement({ nodes, replicationFactor: 3, partitions: 3000, prng: createPrng(seed) });
  const lists = place(1);
  strictEqual(lists.length, 3000);
  for (const l of lists) strictEqual(new Set(l).size, 3);
  deepStrictEqual(place(1), lists);
  notDeepStrictEqual(place(2), lists);
  // Leaders are uniform: every node leads about 100 partitions.
  const leaders = new Map<NodeId, number>();
  for (const l of lists) leaders.set(l[0] as NodeId, (leaders.get(l[0] as NodeId) ?? 0) + 1);
  strictEqual(leaders.size, 30);
  ok([...leaders.values()].every((c) => c > 60 && c < 140));
  // Random placement uses far more distinct sets than a copyset family would.
  ok(new Set(lists.map((l) => [...l].sort((a, b) => a - b).join())).size > 1500);
});

Deno.test("randomPlacement spreads replicas over racks when asked and possible", () => {
  const nodes = cluster(12, 4);
  const racks = new Map(nodes.map((n) => [n.id, n.rack]));
  const aware = randomPlacement({
    nodes,
    replicationFactor: 3,
    partitions: 500,
    prng: createPrng(3),
    rackAware: true,
  });
  for (const l of aware) strictEqual(new Set(l.map((id) => racks.get(id))).size, 3);
  const blind = randomPlacement({
    nodes,
    replicationFactor: 3,
    partitions: 500,
    prng: createPrng(3),
  });
  ok(blind.some((l) => new Set(l.map((id) => racks.get(id))).size < 3));
  // Two racks for three replicas: racks are ignored, nodes stay distinct.
  const few = randomPlacement({
    nodes: cluster(6, 2),
    replicationFactor: 3,
    partitions: 50,
    prng: createPrng(4),
    rackAware: true,
  });
  for (const l of few) strictEqual(new Set(l).size, 3);
});

Deno.test("randomPlacement refuses invalid parameters", () => {
  const nodes = cluster(3);
  const prng = createPrng(1);
  throws(
    () => randomPlacement({ nodes, replicationFactor: 4, partitions: 1, prng }),
    /Cannot place partitions randomly: replication factor "4" is not an integer in \[1, 3\]/,
  );
  throws(
    () => randomPlacement({ nodes, replicationFactor: 2, partitions: -1, prng }),
    /partition count "-1"/,
  );
  throws(
    () => randomPlacement({ nodes: [], replicationFactor: 1, partitions: 1, prng }),
    /the node list is empty/,
  );
});
