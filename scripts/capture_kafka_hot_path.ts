/**
 * Captures golden frames of the hot-path and group requests real clients send after
 * bootstrap: Produce, Fetch (with ListOffsets before it), FindCoordinator and JoinGroup.
 * A throwaway responder on 127.0.0.1 port 0 answers ApiVersions, Metadata (one topic
 * "golden", one partition led by itself), FindCoordinator and ListOffsets with Pyralog's
 * codec, saves every later request as tests/fixtures/kafka/<client>_<kind>_<n>_<Api>_v<V>.bin
 * and stops at the first request of the target API (which it does not answer). That each
 * client gets that far also shows it accepted our responses.
 *
 * Record batches carry the client's clock, so a re-capture changes Produce bytes; the test
 * (golden_hot_path_test.ts) checks structure, not timestamps.
 *
 * Usage: deno run --allow-net --allow-run --allow-read --allow-write --allow-env --allow-sys
 *          scripts/capture_kafka_hot_path.ts
 */
import { Kafka, logLevel } from "kafkajs";
import {
  ADVERTISED_API_KEYS,
  type ApiName,
  type DecodedRequest,
  decodeRequestFrame,
  encodeResponse,
} from "../src/kafka/protocol/mod.ts";

const OUT_DIR = new URL("../tests/fixtures/kafka/", import.meta.url);
const TOPIC = "golden";
/** Fixed topic id so Fetch v13+ frames are reproducible. */
const TOPIC_ID = "6f1c2a9e4b7d4e0f9a3b5c7d9e1f2a3b";
const NODE_ID = 1;
/** Generous: the first @platformatic/kafka run downloads the package. */
const CAPTURE_TIMEOUT_MS = 60_000;
const PLATFORMATIC_KAFKA = "npm:@platformatic/kafka@2.12.1";
/** Bootstrap requests already covered by capture_kafka_golden.ts; not saved again. */
const NOT_SAVED: ReadonlySet<ApiName> = new Set(["ApiVersions", "Metadata"]);

/** Reads whole size-prefixed frames from a connection. */
async function* frames(conn: Deno.Conn): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    while (buf.length >= 4) {
      const size = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
      if (buf.length < 4 + size) break;
      yield buf.slice(0, 4 + size);
      buf = buf.slice(4 + size);
    }
    const n = await conn.read(chunk).catch(() => null);
    if (n === null) return;
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
  }
}

/** The canned answer to a bootstrap request, or undefined for requests we leave hanging. */
function answer(req: DecodedRequest, port: number): Uint8Array | undefined {
  const v = req.header.apiVersion;
  const id = req.header.correlationId;
  switch (req.api) {
    case "ApiVersions":
      return encodeResponse("ApiVersions", v, id, { errorCode: 0, apiKeys: ADVERTISED_API_KEYS });
    case "Metadata":
      return encodeResponse("Metadata", v, id, {
        brokers: [{ nodeId: NODE_ID, host: "127.0.0.1", port, rack: null }],
        clusterId: "pyralog-golden",
        controllerId: NODE_ID,
        topics: [{
          errorCode: 0,
          name: TOPIC,
          topicId: TOPIC_ID,
          partitions: [{
            errorCode: 0,
            partitionIndex: 0,
            leaderId: NODE_ID,
            leaderEpoch: 0,
            replicaNodes: [NODE_ID],
            isrNodes: [NODE_ID],
            offlineReplicas: [],
          }],
        }],
      });
    case "FindCoordinator":
      return encodeResponse("FindCoordinator", v, id, {
        errorCode: 0,
        nodeId: NODE_ID,
        host: "127.0.0.1",
        port,
        coordinators: req.body.coordinatorKeys.map((key) => ({
          key,
          nodeId: NODE_ID,
          host: "127.0.0.1",
          port,
          errorCode: 0,
        })),
      });
    case "ListOffsets":
      return encodeResponse("ListOffsets", v, id, {
        topics: req.body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            oldStyleOffsets: [0n],
            timestamp: -1n,
            offset: 0n,
            leaderEpoch: 0,
          })),
        })),
      });
    default:
      return undefined;
  }
}

/** Serves connections until a request of `target` arrives; returns the saved file names. */
async function respondUntil(
  listener: Deno.Listener,
  prefix: string,
  target: ApiName,
): Promise<string[]> {
  const { port } = listener.addr as Deno.NetAddr;
  const saved: string[] = [];
  const conns: Deno.Conn[] = [];
  let reached: () => void = () => {};
  const done = new Promise<void>((resolve) => (reached = resolve));
  const serve = async (conn: Deno.Conn): Promise<void> => {
    for await (const frame of frames(conn)) {
      const req = decodeRequestFrame(frame.subarray(4));
      if (req.type !== "request") throw new Error(`Unsupported request: ${JSON.stringify(req)}`);
      if (!NOT_SAVED.has(req.api)) {
        const file = `${prefix}_${saved.length + 1}_${req.api}_v${req.header.apiVersion}.bin`;
        await Deno.writeFile(new URL(file, OUT_DIR), frame);
        saved.push(file);
      }
      if (req.api === target) return reached();
      const res = answer(req, port);
      if (res !== undefined) await conn.write(res);
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      // A failed connection only ends that capture path; the timeout reports it.
      serve(conn).catch((err: unknown) => console.error(`${prefix}: ${String(err)}`));
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out: ${prefix}`)), CAPTURE_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    listener.close();
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Already closed by the client; nothing to release.
      }
    }
    await accepting.catch(() => {});
  }
  return saved;
}

/** Stops a child we spawned; it may already have exited on its own, which is fine. */
async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  await child.status;
}

/** Runs a child process against a fresh responder. */
async function captureChild(
  prefix: string,
  target: ApiName,
  command: (port: number) => { cmd: string; args: string[]; stdin?: string },
): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const { cmd, args, stdin } = command(port);
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  try {
    return await respondUntil(listener, prefix, target);
  } finally {
    await stop(child);
  }
}

/** Runs kafkajs in this process against a fresh responder. */
async function captureKafkajs(
  prefix: string,
  target: ApiName,
  run: (kafka: Kafka) => Promise<() => Promise<void>>,
): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const kafka = new Kafka({
    clientId: "pyralog-golden",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  let cleanup: () => Promise<void> = () => Promise.resolve();
  // The client fails once we stop answering; that is expected, the frames are the point.
  const started = run(kafka).then((c) => (cleanup = c)).catch(() => {});
  try {
    return await respondUntil(listener, prefix, target);
  } finally {
    await started;
    await cleanup().catch(() => {});
  }
}

const kcat = (port: number, extra: string[]) => ({
  cmd: "kcat",
  args: ["-b", `127.0.0.1:${port}`, "-X", "client.id=pyralog-golden", "-t", TOPIC, ...extra],
});

const platformatic = (port: number, body: string) => ({
  cmd: Deno.execPath(),
  args: [
    "eval",
    "--no-lock",
    [
      `import { Consumer, Producer } from "${PLATFORMATIC_KAFKA}";`,
      `const opts = { clientId: "pyralog-golden", bootstrapBrokers: ["127.0.0.1:${port}"], retries: 0 };`,
      `try { ${body} } catch { /* expected: the responder stops answering */ }`,
    ].join("\n"),
  ],
});

await Deno.mkdir(OUT_DIR, { recursive: true });
const results: Record<string, string[]> = {};
results.kcatProduce = await captureChild("kcat_produce", "Produce", (port) => ({
  ...kcat(port, ["-P", "-p", "0", "-k", "key"]),
  stdin: "hello\n",
}));
results.kcatConsume = await captureChild(
  "kcat_consume",
  "Fetch",
  (port) => kcat(port, ["-C", "-p", "0", "-o", "beginning", "-c", "1"]),
);
results.kafkajsProduce = await captureKafkajs("kafkajs_produce", "Produce", async (kafka) => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPIC, messages: [{ key: "key", value: "hello" }] });
  return () => producer.disconnect();
});
results.kafkajsGroup = await captureKafkajs("kafkajs_group", "JoinGroup", async (kafka) => {
  const consumer = kafka.consumer({ groupId: "golden-group" });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: () => Promise.resolve() });
  return () => consumer.disconnect();
});
results.platformaticProduce = await captureChild(
  "platformatic_produce",
  "Produce",
  (port) =>
    platformatic(
      port,
      `const p = new Producer(opts); const e = new TextEncoder(); await p.send({ messages: [{ topic: "${TOPIC}", key: e.encode("key"), value: e.encode("hello") }] });`,
    ),
);
results.platformaticFetch = await captureChild(
  "platformatic_fetch",
  "Fetch",
  (port) =>
    platformatic(
      port,
      `const c = new Consumer({ ...opts, groupId: "golden-group" }); await c.fetch({ node: ${NODE_ID}, topics: [{ topicId: "${
        TOPIC_ID.replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, "$1-$2-$3-$4-$5")
      }", partitions: [{ partition: 0, currentLeaderEpoch: 0, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1048576 }] }] });`,
    ),
);
results.platformaticGroup = await captureChild(
  "platformatic_group",
  "JoinGroup",
  (port) =>
    platformatic(
      port,
      `const c = new Consumer({ ...opts, groupId: "golden-group" }); await c.consume({ topics: ["${TOPIC}"] });`,
    ),
);
for (const [k, v] of Object.entries(results)) console.log(JSON.stringify({ [k]: v }));
