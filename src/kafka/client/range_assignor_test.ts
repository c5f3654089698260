/** Tests of the range assignor against RangeAssignor.java's documented examples. */
import { deepStrictEqual } from "node:assert/strict";
import { assignRange } from "./range_assignor.ts";

function plain(m: Map<string, Map<string, number[]>>): Record<string, Record<string, number[]>> {
  return Object.fromEntries([...m].map(([k, v]) => [k, Object.fromEntries(v)]));
}

Deno.test("assignRange gives the first members one extra partition (Kafka's javadoc example)", () => {
  // Two consumers C0, C1, two topics t0, t1 with 3 partitions each.
  const plan = assignRange(
    [{ memberId: "C1", topics: ["t0", "t1"] }, { memberId: "C0", topics: ["t0", "t1"] }],
    new Map([["t0", 3], ["t1", 3]]),
  );
  deepStrictEqual(plain(plan), {
    C0: { t0: [0, 1], t1: [0, 1] },
    C1: { t0: [2], t1: [2] },
  });
});

Deno.test("assignRange leaves extra members without partitions", () => {
  const plan = assignRange(
    [{ memberId: "a", topics: ["t"] }, { memberId: "b", topics: ["t"] }, {
      memberId: "c",
      topics: ["t"],
    }],
    new Map([["t", 2]]),
  );
  deepStrictEqual(plain(plan), { a: { t: [0] }, b: { t: [1] }, c: {} });
});

Deno.test("assignRange assigns a topic only to its subscribers, none for unknown topics", () => {
  const plan = assignRange(
    [{ memberId: "a", topics: ["x"] }, { memberId: "b", topics: ["y", "missing"] }],
    new Map([["x", 2], ["y", 1]]),
  );
  deepStrictEqual(plain(plan), { a: { x: [0, 1] }, b: { y: [0] } });
});

Deno.test("assignRange covers every partition exactly once", () => {
  const members = Array.from({ length: 7 }, (_, i) => ({ memberId: `m${i}`, topics: ["t"] }));
  const plan = assignRange(members, new Map([["t", 23]]));
  const all = [...plan.values()].flatMap((m) => m.get("t") ?? []).sort((a, b) => a - b);
  deepStrictEqual(all, Array.from({ length: 23 }, (_, i) => i));
});
