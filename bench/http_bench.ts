/**
 * HTTP API benchmark (issue #4), one JSON object per line:
 * - produce: concurrent clients POSTing 100 records (100-byte values) per request for a fixed
 *   time; records/s and request latency p50/p99;
 * - SSE fan-out: N concurrent `/stream` subscribers of one partition while a producer posts
 *   batches; deliveries/s across all streams and delivery latency p50/p99 (from sending the
 *   produce request to each subscriber's receipt, so it includes the produce itself).
 * It starts its own node (`main.ts serve`, temp dir) and stops it by PID at the end.
 *
 * Usage: deno run -A bench/http_bench.ts [--seconds 3] [--clients 8] [--streams 100] [--fsync never]
 */
import { parseArgs } from "node:util";
import { startPyralog } from "../tests/helpers/pyralog_process.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    clients: { type: "string", default: "8" },
    streams: { type: "string", default: "100" },
    fsync: { type: "string", default: "never" },
  },
});
const seconds = Number(values.seconds),
  clients = Number(values.clients),
  streams = Number(values.streams);
const fsync = values.fsync ?? "never";

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

const node = await startPyralog({ args: ["--fsync", fsync] });
const base = `http://127.0.0.1:${node.httpPort}`;
try {
  for (const t of ["hb", "sse"]) {
    const r = await fetch(`${base}/v1/topics`, {
      method: "POST",
      body: JSON.stringify({ name: t, partitions: 1 }),
    });
    await r.body?.cancel();
  }
  // --- produce: 100 records per request.
  const value = "x".repeat(100);
  const body = JSON.stringify({
    encoding: "text",
    records: Array.from({ length: 100 }, () => ({ value })),
  });
  const lat: number[] = [];
  let records = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    // Bounded by the deadline.
    while (performance.now() < end) {
      const t0 = performance.now();
      const r = await fetch(`${base}/v1/topics/hb/records?acks=1`, { method: "POST", body });
      await r.body?.cancel();
      if (r.status !== 200) throw new Error(`produce failed: ${r.status}`);
      lat.push(performance.now() - t0);
      records += 100;
    }
  }));
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({
    bench: "http_produce",
    fsync,
    clients,
    records_per_request: 100,
    value_bytes: 100,
    seconds,
    records_per_s: Math.round(records / seconds),
    requests: lat.length,
    latency_ms_p50: round(pct(lat, 50)),
    latency_ms_p99: round(pct(lat, 99)),
  }));

  // --- SSE fan-out.
  const sent = new Map<number, number>(); // offset -> time its produce request was sent
  const receipts: Array<[number, number]> = []; // (offset, time a stream received it)
  const delays: number[] = [];
  let delivered = 0;
  const controller = new AbortController();
  const ready: Promise<void>[] = [];
  const cancels: Array<() => Promise<void>> = [];
  const readers = Array.from({ length: streams }, () => {
    let markReady = () => {};
    ready.push(new Promise<void>((r) => (markReady = r)));
    return (async () => {
      const res = await fetch(`${base}/v1/topics/sse/partitions/0/stream?offset=0`, {
        signal: controller.signal,
      });
      markReady();
      const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream())
        .getReader();
      let buf = "";
      try {
        for (;;) {
          const { value: chunk, done } = await reader.read();
          if (done) return;
          buf += chunk;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const m = /^id: (\d+)$/m.exec(ev);
            if (!m) continue;
            delivered++;
            receipts.push([Number(m[1]), performance.now()]);
          }
        }
      } catch {
        // Aborted at the end of the run: the stream is over.
      }
    })();
  });
  await Promise.all(ready);
  const batches = 50, perBatch = 20;
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const sentAt = performance.now();
    const res = await fetch(`${base}/v1/topics/sse/records?acks=1`, {
      method: "POST",
      body: JSON.stringify({
        encoding: "text",
        records: Array.from({ length: perBatch }, () => ({ value })),
      }),
    });
    const out = await res.json() as { offsets: Array<{ offset: number }> };
    for (const o of out.offsets) sent.set(o.offset, sentAt);
  }
  const expected = batches * perBatch * streams;
  const deadline = performance.now() + 30_000;
  // Bounded wait for the deliveries to finish.
  while (delivered < expected && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsed = (performance.now() - t0) / 1000;
  // Matched after the run: an event may arrive before its produce response is read.
  for (const [offset, at] of receipts) {
    const from = sent.get(offset);
    if (from !== undefined) delays.push(at - from);
  }
  delays.sort((a, b) => a - b);
  console.log(JSON.stringify({
    bench: "http_sse_fanout",
    fsync,
    streams,
    records: batches * perBatch,
    delivered,
    expected,
    deliveries_per_s: Math.round(delivered / elapsed),
    delivery_latency_ms_p50: round(pct(delays, 50)),
    delivery_latency_ms_p99: round(pct(delays, 99)),
  }));
  // Close the streams; a reader blocked in read() is released by cancel, bounded by a timer.
  controller.abort();
  await Promise.race([
    Promise.all(cancels.map((c) => c())).then(() => Promise.allSettled(readers)),
    new Promise((r) => setTimeout(r, 2000)),
  ]);
} finally {
  await node.stop();
}
