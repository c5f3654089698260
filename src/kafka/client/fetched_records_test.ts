/** Tests of reading a Fetch answer from a position: partial, control and compacted batches. */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { buildBatch, buildEndTxnMarkerBatch } from "../../records/mod.ts";
import { fetchedRecords } from "./fetched_records.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function batch(baseOffset: number, values: string[]): Uint8Array {
  return buildBatch({
    baseOffset,
    records: values.map((v) => ({ value: enc.encode(v), timestampMs: 1 })),
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const values = (r: ReturnType<typeof fetchedRecords>) =>
  r.records.map((x) => `${x.offset}:${dec.decode(x.value ?? new Uint8Array())}`);

Deno.test("fetchedRecords skips records before the position inside the first batch", () => {
  const r = fetchedRecords(concat(batch(0, ["a", "b", "c"]), batch(3, ["d"])), 2);
  deepStrictEqual(values(r), ["2:c", "3:d"]);
  strictEqual(r.nextOffset, 4);
});

Deno.test("fetchedRecords stops at the limit with the position after the last record", () => {
  const r = fetchedRecords(batch(0, ["a", "b", "c"]), 0, 2);
  deepStrictEqual(values(r), ["0:a", "1:b"]);
  strictEqual(r.nextOffset, 2);
});

Deno.test("fetchedRecords hides control batches and moves past them", () => {
  const marker = buildEndTxnMarkerBatch({
    type: "commit",
    producerId: 1n,
    producerEpoch: 0,
    coordinatorEpoch: 0,
    timestampMs: 1,
    baseOffset: 2,
  });
  const r = fetchedRecords(concat(batch(0, ["a", "b"]), marker), 0);
  deepStrictEqual(values(r), ["0:a", "1:b"]);
  strictEqual(r.nextOffset, 3);
});

Deno.test("fetchedRecords ignores a partial trailing batch", () => {
  const whole = batch(0, ["a"]);
  const next = batch(1, ["b"]);
  const r = fetchedRecords(concat(whole, next.subarray(0, next.length - 3)), 0);
  deepStrictEqual(values(r), ["0:a"]);
  strictEqual(r.nextOffset, 1);
});

Deno.test("fetchedRecords of null bytes keeps the position", () => {
  deepStrictEqual(fetchedRecords(null, 5), { records: [], nextOffset: 5 });
});
