import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { createPrng, type NodeId, nodeId } from "../../util/mod.ts";
import { CopysetPlacement, type NodeLoad, type PlacementNode } from "./copyset_placement.ts";

function cluster(n: number, racks = 0): PlacementNode[] {
  return Array.from({ length: n }, (_, i) => ({
    id: nodeId(i + 1),
    ...(racks > 0 ? { rack: `r${i % racks}` } : {}),
  }));
}

function family(nodes: readonly PlacementNode[], r: number, s: number, seed = 1) {
  return CopysetPlacement.create({
    nodes,
    replicationFactor: r,
    scatterWidth: s,
    prng: createPrng(seed),
  });
}

function rackOf(nodes: readonly PlacementNode[]): Map<NodeId, string | undefined> {
  return new Map(nodes.map((n) => [n.id, n.rack]));
}

function counts(lists: readonly (readonly NodeId[])[], pick: (l: readonly NodeId[]) => NodeId[]) {
  const c = new Map<NodeId, number>();
  for (const l of lists) for (const id of pick(l)) c.set(id, (c.get(id) ?? 0) + 1);
  return c;
}

Deno.test("CopysetPlacement.create refuses invalid parameters with clear messages", () => {
  const nodes = cluster(5);
  const bad = (r: number, s: number, ns: PlacementNode[], msg: RegExp) =>
    throws(() => family(ns, r, s), (e: unknown) => e instanceof RangeError && msg.test(e.message));
  bad(0, 2, nodes, /replication factor "0" is not an integer at least "1"/);
  bad(1.5, 2, nodes, /replication factor "1.5"/);
  bad(6, 8, nodes, /replication factor "6" exceeds the node count "5"/);
  bad(3, 1, nodes, /scatter width "1" is below replication factor - 1 \("2"\)/);
  bad(3, -1, nodes, /scatter width "-1" is not an integer/);
  bad(3, 5000, nodes, /scatter width "5000" needs "2500" permutations, above the limit "1024"/);
  bad(3, 2, [], /the node list is empty/);
  bad(1, 2, [{ id: nodeId(1) }, { id: nodeId(1) }], /node "1" appears twice/);
  bad(1, 2, [{ id: nodeId(1), rack: "a" }, { id: nodeId(2) }], /node "2" has no rack while/);
  bad(1, 2, [{ id: nodeId(1), rack: "" }], /node "1" has an empty rack/);
  const f = family(nodes, 3, 2);
  throws(() => f.place(-1), /Cannot place partitions: count "-1"/);
  throws(() => f.place(0.5), RangeError);
});

Deno.test("CopysetPlacement copysets hold R distinct nodes and every node is in P of them", () => {
  for (const n of [3, 9, 10, 11, 30, 100]) {
    for (const s of [2, 4, 8]) {
      const f = family(cluster(n), 3, s, n * 10 + s);
      strictEqual(f.permutations, Math.ceil(s / 2));
      strictEqual(f.rackDiversity, "unracked");
      const keys = new Set<string>();
      for (const set of f.copysets) {
        strictEqual(new Set(set).size, 3, `${n}/${s}: ${set}`);
        keys.add(set.join());
      }
      strictEqual(keys.size, f.copysets.length, "no repeated copyset");
      // A bounded family: the groups of P permutations, each tail ring adding up to 2R - 2.
      ok(f.copysets.length <= f.permutations * (Math.ceil(n / 3) + 2 * 3));
      // Without racks every tail is a ring: each node is in R copysets there, else one.
      if (n % 3 !== 0 && n > 3) {
        const perNode = f.nodes.map((node) => f.copysetsOf(node.id).length);
        ok(Math.max(...perNode) <= 3 * f.permutations, `${n}/${s}: ${perNode}`);
      }
      for (const node of f.nodes) {
        // Repeated copysets are kept once, so on tiny clusters a node may be in fewer than P.
        ok(f.copysetsOf(node.id).length >= (n >= 30 ? f.permutations : 1), `${n}/${s}`);
      }
    }
  }
  strictEqual(family(cluster(4), 1, 0).copysets.length, 4, "R = 1: one copyset per node");
});

Deno.test("CopysetPlacement reaches the scatter width asked for", () => {
  for (const n of [30, 100]) {
    for (const s of [2, 4, 8]) {
      const f = family(cluster(n), 3, s, 7);
      const widths = f.nodes.map((node) => f.scatterWidthOf(node.id));
      const mean = widths.reduce((a, b) => a + b, 0) / widths.length;
      // Each permutation adds R - 1 peers unless they overlap earlier ones; the wrapped
      // leftover groups give a few nodes one more copyset per permutation.
      ok(Math.min(...widths) >= s - 2, `${n}/${s}: min ${Math.min(...widths)}`);
      ok(Math.max(...widths) <= s + 2 * 2, `${n}/${s}: max ${Math.max(...widths)}`);
      ok(mean >= 0.95 * s && mean <= s + 1, `${n}/${s}: mean ${mean}`);
    }
  }
  // A 9-node cluster has only 8 peers to offer, and random permutations overlap there (the
  // best-of-candidates draw does not search for a perfect resolvable design).
  const small = family(cluster(9), 3, 8, 3);
  const widths = small.nodes.map((node) => small.scatterWidthOf(node.id));
  ok(Math.min(...widths) >= 5 && widths.reduce((a, b) => a + b, 0) / 9 >= 6, `${widths}`);
});

Deno.test("CopysetPlacement copysets span R distinct racks when there are R racks", () => {
  const layouts: PlacementNode[][] = [
    cluster(9, 3),
    cluster(30, 5),
    cluster(100, 7),
    // Unbalanced: rack a holds 6 of 10 nodes, more than N / R, so its surplus wraps.
    ["a", "a", "a", "a", "a", "a", "b", "b", "c", "d"].map((rack, i) => ({
      id: nodeId(i + 1),
      rack,
    })),
  ];
  for (const nodes of layouts) {
    for (const s of [2, 4, 8]) {
      const f = family(nodes, 3, s, nodes.length + s);
      strictEqual(f.rackDiversity, "distinct");
      const racks = rackOf(nodes);
      for (const set of f.copysets) {
        strictEqual(new Set(set.map((id) => racks.get(id))).size, 3, `${set}`);
      }
      for (const node of nodes) ok(f.copysetsOf(node.id).length >= 1, `${node.id} covered`);
    }
  }
});

Deno.test("CopysetPlacement falls back to distinct nodes with fewer racks than R", () => {
  const nodes = cluster(8, 2);
  const f = family(nodes, 3, 4);
  strictEqual(f.rackDiversity, "impossible");
  for (const set of f.copysets) strictEqual(new Set(set).size, 3);
});

Deno.test("CopysetPlacement is deterministic for a seed and independent of node order", () => {
  const nodes = cluster(30, 3);
  const a = family(nodes, 3, 4, 42);
  const b = family([...nodes].reverse(), 3, 4, 42);
  deepStrictEqual(a.copysets, b.copysets);
  deepStrictEqual(a.place(500), b.place(500));
  deepStrictEqual(a.place(500), a.place(500), "place is pure");
  notDeepStrictEqual(family(nodes, 3, 4, 43).copysets, a.copysets);
});

Deno.test("CopysetPlacement.place balances leaders and puts every partition on a copyset", () => {
  for (const n of [9, 30, 100]) {
    const f = family(cluster(n, n === 9 ? 0 : 5), 3, 4, n);
    const lists = f.place(10_000);
    strictEqual(lists.length, 10_000);
    const keys = new Set(f.copysets.map((set) => set.join()));
    for (const l of lists) {
      ok(keys.has([...l].sort((x, y) => x - y).join()), `${l} is a copyset`);
    }
    const leaders = [...counts(lists, (l) => [l[0] as NodeId]).values()];
    strictEqual(leaders.length, n);
    ok(Math.max(...leaders) - Math.min(...leaders) <= 1, `${n}: leaders ${leaders}`);
    const replicas = [...counts(lists, (l) => [...l]).values()];
    ok(Math.max(...replicas) - Math.min(...replicas) <= 8, `${n}: replicas ${replicas}`);
    // Every copyset carries partitions: the scatter width is used, not only one permutation.
    strictEqual(new Set(lists.map((l) => [...l].sort((x, y) => x - y).join())).size, keys.size);
  }
});

Deno.test("CopysetPlacement.place balances replicas when R does not divide N", () => {
  // The ring tail keeps the family regular enough for even replica counts even at P = 1,
  // where a plain wrap-around leaves a node in a single copyset.
  for (const [n, racks] of [[100, 0], [100, 10], [10, 0], [31, 0], [32, 4]] as const) {
    for (const s of [2, 4]) {
      const lists = family(cluster(n, racks), 3, s, n + s).place(100 * n);
      const replicas = [...counts(lists, (l) => [...l]).values()];
      ok(Math.max(...replicas) - Math.min(...replicas) <= 8, `${n}/${racks}/${s}: ${replicas}`);
    }
  }
});

Deno.test("CopysetPlacement.place evens out an existing load", () => {
  const f = family(cluster(9), 3, 4);
  const existing = new Map<NodeId, NodeLoad>([
    [nodeId(1), { replicas: 30, leaders: 10 }],
    [nodeId(2), { replicas: 15, leaders: 5 }],
    [nodeId(99), { replicas: 1000, leaders: 1000 }], // not in the family: ignored
  ]);
  const lists = f.place(90, existing);
  const leaders = counts(lists, (l) => [l[0] as NodeId]);
  const totals = f.nodes.map((node) =>
    (leaders.get(node.id) ?? 0) + (existing.get(node.id)?.leaders ?? 0)
  );
  ok(Math.max(...totals) - Math.min(...totals) <= 1, `${totals}`);
  strictEqual(leaders.get(nodeId(1)) ?? 0, 1);
});

Deno.test("CopysetPlacement.withAddedNodes keeps old copysets and covers new nodes", () => {
  const nodes = cluster(30, 5);
  const old = family(nodes, 3, 4, 5);
  const added = [30, 31, 32].map((i) => ({ id: nodeId(i + 1), rack: `r${i % 5}` }));
  const grown = old.withAddedNodes(added, createPrng(6));
  strictEqual(grown.nodes.length, 33);
  strictEqual(grown.rackDiversity, "distinct");
  deepStrictEqual(grown.copysets.slice(0, old.copysets.length), old.copysets);
  const fresh = grown.copysets.slice(old.copysets.length);
  ok(fresh.length <= old.permutations * added.length, `${fresh.length} new copysets`);
  const isNew = new Set(added.map((n) => n.id));
  for (const set of fresh) ok(set.some((id) => isNew.has(id)), `${set} holds a new node`);
  for (const n of added) {
    ok(grown.copysetsOf(n.id).length >= old.permutations);
    ok(grown.scatterWidthOf(n.id) >= 3);
  }
  const lists = grown.place(330);
  const leaders = counts(lists, (l) => [l[0] as NodeId]);
  for (const n of added) strictEqual(leaders.get(n.id), 10);
  throws(() => old.withAddedNodes([{ id: nodeId(1), rack: "r0" }], createPrng(1)), /twice/);
  // Gaining enough racks leaves the old, rack-blind copysets in place.
  const twoRacks = family(cluster(6, 2), 3, 2);
  strictEqual(twoRacks.rackDiversity, "impossible");
  const third = twoRacks.withAddedNodes([{ id: nodeId(7), rack: "r9" }], createPrng(2));
  ok(third.rackDiversity === "partial" || third.rackDiversity === "distinct");
});

Deno.test("CopysetPlacement with one replica puts each partition on its leader alone", () => {
  const f = family(cluster(4), 1, 0);
  const lists = f.place(8);
  for (const l of lists) strictEqual(l.length, 1);
  deepStrictEqual([...counts(lists, (l) => [...l]).values()], [2, 2, 2, 2]);
});

Deno.test("CopysetPlacement keeps its rack and coverage guarantees on random layouts", () => {
  const prng = createPrng(2024);
  for (let trial = 0; trial < 200; trial++) {
    const n = prng.int(3, 40);
    const r = prng.int(1, Math.min(5, n));
    const rackCount = prng.int(0, 8);
    // Skewed rack sizes: rack i is chosen with weight i + 1.
    const nodes = Array.from({ length: n }, (_, i) => {
      const pick = Math.floor(Math.sqrt(prng.next() * rackCount * rackCount));
      return { id: nodeId(i), ...(rackCount > 0 ? { rack: `r${pick}` } : {}) };
    });
    const s = prng.int(r - 1, 3 * r);
    const f = family(nodes, r, s, trial);
    const racks = rackOf(nodes);
    const distinctRacks = new Set(nodes.map((node) => node.rack)).size;
    const expected = rackCount === 0 ? "unracked" : distinctRacks >= r ? "distinct" : "impossible";
    strictEqual(f.rackDiversity, expected, `trial ${trial}`);
    for (const set of f.copysets) {
      strictEqual(new Set(set).size, r, `trial ${trial}`);
      if (expected === "distinct") strictEqual(new Set(set.map((id) => racks.get(id))).size, r);
    }
    for (const node of nodes) ok(f.copysetsOf(node.id).length >= 1, `trial ${trial}`);
    const lists = f.place(n * 3);
    const leaders = [...counts(lists, (l) => [l[0] as NodeId]).values()];
    ok(leaders.length === n && Math.max(...leaders) - Math.min(...leaders) <= 1, `trial ${trial}`);
  }
});
