import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  assignRange,
  assignRoundRobin,
  encodeConsumerAssignment,
  parseConsumerAssignment,
} from "./consumer_assignment.ts";

function assignment(topics: Array<[string, number[]]>): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [0, 0, 0, 0, 0, topics.length];
  for (const [t, ps] of topics) {
    const b = enc.encode(t);
    parts.push(b.length >> 8, b.length & 0xff, ...b);
    parts.push(0, 0, 0, ps.length);
    for (const p of ps) parts.push(0, 0, 0, p);
  }
  parts.push(0xff, 0xff, 0xff, 0xff); // null user data
  return Uint8Array.from(parts);
}

Deno.test("parseConsumerAssignment reads topics and partitions", () => {
  deepStrictEqual(parseConsumerAssignment(assignment([["a", [0, 2]], ["b", [1]]])), [
    { topic: "a", partitions: [0, 2] },
    { topic: "b", partitions: [1] },
  ]);
  deepStrictEqual(parseConsumerAssignment(new Uint8Array(0)), []);
});

Deno.test("parseConsumerAssignment gives null for every truncation and bad count", () => {
  const good = assignment([["topic", [0, 1, 2]]]);
  for (let n = 1; n < good.length - 4; n++) {
    strictEqual(parseConsumerAssignment(good.subarray(0, n)), null, `cut at ${n}`);
  }
  const huge = good.slice();
  huge[5] = 0x7f;
  strictEqual(parseConsumerAssignment(huge), null);
});

Deno.test("encodeConsumerAssignment writes v0 bytes that parseConsumerAssignment reads back", () => {
  const list = [{ topic: "a", partitions: [0, 2] }, { topic: "b", partitions: [1] }];
  const bytes = encodeConsumerAssignment(list);
  deepStrictEqual(bytes, assignment([["a", [0, 2]], ["b", [1]]]));
  deepStrictEqual(parseConsumerAssignment(bytes), list);
  deepStrictEqual(parseConsumerAssignment(encodeConsumerAssignment([])), []);
});

Deno.test("assignRange gives contiguous ranges by sorted member id, the first n%m one more", () => {
  const counts = new Map([["t", 5], ["u", 2], ["empty", 0]]);
  const count = (t: string) => counts.get(t) ?? 0;
  const plan = assignRange([
    { memberId: "c", topics: ["t"] },
    { memberId: "a", topics: ["t", "u", "missing"] },
    { memberId: "b", topics: ["t", "u", "empty"] },
  ], count);
  deepStrictEqual([...plan.keys()], ["a", "b", "c"]);
  deepStrictEqual(plan.get("a"), [{ topic: "t", partitions: [0, 1] }, {
    topic: "u",
    partitions: [0],
  }]);
  deepStrictEqual(plan.get("b"), [{ topic: "t", partitions: [2, 3] }, {
    topic: "u",
    partitions: [1],
  }]);
  deepStrictEqual(plan.get("c"), [{ topic: "t", partitions: [4] }]);
  // More members than partitions: the last ones get nothing but still appear.
  const many = assignRange(
    ["m1", "m2", "m3"].map((memberId) => ({ memberId, topics: ["u"] })),
    count,
  );
  deepStrictEqual([...many.values()], [[{ topic: "u", partitions: [0] }], [{
    topic: "u",
    partitions: [1],
  }], []]);
});

Deno.test("assignRoundRobin deals sorted partitions to sorted members, skipping non-subscribers", () => {
  const counts = new Map([["t", 3], ["u", 2]]);
  const count = (t: string) => counts.get(t) ?? 0;
  const plan = assignRoundRobin([
    { memberId: "b", topics: ["t", "u"] },
    { memberId: "a", topics: ["t"] },
  ], count);
  // t-0 a, t-1 b, t-2 a; u-0 b (a does not subscribe to u), u-1 b.
  deepStrictEqual(plan.get("a"), [{ topic: "t", partitions: [0, 2] }]);
  deepStrictEqual(plan.get("b"), [{ topic: "t", partitions: [1] }, {
    topic: "u",
    partitions: [0, 1],
  }]);
  deepStrictEqual([...assignRoundRobin([{ memberId: "x", topics: ["none"] }], count)], [[
    "x",
    [],
  ]]);
});
