/**
 * Kafka data-path load generator against a real `main.ts serve` child process (temporary data
 * directory, port 0, stopped by PID at the end). It speaks the Kafka protocol with pre-built
 * batches (`buildBatch`, 100-byte record values) and pre-encoded request frames, so the
 * client spends almost nothing per request; several requests are in flight per connection
 * (Kafka answers a connection's requests in order).
 *
 * Scenarios, one JSON line each with its parameters:
 * - produce throughput, acks=1, 1 and 8 partitions, fsync=never and always (records/s, MB/s,
 *   latency p50/p99/p999 under saturation);
 * - produce latency at a fixed rate (default 50,000 records/s, open loop);
 * - consume: fetch throughput over the whole log, fetch latency of data in the page cache,
 *   and end-to-end latency produce → fetch at a fixed rate;
 * - `kcat -P` producing a file of 100-byte lines (when kcat is on PATH).
 *
 * Every phase is bounded in time; the whole run ends within about two minutes.
 * Usage: deno run --allow-all bench/kafka_produce_bench.ts [--quick] [--only NAME]
 */
import { cpuMs, rssMiB } from "./_proc.ts";
import { buildBatch, iterateBatches } from "../src/records/mod.ts";
import { decodeResponseFrame, encodeRequest } from "../src/kafka/protocol/mod.ts";
import { type PyralogProcess, startPyralog } from "../tests/helpers/pyralog_process.ts";
import { WireClient } from "../tests/clients/wire_client.ts";
import { fetchRaw, PRODUCE_VERSION, runCommand } from "../tests/clients/kafka_ops.ts";

const VALUE_BYTES = 100;
const QUICK = Deno.args.includes("--quick");
const ONLY = (() => {
  const i = Deno.args.indexOf("--only");
  return i >= 0 ? Deno.args[i + 1] ?? "" : "";
})();
/** Length of a measured throughput phase, after a warm-up of a fifth of it (run_all passes
 * --duration-ms=N). */
const PHASE_MS = (() => {
  const arg = Deno.args.find((a) => a.startsWith("--duration-ms="));
  const ms = arg ? Number(arg.slice("--duration-ms=".length)) : NaN;
  if (Number.isFinite(ms) && ms >= 200) return Math.min(ms, 10_000);
  return QUICK ? 1500 : 4000;
})();
/** Upper bound on recorded latency samples per phase (memory bound). */
const SAMPLES_MAX = 1_000_000;

/** One benchmark result line. */
type Line = Record<string, string | number | boolean>;

/**
 * Runs a scenario and adds the broker's CPU time to its line: total, and per request when
 * the line counts requests (robust to other load on the machine, unlike latency).
 */
async function withCpu(node: PyralogProcess, run: () => Promise<Line>): Promise<Line> {
  const before = cpuMs(node.pid);
  const line = await run();
  const after = cpuMs(node.pid);
  if (before === null || after === null) return line;
  const requests = typeof line.requests === "number" ? line.requests : 0;
  const rss = rssMiB(node.pid);
  return {
    ...line,
    ...(rss === null ? {} : { brokerRssMiB: rss.now, brokerPeakRssMiB: rss.peak }),
    brokerCpuMs: after - before,
    ...(requests > 0
      ? { brokerCpuUsPerRequest: Math.round((after - before) * 1000 / requests) }
      : {}),
  };
}

function emit(line: Line): void {
  console.log(JSON.stringify({ bench: "kafka", ...line }));
}

/** Latency samples in microseconds with percentile summaries. */
class Samples {
  readonly #v = new Float64Array(SAMPLES_MAX);
  #n = 0;
  add(us: number): void {
    if (this.#n < SAMPLES_MAX) this.#v[this.#n++] = us;
  }
  get count(): number {
    return this.#n;
  }
  summary(prefix: string): Line {
    const s = this.#v.slice(0, this.#n).sort();
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      [`${prefix}P50Ms`]: ms(at(0.5)),
      [`${prefix}P99Ms`]: ms(at(0.99)),
      [`${prefix}P999Ms`]: ms(at(0.999)),
      [`${prefix}MaxMs`]: ms(s[s.length - 1] ?? 0),
      [`${prefix}Samples`]: this.#n,
    };
  }
}

const nowUs = () => performance.now() * 1000;

/** A value of VALUE_BYTES bytes that does not compress to nothing (not that it matters: none). */
function valueBytes(seed: number): Uint8Array {
  return Uint8Array.from({ length: VALUE_BYTES }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

/** One batch of `n` records with 100-byte values. */
function batchOf(n: number, tsMs = Date.now()): Uint8Array {
  return buildBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: valueBytes(i), timestampMs: tsMs })),
  });
}

/** Where a Produce request writes: a topic and its partitions. */
type Targets = Array<{ topic: string; partitions: number[] }>;

/** A Produce frame carrying one batch of `perBatch` records to each target partition. */
function produceFrame(targets: Targets, perBatch: number, acks: number) {
  const batch = batchOf(perBatch);
  const frame = encodeRequest("Produce", PRODUCE_VERSION, { correlationId: 1, clientId: "bench" }, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: targets.map((t) => ({
      name: t.topic,
      partitionData: t.partitions.map((index) => ({ index, records: batch })),
    })),
  });
  const n = targets.reduce((a, t) => a + t.partitions.length, 0);
  return { frame, records: perBatch * n, bytes: batch.length * n };
}

/** Throws unless every partition of a Produce response succeeded. */
function checkProduce(frame: Uint8Array | null): void {
  if (frame === null) throw new Error("The broker closed a producer connection");
  const r = decodeResponseFrame("Produce", PRODUCE_VERSION, frame).body;
  for (const t of r.responses) {
    for (const p of t.partitionResponses) {
      if (p.errorCode !== 0) throw new Error(`Produce failed with error ${p.errorCode}`);
    }
  }
}

/**
 * `partitions` partitions to write: one topic made with CreateTopics when the broker serves
 * it, else as many one-partition topics (auto-created), which load the broker the same way.
 */
async function targetsFor(node: PyralogProcess, topic: string, partitions: number) {
  if (partitions === 1) return { targets: [{ topic, partitions: [0] }], via: "auto" };
  const c = await WireClient.connect("127.0.0.1", node.kafkaPort);
  try {
    const versions = await c.request("ApiVersions", 0, {});
    if (versions?.apiKeys.some((k) => k.apiKey === CREATE_TOPICS_KEY)) {
      const r = await c.request("CreateTopics", 4, {
        topics: [{
          name: topic,
          numPartitions: partitions,
          replicationFactor: 1,
          assignments: [],
          configs: [],
        }],
        timeoutMs: 10_000,
        validateOnly: false,
      });
      const code = r?.topics[0]?.errorCode ?? -1;
      if (code !== 0) throw new Error(`CreateTopics "${topic}" failed: ${code}`);
      const all = Array.from({ length: partitions }, (_, i) => i);
      return { targets: [{ topic, partitions: all }], via: "CreateTopics" };
    }
  } finally {
    await c.close();
  }
  const targets = Array.from({ length: partitions }, (_, i) => ({
    topic: `${topic}-${i}`,
    partitions: [0],
  }));
  return { targets, via: "one topic per partition" };
}

const CREATE_TOPICS_KEY = 19;

interface ThroughputOptions {
  partitions: number;
  fsync: "never" | "always";
  connections: number;
  inflight: number;
  perBatch: number;
}

/** Saturates the broker for PHASE_MS with pipelined produce requests. */
async function produceThroughput(node: PyralogProcess, o: ThroughputOptions): Promise<Line> {
  const topic = `tp-${o.partitions}-${o.fsync}`;
  const { targets, via } = await targetsFor(node, topic, o.partitions);
  const { frame, records, bytes } = produceFrame(targets, o.perBatch, 1);
  const clients = await Promise.all(
    Array.from({ length: o.connections }, () => WireClient.connect("127.0.0.1", node.kafkaPort)),
  );
  const lat = new Samples();
  const warmEnd = performance.now() + PHASE_MS / 5;
  const end = warmEnd + PHASE_MS;
  let measuredRequests = 0;
  let requests = 0;
  let measureStart = 0;
  let measureEnd = 0;
  const run = async (c: WireClient) => {
    const window: Array<Promise<void>> = [];
    const sendOne = async () => {
      const t0 = nowUs();
      const answer = c.nextFrame();
      await c.send(frame);
      checkProduce(await answer);
      requests++;
      const t1 = performance.now();
      if (t0 / 1000 >= warmEnd && t1 <= end) {
        measuredRequests++;
        lat.add(t1 * 1000 - t0);
      }
    };
    // Bounded by the phase end; at most `inflight` requests outstanding.
    while (performance.now() < end) {
      while (window.length < o.inflight) window.push(sendOne());
      await window.shift();
    }
    await Promise.all(window);
  };
  await new Promise((r) => setTimeout(r, 0));
  const started = performance.now();
  measureStart = Math.max(started, warmEnd);
  await Promise.all(clients.map(run));
  measureEnd = end;
  await Promise.all(clients.map((c) => c.close()));
  const seconds = (measureEnd - measureStart) / 1000;
  return {
    scenario: "produce_throughput",
    acks: 1,
    partitions: o.partitions,
    partitionsVia: via,
    fsync: o.fsync,
    connections: o.connections,
    inflightPerConnection: o.inflight,
    recordsPerBatch: o.perBatch,
    valueBytes: VALUE_BYTES,
    recordsPerSec: Math.round(measuredRequests * records / seconds),
    mbPerSec: Math.round(measuredRequests * bytes / seconds / 1e4) / 100,
    requests,
    ...lat.summary("latency"),
  };
}

/**
 * Open-loop produce at `rate` records/s in batches of `perBatch` on one connection: requests
 * leave on schedule whether or not earlier ones were answered. "latency" counts from the
 * actual send; "latencyFromSchedule" from the scheduled time, so it adds the client's own
 * timer lateness (the client sleeps on timers and never spins: a spinning client delays
 * the handling of responses that arrive meanwhile and inflates what it measures).
 */
async function produceAtRate(
  node: PyralogProcess,
  rate: number,
  perBatch: number,
  fsync: string,
): Promise<Line> {
  const topic = `rate-${fsync}`;
  const { frame } = produceFrame([{ topic, partitions: [0] }], perBatch, 1);
  const c = await WireClient.connect("127.0.0.1", node.kafkaPort);
  const lat = new Samples();
  const fromSchedule = new Samples();
  const intervalMs = perBatch / rate * 1000;
  const total = Math.round(PHASE_MS * 1.5 / intervalMs);
  const warm = Math.round(total / 6);
  const pending: Array<Promise<void>> = [];
  const start = performance.now() + 5;
  let late = 0;
  // Bounded: `total` requests, each sent once at its scheduled time.
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (performance.now() - due > intervalMs) late++;
    const answer = c.nextFrame();
    const sentUs = nowUs();
    const sent = c.send(frame);
    pending.push((async () => {
      await sent;
      checkProduce(await answer);
      const doneUs = nowUs();
      if (i >= warm) {
        lat.add(doneUs - sentUs);
        fromSchedule.add(doneUs - due * 1000);
      }
    })());
    if (pending.length > 10_000) await pending.shift();
  }
  await Promise.all(pending);
  await c.close();
  return {
    scenario: "produce_latency_at_rate",
    acks: 1,
    partitions: 1,
    fsync,
    targetRecordsPerSec: rate,
    recordsPerBatch: perBatch,
    valueBytes: VALUE_BYTES,
    requestsLateOverOneInterval: late,
    requests: total,
    ...lat.summary("latency"),
    ...fromSchedule.summary("latencyFromSchedule"),
  };
}

/** Reads a whole partition with sequential fetches of `maxBytes`; records/s and MB/s. */
async function fetchThroughput(node: PyralogProcess, topic: string, maxBytes: number) {
  const c = await WireClient.connect("127.0.0.1", node.kafkaPort);
  let offset = 0;
  let records = 0;
  let bytes = 0;
  const lat = new Samples();
  const t0 = performance.now();
  const deadline = t0 + PHASE_MS * 2;
  // Bounded by the deadline and by the log end.
  while (performance.now() < deadline) {
    const s = nowUs();
    const f = await fetchRaw(c, topic, 0, offset, { maxBytes });
    lat.add(nowUs() - s);
    if (f.errorCode !== 0) throw new Error(`Fetch failed with error ${f.errorCode}`);
    if (f.records.length === 0) break;
    bytes += f.records.length;
    for (const b of iterateBatches(f.records)) {
      records += b.header.recordCount;
      offset = b.header.baseOffset + b.header.lastOffsetDelta + 1;
    }
    if (offset >= Number(f.highWatermark)) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  await c.close();
  return {
    scenario: "fetch_throughput",
    fetchMaxBytes: maxBytes,
    records,
    requests: lat.count,
    recordsPerSec: Math.round(records / seconds),
    mbPerSec: Math.round(bytes / seconds / 1e4) / 100,
    ...lat.summary("fetchLatency"),
  };
}

/** Fetch latency of cached data: one request at a time, `fetches` random offsets. */
async function fetchLatency(
  node: PyralogProcess,
  topic: string,
  logEnd: number,
  maxBytes: number,
): Promise<Line> {
  const c = await WireClient.connect("127.0.0.1", node.kafkaPort);
  const lat = new Samples();
  let x = 12345;
  const deadline = performance.now() + PHASE_MS;
  let returned = 0;
  // Bounded by the deadline; a fixed-seed LCG picks offsets (replayable).
  for (let i = 0; performance.now() < deadline; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const offset = x % Math.max(1, logEnd);
    const s = nowUs();
    const f = await fetchRaw(c, topic, 0, offset, { maxBytes });
    const us = nowUs() - s;
    if (i >= 100) lat.add(us); // the first ones warm up the JIT and the page cache
    returned += f.records.length;
  }
  await c.close();
  return {
    scenario: "fetch_latency_cached",
    fetchMaxBytes: maxBytes,
    avgResponseBytes: Math.round(returned / Math.max(1, lat.count)),
    requests: lat.count + 100,
    ...lat.summary("latency"),
  };
}

/**
 * End to end: a producer at `rate` records/s and a consumer long-polling the tail; latency is
 * from a batch's send to the moment its fetch response arrives (batch i starts at offset
 * i × perBatch: one producer, one partition).
 */
async function endToEnd(node: PyralogProcess, rate: number, perBatch: number): Promise<Line> {
  const topic = "e2e";
  const producer = await WireClient.connect("127.0.0.1", node.kafkaPort);
  const consumer = await WireClient.connect("127.0.0.1", node.kafkaPort);
  const intervalMs = perBatch / rate * 1000;
  const total = Math.round(PHASE_MS / intervalMs);
  const sentAt = new Float64Array(total);
  const lat = new Samples();
  const { frame } = produceFrame([{ topic, partitions: [0] }], perBatch, 1);
  // Create the topic before the consumer starts.
  checkProduce(
    await (async () => {
      const a = producer.nextFrame();
      await producer.send(frame);
      return await a;
    })(),
  );
  const base = perBatch;
  let stop = false;
  const consume = (async () => {
    let offset = base;
    // Bounded: ends when every batch was seen or the producer gave up.
    while (!stop || offset < base + total * perBatch) {
      const f = await fetchRaw(consumer, topic, 0, offset, { maxWaitMs: 500, minBytes: 1 });
      const now = performance.now();
      if (f.records.length === 0 && stop) break;
      for (const b of iterateBatches(f.records)) {
        const i = (b.header.baseOffset - base) / perBatch;
        const t = sentAt[i];
        if (t !== undefined && t > 0) lat.add((now - t) * 1000);
        offset = b.header.baseOffset + b.header.lastOffsetDelta + 1;
      }
    }
  })();
  const pending: Array<Promise<void>> = [];
  const start = performance.now() + 5;
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt[i] = performance.now();
    const answer = producer.nextFrame();
    const sent = producer.send(frame);
    pending.push((async () => {
      await sent;
      checkProduce(await answer);
    })());
  }
  await Promise.all(pending);
  stop = true;
  await consume;
  await producer.close();
  await consumer.close();
  return {
    scenario: "end_to_end_latency",
    targetRecordsPerSec: rate,
    recordsPerBatch: perBatch,
    ...lat.summary("latency"),
  };
}

/** Times `kcat -P` sending `n` 100-byte lines from a file. */
async function kcatProduce(node: PyralogProcess, n: number): Promise<Line | null> {
  const file = await Deno.makeTempFile({ prefix: "pyralog-kcat-", suffix: ".txt" });
  try {
    const line = "x".repeat(VALUE_BYTES - 1) + "\n";
    await Deno.writeTextFile(file, line.repeat(n));
    const args = ["-P", "-b", node.bootstrap, "-t", "kcat-bench", "-l", file];
    const tuned = [
      "-X",
      "linger.ms=5",
      "-X",
      "batch.num.messages=10000",
      "-X",
      "queue.buffering.max.messages=1000000",
    ];
    const t0 = performance.now();
    const r = await runCommand("kcat", [...args, ...tuned], { timeoutMs: 120_000 });
    const seconds = (performance.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(`kcat failed: ${r.stderr}`);
    return {
      scenario: "kcat_produce",
      records: n,
      valueBytes: VALUE_BYTES,
      kcatArgs: tuned.join(" "),
      seconds: Math.round(seconds * 1000) / 1000,
      recordsPerSec: Math.round(n / seconds),
      mbPerSec: Math.round(n * VALUE_BYTES / seconds / 1e4) / 100,
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null; // no kcat on this machine
    throw err;
  } finally {
    await Deno.remove(file);
  }
}

/**
 * Runs `fn` against a fresh broker with `fsync`, or against the one at
 * PYRALOG_BENCH_BOOTSTRAP=host:port (for profiling a broker started by hand, e.g. with
 * `deno run --cpu-prof`; its fsync policy is then whatever it was started with).
 */
async function withNode<T>(fsync: string, fn: (n: PyralogProcess) => Promise<T>): Promise<T> {
  const external = Deno.env.get("PYRALOG_BENCH_BOOTSTRAP");
  if (external) {
    const port = Number(external.split(":")[1]);
    return await fn({
      pid: 0,
      dataDir: "",
      kafkaPort: port,
      httpPort: 0,
      bootstrap: external,
      stderr: () => "",
      stop: () => Promise.resolve(0),
    });
  }
  const node = await startPyralog({ args: ["--fsync", fsync] });
  try {
    return await fn(node);
  } finally {
    await node.stop();
  }
}

/** Partition counts of the produce throughput phases (PYRALOG_BENCH_PARTITIONS=8 narrows). */
const PARTITION_COUNTS = (Deno.env.get("PYRALOG_BENCH_PARTITIONS") ?? "1,8").split(",").map(Number);

const want = (name: string) => ONLY === "" || ONLY === name;

if (import.meta.main) {
  const connections = 4;
  const inflight = 4;
  const perBatch = 1000;
  for (const fsync of ["never", "always"] as const) {
    if (!want("produce")) break;
    await withNode(fsync, async (node) => {
      for (const partitions of PARTITION_COUNTS) {
        emit(
          await withCpu(node, () =>
            produceThroughput(node, {
              partitions,
              fsync,
              connections,
              inflight,
              perBatch: partitions === 1 ? perBatch : perBatch / 4,
            })),
        );
      }
    });
  }
  if (want("rate")) {
    for (const fsync of ["never", "always"]) {
      await withNode(
        fsync,
        async (node) => emit(await withCpu(node, () => produceAtRate(node, 50_000, 100, fsync))),
      );
    }
  }
  if (want("consume")) {
    await withNode("never", async (node) => {
      // Fill a partition (about 100 MB), then read it back.
      const fill = await produceThroughput(node, {
        partitions: 1,
        fsync: "never",
        connections: 2,
        inflight: 4,
        perBatch,
      });
      const c = await WireClient.connect("127.0.0.1", node.kafkaPort);
      const end = Number((await fetchRaw(c, "tp-1-never", 0, 0, { maxBytes: 1 })).highWatermark);
      await c.close();
      emit({ ...fill, scenario: "consume_fill" });
      emit(await withCpu(node, () => fetchThroughput(node, "tp-1-never", 1024 * 1024)));
      emit(await withCpu(node, () => fetchLatency(node, "tp-1-never", end, 1024 * 1024)));
      // End to end at 50,000 records/s leaves 100-record (11 KB) batches in "e2e", which
      // the cached fetch latency then reads 64 KiB at a time, as a consumer at the tail would.
      emit(await endToEnd(node, 50_000, 100));
      emit(
        await withCpu(node, () => fetchLatency(node, "e2e", 50_000 * PHASE_MS / 1000, 64 * 1024)),
      );
    });
  }
  if (want("kcat")) {
    await withNode("never", async (node) => {
      const line = await kcatProduce(node, QUICK ? 200_000 : 1_000_000);
      if (line) emit(line);
    });
  }
}
