/**
 * Benchmarks of src/records, printing one JSON object a line: CRC32C throughput over 1 MiB,
 * and buildBatch / decodeBatch of 1,000 records of 100-byte values per codec (records/s).
 * Values are semi-structured text from a seeded PRNG, so codecs see realistic redundancy
 * and every run measures the same bytes.
 *
 * Run: deno run --allow-all bench/records_bench.ts [--duration-ms=N]
 */
import {
  buildBatch,
  type CompressionName,
  crc32c,
  decodeBatch,
  type RecordInput,
} from "../src/records/mod.ts";
import { createPrng } from "../src/util/mod.ts";

const RECORDS_PER_BATCH = 1000;
const VALUE_BYTES = 100;
const CRC_INPUT_BYTES = 1024 * 1024;
const CODECS: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const durationArg = Deno.args.find((a) => a.startsWith("--duration-ms="));
const DURATION_MS = durationArg === undefined ? 1000 : Number(durationArg.split("=")[1]);

/** Runs `fn` repeatedly for about DURATION_MS after a warm-up; returns calls per second. */
function measure(fn: () => void): { iterations: number; perSecond: number } {
  const warmEnd = performance.now() + DURATION_MS / 4;
  while (performance.now() < warmEnd) fn();
  let iterations = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    fn();
    iterations++;
    now = performance.now();
  }
  return { iterations, perSecond: iterations / ((now - start) / 1000) };
}

function sampleRecords(): RecordInput[] {
  const prng = createPrng(42);
  const enc = new TextEncoder();
  return Array.from({ length: RECORDS_PER_BATCH }, (_, i) => {
    const text = `{"user":${prng.int(1, 99999)},"event":"click","page":"/p/${prng.int(1, 500)}",` +
      `"ts":${1_700_000_000_000 + i},"pad":"`;
    const value = new Uint8Array(VALUE_BYTES).fill(0x78); // 'x' padding
    value.set(enc.encode(text).subarray(0, VALUE_BYTES));
    return { key: enc.encode(`user-${i % 100}`), value, timestampMs: 1_700_000_000_000 + i };
  });
}

const common = { deno: Deno.version.deno, v8: Deno.version.v8 };

{
  const prng = createPrng(1);
  const data = Uint8Array.from({ length: CRC_INPUT_BYTES }, () => prng.nextU32() & 0xff);
  let checksum = 0;
  const r = measure(() => {
    checksum = crc32c(data);
  });
  console.log(JSON.stringify({
    bench: "records.crc32c",
    bytes: CRC_INPUT_BYTES,
    iterations: r.iterations,
    gbPerSecond: Number((r.perSecond * CRC_INPUT_BYTES / 1e9).toFixed(3)),
    checksum,
    ...common,
  }));
}

const records = sampleRecords();
for (const codec of CODECS) {
  const batch = buildBatch({ records, compression: codec });
  const build = measure(() => {
    buildBatch({ records, compression: codec });
  });
  const decode = measure(() => {
    decodeBatch(batch);
  });
  for (const [op, r] of [["buildBatch", build], ["decodeBatch", decode]] as const) {
    console.log(JSON.stringify({
      bench: `records.${op}`,
      codec,
      records: RECORDS_PER_BATCH,
      valueBytes: VALUE_BYTES,
      batchBytes: batch.length,
      iterations: r.iterations,
      recordsPerSecond: Math.round(r.perSecond * RECORDS_PER_BATCH),
      ...common,
    }));
  }
}
