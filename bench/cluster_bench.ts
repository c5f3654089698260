/**
 * Replicated data path of a three-node cluster on one machine: real `main.ts serve --peers`
 * processes on loopback (tests/helpers/cluster_process.ts: temporary directories, every
 * process stopped by PID through `close`), fsync=always (the default), topics with
 * replication factor 3 made with CreateTopics, 100-byte record values, acks=all. Every
 * producer speaks through `src/kafka/client` (`KafkaClient` for metadata and topics,
 * `BrokerConnection` for pipelined Produce requests to each partition's leader); a produce
 * answered NOT_LEADER_OR_FOLLOWER (or a dropped connection) refreshes metadata from any live
 * node and is sent again, as a Kafka client does.
 *
 * Scenarios, one JSON line each with its parameters (`--only=NAME` runs one):
 * - `throughput`: saturating batched producers (1,000-record batches, several requests in
 *   flight per connection), 1 and 3 partitions, without and with `--write-caching` (two
 *   separate clusters); records/s and MB/s, the median of several runs, plus the CPU time
 *   of every node and of this client (the machine's cores are shared by all four);
 * - `latency`: open-loop produce at a fixed rate (50,000 records/s in 100-record batches,
 *   spread over RATE_CONNECTIONS connections): latency p50/p99/p999 from each request's
 *   send, with and without write caching;
 * - `lag`: while producing at a fixed rate, each follower's replica log end offset against
 *   the leader's (GET /v1/topics/T on each node), the offset gap converted to time with the
 *   achieved production rate. The HTTP sampling takes time itself, so the leader is read
 *   just before and just after the follower: the gap against the earlier leader reading is
 *   a lower bound of the true gap, against the later one an upper bound; both are reported,
 *   with the raw offset gaps and the sampling span;
 * - `failover`: a steady acks=all producer while the partition's leader gets SIGKILL; the
 *   time from the kill to the first write acknowledged by the new leader, over several
 *   rounds (the killed node is restarted and rejoins, and leadership settles, in between);
 * - `startup`: from spawning three fresh nodes to every node answering /readyz 200 (it knows
 *   the controller, is registered and unfenced), over several clusters; the median and each.
 *
 * Also printed: one `setup` line, and a `topic_ready` line per topic (time until Metadata
 * shows a full ISR, and until its leader first acknowledges a write). Every line carries the
 * machine's load average, as other processes may compete with the nodes for its cores.
 * Topics are measured once their leader is the preferred replica (the nodes move
 * leadership there a few seconds after creation or a restart).
 *
 * Every phase is bounded in time; a full run takes about four minutes. Usage:
 *   deno run --allow-all bench/cluster_bench.ts [--quick]
 *     [--only=throughput|latency|lag|failover|startup]
 */
import { cpuMs, rssMiB } from "./_proc.ts";
import { buildBatch } from "../src/records/mod.ts";
import { BrokerConnection, KafkaClient } from "../src/kafka/client/mod.ts";
import { ERROR_CODES } from "../src/kafka/protocol/mod.ts";
import {
  type ClusterNode,
  type PyralogCluster,
  startCluster,
} from "../tests/helpers/cluster_process.ts";

const VALUE_BYTES = 100;
const NODES = 3;
const REPLICATION_FACTOR = 3;
const QUICK = Deno.args.includes("--quick");
const ONLY = (() => {
  const eq = Deno.args.find((a) => a.startsWith("--only="));
  if (eq !== undefined) return eq.slice("--only=".length);
  const i = Deno.args.indexOf("--only");
  return i >= 0 ? Deno.args[i + 1] ?? "" : "";
})();
/** PYRALOG_BENCH_DEBUG=1 logs every leader lookup to stderr. */
const DEBUG = Deno.env.get("PYRALOG_BENCH_DEBUG") === "1";
const SCENARIOS = ["throughput", "latency", "lag", "failover", "startup"];
/** Length of a measured throughput phase; a warm-up of a fifth of it comes first. */
const PHASE_MS = QUICK ? 1500 : 4000;
/** Throughput runs per configuration (the line reports their median). */
const RUNS = QUICK ? 1 : 5;
/** Fresh clusters started by the startup scenario. */
const STARTUP_RUNS = QUICK ? 2 : 5;
/** Failover rounds (kill the leader, measure, restart, settle). */
const FAILOVER_ROUNDS = QUICK ? 2 : 5;
/** The fixed rate of the latency and lag phases, and its batch size. */
const RATE_RECORDS_PER_SEC = 50_000;
const RATE_RECORDS_PER_BATCH = 100;
/**
 * Connections the fixed-rate producer spreads its requests over. The broker handles one
 * request per connection at a time (as Kafka does), so one connection caps acks=all at one
 * request per commit round trip (about 200 requests/s without write caching here): 500
 * requests/s on one connection would measure a growing queue, not latency.
 */
const RATE_CONNECTIONS = 8;
/** Pause between two lag samples (each sample is three HTTP reads per follower). */
const LAG_SAMPLE_INTERVAL_MS = 20;
/** The failover producer's pace (one batch per interval, one request at a time). */
const FAILOVER_INTERVAL_MS = 5;
const FAILOVER_RECORDS_PER_BATCH = 100;
/** Wait after a failed produce before refreshing metadata and retrying. */
const RETRY_BACKOFF_MS = 10;
/** Bound on one failover round's wait for an acknowledgement from a new leader. */
const FAILOVER_LIMIT_MS = 20_000;
/** Bounds on waits for readiness, leaders and a rejoined replica. */
const READY_LIMIT_MS = 60_000;
const SETTLE_LIMIT_MS = 60_000;
const POLL_MS = 50;
/** The nodes' preferred-leader delay (replica_manager.ts) and how long `settle` waits for it. */
const PREFERRED_LEADER_DELAY_MS = 5_000;
const PREFERRED_LEADER_WAIT_MS = PREFERRED_LEADER_DELAY_MS + 5_000;
/** Server-side Produce timeout (the request's own bound is 5 s more). */
const PRODUCE_TIMEOUT_MS = 10_000;
/** Bounds of the client's connections: failures must surface fast during failover. */
const CONNECT_TIMEOUT_MS = 2_000;
const HTTP_TIMEOUT_MS = 2_000;
/** Upper bound on recorded latency samples per phase (memory bound). */
const SAMPLES_MAX = 1_000_000;

/** One benchmark result line. */
type Line = Record<string, string | number | boolean | number[] | null>;

/**
 * Prints one result line with the machine's 1-minute load average: other processes on the
 * machine (test suites, say) compete with the nodes for its few cores.
 */
function emit(line: Line): void {
  console.log(JSON.stringify({ bench: "cluster", ...line, loadAverage1m: loadAverage() }));
}

/** The 1-minute load average from /proc/loadavg (Linux); null elsewhere. */
function loadAverage(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return null; // not Linux: the figure is left out
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] ?? 0 : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Samples (in ms) with percentile summaries. */
class Samples {
  readonly #v = new Float64Array(SAMPLES_MAX);
  #n = 0;
  add(ms: number): void {
    if (this.#n < SAMPLES_MAX) this.#v[this.#n++] = ms;
  }
  get count(): number {
    return this.#n;
  }
  summary(prefix: string, digits = 3): Line {
    const s = this.#v.slice(0, this.#n).sort();
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
    const r = (x: number) => Math.round(x * 10 ** digits) / 10 ** digits;
    return {
      [`${prefix}P50`]: r(at(0.5)),
      [`${prefix}P99`]: r(at(0.99)),
      [`${prefix}P999`]: r(at(0.999)),
      [`${prefix}Max`]: r(s[s.length - 1] ?? 0),
      [`${prefix}Samples`]: this.#n,
    };
  }
}

/** CPU time of every node and of this process, to diff around a phase. */
function cpuSnapshot(cluster: PyralogCluster): number[] {
  return [...cluster.nodes.map((n) => cpuMs(n.pid) ?? 0), cpuMs(Deno.pid) ?? 0];
}

/**
 * CPU use during a phase, per node and for this client, as a share of one core; and each
 * node's resident memory at the end of the phase and at its peak so far (MiB).
 */
function cpuLine(cluster: PyralogCluster, before: number[], after: number[], wallMs: number): Line {
  const share = after.map((a, i) => round3((a - (before[i] ?? 0)) / wallMs));
  const rss = cluster.nodes.map((n) => rssMiB(n.pid));
  return {
    nodeCpuCores: share.slice(0, NODES),
    clientCpuCores: share[NODES] ?? 0,
    machineCores: navigator.hardwareConcurrency,
    ...(rss.every((r) => r !== null)
      ? {
        nodeRssMiB: rss.map((r) => r?.now ?? 0),
        nodePeakRssMiB: rss.map((r) => r?.peak ?? 0),
      }
      : {}),
  };
}

/** A value of VALUE_BYTES bytes. */
function valueBytes(seed: number): Uint8Array {
  return Uint8Array.from({ length: VALUE_BYTES }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

/** One batch of `n` records with 100-byte values (built once, sent many times). */
function batchOf(n: number): Uint8Array {
  const tsMs = Date.now();
  return buildBatch({
    records: Array.from({ length: n }, (_, i) => ({ value: valueBytes(i), timestampMs: tsMs })),
  });
}

/** A partition's place in the cluster as Metadata describes it. */
interface PartitionPlace {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
  /** The leader's Kafka listener, when Metadata lists the leader. */
  address: { host: string; port: number } | null;
}

/**
 * Metadata from any live node: one `KafkaClient` per node (bootstrapped at that node) and
 * the first that answers wins, so a killed node only costs a refused connection.
 */
class Directory {
  readonly #cluster: PyralogCluster;
  readonly #clients = new Map<number, KafkaClient>();

  constructor(cluster: PyralogCluster) {
    this.#cluster = cluster;
  }

  /** Any live node's client (for admin calls). */
  async anyClient(): Promise<KafkaClient> {
    for (const node of this.#cluster.nodes) {
      const c = await this.#client(node);
      if (c !== null) return c;
    }
    throw new Error("Cannot reach any node of the cluster");
  }

  /**
   * Partitions of `topic` as the first answering node sees them.
   * @throws when no node answers.
   */
  async places(topic: string): Promise<PartitionPlace[]> {
    let last: unknown = null;
    for (const node of this.#cluster.nodes) {
      const c = await this.#client(node);
      if (c === null) continue;
      try {
        const md = await c.metadata([topic]);
        const t = md.topics.find((x) => x.name === topic);
        if (t === undefined || t.errorCode !== 0) return [];
        return t.partitions.map((p) => {
          const b = md.brokers.find((x) => x.nodeId === p.leader);
          return {
            partition: p.partition,
            leader: p.leader,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicas,
            isr: p.isr,
            address: b === undefined ? null : { host: b.host, port: b.port },
          };
        });
      } catch (err) {
        // This node died or closed the connection: ask the next one.
        last = err;
        this.#clients.delete(node.id);
        await c.close().catch(() => {/* already failed */});
      }
    }
    throw new Error(`Cannot read metadata of "${topic}": no node answered`, { cause: last });
  }

  async close(): Promise<void> {
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.close().catch(() => {/* already failed */})));
  }

  async #client(node: ClusterNode): Promise<KafkaClient | null> {
    if (!node.running) return null;
    const cached = this.#clients.get(node.id);
    if (cached !== undefined && !cached.bootstrap.isClosed) return cached;
    if (cached !== undefined) await cached.close().catch(() => {/* already failed */});
    this.#clients.delete(node.id);
    try {
      const c = await KafkaClient.connect({
        brokers: [{ host: node.host, port: node.kafkaPort }],
        clientId: "cluster-bench",
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        requestTimeoutMs: PRODUCE_TIMEOUT_MS,
      });
      this.#clients.set(node.id, c);
      return c;
    } catch {
      return null; // refused: the node is down or not yet listening
    }
  }
}

/**
 * Creates `topic` (replication factor 3) and waits until every partition has a leader and
 * all three replicas in sync.
 * @throws when creation fails or the partitions do not settle in time.
 */
async function createTopic(dir: Directory, topic: string, partitions: number) {
  const client = await dir.anyClient();
  const [r] = await client.createTopics([
    { name: topic, partitions, replicationFactor: REPLICATION_FACTOR },
  ]);
  if (r === undefined || r.errorCode !== 0) {
    throw new Error(`Cannot create topic "${topic}": error ${r?.errorCode} ${r?.errorMessage}`);
  }
  const t0 = performance.now();
  await settle(dir, topic, partitions);
  const settledMs = performance.now() - t0;
  // Metadata may name a leader before the partition's Raft group elected one (see the
  // report of issue #6's bench): wait until every partition's leader takes a write.
  for (let p = 0; p < partitions; p++) await probeLeader(dir, topic, p);
  emit({
    scenario: "topic_ready",
    topic,
    partitions,
    replicationFactor: REPLICATION_FACTOR,
    metadataFullIsrMs: Math.round(settledMs),
    firstAckedWriteMs: Math.round(performance.now() - t0),
  });
  return await settle(dir, topic, partitions);
}

/**
 * Produces one record to `topic`-`partition` until the leader acknowledges it; returns the
 * time that took.
 * @throws when no leader acknowledges within SETTLE_LIMIT_MS.
 */
async function probeLeader(dir: Directory, topic: string, partition: number): Promise<number> {
  const t0 = performance.now();
  const producer = new PartitionProducer(dir, topic, partition);
  const batch = batchOf(1);
  let last = "";
  try {
    // Bounded by SETTLE_LIMIT_MS.
    while (performance.now() - t0 < SETTLE_LIMIT_MS) {
      try {
        const r = await produceBatch(await producer.connection(), topic, partition, batch);
        if (r.errorCode === 0) return performance.now() - t0;
        last = `error ${r.errorCode}`;
      } catch (err) {
        // Not yet reachable or no leader yet: ask metadata again below.
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(POLL_MS);
      await producer.reroute().catch(() => {/* retried in the next round */});
    }
  } finally {
    await producer.close();
  }
  throw new Error(`No leader of "${topic}-${partition}" took a write: ${last}`);
}

/** Waits until every partition has a reachable leader and a full ISR; returns the places. */
async function settle(dir: Directory, topic: string, partitions: number) {
  const deadline = performance.now() + SETTLE_LIMIT_MS;
  // The nodes hand leadership to the preferred replica (the first listed) once it has been
  // in sync for PREFERRED_LEADER_DELAY_MS; waiting for that keeps the transfer out of the
  // measurements. It is waited for a bounded time only.
  const preferredDeadline = performance.now() + PREFERRED_LEADER_WAIT_MS;
  let last: PartitionPlace[] = [];
  // Bounded by SETTLE_LIMIT_MS.
  while (performance.now() < deadline) {
    last = await dir.places(topic).catch(() => []);
    const ok = last.length === partitions &&
      last.every((p) => p.leader >= 0 && p.address !== null && p.isr.length === REPLICATION_FACTOR);
    const preferred = last.every((p) => p.leader === p.replicas[0]);
    if (ok && (preferred || performance.now() > preferredDeadline)) return last;
    await sleep(POLL_MS);
  }
  throw new Error(`Topic "${topic}" did not settle: ${JSON.stringify(last)}`);
}

/** The outcome of one Produce of one batch. */
interface Acked {
  errorCode: number;
  baseOffset: number;
}

/** Produces `batch` to `topic`-`partition` with acks=all over `conn`. */
async function produceBatch(
  conn: BrokerConnection,
  topic: string,
  partition: number,
  batch: Uint8Array,
): Promise<Acked> {
  const { body } = await conn.request("Produce", {
    transactionalId: null,
    acks: -1,
    timeoutMs: PRODUCE_TIMEOUT_MS,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  }, { timeoutMs: PRODUCE_TIMEOUT_MS + 5_000 });
  const p = body.responses[0]?.partitionResponses[0];
  return { errorCode: p?.errorCode ?? -1, baseOffset: p ? Number(p.baseOffset) : -1 };
}

function connectTo(address: { host: string; port: number }): Promise<BrokerConnection> {
  return BrokerConnection.connect({
    ...address,
    clientId: "cluster-bench",
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    requestTimeoutMs: PRODUCE_TIMEOUT_MS + 5_000,
  });
}

/** A leader's connection for one partition, re-resolved through metadata on failure. */
class PartitionProducer {
  readonly #dir: Directory;
  readonly topic: string;
  readonly partition: number;
  #conn: BrokerConnection | null = null;
  /** Node id of the leader `#conn` goes to. */
  leader = -1;

  constructor(dir: Directory, topic: string, partition: number) {
    this.#dir = dir;
    this.topic = topic;
    this.partition = partition;
  }

  /** The connection to the current leader, resolving it first when needed. */
  async connection(): Promise<BrokerConnection> {
    if (this.#conn !== null && !this.#conn.isClosed) return this.#conn;
    await this.reroute();
    if (this.#conn === null) throw new Error(`No leader for "${this.topic}-${this.partition}"`);
    return this.#conn;
  }

  /** Drops the connection and asks metadata for the leader again. */
  async reroute(): Promise<void> {
    await this.#conn?.close();
    this.#conn = null;
    const place = (await this.#dir.places(this.topic)).find((p) => p.partition === this.partition);
    if (DEBUG) {
      console.error(
        `${Math.round(performance.now())} reroute ${this.topic}-${this.partition}: ` +
          JSON.stringify(place),
      );
    }
    if (place === undefined || place.leader < 0 || place.address === null) return;
    this.leader = place.leader;
    this.#conn = await connectTo(place.address);
  }

  async close(): Promise<void> {
    await this.#conn?.close();
    this.#conn = null;
  }
}

/** True for produce failures that fresh metadata may cure. */
function isRetriable(code: number): boolean {
  return code === ERROR_CODES.NOT_LEADER_OR_FOLLOWER ||
    code === ERROR_CODES.LEADER_NOT_AVAILABLE ||
    code === ERROR_CODES.REQUEST_TIMED_OUT ||
    code === ERROR_CODES.NOT_ENOUGH_REPLICAS ||
    code === ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION;
}

interface ThroughputOptions {
  topic: string;
  partitions: number;
  writeCaching: boolean;
  connectionsPerPartition: number;
  inflightPerConnection: number;
  recordsPerBatch: number;
}

/**
 * Saturates the leaders for PHASE_MS (after a warm-up of a fifth of it): every connection
 * keeps `inflightPerConnection` Produce requests outstanding. Counts what was acknowledged
 * inside the measured window.
 */
async function throughputRun(cluster: PyralogCluster, dir: Directory, o: ThroughputOptions) {
  const batch = batchOf(o.recordsPerBatch);
  const producers: PartitionProducer[] = [];
  for (let p = 0; p < o.partitions; p++) {
    for (let c = 0; c < o.connectionsPerPartition; c++) {
      const producer = new PartitionProducer(dir, o.topic, p);
      await producer.connection();
      producers.push(producer);
    }
  }
  const warmEnd = performance.now() + PHASE_MS / 5;
  const end = warmEnd + PHASE_MS;
  let acked = 0;
  const errors = new ErrorTally();
  let cpuBefore: number[] | null = null;
  const sendOne = async (pr: PartitionProducer) => {
    const t0 = performance.now();
    let code: number;
    try {
      const r = await produceBatch(await pr.connection(), pr.topic, pr.partition, batch);
      if (r.errorCode === 0) {
        if (t0 >= warmEnd && performance.now() <= end) acked++;
        return;
      }
      if (!isRetriable(r.errorCode)) throw new Error(`Produce failed with error ${r.errorCode}`);
      code = r.errorCode;
      errors.add(`error ${code}`);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("Produce failed")) throw err;
      // A dropped connection: re-resolve the leader below, like NOT_LEADER_OR_FOLLOWER.
      errors.add(err instanceof Error ? err.message : String(err));
      code = ERROR_CODES.NETWORK_EXCEPTION;
    }
    await sleep(RETRY_BACKOFF_MS);
    const moved = code === ERROR_CODES.NOT_LEADER_OR_FOLLOWER ||
      code === ERROR_CODES.NETWORK_EXCEPTION;
    if (moved) await pr.reroute().catch(() => {/* retried by the next send */});
  };
  const run = async (pr: PartitionProducer) => {
    const window: Array<Promise<void>> = [];
    // Bounded by the phase end; at most `inflightPerConnection` requests outstanding.
    while (performance.now() < end) {
      if (cpuBefore === null && performance.now() >= warmEnd) cpuBefore = cpuSnapshot(cluster);
      while (window.length < o.inflightPerConnection) window.push(sendOne(pr));
      await window.shift();
    }
    await Promise.all(window);
  };
  await Promise.all(producers.map(run));
  const cpu = cpuLine(cluster, cpuBefore ?? cpuSnapshot(cluster), cpuSnapshot(cluster), PHASE_MS);
  await Promise.all(producers.map((p) => p.close()));
  const records = acked * o.recordsPerBatch;
  return {
    recordsPerSec: Math.round(records / (PHASE_MS / 1000)),
    mbPerSec: round1(acked * batch.length / (PHASE_MS / 1000) / 1e6),
    errors: errors.total,
    errorKinds: errors.kinds(),
    cpu,
    batchBytes: batch.length,
  };
}

/** Runs the throughput configuration RUNS times and emits the medians. */
async function throughput(cluster: PyralogCluster, dir: Directory, o: ThroughputOptions) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await throughputRun(cluster, dir, o));
  const recordsPerSec = runs.map((r) => r.recordsPerSec);
  const mid = runs.find((r) => r.recordsPerSec === median(recordsPerSec)) ?? runs[0];
  emit({
    scenario: "throughput",
    acks: "all",
    writeCaching: o.writeCaching,
    fsync: "always",
    replicationFactor: REPLICATION_FACTOR,
    partitions: o.partitions,
    connectionsPerPartition: o.connectionsPerPartition,
    inflightPerConnection: o.inflightPerConnection,
    recordsPerBatch: o.recordsPerBatch,
    valueBytes: VALUE_BYTES,
    batchBytes: mid?.batchBytes ?? 0,
    phaseMs: PHASE_MS,
    runs: RUNS,
    recordsPerSec: median(recordsPerSec),
    mbPerSec: median(runs.map((r) => r.mbPerSec)),
    recordsPerSecRuns: recordsPerSec,
    retriedErrors: runs.reduce((a, r) => a + r.errors, 0),
    retriedErrorKinds: runs.map((r) => r.errorKinds).join("; "),
    ...(mid?.cpu ?? {}),
  });
}

/** Counts of failed requests by kind (error code or exception message). */
class ErrorTally {
  readonly #counts = new Map<string, number>();
  total = 0;
  add(kind: string): void {
    this.total++;
    // Bounded: kinds beyond a few dozen are folded into one.
    const key = this.#counts.size < 32 || this.#counts.has(kind) ? kind : "other";
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }
  kinds(): string {
    return [...this.#counts].map(([k, n]) => `${n}× ${k}`).join(", ");
  }
}

/** What an open-loop producer achieved. */
interface OpenLoopResult {
  latency: Samples;
  sent: number;
  acked: number;
  errors: number;
  late: number;
  /** Records acknowledged per second over the whole run. */
  achievedRate: number;
}

/**
 * Open-loop produce at `rate` records/s in batches of `perBatch`, request i on connection
 * i mod RATE_CONNECTIONS: requests leave on schedule whether or not earlier ones were
 * answered (timers, never spinning: a spinning client would delay its own handling of the
 * answers). Latency counts from the actual send, after `warmupMs`.
 */
async function openLoop(
  producers: readonly PartitionProducer[],
  rate: number,
  perBatch: number,
  durationMs: number,
  warmupMs: number,
): Promise<OpenLoopResult> {
  const batch = batchOf(perBatch);
  const conns = await Promise.all(producers.map((p) => p.connection()));
  const latency = new Samples();
  const intervalMs = perBatch / rate * 1000;
  const total = Math.round(durationMs / intervalMs);
  const pending: Array<Promise<void>> = [];
  let acked = 0;
  let errors = 0;
  let late = 0;
  const start = performance.now() + 5;
  // Bounded: `total` requests, each sent once at its scheduled time.
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() - due > intervalMs) late++;
    const sentMs = performance.now();
    const conn = conns[i % conns.length];
    const producer = producers[i % producers.length];
    if (conn === undefined || producer === undefined) throw new Error("No producer connection");
    pending.push(
      produceBatch(conn, producer.topic, producer.partition, batch).then((r) => {
        if (r.errorCode !== 0) return void errors++;
        acked++;
        if (sentMs - start >= warmupMs) latency.add(performance.now() - sentMs);
      }),
    );
    if (pending.length > 10_000) await pending.shift();
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  return { latency, sent: total, acked, errors, late, achievedRate: acked * perBatch / seconds };
}

/** RATE_CONNECTIONS producers to partition 0 of `topic`. */
function rateProducers(dir: Directory, topic: string): PartitionProducer[] {
  return Array.from({ length: RATE_CONNECTIONS }, () => new PartitionProducer(dir, topic, 0));
}

/** The fixed-rate latency phase on a one-partition topic. */
async function latency(cluster: PyralogCluster, dir: Directory, writeCaching: boolean) {
  const topic = `latency-${writeCaching ? "wc" : "sync"}`;
  await createTopic(dir, topic, 1);
  const producers = rateProducers(dir, topic);
  const before = cpuSnapshot(cluster);
  const t0 = performance.now();
  const durationMs = PHASE_MS * 1.5;
  const r = await openLoop(
    producers,
    RATE_RECORDS_PER_SEC,
    RATE_RECORDS_PER_BATCH,
    durationMs,
    durationMs / 6,
  );
  const cpu = cpuLine(cluster, before, cpuSnapshot(cluster), performance.now() - t0);
  await Promise.all(producers.map((p) => p.close()));
  emit({
    scenario: "latency",
    acks: "all",
    writeCaching,
    fsync: "always",
    replicationFactor: REPLICATION_FACTOR,
    partitions: 1,
    targetRecordsPerSec: RATE_RECORDS_PER_SEC,
    achievedRecordsPerSec: Math.round(r.achievedRate),
    recordsPerBatch: RATE_RECORDS_PER_BATCH,
    connections: RATE_CONNECTIONS,
    valueBytes: VALUE_BYTES,
    requests: r.sent,
    errors: r.errors,
    requestsLateOverOneInterval: r.late,
    ...r.latency.summary("latencyMs"),
    ...cpu,
  });
}

/** One node's view of a partition's replica over HTTP, and how long the read took. */
interface ReplicaReading {
  logEndOffset: number;
  highWatermark: number;
  /** When the answer arrived (performance.now()). */
  atMs: number;
  tookMs: number;
}

/** GET /v1/topics/T on `node`: this node's replica log end offset of `partition`. */
async function readReplica(node: ClusterNode, topic: string, partition: number) {
  const t0 = performance.now();
  const res = await fetch(`http://${node.http}/v1/topics/${topic}`, {
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET /v1/topics/${topic} on node ${node.id} answered ${res.status}`);
  }
  const body = await res.json() as {
    partitions: Array<{ partition: number; log_end_offset: number; high_watermark: number }>;
  };
  const atMs = performance.now();
  const p = body.partitions.find((x) => x.partition === partition);
  if (p === undefined) throw new Error(`Node ${node.id} lists no partition ${partition}`);
  const reading: ReplicaReading = {
    logEndOffset: p.log_end_offset,
    highWatermark: p.high_watermark,
    atMs,
    tookMs: atMs - t0,
  };
  return reading;
}

/** Gap samples of one follower. */
class GapSamples {
  /** Offsets behind the leader read just before (lower bound) and just after (upper). */
  readonly lowOffsets = new Samples();
  readonly highOffsets = new Samples();
  /** Time to read leader, follower, leader again. */
  readonly spanMs = new Samples();
}

/**
 * Samples every follower against the leader until `stop()` says so: leader, follower,
 * leader again, back to back, every LAG_SAMPLE_INTERVAL_MS.
 */
async function sampleGaps(
  cluster: PyralogCluster,
  topic: string,
  leader: number,
  stop: () => boolean,
): Promise<Map<number, GapSamples>> {
  const followers = cluster.nodes.filter((n) => n.id !== leader);
  const gaps = new Map(followers.map((f) => [f.id, new GapSamples()]));
  const lead = cluster.node(leader);
  // Bounded by the producer's end (`stop`).
  while (!stop()) {
    for (const f of followers) {
      const before = await readReplica(lead, topic, 0);
      const mine = await readReplica(f, topic, 0);
      const after = await readReplica(lead, topic, 0);
      const g = gaps.get(f.id);
      g?.lowOffsets.add(Math.max(0, before.logEndOffset - mine.logEndOffset));
      g?.highOffsets.add(Math.max(0, after.logEndOffset - mine.logEndOffset));
      g?.spanMs.add(after.atMs - (before.atMs - before.tookMs));
    }
    await sleep(LAG_SAMPLE_INTERVAL_MS);
  }
  return gaps;
}

/** The replication lag phase: a fixed-rate producer and the HTTP sampler side by side. */
async function lag(cluster: PyralogCluster, dir: Directory, writeCaching: boolean) {
  const topic = `lag-${writeCaching ? "wc" : "sync"}`;
  const [place] = await createTopic(dir, topic, 1);
  if (place === undefined) throw new Error(`Topic "${topic}" has no partition 0`);
  const producers = rateProducers(dir, topic);
  const [producer] = producers;
  if (producer === undefined) throw new Error("No producer");
  await producer.connection();
  const durationMs = PHASE_MS * 2;
  const warmupMs = durationMs / 8;
  let done = false;
  const producing = openLoop(
    producers,
    RATE_RECORDS_PER_SEC,
    RATE_RECORDS_PER_BATCH,
    durationMs,
    warmupMs,
  ).finally(() => (done = true));
  await sleep(warmupMs);
  const gaps = await sampleGaps(cluster, topic, producer.leader, () => done);
  const r = await producing;
  await Promise.all(producers.map((p) => p.close()));
  const rate = r.achievedRate;
  for (const [follower, g] of gaps) {
    const toMs = (s: Samples, name: string) => {
      const line = s.summary(name, 0);
      const out: Line = {};
      for (const [k, v] of Object.entries(line)) {
        if (k.endsWith("Samples")) continue;
        out[k.replace("Offsets", "Ms")] = typeof v === "number" ? round1(v / rate * 1000) : v;
      }
      return out;
    };
    emit({
      scenario: "replication_lag",
      acks: "all",
      writeCaching,
      fsync: "always",
      replicationFactor: REPLICATION_FACTOR,
      leader: producer.leader,
      follower,
      targetRecordsPerSec: RATE_RECORDS_PER_SEC,
      achievedRecordsPerSec: Math.round(rate),
      recordsPerBatch: RATE_RECORDS_PER_BATCH,
      connections: RATE_CONNECTIONS,
      samples: g.lowOffsets.count,
      method: "GET /v1/topics/T: leader, follower, leader again; " +
        "gap vs the earlier leader reading is a lower bound, vs the later one an upper bound; " +
        "ms = offsets / achieved rate",
      ...toMs(g.lowOffsets, "lagLowOffsets"),
      ...toMs(g.highOffsets, "lagHighOffsets"),
      ...g.lowOffsets.summary("gapLowOffsets", 0),
      ...g.highOffsets.summary("gapHighOffsets", 0),
      ...g.spanMs.summary("samplingSpanMs", 2),
      producerErrors: r.errors,
    });
  }
}

/** What the steady producer saw around one kill. */
interface FailoverRound {
  oldLeader: number;
  newLeader: number;
  /** Kill (before the signal) → first acknowledgement from another node. */
  failoverMs: number;
  /** Kill → first metadata answer naming a live new leader. */
  metadataMs: number;
  /** Failed attempts after the kill, and before it (a leadership change of its own). */
  failedAttempts: number;
  failedAttemptKinds: string;
  failedBeforeKill: number;
}

/**
 * One round: a steady producer (one batch every FAILOVER_INTERVAL_MS, one request at a
 * time, retried through fresh metadata on any failure) runs for a second, the leader gets
 * SIGKILL, and the round ends half a second after the first acknowledgement by a new leader.
 */
async function failoverRound(cluster: PyralogCluster, dir: Directory, topic: string) {
  const producer = new PartitionProducer(dir, topic, 0);
  await producer.connection();
  const batch = batchOf(FAILOVER_RECORDS_PER_BATCH);
  let oldLeader = producer.leader;
  let killAt = Infinity;
  let ackAt = Infinity;
  let metadataAt = Infinity;
  let newLeader = -1;
  const failed = new ErrorTally();
  let failedBeforeKill = 0;
  let stopAt = Infinity;
  const produce = async () => {
    const deadline = performance.now() + FAILOVER_LIMIT_MS + 2_000;
    // Bounded by the deadline; ends half a second after the new leader's first ack.
    while (performance.now() < Math.min(stopAt, deadline)) {
      const next = performance.now() + FAILOVER_INTERVAL_MS;
      try {
        const r = await produceBatch(await producer.connection(), topic, 0, batch);
        if (r.errorCode !== 0 && !isRetriable(r.errorCode)) {
          throw new Error(`Produce failed with error ${r.errorCode}`);
        }
        if (r.errorCode === 0) {
          if (producer.leader !== oldLeader && ackAt === Infinity && killAt < Infinity) {
            ackAt = performance.now();
            newLeader = producer.leader;
            stopAt = ackAt + 500;
          }
          await sleep(Math.max(0, next - performance.now()));
          continue;
        }
        if (killAt < Infinity) failed.add(`error ${r.errorCode}`);
        else failedBeforeKill++;
      } catch (err) {
        if (err instanceof Error && err.message.startsWith("Produce failed")) throw err;
        // Connection refused or dropped (the leader died): re-resolve below.
        if (killAt < Infinity) failed.add(err instanceof Error ? err.message : String(err));
        else failedBeforeKill++;
      }
      await sleep(RETRY_BACKOFF_MS);
      await producer.reroute().catch(() => {/* no node answered yet: try again */});
      if (producer.leader !== oldLeader && metadataAt === Infinity && killAt < Infinity) {
        metadataAt = performance.now();
      }
    }
  };
  const producing = produce();
  await sleep(1_000);
  // The leader the producer writes to now (normally the first one it found).
  oldLeader = producer.leader;
  killAt = performance.now();
  await cluster.kill(oldLeader);
  await producing;
  await producer.close();
  if (ackAt === Infinity) {
    throw new Error(`No new leader acknowledged within ${FAILOVER_LIMIT_MS} ms of the kill`);
  }
  const round: FailoverRound = {
    oldLeader,
    newLeader,
    failoverMs: round1(ackAt - killAt),
    metadataMs: round1(Math.min(metadataAt, ackAt) - killAt),
    failedAttempts: failed.total,
    failedAttemptKinds: failed.kinds().replace(/127\.0\.0\.1:\d+/g, "leader"),
    failedBeforeKill,
  };
  return round;
}

/** Restarts `id`, waits for readiness, a full ISR and a settled leader; times each step. */
async function rejoin(cluster: PyralogCluster, dir: Directory, topic: string, id: number) {
  const t0 = performance.now();
  await cluster.start(id);
  const startedMs = performance.now() - t0;
  await cluster.waitReady(id, READY_LIMIT_MS);
  const readyMs = performance.now() - t0;
  const [place] = await settle(dir, topic, 1);
  const inSyncMs = performance.now() - t0;
  // Leadership settled: the same leader twice, a second apart.
  await sleep(1_000);
  const [again] = await settle(dir, topic, 1);
  if (place?.leader !== again?.leader) await settle(dir, topic, 1);
  return { startedMs, readyMs, inSyncMs };
}

/** The failover phase: FAILOVER_ROUNDS kills of the current leader. */
async function failover(cluster: PyralogCluster, dir: Directory) {
  const topic = "failover";
  await createTopic(dir, topic, 1);
  const rounds: FailoverRound[] = [];
  const rejoins: Array<{ startedMs: number; readyMs: number; inSyncMs: number }> = [];
  for (let i = 0; i < FAILOVER_ROUNDS; i++) {
    const round = await failoverRound(cluster, dir, topic);
    rounds.push(round);
    emit({ scenario: "failover_round", round: i + 1, ...round });
    rejoins.push(await rejoin(cluster, dir, topic, round.oldLeader));
  }
  const ms = rounds.map((r) => r.failoverMs);
  emit({
    scenario: "failover",
    acks: "all",
    writeCaching: false,
    fsync: "always",
    replicationFactor: REPLICATION_FACTOR,
    // The node's default --election-timeout-ms 300: 30 ms ticks, 10-20 ticks per election.
    raftTickMs: 30,
    electionTicks: "10 (timeout randomized in [10, 20) ticks: 300-600 ms)",
    producer: `one ${FAILOVER_RECORDS_PER_BATCH}-record batch every ${FAILOVER_INTERVAL_MS} ms, ` +
      `retry after ${RETRY_BACKOFF_MS} ms with fresh metadata`,
    rounds: rounds.length,
    failoverMsMedian: median(ms),
    failoverMsMax: Math.max(...ms),
    failoverMsRuns: ms,
    metadataMsRuns: rounds.map((r) => r.metadataMs),
    // Restart of the killed node: process started (startup line), /readyz, back in the ISR.
    rejoinStartedMsRuns: rejoins.map((r) => Math.round(r.startedMs)),
    rejoinReadyMsRuns: rejoins.map((r) => Math.round(r.readyMs)),
    rejoinInSyncMsRuns: rejoins.map((r) => Math.round(r.inSyncMs)),
  });
}

/** Starts a three-node cluster, runs `fn`, and stops every process whatever happens. */
async function withCluster(
  writeCaching: boolean,
  fn: (c: PyralogCluster, d: Directory) => Promise<void>,
) {
  const cluster = await startCluster({
    nodes: NODES,
    writeCaching,
    fsync: "always",
    // The harness waits for the startup line, which is logged at info level.
    logLevel: "info",
  });
  const dir = new Directory(cluster);
  try {
    await cluster.waitReady("all", READY_LIMIT_MS);
    await fn(cluster, dir);
  } catch (err) {
    console.error(cluster.dumpLogs());
    throw err;
  } finally {
    await dir.close();
    await cluster.close();
  }
}

const want = (name: string) => ONLY === "" || ONLY === name;

/** Time from spawning fresh nodes to every node ready, over STARTUP_RUNS clusters. */
async function startup() {
  const runs: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const t0 = performance.now();
    const cluster = await startCluster({ nodes: NODES, fsync: "always", logLevel: "info" });
    try {
      await cluster.waitReady("all", READY_LIMIT_MS);
      runs.push(Math.round(performance.now() - t0));
    } catch (err) {
      console.error(cluster.dumpLogs());
      throw err;
    } finally {
      await cluster.close();
    }
  }
  emit({ scenario: "startup", nodes: NODES, startToAllReadyMsMedian: median(runs), runsMs: runs });
}

if (import.meta.main) {
  if (ONLY !== "" && !SCENARIOS.includes(ONLY)) {
    console.error(`Unknown --only "${ONLY}": expected one of ${SCENARIOS.join(", ")}`);
    Deno.exit(2);
  }
  emit({
    scenario: "setup",
    nodes: NODES,
    machineCores: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    fsync: "always",
    quick: QUICK,
    note: "all nodes and this client share the machine; no comparison with other systems",
  });
  for (const writeCaching of [false, true]) {
    if (!want("throughput") && !want("latency") && !want("lag")) break;
    await withCluster(writeCaching, async (cluster, dir) => {
      if (want("throughput")) {
        for (const partitions of [1, 3]) {
          const topic = `tp-${partitions}-${writeCaching ? "wc" : "sync"}`;
          await createTopic(dir, topic, partitions);
          await throughput(cluster, dir, {
            topic,
            partitions,
            writeCaching,
            connectionsPerPartition: partitions === 1 ? 4 : 2,
            inflightPerConnection: 4,
            recordsPerBatch: 1000,
          });
        }
      }
      if (want("latency")) await latency(cluster, dir, writeCaching);
      if (want("lag")) await lag(cluster, dir, writeCaching);
    });
  }
  if (want("failover")) await withCluster(false, failover);
  if (want("startup")) await startup();
}
