import { strictEqual } from "node:assert/strict";
import { murmur2, partitionForKey } from "./murmur2.ts";

const enc = new TextEncoder();

// Expected values from the Java client's UtilsTest.testMurmur2 (published test vectors).
Deno.test("murmur2 matches Kafka's published vectors", () => {
  const cases: Array<[string, number]> = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ];
  for (const [s, want] of cases) strictEqual(murmur2(enc.encode(s)), want, s);
  strictEqual(murmur2(Uint8Array.of(97, 98, 99)), 479470107);
});

Deno.test("partitionForKey is in range and stable", () => {
  for (let n = 1; n < 20; n++) {
    const p = partitionForKey(enc.encode("key-x"), n);
    strictEqual(p >= 0 && p < n, true);
    strictEqual(partitionForKey(enc.encode("key-x"), n), p);
  }
});
