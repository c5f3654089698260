/**
 * Kafka codec throughput: decode and encode of a Produce request (v3 and flexible v9)
 * carrying one 100 KB records blob, and of a Fetch response with 8 partitions (v11 and
 * flexible v13). Prints one JSON object per line with the parameters, ops/s and MB/s
 * (frame bytes processed per second). Records are raw bytes: decoding makes views, so
 * decode cost should not grow with the blob size; `encodeResponse` copies each blob once,
 * `encodeResponseChunks` (the broker's Fetch path) references them.
 *
 * Run: deno run --allow-hrtime bench/protocol_bench.ts   (or plain `deno run`)
 */
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequest,
  encodeResponse,
  encodeResponseChunks,
} from "../src/kafka/protocol/mod.ts";

const RECORDS_BYTES = 100 * 1024;
const FETCH_PARTITIONS = 8;
const FETCH_RECORDS_BYTES = 64 * 1024;
/** Each case runs for about this long; kept short because the machine is shared. */
const CASE_MS = 700;
const WARMUP_MS = 300;
const ZERO_UUID = "0".repeat(32);

function measure(
  name: string,
  params: Record<string, unknown>,
  frameBytes: number,
  op: () => void,
): void {
  // Warm up the compiled closures and the JIT for a fixed time before measuring.
  const warmStart = performance.now();
  while (performance.now() - warmStart < WARMUP_MS) for (let i = 0; i < 20; i++) op();
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < CASE_MS) {
    for (let i = 0; i < 100; i++) op();
    ops += 100;
    elapsed = performance.now() - start;
  }
  const opsPerSec = ops / (elapsed / 1000);
  console.log(JSON.stringify({
    bench: name,
    ...params,
    frameBytes,
    ops,
    opsPerSec: Math.round(opsPerSec),
    mbPerSec: Math.round((opsPerSec * frameBytes) / 1e6),
  }));
}

const records = new Uint8Array(RECORDS_BYTES).map((_, i) => i & 0xff);
for (const version of [3, 9]) {
  const body = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: "bench-topic", partitionData: [{ index: 0, records }] }],
  };
  const frame = encodeRequest("Produce", version, { correlationId: 1, clientId: "bench" }, body);
  const payload = frame.subarray(4);
  const params = { api: "Produce", version, recordsBytes: RECORDS_BYTES };
  measure("decode_request", params, frame.length, () => {
    decodeRequestFrame(payload);
  });
  measure("encode_request", params, frame.length, () => {
    encodeRequest("Produce", version, { correlationId: 1, clientId: "bench" }, body);
  });
}

const fetchRecords = new Uint8Array(FETCH_RECORDS_BYTES).fill(7);
for (const version of [11, 13]) {
  const body = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{
      topic: "bench-topic",
      topicId: ZERO_UUID,
      partitions: Array.from({ length: FETCH_PARTITIONS }, (_, p) => ({
        partitionIndex: p,
        errorCode: 0,
        highWatermark: 1_000_000n,
        lastStableOffset: 1_000_000n,
        logStartOffset: 0n,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: fetchRecords,
      })),
    }],
  };
  const frame = encodeResponse("Fetch", version, 1, body);
  const payload = frame.subarray(4);
  const params = {
    api: "Fetch",
    version,
    partitions: FETCH_PARTITIONS,
    recordsBytesPerPartition: FETCH_RECORDS_BYTES,
  };
  measure("encode_response", params, frame.length, () => {
    encodeResponse("Fetch", version, 1, body);
  });
  measure("encode_response_chunks", params, frame.length, () => {
    encodeResponseChunks("Fetch", version, 1, body);
  });
  measure("decode_response", params, frame.length, () => {
    decodeResponseFrame("Fetch", version, payload);
  });
}
