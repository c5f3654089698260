/**
 * Tests of the transport's bounded parts shared by TCP and the simulator: `PeerQueue`
 * (both bounds, FIFO, batching), `HeartbeatBatch` (replace, split at the frame limit) and
 * `Backoff` (growth, cap, jitter from the seed, reset).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createPrng } from "../../util/mod.ts";
import { Backoff } from "./backoff.ts";
import { HeartbeatBatch } from "./heartbeat_batch.ts";
import { PeerQueue, runs } from "./peer_queue.ts";
import { decodeFrame, LENGTH_BYTES } from "./transport_frame.ts";

Deno.test("PeerQueue: bounds frames and bytes, keeps FIFO order, takes batches", () => {
  const q = new PeerQueue(3, 100);
  ok(q.push(new Uint8Array(40).fill(1)));
  ok(q.push(new Uint8Array(40).fill(2)));
  ok(!q.push(new Uint8Array(30)), "bytes bound");
  ok(q.push(new Uint8Array(10).fill(3)));
  ok(!q.push(new Uint8Array(1)), "frames bound");
  strictEqual(q.bytes, 90);
  deepStrictEqual(q.take(50).map((f) => f[0]), [1]);
  deepStrictEqual(q.take(50).map((f) => f[0]), [2, 3]);
  deepStrictEqual(q.take(50), []);
  strictEqual(q.bytes, 0);
  for (let i = 0; i < 5000; i++) {
    ok(q.push(new Uint8Array([i & 0xff])));
    strictEqual(q.take(1)[0]?.[0], i & 0xff);
  }
  ok(q.push(new Uint8Array(5)));
  strictEqual(q.clear(), 1);
  strictEqual(q.frames, 0);
});

/** Pushes `n` frames of 1 MiB, takes them all (as the writer does), and drops them. */
function pushAndTake(q: PeerQueue, n: number): Array<WeakRef<Uint8Array>> {
  const refs: Array<WeakRef<Uint8Array>> = [];
  for (let i = 0; i < n; i++) {
    const frame = new Uint8Array(1 << 20);
    refs.push(new WeakRef(frame));
    ok(q.push(frame));
  }
  strictEqual(q.take(1 << 30).length, n);
  return refs;
}

Deno.test("PeerQueue: a taken frame is not kept alive by the queue", async () => {
  // Needs V8's gc() (deno task test passes --v8-flags=--expose-gc); without it this fails.
  const gc = (globalThis as { gc?: () => void }).gc;
  ok(gc !== undefined, "run with --v8-flags=--expose-gc (deno task test does)");
  const q = new PeerQueue(10_000, 1 << 30);
  // Pushed and taken in a function of its own, so no local of this one keeps a frame alive.
  const refs = pushAndTake(q, 8);
  ok(q.push(new Uint8Array(10)));
  // WeakRef targets stay alive until the current job ends.
  await new Promise((r) => setTimeout(r, 0));
  gc();
  deepStrictEqual(refs.map((r) => r.deref() === undefined), Array(8).fill(true));
  strictEqual(q.frames, 1);
});

Deno.test("HeartbeatBatch: replaces a group's beat and reports full at the frame limit", () => {
  const b = new HeartbeatBatch(200);
  strictEqual(b.add("g1", new Uint8Array([1])), "added");
  strictEqual(b.add("g1", new Uint8Array([2])), "added");
  strictEqual(b.size, 1);
  strictEqual(b.add("g2", new Uint8Array(300)), "too_large");
  strictEqual(b.add("g2", new Uint8Array(150)), "added");
  strictEqual(b.add("g3", new Uint8Array(50)), "full");
  const frame = b.drain();
  ok(frame !== null);
  const decoded = decodeFrame(frame.subarray(LENGTH_BYTES));
  ok(decoded.type === "heartbeats");
  deepStrictEqual(decoded.beats.map((x) => [x.groupId, x.payload[0]]), [["g1", 2], ["g2", 0]]);
  strictEqual(b.drain(), null);
  strictEqual(b.add("g3", new Uint8Array(50)), "added");
  ok(b.discard());
  ok(!b.discard());
});

Deno.test("Backoff: grows to its cap, jitters within [step/2, step], resets", () => {
  const b = new Backoff(10, 300, createPrng(5));
  const delays = Array.from({ length: 10 }, () => b.next());
  for (const [i, d] of delays.entries()) {
    const step = Math.min(300, 10 * 2 ** i);
    ok(d >= step / 2 && d <= step, `${i}: ${d}`);
  }
  strictEqual(b.attempt, 10);
  b.reset();
  ok(b.next() <= 10);
  const again = new Backoff(10, 300, createPrng(5));
  deepStrictEqual(Array.from({ length: 10 }, () => again.next()), delays);
});

Deno.test("PeerQueue: slab frames are contiguous and runs() merges them without copying", () => {
  const q = new PeerQueue(100, 1 << 20);
  const a = q.alloc(10).fill(1);
  const b = q.alloc(20).fill(2);
  const big = q.alloc(100_000).fill(3);
  const c = q.alloc(5).fill(4);
  ok(a.buffer === b.buffer && b.buffer === c.buffer && big.buffer !== a.buffer);
  const merged = runs([a, b, big, c]);
  strictEqual(merged.length, 3);
  strictEqual(merged[0]?.length, 30);
  strictEqual(merged[0]?.buffer, a.buffer, "a view, not a copy");
  deepStrictEqual(runs([b, a]).map((r) => r.length), [20, 10], "out of order: not merged");
  ok(q.fits(1 << 20) && !q.fits((1 << 20) + 1));
});
