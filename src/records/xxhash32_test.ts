import { strictEqual } from "node:assert/strict";
import { xxhash32 } from "./xxhash32.ts";

const enc = new TextEncoder();

// Reference values of XXH32 with seed 0 (xxHash's own sanity checks and common test vectors).
Deno.test("xxhash32 matches published vectors", () => {
  strictEqual(xxhash32(new Uint8Array(0)), 0x02cc5d05);
  strictEqual(xxhash32(enc.encode("a")), 0x550d7456);
  strictEqual(xxhash32(enc.encode("abc")), 0x32d153ff);
  strictEqual(xxhash32(enc.encode("Nobody inspects the spammish repetition")), 0xe2293b2f);
});

Deno.test("xxhash32 over a range equals the hash of the slice", () => {
  const data = Uint8Array.from({ length: 100 }, (_, i) => (i * 7) & 0xff);
  for (const [s, e] of [[0, 100], [3, 19], [10, 10], [1, 99], [50, 66]] as const) {
    strictEqual(xxhash32(data, 0, s, e), xxhash32(data.slice(s, e)));
  }
  strictEqual(xxhash32(data, 1) === xxhash32(data, 0), false);
});
