import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { parseConsumerAssignment } from "./consumer_assignment.ts";

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
