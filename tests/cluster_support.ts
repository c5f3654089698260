/**
 * Shared pieces of the multi-node cluster tests (tests/cluster_*_test.ts): reading a node's
 * view of a topic over HTTP, bounded polling, and real clients driven as child processes —
 * a confluent-kafka-python producer that reports exactly which records were acknowledged
 * (in one batch, or streaming one line per acknowledgement), kcat to read a topic to its end,
 * and `pyralog topic create` to make topics through Kafka CreateTopics.
 *
 * Invariants: every wait has a bound and says what it waited for; every child process is
 * killed by PID when its bound passes; nothing here reads a clock for ordering except the
 * acknowledgement timestamps the producer prints (same host clock as `Date.now()`).
 */

import type { PyralogCluster } from "./helpers/cluster_process.ts";
import { type CommandResult, runCommand } from "./clients/kafka_ops.ts";

export const PYTHON = "/usr/bin/python3";
const ROOT = new URL("..", import.meta.url).pathname;
/** Bound of one client command (Deno and Python start slowly on a busy 2-core machine). */
export const COMMAND_TIMEOUT_MS = 60_000;
/** Bound on a started cluster's every node answering /readyz 200. */
export const READY_MS = 60_000;
/** Bound on leaders elected and reported, and the ISR full, on every node. */
export const AGREE_MS = 15_000;
/** Bound of one HTTP request to a node. */
const HTTP_TIMEOUT_MS = 2_000;
/** Pause between two polls of `waitFor`. */
const POLL_MS = 100;
/** Lines kept from a streaming child's stdout. */
const STREAM_LINES_MAX = 1_000_000;

/** One partition as GET /v1/topics/{t} shows it on one node. */
export interface PartitionView {
  partition: number;
  leader: number | null;
  leader_epoch: number;
  replicas: number[];
  in_sync_replicas: number[];
  offline_replicas: number[];
  log_start_offset: number | null;
  log_end_offset: number | null;
  high_watermark: number | null;
}

/** GET /v1/topics/{t} of one node. */
export interface TopicView {
  name: string;
  configs: Record<string, string>;
  partitions: PartitionView[];
}

/** Node `id`'s view of `topic`, or null when it does not answer 200 in time. */
export async function topicView(
  cluster: PyralogCluster,
  id: number,
  topic: string,
): Promise<TopicView | null> {
  const node = cluster.node(id);
  if (!node.running) return null;
  try {
    const res = await fetch(`http://${node.http}/v1/topics/${encodeURIComponent(topic)}`, {
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    return await res.json() as TopicView;
  } catch {
    // Down, cut off or slow: the caller polls again within its own bound.
    return null;
  }
}

/** Partition `p` of node `id`'s view, or null. */
export async function partitionView(
  cluster: PyralogCluster,
  id: number,
  topic: string,
  p = 0,
): Promise<PartitionView | null> {
  return (await topicView(cluster, id, topic))?.partitions[p] ?? null;
}

/**
 * Polls `probe` until it returns something other than null/undefined/false, at most
 * `timeoutMs`.
 * @throws naming `what` and the last value seen when the time runs out.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  describe: () => Promise<string> | string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline; each probe is bounded by its own I/O limits.
  while (Date.now() < deadline) {
    const got = await probe();
    if (got !== null && got !== undefined && got !== false) return got;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. ${await describe()}`);
}

/** Every running node's view of `topic`, as text for failure messages. */
export async function describeViews(cluster: PyralogCluster, topic: string): Promise<string> {
  const lines: string[] = [];
  for (const n of cluster.nodes) {
    const v = await topicView(cluster, n.id, topic);
    lines.push(`node ${n.id}: ${v ? JSON.stringify(v.partitions) : "(no answer)"}`);
  }
  return `Views of "${topic}":\n${lines.join("\n")}`;
}

/** Same members, any order. */
export function sameSet(a: readonly number[], b: readonly number[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/**
 * Waits until every node in `ids` shows, for every one of `partitions` partitions of
 * `topic`, the same elected leader (not null, running, epoch at least 1) and leader epoch,
 * with an ISR equal to the replica set; returns the agreed partitions (as node `ids[0]`
 * shows them).
 */
export async function waitAgreedFullIsr(
  cluster: PyralogCluster,
  topic: string,
  partitions: number,
  timeoutMs: number,
  ids: readonly number[] = cluster.nodes.map((n) => n.id),
): Promise<PartitionView[]> {
  return await waitFor(
    `every node to agree on the leaders of "${topic}" with a full ISR`,
    timeoutMs,
    async () => {
      const views: TopicView[] = [];
      for (const id of ids) {
        const v = await topicView(cluster, id, topic);
        if (!v || v.partitions.length !== partitions) return null;
        views.push(v);
      }
      const first = views[0]?.partitions;
      if (!first) return null;
      for (const p of first) {
        // Epoch 0 is the placement before any election (Raft terms start at 1): no leader yet.
        if (p.leader === null || p.leader_epoch < 1 || !cluster.node(p.leader).running) {
          return null;
        }
        if (!sameSet(p.in_sync_replicas, p.replicas)) return null;
      }
      const agree = views.every((v) =>
        v.partitions.every((p, i) => {
          const f = first[i];
          return f !== undefined && p.leader === f.leader && p.leader_epoch === f.leader_epoch &&
            sameSet(p.in_sync_replicas, f.in_sync_replicas) && sameSet(p.replicas, f.replicas);
        })
      );
      return agree ? first : null;
    },
    () => describeViews(cluster, topic),
  );
}

/**
 * Waits until every node agrees on the leaders of `topic` with a full ISR and every partition
 * is led by its preferred replica (the first of its replica list). A node hands leadership
 * back to the preferred replica a few seconds after it is in sync (Kafka's
 * auto.leader.rebalance.enable), so a test that must not see a leader move waits for this.
 */
export async function waitPreferredLeaders(
  cluster: PyralogCluster,
  topic: string,
  partitions: number,
  timeoutMs: number,
): Promise<PartitionView[]> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline; each round by waitAgreedFullIsr's own bound.
  for (;;) {
    const left = deadline - Date.now();
    const agreed = await waitAgreedFullIsr(cluster, topic, partitions, Math.max(1, left));
    if (agreed.every((p) => p.leader === p.replicas[0])) return agreed;
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for the preferred leaders of "${topic}". ` +
          (await describeViews(cluster, topic)),
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Records asked for per HTTP read (the route's limit is 10 000). */
const HTTP_READ_RECORDS = 5_000;
/** Bound on HTTP read rounds for one replica. */
const HTTP_READ_ROUNDS_MAX = 1_000;

/**
 * Offset → "key:value" of node `id`'s own replica of partition `p`, from `start` (its log
 * start) and below `end`, read with
 * GET /v1/topics/{t}/partitions/{p}/records (which serves the local replica, follower or
 * leader, up to that replica's high watermark).
 * @throws when the node answers anything but 200.
 */
export async function replicaRecords(
  cluster: PyralogCluster,
  id: number,
  topic: string,
  p: number,
  end: number,
  start = 0,
): Promise<Map<number, string>> {
  const node = cluster.node(id);
  const out = new Map<number, string>();
  let offset = start;
  for (let round = 0; round < HTTP_READ_ROUNDS_MAX && offset < end; round++) {
    const url = `http://${node.http}/v1/topics/${encodeURIComponent(topic)}/partitions/${p}` +
      `/records?offset=${offset}&max_records=${HTTP_READ_RECORDS}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text}`);
    const body = JSON.parse(text) as {
      records: Array<{ offset: number; key: string | null; value: string | null }>;
      next_offset: number;
    };
    for (const r of body.records) if (r.offset < end) out.set(r.offset, `${r.key}:${r.value}`);
    if (body.next_offset <= offset) break;
    offset = body.next_offset;
  }
  return out;
}

/**
 * Waits until every replica of each of `partitions` partitions of `topic` ends at its
 * leader's high watermark (log end and high watermark) and starts at its log start, then
 * checks that every replica holds the same record at every offset between: no replica kept a
 * divergent suffix or deleted a different prefix.
 * @throws when they do not converge in time or their contents differ (first difference).
 */
export async function checkReplicasIdentical(
  cluster: PyralogCluster,
  topic: string,
  partitions: number,
  timeoutMs: number,
): Promise<void> {
  const ends = await waitFor(
    `every replica of "${topic}" to end at its leader's high watermark`,
    timeoutMs,
    async () => {
      const found: Array<{ replicas: number[]; end: number; start: number }> = [];
      for (let p = 0; p < partitions; p++) {
        const anyView = await firstView(cluster, topic, p);
        if (!anyView || anyView.leader === null) return null;
        const onLeader = await partitionView(cluster, anyView.leader, topic, p);
        const end = onLeader?.high_watermark;
        if (!onLeader || onLeader.leader !== anyView.leader || end === null || end === undefined) {
          return null;
        }
        const start = onLeader.log_start_offset ?? 0;
        for (const id of onLeader.replicas) {
          const v = await partitionView(cluster, id, topic, p);
          if (v?.log_end_offset !== end || v.high_watermark !== end) return null;
          if (v.log_start_offset !== start) return null;
        }
        found.push({ replicas: onLeader.replicas, end, start });
      }
      return found;
    },
    () => describeViews(cluster, topic),
  );
  for (const [p, { replicas, end, start }] of ends.entries()) {
    const [first, ...rest] = replicas;
    if (first === undefined) throw new Error(`Partition ${p} of "${topic}" has no replicas`);
    const want = await replicaRecords(cluster, first, topic, p, end, start);
    for (const id of rest) {
      const got = await replicaRecords(cluster, id, topic, p, end, start);
      for (let o = start; o < end; o++) {
        if (got.get(o) !== want.get(o)) {
          throw new Error(
            `Replicas of "${topic}"-${p} differ at offset ${o} (of ${end}): ` +
              `node ${first} has ${want.get(o)}, node ${id} has ${got.get(o)}`,
          );
        }
      }
    }
  }
}

/** Partition `p` as the first running node that answers shows it. */
async function firstView(
  cluster: PyralogCluster,
  topic: string,
  p: number,
): Promise<PartitionView | null> {
  for (const n of cluster.nodes) {
    const v = await partitionView(cluster, n.id, topic, p);
    if (v) return v;
  }
  return null;
}

/** Runs `fn`; on failure prints every node's log tail before rethrowing. */
export async function withLogs(cluster: PyralogCluster, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    console.error(cluster.dumpLogs());
    throw err;
  }
}

/** Runs `pyralog ARGS...` (the CLI in main.ts), bounded. */
export async function pyralogCli(args: string[]): Promise<CommandResult> {
  return await runCommand(Deno.execPath(), ["run", "--allow-all", `${ROOT}main.ts`, ...args], {
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
}

/**
 * `pyralog topic create` through Kafka CreateTopics; returns the per-topic rows of `--json`
 * (`error` is the Kafka error name or null).
 */
export async function createTopicCli(
  bootstrap: string,
  topic: string,
  partitions: number,
  replicationFactor: number,
  configs: Record<string, string> = {},
): Promise<Array<{ topic: string; error: string | null; message: string | null }>> {
  const args = [
    "topic",
    "create",
    topic,
    ...["--partitions", String(partitions), "--replication-factor", String(replicationFactor)],
    ...Object.entries(configs).flatMap(([k, v]) => ["--config", `${k}=${v}`]),
    ...["--brokers", bootstrap, "--json"],
  ];
  const r = await pyralogCli(args);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(
      `pyralog topic create printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`,
    );
  }
}

/**
 * confluent-kafka-python, three modes (all values are decimal record numbers, keys too):
 *   produce BOOTSTRAP TOPIC FIRST COUNT TIMEOUT_MS CONF_JSON
 *     produces FIRST..FIRST+COUNT-1, flushes, prints {"acked": [[n, partition, offset]...],
 *     "errors": [[n, error]...], "undelivered": k}.
 *   stream BOOTSTRAP TOPIC STOP_FILE TIMEOUT_MS CONF_JSON
 *     produces 0, 1, 2, ... (about one per 5 ms) until STOP_FILE exists, then flushes;
 *     prints "A n ack_time_ms offset" per acknowledgement and "E n error" per failure,
 *     flushed at once, and "DONE undelivered" at the end.
 *   metadata BOOTSTRAP TOPIC
 *     prints {partition: {"leader", "replicas", "isrs"}} from list_topics.
 */
const PY_CLIENT = String.raw`
import json, os, sys, time
from confluent_kafka import Producer, Consumer

mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]

def producer(timeout_ms, extra):
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
            "message.timeout.ms": timeout_ms}
    conf.update(extra)
    return Producer(conf)

if mode == "produce":
    first, count, timeout_ms = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    p = producer(timeout_ms, json.loads(sys.argv[7]))
    acked, errors = [], []
    def cb(err, msg):
        n = int(msg.value())
        if err is None:
            acked.append([n, msg.partition(), msg.offset()])
        else:
            errors.append([n, str(err)])
    for n in range(first, first + count):
        p.produce(topic, key=str(n), value=str(n), on_delivery=cb)
        p.poll(0)
    left = p.flush(timeout_ms / 1000 + 10)
    print(json.dumps({"acked": acked, "errors": errors, "undelivered": left}))
elif mode == "stream":
    stop_file, timeout_ms = sys.argv[4], int(sys.argv[5])
    p = producer(timeout_ms, json.loads(sys.argv[6]))
    def cb(err, msg):
        n = int(msg.value())
        if err is None:
            print(f"A {n} {int(time.time() * 1000)} {msg.offset()}", flush=True)
        else:
            print(f"E {n} {err}", flush=True)
    n = 0
    while not os.path.exists(stop_file):
        p.produce(topic, key=str(n), value=str(n), on_delivery=cb)
        n += 1
        p.poll(0.005)
    left = p.flush(timeout_ms / 1000 + 10)
    print(f"DONE {left}", flush=True)
elif mode == "metadata":
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "cluster-test-metadata"})
    md = c.list_topics(topic, timeout=10)
    t = md.topics[topic]
    if t.error is not None:
        raise SystemExit(f"metadata error: {t.error}")
    print(json.dumps({str(p.id): {"leader": p.leader, "replicas": p.replicas, "isrs": p.isrs}
                      for p in t.partitions.values()}))
    c.close()
else:
    raise SystemExit(f"unknown mode {mode}")
`;

/** What a `produce` run reported. */
export interface ProduceOutcome {
  /** [record number, partition, offset] per acknowledgement. */
  acked: Array<[number, number, number]>;
  errors: Array<[number, string]>;
  undelivered: number;
}

/**
 * Produces records FIRST..FIRST+COUNT-1 with confluent-kafka (acks=all unless `conf` says
 * otherwise) and reports which were acknowledged.
 */
export async function producePython(
  bootstrap: string,
  topic: string,
  first: number,
  count: number,
  timeoutMs: number,
  conf: Record<string, string | number | boolean> = {},
): Promise<ProduceOutcome> {
  const r = await runCommand(PYTHON, [
    "-c",
    PY_CLIENT,
    "produce",
    bootstrap,
    topic,
    String(first),
    String(count),
    String(timeoutMs),
    JSON.stringify(conf),
  ], { timeoutMs: timeoutMs + COMMAND_TIMEOUT_MS });
  return parseJson<ProduceOutcome>(r, "python produce");
}

/** Partition id → leader, replicas and ISR, as librdkafka's Metadata shows them. */
export async function metadataPython(
  bootstrap: string,
  topic: string,
): Promise<Record<string, { leader: number; replicas: number[]; isrs: number[] }>> {
  const r = await runCommand(PYTHON, ["-c", PY_CLIENT, "metadata", bootstrap, topic], {
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
  return parseJson(r, "python metadata");
}

/** A `stream` producer running in the background. */
export interface StreamProducer {
  /** Record number → acknowledgement time (ms since the epoch) and offset. */
  readonly acked: Map<number, { atMs: number; offset: number }>;
  readonly errors: string[];
  /** Stops producing, waits for the flush (bounded) and returns the undelivered count. */
  finish(): Promise<number>;
  /** Kills it by PID (idempotent). */
  kill(): Promise<void>;
  /** stderr so far, for failure messages. */
  stderr(): string;
}

/** Starts the `stream` mode of the Python client; see `PY_CLIENT`. */
export async function startStreamProducer(
  bootstrap: string,
  topic: string,
  timeoutMs: number,
  conf: Record<string, string | number | boolean>,
): Promise<StreamProducer> {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-stream-" });
  const stopFile = `${dir}/stop`;
  const child = new Deno.Command(PYTHON, {
    args: [
      "-c",
      PY_CLIENT,
      "stream",
      bootstrap,
      topic,
      stopFile,
      String(timeoutMs),
      JSON.stringify(conf),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const acked = new Map<number, { atMs: number; offset: number }>();
  const errors: string[] = [];
  let done: number | null = null;
  let lines = 0;
  let err = "";
  const onLine = (line: string) => {
    if (++lines > STREAM_LINES_MAX) return;
    const [tag, n, a, b] = line.split(" ");
    if (tag === "A") acked.set(Number(n), { atMs: Number(a), offset: Number(b) });
    else if (tag === "E") errors.push(line);
    else if (tag === "DONE") done = Number(n);
  };
  const readOut = (async () => {
    let partial = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) onLine(p);
    }
  })();
  const readErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (err.length < 64 * 1024) err += chunk;
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const kill = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited between the check and the kill.
      }
    }
    await status;
    await Promise.allSettled([readOut, readErr]);
    await Deno.remove(dir, { recursive: true }).catch(() => {/* already removed */});
  };
  return {
    acked,
    errors,
    stderr: () => err,
    kill,
    finish: async () => {
      await Deno.writeTextFile(stopFile, "");
      const timer = setTimeout(() => void kill(), timeoutMs + COMMAND_TIMEOUT_MS);
      const s = await status;
      clearTimeout(timer);
      await Promise.allSettled([readOut, readErr]);
      await kill();
      if (!s.success || done === null) {
        throw new Error(`The stream producer exited ${s.code} without finishing: ${err}`);
      }
      return done;
    },
  };
}

/** One record as kcat read it. */
export interface ReadRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Reads `topic` from the beginning to the end of every partition with kcat. */
export async function readAllKcat(bootstrap: string, topic: string): Promise<ReadRecord[]> {
  const r = await runCommand("kcat", [
    "-C",
    "-b",
    bootstrap,
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    "%p %o %k %s\\n",
  ], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`kcat -C exited ${r.code}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l.length > 0).map((l) => {
    const [p, o, k, v] = l.split(" ");
    return { partition: Number(p), offset: Number(o), key: k ?? "", value: v ?? "" };
  });
}

/** Record numbers (values) read more than once. */
export function duplicates(records: readonly ReadRecord[]): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const r of records) {
    if (seen.has(r.value)) dups.push(r.value);
    seen.add(r.value);
  }
  return dups;
}

function parseJson<T>(r: CommandResult, what: string): T {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${what} printed no JSON: ${r.stdout} ${r.stderr}`);
  }
}
