/**
 * Tests of `FrameReader`: frames split at every possible read boundary come out whole, the
 * views it returns stay intact while later frames are read (chunks are never reused), and a
 * length outside 1..max is reported before anything is allocated from it.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createPrng } from "../../util/mod.ts";
import { FrameReader } from "./frame_reader.ts";
import { encodeGroupId, encodeMessage, LENGTH_BYTES } from "./transport_frame.ts";

/** A connection that returns `bytes` in reads of seeded random sizes. */
function splitConn(bytes: Uint8Array, seed: number, maxRead: number) {
  const prng = createPrng(seed);
  let at = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, bytes.length - at, prng.int(1, maxRead));
      p.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  };
}

function frames(count: number, seed: number): Uint8Array[] {
  const prng = createPrng(seed);
  const gid = encodeGroupId("g");
  ok(gid !== null);
  return Array.from({ length: count }, (_, i) => {
    const payload = new Uint8Array(prng.int(0, i % 10 === 0 ? 70_000 : 300)).fill(i & 0xff);
    return encodeMessage(gid, payload);
  });
}

Deno.test("FrameReader: reassembles frames across any read split, views stay intact", async () => {
  for (const maxRead of [1, 7, 1000, 100_000]) {
    const sent = frames(maxRead === 1 ? 30 : 200, maxRead);
    const all = new Uint8Array(sent.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of sent) {
      all.set(f, at);
      at += f.length;
    }
    const reader = new FrameReader(splitConn(all, maxRead, maxRead), 1 << 20);
    const got: Uint8Array[] = [];
    for (let i = 0; i < sent.length + 1; i++) {
      const r = await reader.next();
      if (r.type === "eof") break;
      ok(r.type === "frame");
      got.push(r.frame);
    }
    strictEqual(got.length, sent.length);
    // Compared after every read: an earlier view overwritten by a later read would differ.
    for (const [i, f] of got.entries()) deepStrictEqual(f, sent[i]?.subarray(LENGTH_BYTES));
  }
});

Deno.test("FrameReader: reports a length outside 1..max without reading the body", async () => {
  const big = new Uint8Array([0, 1, 0, 0, 9, 9]);
  strictEqual(
    JSON.stringify(await new FrameReader(splitConn(big, 1, 10), 1000).next()),
    JSON.stringify({ type: "bad_length", length: 65536 }),
  );
  const zero = new Uint8Array([0, 0, 0, 0]);
  deepStrictEqual(await new FrameReader(splitConn(zero, 1, 10), 1000).next(), {
    type: "bad_length",
    length: 0,
  });
  const negative = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
  deepStrictEqual(await new FrameReader(splitConn(negative, 1, 10), 1000).next(), {
    type: "bad_length",
    length: -1,
  });
  deepStrictEqual(await new FrameReader(splitConn(new Uint8Array([0, 0]), 1, 10), 1000).next(), {
    type: "eof",
  });
});
