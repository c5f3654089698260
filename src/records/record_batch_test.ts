import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { FrameDecodeError } from "../util/mod.ts";
import {
  ATTR,
  BATCH_FIELD,
  BATCH_HEADER_BYTES,
  type CompressionName,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  verifyBatchCrc,
  writeBatchCrc,
} from "./batch_header.ts";
import { buildBatch, decodeBatch, iterateBatches, type RecordInput } from "./record_batch.ts";

const enc = new TextEncoder();
const CODECS: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const T0 = 1_700_000_000_000;

function sampleRecords(n: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 4 === 0 ? null : enc.encode(`key-${i}`),
    value: i % 7 === 3 ? null : enc.encode(`value ${i} `.repeat(1 + (i % 5))),
    headers: i % 3 === 0 ? [] : [{ key: "trace-ü", value: enc.encode(`h${i}`) }, {
      key: "empty",
      value: null,
    }],
    timestampMs: T0 + i * 3 - (i % 2 === 0 ? 0 : 1000),
  }));
}

function expectRecords(records: RecordInput[], decoded: ReturnType<typeof decodeBatch>, base = 0) {
  strictEqual(decoded.records.length, records.length);
  records.forEach((r, i) => {
    const d = decoded.records[i];
    ok(d);
    strictEqual(d.offset, base + i);
    strictEqual(d.timestampMs, r.timestampMs);
    deepStrictEqual(d.key, r.key ?? null);
    deepStrictEqual(d.value, r.value);
    deepStrictEqual(d.headers, r.headers ?? []);
  });
}

for (const codec of CODECS) {
  Deno.test(`buildBatch/decodeBatch round-trip with ${codec}`, () => {
    const records = sampleRecords(250);
    const batch = buildBatch({ records, compression: codec, baseOffset: 42 });
    ok(verifyBatchCrc(batch));
    const d = decodeBatch(batch);
    strictEqual(d.compression, codec);
    strictEqual(d.header.recordCount, 250);
    strictEqual(d.header.lastOffsetDelta, 249);
    strictEqual(d.header.baseOffset, 42);
    strictEqual(d.header.baseTimestamp, T0);
    strictEqual(d.header.maxTimestamp, Math.max(...records.map((r) => r.timestampMs ?? 0)));
    strictEqual(d.header.producerId, -1n);
    strictEqual(d.header.producerEpoch, -1);
    strictEqual(d.header.baseSequence, -1);
    strictEqual(d.header.partitionLeaderEpoch, -1);
    strictEqual(d.header.batchLength, batch.length - 12);
    strictEqual(d.timestampType, "CreateTime");
    strictEqual(d.isTransactional, false);
    strictEqual(d.isControl, false);
    expectRecords(records, d, 42);
  });
}

Deno.test("buildBatch compresses a compressible block below its plain size", () => {
  const records = sampleRecords(500);
  const plain = buildBatch({ records }).length;
  for (const codec of CODECS.slice(1)) {
    const size = buildBatch({ records, compression: codec }).length;
    ok(size < plain / 2, `${codec}: ${size} vs ${plain}`);
  }
});

Deno.test("buildBatch writes idempotent and transactional producer fields", () => {
  const batch = buildBatch({
    records: [{ value: enc.encode("a"), timestampMs: T0 }],
    producerId: 123456789012n,
    producerEpoch: 7,
    baseSequence: 99,
    isTransactional: true,
    partitionLeaderEpoch: 5,
  });
  const d = decodeBatch(batch);
  strictEqual(d.header.producerId, 123456789012n);
  strictEqual(d.header.producerEpoch, 7);
  strictEqual(d.header.baseSequence, 99);
  strictEqual(d.header.partitionLeaderEpoch, 5);
  strictEqual(d.isTransactional, true);
  strictEqual(d.header.attributes & ATTR.transactional, ATTR.transactional);
});

Deno.test("buildBatch refuses empty batches and out-of-range fields", () => {
  throws(() => buildBatch({ records: [] }), RangeError);
  const records = [{ value: null }];
  throws(() => buildBatch({ records, isTransactional: true }), RangeError);
  throws(() => buildBatch({ records, producerEpoch: 40000 }), RangeError);
  throws(() => buildBatch({ records, baseOffset: -1 }), RangeError);
  throws(() => buildBatch({ records, baseSequence: 2 ** 31 }), RangeError);
});

Deno.test("records without a timestamp take baseTimestampMs, else NO_TIMESTAMP", () => {
  const a = decodeBatch(buildBatch({ records: [{ value: null }], baseTimestampMs: T0 }));
  strictEqual(a.records[0]?.timestampMs, T0);
  const b = decodeBatch(buildBatch({ records: [{ value: null }, { value: null }] }));
  deepStrictEqual(b.records.map((r) => r.timestampMs), [-1, -1]);
  strictEqual(b.header.maxTimestamp, -1);
});

Deno.test("a LogAppendTime batch reports maxTimestamp as every record's timestamp", () => {
  const batch = buildBatch({ records: sampleRecords(3), logAppendTimeMs: T0 + 555 });
  const d = decodeBatch(batch);
  strictEqual(d.timestampType, "LogAppendTime");
  deepStrictEqual(d.records.map((r) => r.timestampMs), [T0 + 555, T0 + 555, T0 + 555]);
});

Deno.test("decodeBatch rejects a CRC mismatch unless told not to verify", () => {
  const batch = buildBatch({ records: sampleRecords(5) });
  const last = batch.length - 1;
  batch[last] = (batch[last] as number) ^ 0x01;
  throws(() => decodeBatch(batch), FrameDecodeError);
  // The flipped byte lies in the last header's value: the records still parse.
  strictEqual(decodeBatch(batch, { verifyCrc: false }).records.length, 5);
});

Deno.test("baseOffset and partitionLeaderEpoch change without invalidating the CRC", () => {
  const batch = buildBatch({ records: sampleRecords(4), compression: "lz4" });
  setBaseOffset(batch, 1000);
  setPartitionLeaderEpoch(batch, 9);
  const d = decodeBatch(batch);
  strictEqual(d.header.partitionLeaderEpoch, 9);
  deepStrictEqual(d.records.map((r) => r.offset), [1000, 1001, 1002, 1003]);
});

Deno.test("decodeBatch rejects trailing bytes inside the record block", () => {
  const batch = buildBatch({ records: sampleRecords(2) });
  const dv = new DataView(batch.buffer);
  // Claim one record fewer: the second record's bytes become trailing garbage.
  dv.setInt32(BATCH_FIELD.recordCount, 1);
  writeBatchCrc(batch);
  throws(() => decodeBatch(batch), /bytes after the last record/);
  // Claim far more records than bytes could hold: refused before decoding.
  dv.setInt32(BATCH_FIELD.recordCount, 1_000_000);
  writeBatchCrc(batch);
  throws(() => decodeBatch(batch), /does not fit/);
});

Deno.test("decodeBatch rejects an unknown codec and a truncated batch", () => {
  const batch = buildBatch({ records: sampleRecords(2) });
  const dv = new DataView(batch.buffer);
  dv.setInt16(BATCH_FIELD.attributes, 5);
  writeBatchCrc(batch);
  throws(() => decodeBatch(batch), /unknown compression codec "5"/);
  throws(() => decodeBatch(batch.subarray(0, batch.length - 1)), FrameDecodeError);
  throws(() => decodeBatch(batch.subarray(0, BATCH_HEADER_BYTES - 1)), FrameDecodeError);
});

Deno.test("decodeBatch enforces the decompressed size limit on compressed batches", () => {
  const records = [{ value: new Uint8Array(100_000), timestampMs: T0 }];
  for (const codec of CODECS.slice(1)) {
    const batch = buildBatch({ records, compression: codec });
    throws(() => decodeBatch(batch, { decompressedBytesMax: 50_000 }), FrameDecodeError, codec);
    strictEqual(decodeBatch(batch, { decompressedBytesMax: 200_000 }).records.length, 1);
  }
});

Deno.test("iterateBatches frames concatenated batches and stops at a partial trailing one", () => {
  const batches = CODECS.map((codec, i) =>
    buildBatch({ records: sampleRecords(3 + i), compression: codec, baseOffset: i * 10 })
  );
  const total = batches.reduce((n, b) => n + b.length, 0);
  const all = new Uint8Array(total);
  let pos = 0;
  for (const b of batches) {
    all.set(b, pos);
    pos += b.length;
  }
  const frames = [...iterateBatches(all)];
  deepStrictEqual(frames.map((f) => f.header.baseOffset), [0, 10, 20, 30, 40]);
  deepStrictEqual(frames.map((f) => f.bytes.length), batches.map((b) => b.length));
  for (const f of frames) ok(verifyBatchCrc(f.bytes));

  const lastStart = total - (batches[4]?.length ?? 0);
  for (const cut of [lastStart, lastStart + 1, lastStart + 11, lastStart + 12, total - 1]) {
    const it = iterateBatches(all.subarray(0, cut));
    let n = 0;
    let r = it.next();
    while (r.done !== true) {
      n++;
      r = it.next();
    }
    strictEqual(n, 4, `cut at ${cut}`);
    strictEqual(r.value, lastStart, `consumed bytes at cut ${cut}`);
  }
  deepStrictEqual([...iterateBatches(new Uint8Array(0))], []);
});

Deno.test("iterateBatches rejects an impossible batch length and a bad magic", () => {
  const batch = buildBatch({ records: sampleRecords(1) });
  const bad = batch.slice();
  new DataView(bad.buffer).setInt32(BATCH_FIELD.batchLength, 3);
  throws(() => [...iterateBatches(bad)], FrameDecodeError);
  const badMagic = batch.slice();
  badMagic[BATCH_FIELD.magic] = 1;
  throws(() => [...iterateBatches(badMagic)], /unsupported magic/);
  strictEqual(readBatchHeader(batch).magic, 2);
});

Deno.test("large timestamp deltas and many records round-trip", () => {
  const records: RecordInput[] = [
    { value: enc.encode("old"), timestampMs: 0 },
    { value: enc.encode("new"), timestampMs: T0 },
    { value: enc.encode("none"), timestampMs: -1 },
  ];
  expectRecords(records, decodeBatch(buildBatch({ records })));
  const many = Array.from({ length: 20_000 }, (_, i) => ({ value: null, timestampMs: T0 + i }));
  const d = decodeBatch(buildBatch({ records: many, compression: "zstd" }));
  strictEqual(d.records[19_999]?.offset, 19_999);
});
