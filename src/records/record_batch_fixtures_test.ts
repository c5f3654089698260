/**
 * Decodes RecordBatch v2 bytes written by a real client (kafka-python 2.0.2, with liblz4,
 * libsnappy, zlib and libzstd behind it) and compares them with the records the client was
 * asked to write. The fixtures and their provenance: tests/fixtures/records/README.md.
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { verifyBatchCrc } from "./batch_header.ts";
import { decompress } from "./compression.ts";
import { lz4Decompress } from "./lz4.ts";
import { decodeBatch, type DecodedRecord, iterateBatches } from "./record_batch.ts";
import { snappyDecompress } from "./snappy.ts";

const DIR = new URL("../../tests/fixtures/records/", import.meta.url);
const enc = new TextEncoder();

interface ExpectedRecord {
  offset: number;
  timestampMs: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]>;
}

interface ExpectedBatch {
  file: string;
  compression: string;
  isTransactional: boolean;
  producerId: string;
  producerEpoch: number;
  baseSequence: number;
  baseOffset: number;
  recordsPattern: { count: number; timestampBaseMs: number; value: string; repeat: number } | null;
  records: ExpectedRecord[] | null;
}

const read = (name: string) => Deno.readFileSync(new URL(name, DIR));
const expected: { batches: ExpectedBatch[] } = JSON.parse(
  new TextDecoder().decode(read("expected.json")),
);
const unb64 = (s: string | null) => s === null ? null : new Uint8Array(Buffer.from(s, "base64"));

function expectedRecords(b: ExpectedBatch): ExpectedRecord[] {
  if (b.records !== null) return b.records;
  const p = b.recordsPattern;
  ok(p, `${b.file}: neither records nor a pattern`);
  return Array.from({ length: p.count }, (_, i) => ({
    offset: i,
    timestampMs: p.timestampBaseMs + i,
    key: null,
    value: Buffer.from(p.value.replace("{i}", String(i)).repeat(p.repeat)).toString("base64"),
    headers: [],
  }));
}

function compare(file: string, got: DecodedRecord[], want: ExpectedRecord[]): void {
  strictEqual(got.length, want.length, file);
  want.forEach((w, i) => {
    const g = got[i];
    ok(g);
    strictEqual(g.offset, w.offset, `${file} #${i} offset`);
    strictEqual(g.timestampMs, w.timestampMs, `${file} #${i} timestamp`);
    deepStrictEqual(g.key, unb64(w.key), `${file} #${i} key`);
    deepStrictEqual(g.value, unb64(w.value), `${file} #${i} value`);
    deepStrictEqual(g.headers, w.headers.map(([key, v]) => ({ key, value: unb64(v) })));
  });
}

Deno.test("fixtures cover every codec and the producer variants", () => {
  const codecs = new Set(expected.batches.map((b) => b.compression));
  deepStrictEqual([...codecs].sort(), ["gzip", "lz4", "none", "snappy", "zstd"]);
  ok(expected.batches.some((b) => b.isTransactional));
});

for (const b of expected.batches) {
  Deno.test(`decodeBatch reads the kafka-python fixture ${b.file}`, () => {
    const bytes = read(b.file);
    ok(verifyBatchCrc(bytes), "CRC written by kafka-python verifies");
    const d = decodeBatch(bytes);
    strictEqual(d.compression, b.compression);
    strictEqual(d.isTransactional, b.isTransactional);
    strictEqual(d.isControl, false);
    strictEqual(d.header.producerId, BigInt(b.producerId));
    strictEqual(d.header.producerEpoch, b.producerEpoch);
    strictEqual(d.header.baseSequence, b.baseSequence);
    strictEqual(d.header.baseOffset, b.baseOffset);
    compare(b.file, d.records, expectedRecords(b));
  });
}

Deno.test("iterateBatches frames all kafka-python fixtures concatenated", () => {
  const parts = expected.batches.map((b) => read(b.file));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    all.set(p, pos);
    pos += p.length;
  }
  const frames = [...iterateBatches(all.subarray(0, all.length - 5))];
  strictEqual(frames.length, parts.length - 1);
  frames.forEach((f, i) => deepStrictEqual(f.bytes, parts[i]));
});

Deno.test("liblz4 frames with linked blocks and checksums and raw libsnappy blocks decode", () => {
  const plain = enc.encode(
    Array.from({ length: 5000 }, (_, i) => `frame payload ${String(i).padStart(6, "0")}; `)
      .join(""),
  );
  const lz4 = read("codec_lz4_linked_checksums.lz4");
  deepStrictEqual(lz4Decompress(lz4, plain.length), plain);
  deepStrictEqual(decompress("lz4", lz4), plain);
  const corrupt = lz4.slice();
  corrupt[100] = (corrupt[100] as number) ^ 1;
  // Byte 100 lies inside the first block: its xxhash32 block checksum catches the flip.
  throws(() => lz4Decompress(corrupt, plain.length), /block checksum mismatch/);
  deepStrictEqual(snappyDecompress(read("codec_snappy_raw.snappy"), plain.length), plain);
});
