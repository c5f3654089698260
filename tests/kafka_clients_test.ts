/**
 * The Kafka data path end to end with real clients against a real `main.ts serve` process:
 * kcat and confluent-kafka-python (librdkafka), kafka-python 2.0.2 and kafkajs 2.2.4 produce
 * and consume with every codec they ship; a raw-frame client (tests/clients/wire_client.ts)
 * checks idempotent duplicates, sequence gaps and fencing across a restart, offsets by time,
 * long polls, and that malformed input closes only its own connection.
 *
 * Bounds: every external command has a timeout, every loop a round limit, every process is
 * stopped by PID in `finally`; ports are 0 and data dirs are temporary. No sleeps are used as
 * synchronisation: ordering is checked with events (a pending promise, a later response).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import {
  buildBatch,
  type CompressionName,
  decodeBatch,
  iterateBatches,
  readBatchHeader,
} from "../src/records/mod.ts";
import { decodeResponseFrame, encodeRequest } from "../src/kafka/protocol/mod.ts";
import { type PyralogProcess, startPyralog } from "./helpers/pyralog_process.ts";
import { sizePrefixed, WireClient } from "./clients/wire_client.ts";
import {
  fetchRaw,
  initProducerId,
  listOffsetRaw,
  produceRaw,
  readAll,
  runCommand,
} from "./clients/kafka_ops.ts";

const CODECS: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const PYTHON = "/usr/bin/python3";
const PY_ROUNDTRIP = new URL("./clients/py_roundtrip.py", import.meta.url).pathname;
const COMMAND_TIMEOUT_MS = 60_000;
/** Appended to values so every codec shrinks the batch (librdkafka sends a batch uncompressed
 * when compression does not pay); py_roundtrip.py uses the same. */
const PAD = ".".repeat(100);
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Kafka error codes the tests expect (protocol guide, "Error Codes"). */
const E = {
  CORRUPT_MESSAGE: 2,
  UNSUPPORTED_VERSION: 35,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
} as const;

async function withBroker(
  fn: (node: PyralogProcess) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const node = await startPyralog({ args });
  try {
    await fn(node);
  } finally {
    await node.stop();
  }
}

async function connect(node: PyralogProcess): Promise<WireClient> {
  return await WireClient.connect("127.0.0.1", node.kafkaPort);
}

/**
 * The codecs of the stored batches of `topic`, without repeats: proves the client compressed
 * (librdkafka sends a batch uncompressed when compressing it does not pay, so a small first
 * batch may be "none").
 */
async function storedCodecs(c: WireClient, topic: string): Promise<CompressionName[]> {
  const f = await fetchRaw(c, topic, 0, 0);
  const seen = new Set<CompressionName>();
  for (const frame of iterateBatches(f.records)) seen.add(decodeBatch(frame.bytes).compression);
  return [...seen];
}

/**
 * Checks that `codec` is among the stored batches' codecs (and nothing else but "none").
 * librdkafka < 2.11 only compresses with lz4 when the broker advertises FindCoordinator
 * (its LZ4 feature flag depends on GroupCoordinator v0, rdkafka_feature.c), so for librdkafka
 * and lz4 uncompressed batches are accepted until a FindCoordinator handler is served.
 */
async function assertStoredCodec(
  c: WireClient,
  topic: string,
  codec: CompressionName,
  librdkafka = false,
) {
  const codecs = await storedCodecs(c, topic);
  if (librdkafka && codec === "lz4" && !(await advertises(c, FIND_COORDINATOR_KEY))) {
    deepStrictEqual(codecs, ["none"], `${topic}: librdkafka without FindCoordinator`);
    return;
  }
  ok(codecs.includes(codec), `${topic}: stored codecs ${codecs} lack ${codec}`);
  ok(codecs.every((x) => x === codec || x === "none"), `${topic}: stored codecs ${codecs}`);
}

const FIND_COORDINATOR_KEY = 10;
const JOIN_GROUP_KEY = 11;

/** Whether the broker advertises API `apiKey` in ApiVersions. */
async function advertises(c: WireClient, apiKey: number): Promise<boolean> {
  const v = await c.request("ApiVersions", 0, {});
  return v?.apiKeys.some((k) => k.apiKey === apiKey) ?? false;
}

/** What every client round trip must read back: key k<i>, value v<i>-<codec>, header h=<i>. */
function expected(
  codec: string,
  n: number,
  pad = PAD,
): Array<[string, string, [string, string][], number]> {
  return Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}-${codec}${pad}`, [["h", `${i}`]], i]);
}

async function kcatRoundTrip(node: PyralogProcess, c: WireClient, codec: CompressionName) {
  const topic = `kcat-${codec}`;
  const n = 20;
  const lines = Array.from({ length: n }, (_, i) => `k${i}:v${i}-${codec}${PAD}`).join("\n") + "\n";
  // One header per message with kcat applies to all of them; the index is checked via keys.
  const p = await runCommand("kcat", [
    "-P",
    "-b",
    node.bootstrap,
    "-t",
    topic,
    "-z",
    codec,
    "-K:",
    "-H",
    "h=kcat",
    "-X",
    "linger.ms=50",
  ], { stdin: lines, timeoutMs: COMMAND_TIMEOUT_MS });
  strictEqual(p.code, 0, p.stderr);
  const r = await runCommand("kcat", [
    "-C",
    "-b",
    node.bootstrap,
    "-t",
    topic,
    "-e",
    "-f",
    "%k|%s|%h|%o\\n",
  ], { timeoutMs: COMMAND_TIMEOUT_MS });
  strictEqual(r.code, 0, r.stderr);
  const got = r.stdout.split("\n").filter((l) => l.length > 0);
  deepStrictEqual(
    got,
    Array.from({ length: n }, (_, i) => `k${i}|v${i}-${codec}${PAD}|h=kcat|${i}`),
  );
  await assertStoredCodec(c, topic, codec, true);
}

async function pythonRoundTrip(
  node: PyralogProcess,
  c: WireClient,
  client: "confluent" | "kafka-python",
  codec: CompressionName,
) {
  const topic = `${client}-${codec}`;
  const n = 20;
  const r = await runCommand(PYTHON, [PY_ROUNDTRIP, client, node.bootstrap, topic, codec, `${n}`], {
    timeoutMs: COMMAND_TIMEOUT_MS,
  });
  strictEqual(r.code, 0, `${client} ${codec}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { records: unknown };
  deepStrictEqual(out.records, expected(codec, n), `${client} ${codec}`);
  await assertStoredCodec(c, topic, codec, client === "confluent");
}

Deno.test("kcat, confluent-kafka and kafka-python round trip every codec exactly", async () => {
  await withBroker(async (node) => {
    const c = await connect(node);
    try {
      // Five codecs, three clients: a fixed number of concurrent commands (15, not client-sized).
      await Promise.all(CODECS.flatMap((codec) => [
        kcatRoundTrip(node, c, codec),
        pythonRoundTrip(node, c, "confluent", codec),
        pythonRoundTrip(node, c, "kafka-python", codec),
      ]));
    } finally {
      await c.close();
    }
  }, ["--fsync", "never"]);
});

Deno.test({
  name: "kafkajs produces (none, gzip), reads back exactly and finds offsets by timestamp",
  // kafkajs keeps timers and sockets past disconnect() for a moment.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withBroker(async (node) => {
      const kafka = new Kafka({
        clientId: "pyralog-test",
        brokers: [node.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 3 },
      });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      const admin = kafka.admin();
      await producer.connect();
      await admin.connect();
      const c = await connect(node);
      try {
        // kafkajs ships gzip only; snappy, lz4 and zstd need codec plugins (not tested).
        for (const [codec, id] of [["none", 0], ["gzip", 1]] as const) {
          const topic = `kafkajs-${codec}`;
          const base = 1_700_000_000_000;
          await producer.send({
            topic,
            compression: id,
            messages: Array.from({ length: 20 }, (_, i) => ({
              key: `k${i}`,
              value: `v${i}-${codec}`,
              headers: { h: `${i}` },
              timestamp: `${base + i * 1000}`,
            })),
          });
          await assertStoredCodec(c, topic, codec);
          const recs = await readAll(c, topic);
          deepStrictEqual(
            recs.map((r) => [
              dec.decode(r.key ?? new Uint8Array()),
              dec.decode(r.value ?? new Uint8Array()),
              r.headers.map((h) => [h.key, dec.decode(h.value ?? new Uint8Array())]),
              r.offset,
            ]),
            expected(codec, 20, ""),
          );
          // Offsets by time: exact hit, between two records, before all, after all.
          const at = async (ts: number) =>
            (await admin.fetchTopicOffsetsByTimestamp(topic, ts))[0]?.offset;
          strictEqual(await at(base + 5000), "5");
          strictEqual(await at(base + 5500), "6");
          strictEqual(await at(base - 1), "0");
          // No record at or after the time: Kafka answers -1, kafkajs then asks for latest.
          strictEqual(await at(base + 60_000), "20");
          const offs = await admin.fetchTopicOffsets(topic);
          deepStrictEqual(
            offs.map((o) => [o.low, o.high]),
            [["0", "20"]],
          );
          // Max timestamp (-3, ListOffsets v7+) through a raw frame.
          const max = await listOffsetRaw(c, topic, -3n, 7);
          deepStrictEqual(max, { errorCode: 0, offset: 19n, timestamp: BigInt(base + 19_000) });
          deepStrictEqual(await listOffsetRaw(c, topic, -2n, 1), {
            errorCode: 0,
            offset: 0n,
            timestamp: -1n,
          });
        }
        // kafkajs' consumer needs consumer groups (JoinGroup/SyncGroup, served by another
        // suite's handlers); it runs here once the broker advertises them.
        if (await advertises(c, JOIN_GROUP_KEY)) await kafkajsConsume(kafka);
      } finally {
        await c.close();
        await producer.disconnect();
        await admin.disconnect();
      }
    }, ["--fsync", "never"]);
  },
});

/** Consumes both kafkajs topics with a kafkajs consumer group, bounded in time. */
async function kafkajsConsume(kafka: Kafka): Promise<void> {
  const consumer = kafka.consumer({ groupId: "kafkajs-test", maxWaitTimeInMs: 100 });
  const got = new Map<string, string[]>();
  let count = 0;
  let done = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: ["kafkajs-none", "kafkajs-gzip"], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, message }) => {
        const list = got.get(topic) ?? [];
        list.push(`${message.key}|${message.value}|${message.headers?.h}|${message.offset}`);
        got.set(topic, list);
        if (++count === 40) done();
        return Promise.resolve();
      },
    });
    const timer = setTimeout(done, COMMAND_TIMEOUT_MS);
    await all;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  for (const codec of ["none", "gzip"]) {
    deepStrictEqual(
      got.get(`kafkajs-${codec}`),
      Array.from({ length: 20 }, (_, i) => `k${i}|v${i}-${codec}|${i}|${i}`),
    );
  }
}

/** A batch of `n` records "i<seq>" of an idempotent producer. */
function idempotentBatch(pid: bigint, epoch: number, seq: number, n: number): Uint8Array {
  return buildBatch({
    records: Array.from({ length: n }, (_, i) => ({
      value: enc.encode(`i${seq + i}`),
      timestampMs: 1_700_000_000_000 + seq + i,
    })),
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
  });
}

Deno.test("idempotent retries are not duplicated, gaps and old epochs are refused, across a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pyralog-idem-" });
  try {
    let pid = 0n;
    const topic = "idem";
    let node = await startPyralog({ dataDir });
    try {
      const c = await connect(node);
      try {
        ({ producerId: pid } = await initProducerId(c));
        ok(pid >= 0n);
        const first = idempotentBatch(pid, 0, 0, 3);
        const a = await produceRaw(c, topic, 0, first.slice());
        const b = await produceRaw(c, topic, 0, first.slice());
        deepStrictEqual([a, b], [{ errorCode: 0, baseOffset: 0n }, {
          errorCode: 0,
          baseOffset: 0n,
        }]);
        deepStrictEqual(await produceRaw(c, topic, 0, idempotentBatch(pid, 0, 3, 2)), {
          errorCode: 0,
          baseOffset: 3n,
        });
        // Sequence 5 is next; 6 leaves a gap.
        strictEqual(
          (await produceRaw(c, topic, 0, idempotentBatch(pid, 0, 6, 1))).errorCode,
          E.OUT_OF_ORDER_SEQUENCE_NUMBER,
        );
        // A new epoch restarts at sequence 0; the old epoch is then fenced.
        deepStrictEqual(await produceRaw(c, topic, 0, idempotentBatch(pid, 1, 0, 2)), {
          errorCode: 0,
          baseOffset: 5n,
        });
        strictEqual(
          (await produceRaw(c, topic, 0, idempotentBatch(pid, 0, 5, 1))).errorCode,
          E.INVALID_PRODUCER_EPOCH,
        );
        strictEqual((await listOffsetRaw(c, topic, -1n)).offset, 7n);
      } finally {
        await c.close();
      }
      strictEqual(await node.stop(), 0, node.stderr());
      node = await startPyralog({ dataDir });
      const c2 = await connect(node);
      try {
        // Producer ids are never handed out twice, restarts included.
        ok((await initProducerId(c2)).producerId > pid, "a fresh producer id after restart");
        // After the restart the producer state is rebuilt from the log.
        deepStrictEqual(await produceRaw(c2, topic, 0, idempotentBatch(pid, 1, 0, 2)), {
          errorCode: 0,
          baseOffset: 5n,
        });
        strictEqual(
          (await produceRaw(c2, topic, 0, idempotentBatch(pid, 1, 3, 1))).errorCode,
          E.OUT_OF_ORDER_SEQUENCE_NUMBER,
        );
        strictEqual(
          (await produceRaw(c2, topic, 0, idempotentBatch(pid, 0, 5, 1))).errorCode,
          E.INVALID_PRODUCER_EPOCH,
        );
        deepStrictEqual(await produceRaw(c2, topic, 0, idempotentBatch(pid, 1, 2, 1)), {
          errorCode: 0,
          baseOffset: 7n,
        });
        const values = (await readAll(c2, topic)).map((r) => dec.decode(r.value ?? undefined));
        deepStrictEqual(values, ["i0", "i1", "i2", "i3", "i4", "i0", "i1", "i2"]);
      } finally {
        await c2.close();
      }
    } finally {
      await node.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("confluent-kafka with enable.idempotence=true writes every record once", async () => {
  await withBroker(async (node) => {
    const n = 2000;
    const r = await runCommand(
      PYTHON,
      [PY_ROUNDTRIP, "confluent", node.bootstrap, "cf-idem", "lz4", `${n}`, "idempotent"],
      { timeoutMs: COMMAND_TIMEOUT_MS },
    );
    strictEqual(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { records: Array<[string, string, unknown, number]> };
    deepStrictEqual(out.records.map((x) => x[0]), Array.from({ length: n }, (_, i) => `k${i}`));
    const c = await connect(node);
    try {
      strictEqual((await listOffsetRaw(c, "cf-idem", -1n)).offset, BigInt(n));
      for (const frame of iterateBatches((await fetchRaw(c, "cf-idem", 0, 0)).records)) {
        ok(frame.header.producerId >= 0n, "batches carry the producer id");
      }
    } finally {
      await c.close();
    }
  });
});

Deno.test("data produced with kcat survives a SIGTERM restart on the same directory", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "pyralog-restart-" });
  try {
    const n = 5000;
    const lines = Array.from({ length: n }, (_, i) => `line-${i}`).join("\n") + "\n";
    let node = await startPyralog({ dataDir });
    try {
      const p = await runCommand(
        "kcat",
        ["-P", "-b", node.bootstrap, "-t", "durable", "-z", "lz4"],
        {
          stdin: lines,
          timeoutMs: COMMAND_TIMEOUT_MS,
        },
      );
      strictEqual(p.code, 0, p.stderr);
      strictEqual(await node.stop("SIGTERM"), 0, node.stderr());
      node = await startPyralog({ dataDir });
      const r = await runCommand(
        "kcat",
        ["-C", "-b", node.bootstrap, "-t", "durable", "-e", "-f", "%s\\n"],
        { timeoutMs: COMMAND_TIMEOUT_MS },
      );
      strictEqual(r.code, 0, r.stderr);
      strictEqual(r.stdout, lines);
    } finally {
      await node.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a Fetch long poll waits for data and returns as soon as it arrives", async () => {
  await withBroker(async (node) => {
    const consumer = await connect(node);
    const producer = await connect(node);
    try {
      const topic = "poll";
      await produceRaw(producer, topic, 0, buildBatch({ records: [{ value: enc.encode("a") }] }));
      // Nothing at offset 1 yet and maxWaitMs 0: answered at once and empty.
      strictEqual((await fetchRaw(consumer, topic, 0, 1)).records.length, 0);
      const events: string[] = [];
      const parked = fetchRaw(consumer, topic, 0, 1, { maxWaitMs: 25_000, minBytes: 1 }).then(
        (f) => {
          events.push("fetch answered");
          return f;
        },
      );
      // A round trip on another connection: the parked fetch is still unanswered.
      await producer.request("ApiVersions", 0, {});
      events.push("other connection served");
      // The broker wakes the poll before it answers the produce, so the event is the send.
      events.push("produce sent");
      const p = await produceRaw(
        producer,
        topic,
        0,
        buildBatch({ records: [{ value: enc.encode("b") }] }),
      );
      const f = await parked;
      strictEqual(p.baseOffset, 1n);
      deepStrictEqual(events, ["other connection served", "produce sent", "fetch answered"]);
      const values = [...iterateBatches(f.records)].flatMap((b) =>
        decodeBatch(b.bytes).records.map((r) => dec.decode(r.value ?? undefined))
      );
      deepStrictEqual(values, ["b"]);
      // A short poll with nothing to read ends empty, with no error, after its wait.
      const empty = await fetchRaw(consumer, topic, 0, 2, { maxWaitMs: 100, minBytes: 1 });
      deepStrictEqual([empty.errorCode, empty.records.length, empty.highWatermark], [0, 0, 2n]);
    } finally {
      await consumer.close();
      await producer.close();
    }
  }, ["--fsync", "never"]);
});

/** How long a test waits for the broker to close a connection before calling it open. */
const CLOSE_WAIT_MS = 10_000;

/**
 * Sends `bytes` on a fresh connection and reports whether the broker closed it (false when
 * it answered, or neither answered nor closed within CLOSE_WAIT_MS).
 */
async function closesConnection(node: PyralogProcess, bytes: Uint8Array): Promise<boolean> {
  const c = await connect(node);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const frame = c.nextFrame();
    await c.send(bytes);
    const silent = new Promise<"silent">((
      r,
    ) => (timer = setTimeout(() => r("silent"), CLOSE_WAIT_MS)));
    return (await Promise.race([frame, silent])) === null;
  } finally {
    clearTimeout(timer);
    await c.close();
  }
}

/** A request frame with a hand-set api key and version and arbitrary body bytes. */
function handMade(apiKey: number, version: number, body: Uint8Array): Uint8Array {
  const head = new Uint8Array(8 + 2);
  const dv = new DataView(head.buffer);
  dv.setInt16(0, apiKey);
  dv.setInt16(2, version);
  dv.setInt32(4, 99); // correlation id
  dv.setInt16(8, -1); // null client id
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  return sizePrefixed(all);
}

Deno.test("malformed frames close only their connection; the broker keeps serving", async () => {
  await withBroker(async (node) => {
    const garbage = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff);
    const cases: Array<[string, Uint8Array]> = [
      ["garbage after a valid size", sizePrefixed(garbage)],
      ["Metadata v1 with a truncated body", handMade(3, 1, Uint8Array.of(0, 0, 0, 9, 0))],
      ["size 0", sizePrefixed(new Uint8Array(0))],
      ["negative size", sizePrefixed(new Uint8Array(0), -5)],
      ["size above the frame limit", sizePrefixed(new Uint8Array(0), 100 * 1024 * 1024 + 1)],
      ["unknown API key", handMade(999, 0, new Uint8Array(0))],
      ["unsupported Metadata version", handMade(3, 99, new Uint8Array(0))],
    ];
    for (const [name, bytes] of cases) {
      ok(await closesConnection(node, bytes), `${name}: the connection is closed`);
    }
    // A truncated frame, then the client goes away.
    const t = await connect(node);
    await t.send(sizePrefixed(new Uint8Array(10), 100));
    await t.close();
    // Still serving: a new connection is answered.
    const c = await connect(node);
    try {
      const v = await c.request("ApiVersions", 3, {
        clientSoftwareName: "t",
        clientSoftwareVersion: "1",
      });
      strictEqual(v?.errorCode, 0);
      const m = await c.request("Metadata", 1, { topics: null });
      strictEqual(m?.brokers[0]?.port, node.kafkaPort);
    } finally {
      await c.close();
    }
    ok(/frame size|cannot decode|unknown API|unsupported version/i.test(node.stderr()));
  });
});

Deno.test("an unknown ApiVersions version gets error 35 and the ranges in v0; v0, v3, v4 use header v0", async () => {
  await withBroker(async (node) => {
    const c = await connect(node);
    try {
      const frame = c.nextFrame();
      await c.send(handMade(18, 99, new Uint8Array(0)));
      const bytes = await frame;
      ok(bytes !== null, "answered, not closed");
      const r = decodeResponseFrame("ApiVersions", 0, bytes);
      strictEqual(r.correlationId, 99);
      strictEqual(r.body.errorCode, E.UNSUPPORTED_VERSION);
      const own = r.body.apiKeys.find((k) => k.apiKey === 18);
      ok(own && own.minVersion === 0 && own.maxVersion >= 3, JSON.stringify(own));
      // The connection stays usable: a supported version follows.
      for (const version of [0, 3, 4]) {
        const f = c.nextFrame();
        await c.send(
          encodeRequest("ApiVersions", version, { correlationId: 1000 + version, clientId: "t" }, {
            clientSoftwareName: "t",
            clientSoftwareVersion: "1",
          }),
        );
        const raw = await f;
        ok(raw !== null);
        const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        // Header v0: correlation id, then the body's error code right away (no tag byte).
        strictEqual(dv.getInt32(0), 1000 + version);
        strictEqual(dv.getInt16(4), 0);
        const body = decodeResponseFrame("ApiVersions", version, raw).body;
        if (version >= 3) {
          // Compact array: length + 1 as an unsigned varint right after the error code.
          strictEqual(raw[6], body.apiKeys.length + 1);
        } else {
          strictEqual(dv.getInt32(6), body.apiKeys.length);
        }
        ok(body.apiKeys.some((k) => k.apiKey === 0 && k.minVersion === 0));
      }
    } finally {
      await c.close();
    }
  });
});

Deno.test("a corrupted CRC is CORRUPT_MESSAGE per partition and magic 1 is refused; nothing is appended", async () => {
  await withBroker(async (node) => {
    const c = await connect(node);
    try {
      const good = () => buildBatch({ records: [{ value: enc.encode("ok") }] });
      const bad = good();
      const last = bad.length - 1;
      bad[last] = (bad[last] ?? 0) ^ 0xff; // flips a value byte: the CRC no longer matches
      const r = await c.request("Produce", 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          { name: "crc-good", partitionData: [{ index: 0, records: good() }] },
          { name: "crc-bad", partitionData: [{ index: 0, records: bad }] },
        ],
      });
      deepStrictEqual(
        r?.responses.map((t) => [t.name, t.partitionResponses[0]?.errorCode]),
        [["crc-good", 0], ["crc-bad", E.CORRUPT_MESSAGE]],
      );
      strictEqual((await listOffsetRaw(c, "crc-good", -1n)).offset, 1n);
      strictEqual((await listOffsetRaw(c, "crc-bad", -1n)).offset, 0n);
      // The same bytes with magic 1 (offset 16 of the batch header).
      const v1 = good();
      v1[16] = 1;
      strictEqual(
        (await produceRaw(c, "crc-good", 0, v1)).errorCode,
        E.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      );
      // A good batch followed by a truncated one: refused whole, nothing appended.
      const both = new Uint8Array(good().length * 2 - 5);
      both.set(good());
      both.set(good().subarray(0, good().length - 5), good().length);
      strictEqual((await produceRaw(c, "crc-good", 0, both)).errorCode, E.CORRUPT_MESSAGE);
      strictEqual((await listOffsetRaw(c, "crc-good", -1n)).offset, 1n);
      strictEqual(readBatchHeader(good()).magic, 2);
      // An idempotent batch damaged in transit is refused; its retry is written, not taken
      // for a duplicate of the refused one.
      const { producerId } = await initProducerId(c);
      const damaged = idempotentBatch(producerId, 0, 0, 2);
      damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0xff;
      strictEqual((await produceRaw(c, "crc-idem", 0, damaged)).errorCode, E.CORRUPT_MESSAGE);
      deepStrictEqual(await produceRaw(c, "crc-idem", 0, idempotentBatch(producerId, 0, 0, 2)), {
        errorCode: 0,
        baseOffset: 0n,
      });
      deepStrictEqual(
        (await readAll(c, "crc-idem")).map((r) => dec.decode(r.value ?? undefined)),
        ["i0", "i1"],
      );
    } finally {
      await c.close();
    }
  }, ["--fsync", "never"]);
});

Deno.test("a Fetch answer mixing large and small batches of several topics arrives intact", async () => {
  await withBroker(async (node) => {
    const c = await connect(node);
    try {
      // 100 KB batches are written to the socket uncopied, the small ones gathered around
      // them (kafka_server.ts #writeChunks): every byte must still arrive in order.
      const values = (tag: string, n: number) =>
        Array.from({ length: n }, (_, i) => `${tag}-${i}-${"v".repeat(90)}`);
      const plan: Array<[string, number]> = [["big-a", 1000], ["small", 3], ["big-b", 1200]];
      for (const [topic, n] of plan) {
        for (let b = 0; b < 2; b++) {
          const records = values(`${topic}${b}`, n).map((v) => ({ value: enc.encode(v) }));
          strictEqual((await produceRaw(c, topic, 0, buildBatch({ records }))).errorCode, 0);
        }
      }
      const r = await c.request("Fetch", 4, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 16 * 1024 * 1024,
        isolationLevel: 0,
        topics: plan.map(([topic]) => ({
          topic,
          partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 4 * 1024 * 1024 }],
        })),
      });
      ok(r !== null);
      deepStrictEqual(
        r.responses.map((t) => {
          const recs = t.partitions[0]?.records ?? new Uint8Array();
          return [
            t.topic,
            [...iterateBatches(recs)].flatMap((b) =>
              decodeBatch(b.bytes).records.map((x) => dec.decode(x.value ?? undefined))
            ),
          ];
        }),
        plan.map(([topic, n]) => [topic, [...values(`${topic}0`, n), ...values(`${topic}1`, n)]]),
      );
    } finally {
      await c.close();
    }
  }, ["--fsync", "never"]);
});

Deno.test("per-partition errors: acks, offsets out of range, unknown partitions and topic ids", async () => {
  await withBroker(async (node) => {
    const c = await connect(node);
    try {
      const batch = () => buildBatch({ records: [{ value: enc.encode("x") }] });
      // acks=0: no answer; the next request on the connection gets its own answer.
      await c.send(
        encodeRequest("Produce", 7, { correlationId: 500, clientId: "t" }, {
          transactionalId: null,
          acks: 0,
          timeoutMs: 1000,
          topicData: [{ name: "errs", partitionData: [{ index: 0, records: batch() }] }],
        }),
      );
      strictEqual((await listOffsetRaw(c, "errs", -1n)).offset, 1n);
      strictEqual((await produceRaw(c, "errs", 0, batch(), 2)).errorCode, 21); // INVALID_REQUIRED_ACKS
      strictEqual((await produceRaw(c, "errs", 7, batch())).errorCode, 3); // no partition 7
      const txn = await c.request("Produce", 7, {
        transactionalId: "tx",
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "errs", partitionData: [{ index: 0, records: batch() }] }],
      });
      strictEqual(txn?.responses[0]?.partitionResponses[0]?.errorCode, 48); // INVALID_TXN_STATE
      const ipid = await c.request("InitProducerId", 1, {
        transactionalId: "tx",
        transactionTimeoutMs: 1000,
      });
      strictEqual(ipid?.errorCode, 105); // TRANSACTIONAL_ID_NOT_FOUND
      strictEqual((await fetchRaw(c, "errs", 0, 5)).errorCode, 1); // OFFSET_OUT_OF_RANGE
      strictEqual((await fetchRaw(c, "errs", 3, 0)).errorCode, 3);
      strictEqual((await fetchRaw(c, "no-such-topic", 0, 0)).errorCode, 3);
      strictEqual((await listOffsetRaw(c, "no-such-topic", -1n)).errorCode, 3);
      // Clients cannot write the node's own state (forged group offsets).
      strictEqual((await c.request("FindCoordinator", 1, { key: "g", keyType: 0 }))?.errorCode, 0);
      strictEqual((await produceRaw(c, "__consumer_offsets", 0, batch())).errorCode, 17);
      strictEqual((await listOffsetRaw(c, "__consumer_offsets", -1n)).offset, 0n);
      // acks=0 is never answered; a failed one closes the connection (as Kafka does).
      ok(
        await closesConnection(
          node,
          encodeRequest("Produce", 7, { correlationId: 501, clientId: "t" }, {
            transactionalId: null,
            acks: 0,
            timeoutMs: 1000,
            topicData: [{ name: "errs", partitionData: [{ index: 9, records: batch() }] }],
          }),
        ),
        "a failed acks=0 produce closes its connection",
      );
      // Topic ids: Metadata v12 names them, Fetch v13 reads by id, an unknown id is 100.
      const meta = await c.request("Metadata", 12, {
        topics: [{ topicId: "00000000000000000000000000000000", name: "errs" }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const id = meta?.topics[0]?.topicId ?? "";
      ok(/^[0-9a-f]{32}$/.test(id) && id !== "0".repeat(32), id);
      const byId = await c.request("Metadata", 12, {
        topics: [{ topicId: id, name: null }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      strictEqual(byId?.topics[0]?.name, "errs");
      const fetchById = async (topicId: string) =>
        (await c.request("Fetch", 13, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{
            topicId,
            partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }],
          }],
          forgottenTopicsData: [],
          rackId: "",
        }))?.responses[0]?.partitions[0];
      const known = await fetchById(id);
      strictEqual(known?.errorCode, 0);
      strictEqual([...iterateBatches(known?.records ?? new Uint8Array())].length, 1);
      strictEqual((await fetchById("0123456789abcdef0123456789abcdef"))?.errorCode, 100);
    } finally {
      await c.close();
    }
  }, ["--fsync", "never"]);
});

Deno.test("pipelined produces of different sizes on one connection are stored intact", async () => {
  await withBroker(async (node) => {
    const c = await connect(node);
    try {
      // Frames of mixed sizes arrive back to back (a small one after a large one, and back),
      // so the broker's read buffer grows, compacts and shrinks between them.
      const sizes = [300, 20, 1, 900, 60, 5000, 2, 450, 33, 3000];
      const sent = sizes.map((n, i) =>
        Array.from({ length: n }, (_, j) => `p${i}-${j}-${"z".repeat((i * 7 + j) % 50)}`)
      );
      const answers = sent.map((values) => {
        const records = values.map((v) => ({ value: enc.encode(v) }));
        return produceRaw(c, "pipelined", 0, buildBatch({ records }), 1);
      });
      const results = await Promise.all(answers);
      deepStrictEqual(results.map((r) => r.errorCode), sizes.map(() => 0));
      const got = (await readAll(c, "pipelined")).map((r) => dec.decode(r.value ?? undefined));
      deepStrictEqual(got, sent.flat());
    } finally {
      await c.close();
    }
  }, ["--fsync", "never"]);
});
