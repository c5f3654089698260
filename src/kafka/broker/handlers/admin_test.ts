/**
 * The admin handlers through the wire codec: every request is encoded and decoded at the
 * version under test, handled against a real `TopicStore` in a temporary directory, and its
 * answer encoded and decoded again at that version, so each version's field rules (v0 vs
 * flexible, fields added later) are exercised end to end without a socket.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { buildBatch } from "../../../records/mod.ts";
import { TopicStore } from "../../../storage/mod.ts";
import { textBatch, withTempDir } from "../../../testing/temp_dir.ts";
import {
  type ApiName,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequest,
  encodeResponse,
  type RequestInput,
  type ResponseOf,
} from "../../protocol/mod.ts";
import type { BrokerContext, Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { startKafkaBroker } from "../kafka_broker.ts";
import { ADMIN_HANDLERS } from "./admin.ts";
import { wireUuid, ZERO_UUID } from "./_common.ts";

const NODE_ID = 7;

/** A real broker context (listening on a free port, so its shape is always current). */
async function withBroker(fn: (b: BrokerContext) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false, onWarning: () => {} });
    const broker = startKafkaBroker(store, {
      nodeId: NODE_ID,
      host: "127.0.0.1",
      port: 0,
      autoCreateTopics: false,
      log: () => {},
    });
    try {
      await fn(broker.context);
    } finally {
      await broker.close();
      await store.close();
    }
  });
}

/** Sends one request through the codec at `version` and returns the decoded answer. */
async function call<N extends ApiName>(
  b: BrokerContext,
  api: N,
  version: number,
  body: RequestInput<N>,
): Promise<ResponseOf<N>> {
  const frame = encodeRequest(api, version, { correlationId: 42, clientId: "test" }, body);
  const req = decodeRequestFrame(frame.subarray(4));
  if (req.type !== "request" || req.api !== api) throw new Error(`cannot decode ${api}`);
  const handler = ADMIN_HANDLERS[api] as Handler<N> | undefined;
  if (!handler) throw new Error(`no handler for ${api}`);
  const resp = await handler(req.body as Parameters<Handler<N>>[0], {
    broker: b,
    header: req.header,
    version,
    signal: new AbortController().signal,
  });
  if (resp === null) throw new Error(`${api} answered nothing`);
  const out = encodeResponse(api, version, 42, resp);
  const decoded = decodeResponseFrame(api, version, out.subarray(4));
  strictEqual(decoded.correlationId, 42);
  return decoded.body;
}

const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);

function newTopic(name: string, numPartitions = 1, replicationFactor = 1) {
  return { name, numPartitions, replicationFactor, assignments: [], configs: [] };
}

Deno.test("CreateTopics v0-7 creates, validates and refuses as Kafka does", async () => {
  for (const v of range(0, 7)) {
    await withBroker(async (b) => {
      const r = await call(b, "CreateTopics", v, {
        topics: [
          { ...newTopic("a", 3), configs: [{ name: "retention.ms", value: "1000" }] },
          newTopic("b", 1, 3),
          newTopic("bad name"),
          newTopic("c", 0),
          { ...newTopic("d"), configs: [{ name: "retention.ms", value: "soon" }] },
          newTopic("__consumer_offsets"),
          newTopic("dup"),
          newTopic("dup"),
          {
            // A count and an assignment together: INVALID_REQUEST, as Kafka answers.
            ...newTopic("e", 1, -1),
            assignments: [{ partitionIndex: 0, brokerIds: [NODE_ID] }],
          },
        ],
        timeoutMs: 1000,
      });
      const codes = r.topics.map((t) => [t.name, t.errorCode]);
      deepStrictEqual(codes, [
        ["a", ErrorCode.NONE],
        ["b", ErrorCode.INVALID_REPLICATION_FACTOR],
        ["bad name", ErrorCode.INVALID_TOPIC_EXCEPTION],
        ["c", ErrorCode.INVALID_PARTITIONS],
        ["d", ErrorCode.INVALID_CONFIG],
        ["__consumer_offsets", ErrorCode.INVALID_REQUEST],
        ["dup", ErrorCode.INVALID_REQUEST],
        ["dup", ErrorCode.INVALID_REQUEST],
        ["e", ErrorCode.INVALID_REQUEST],
      ]);
      const a = b.store.topic("a");
      strictEqual(a?.partitions, 3);
      deepStrictEqual(a?.configs, { "retention.ms": "1000" });
      strictEqual(b.store.topic("dup"), undefined);
      const first = r.topics[0];
      if (v >= 1) {
        ok(r.topics[1]?.errorMessage?.includes("1 broker"), r.topics[1]?.errorMessage ?? "");
      }
      if (v >= 5) {
        strictEqual(first?.numPartitions, 3);
        strictEqual(first?.replicationFactor, 1);
        const configs = new Map(first?.configs?.map((c) => [c.name, c]));
        strictEqual(configs.get("retention.ms")?.value, "1000");
        strictEqual(configs.get("retention.ms")?.configSource, 1);
        strictEqual(configs.get("segment.bytes")?.value, "1073741824");
        strictEqual(configs.get("segment.bytes")?.configSource, 5);
        strictEqual(r.topics[1]?.numPartitions, -1);
      }
      if (v >= 7) strictEqual(first?.topicId, wireUuid(a?.id ?? ""));
      const again = await call(b, "CreateTopics", v, { topics: [newTopic("a")], timeoutMs: 0 });
      strictEqual(again.topics[0]?.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    });
  }
});

Deno.test("CreateTopics honours defaults, single-node assignments and validateOnly", async () => {
  await withBroker(async (b) => {
    const r = await call(b, "CreateTopics", 4, {
      topics: [
        newTopic("defaults", -1, -1),
        {
          ...newTopic("assigned", -1, -1),
          assignments: [
            { partitionIndex: 1, brokerIds: [NODE_ID] },
            { partitionIndex: 0, brokerIds: [NODE_ID] },
          ],
        },
        {
          ...newTopic("elsewhere", -1, -1),
          assignments: [{ partitionIndex: 0, brokerIds: [NODE_ID, 8] }],
        },
        {
          ...newTopic("gap", -1, -1),
          assignments: [{ partitionIndex: 1, brokerIds: [NODE_ID] }],
        },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    deepStrictEqual(r.topics.map((t) => t.errorCode), [
      ErrorCode.NONE,
      ErrorCode.NONE,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
    ]);
    strictEqual(b.store.topic("defaults")?.partitions, 1);
    strictEqual(b.store.topic("assigned")?.partitions, 2);
    const dry = await call(b, "CreateTopics", 7, {
      topics: [newTopic("dry", 4)],
      timeoutMs: 1000,
      validateOnly: true,
    });
    strictEqual(dry.topics[0]?.errorCode, ErrorCode.NONE);
    strictEqual(dry.topics[0]?.numPartitions, 4);
    strictEqual(dry.topics[0]?.topicId, ZERO_UUID);
    strictEqual(b.store.topic("dry"), undefined);
  });
});

Deno.test("DeleteTopics v0-6 deletes by name, by id (v6), and refuses internal topics", async () => {
  for (const v of range(0, 6)) {
    await withBroker(async (b) => {
      const gone = b.store.createTopic("gone");
      b.store.createTopic("__consumer_offsets");
      if (v < 6) {
        const r = await call(b, "DeleteTopics", v, {
          topicNames: ["gone", "missing", "__consumer_offsets"],
          timeoutMs: 1000,
        });
        deepStrictEqual(r.responses.map((x) => [x.name, x.errorCode]), [
          ["gone", ErrorCode.NONE],
          ["missing", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          ["__consumer_offsets", ErrorCode.INVALID_REQUEST],
        ]);
        if (v >= 5) ok(r.responses[2]?.errorMessage?.includes("internal"));
      } else {
        const unknownId = "0123456789abcdef0123456789abcdef";
        const r = await call(b, "DeleteTopics", v, {
          topics: [
            { name: null, topicId: wireUuid(gone.id) },
            { name: null, topicId: unknownId },
            { name: "missing", topicId: ZERO_UUID },
          ],
          timeoutMs: 1000,
        });
        deepStrictEqual(r.responses.map((x) => [x.name, x.topicId, x.errorCode]), [
          ["gone", wireUuid(gone.id), ErrorCode.NONE],
          [null, unknownId, ErrorCode.UNKNOWN_TOPIC_ID],
          ["missing", ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ]);
      }
      strictEqual(b.store.topic("gone"), undefined);
      ok(b.store.topic("__consumer_offsets"));
    });
  }
});

Deno.test("CreatePartitions v0-3 grows topics, refuses shrinking and foreign replicas", async () => {
  for (const v of range(0, 3)) {
    await withBroker(async (b) => {
      b.store.createTopic("t", 2);
      b.store.createTopic("u", 2);
      const r = await call(b, "CreatePartitions", v, {
        topics: [
          {
            name: "t",
            count: 4,
            assignments: [{ brokerIds: [NODE_ID] }, { brokerIds: [NODE_ID] }],
          },
          { name: "u", count: 2, assignments: null },
          { name: "missing", count: 3, assignments: null },
        ],
        timeoutMs: 1000,
        validateOnly: false,
      });
      deepStrictEqual(r.results.map((x) => x.errorCode), [
        ErrorCode.NONE,
        ErrorCode.INVALID_PARTITIONS,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ]);
      ok(r.results[1]?.errorMessage?.includes("it has 2"));
      strictEqual(b.store.topic("t")?.partitions, 4);
      const bad = await call(b, "CreatePartitions", v, {
        topics: [{ name: "u", count: 3, assignments: [{ brokerIds: [99] }] }],
        timeoutMs: 1000,
        validateOnly: false,
      });
      strictEqual(bad.results[0]?.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
      const dry = await call(b, "CreatePartitions", v, {
        topics: [{ name: "u", count: 9, assignments: null }],
        timeoutMs: 1000,
        validateOnly: true,
      });
      strictEqual(dry.results[0]?.errorCode, ErrorCode.NONE);
      strictEqual(b.store.topic("u")?.partitions, 2);
    });
  }
});

Deno.test("DescribeConfigs v0-4 describes topics and this broker", async () => {
  for (const v of range(0, 4)) {
    await withBroker(async (b) => {
      b.store.createTopic("t", 1, { "retention.ms": "5000", "flush.ms": "20" });
      const r = await call(b, "DescribeConfigs", v, {
        resources: [
          { resourceType: 2, resourceName: "t", configurationKeys: null },
          { resourceType: 2, resourceName: "t", configurationKeys: ["retention.ms", "nope"] },
          { resourceType: 2, resourceName: "missing", configurationKeys: null },
          { resourceType: 4, resourceName: String(NODE_ID), configurationKeys: null },
          { resourceType: 4, resourceName: "3", configurationKeys: null },
          { resourceType: 3, resourceName: "group", configurationKeys: null },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      deepStrictEqual(r.results.map((x) => x.errorCode), [
        ErrorCode.NONE,
        ErrorCode.NONE,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.NONE,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
      ]);
      const all = new Map(r.results[0]?.configs.map((c) => [c.name, c]));
      // flush.ms is listed only because the topic sets it; flush.messages is not set.
      ok(all.has("flush.ms") && !all.has("flush.messages"));
      const retention = all.get("retention.ms");
      const segment = all.get("segment.bytes");
      strictEqual(retention?.value, "5000");
      strictEqual(segment?.value, "1073741824");
      strictEqual(retention?.readOnly, false);
      if (v === 0) {
        strictEqual(retention?.isDefault, false);
        strictEqual(segment?.isDefault, true);
      } else {
        strictEqual(retention?.configSource, 1);
        strictEqual(segment?.configSource, 5);
        deepStrictEqual(retention?.synonyms, [
          { name: "retention.ms", value: "5000", source: 1 },
          { name: "log.retention.ms", value: "604800000", source: 5 },
        ]);
      }
      if (v >= 3) {
        strictEqual(retention?.configType, 5); // LONG
        strictEqual(all.get("cleanup.policy")?.configType, 7); // LIST
        ok((retention?.documentation ?? "").length > 0);
      }
      deepStrictEqual(r.results[1]?.configs.map((c) => c.name), ["retention.ms"]);
      const broker = new Map(r.results[3]?.configs.map((c) => [c.name, c]));
      strictEqual(broker.get("broker.id")?.value, String(NODE_ID));
      strictEqual(broker.get("broker.id")?.readOnly, true);
      strictEqual(
        broker.get("advertised.listeners")?.value,
        `PLAINTEXT://127.0.0.1:${b.advertisedPort}`,
      );
      strictEqual(broker.get("log.retention.ms")?.value, "604800000");
    });
  }
});

Deno.test("AlterConfigs v0-2 replaces a topic's whole config set", async () => {
  for (const v of range(0, 2)) {
    await withBroker(async (b) => {
      b.store.createTopic("t", 1, { "retention.ms": "5000" });
      const r = await call(b, "AlterConfigs", v, {
        resources: [
          { resourceType: 2, resourceName: "t", configs: [{ name: "segment.ms", value: "60000" }] },
          { resourceType: 2, resourceName: "missing", configs: [] },
          { resourceType: 4, resourceName: String(NODE_ID), configs: [] },
        ],
        validateOnly: false,
      });
      deepStrictEqual(r.responses.map((x) => x.errorCode), [
        ErrorCode.NONE,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_REQUEST,
      ]);
      ok(r.responses[2]?.errorMessage?.includes("cannot be altered"));
      deepStrictEqual(b.store.topic("t")?.configs, { "segment.ms": "60000" });
      const refused = await call(b, "AlterConfigs", v, {
        resources: [
          { resourceType: 2, resourceName: "t", configs: [{ name: "segment.ms", value: "0" }] },
        ],
        validateOnly: false,
      });
      strictEqual(refused.responses[0]?.errorCode, ErrorCode.INVALID_CONFIG);
      const nulled = await call(b, "AlterConfigs", v, {
        resources: [
          { resourceType: 2, resourceName: "t", configs: [{ name: "segment.ms", value: null }] },
        ],
        validateOnly: false,
      });
      strictEqual(nulled.responses[0]?.errorCode, ErrorCode.INVALID_REQUEST);
      const dry = await call(b, "AlterConfigs", v, {
        resources: [{ resourceType: 2, resourceName: "t", configs: [] }],
        validateOnly: true,
      });
      strictEqual(dry.responses[0]?.errorCode, ErrorCode.NONE);
      deepStrictEqual(b.store.topic("t")?.configs, { "segment.ms": "60000" });
    });
  }
});

Deno.test("IncrementalAlterConfigs v0-1 sets, deletes, appends and subtracts", async () => {
  for (const v of range(0, 1)) {
    await withBroker(async (b) => {
      b.store.createTopic("t", 1, { "retention.ms": "5000", "segment.ms": "60000" });
      const alter = (
        configs: Array<{ name: string; configOperation: number; value: string | null }>,
        validateOnly = false,
      ) =>
        call(b, "IncrementalAlterConfigs", v, {
          resources: [{ resourceType: 2, resourceName: "t", configs }],
          validateOnly,
        }).then((r) => r.responses[0]);
      strictEqual(
        (await alter([
          { name: "retention.bytes", configOperation: 0, value: "4096" },
          { name: "segment.ms", configOperation: 1, value: null },
        ]))?.errorCode,
        ErrorCode.NONE,
      );
      deepStrictEqual(b.store.topic("t")?.configs, {
        "retention.ms": "5000",
        "retention.bytes": "4096",
      });
      // APPEND "delete" to cleanup.policy (default "delete") keeps one "delete".
      strictEqual(
        (await alter([{ name: "cleanup.policy", configOperation: 2, value: "delete" }]))
          ?.errorCode,
        ErrorCode.NONE,
      );
      strictEqual(b.store.topic("t")?.configs["cleanup.policy"], "delete");
      // Appending compact is valid Kafka, refused here: compaction is not built.
      const compact = await alter([{
        name: "cleanup.policy",
        configOperation: 2,
        value: "compact",
      }]);
      strictEqual(compact?.errorCode, ErrorCode.INVALID_CONFIG);
      ok(compact?.errorMessage?.includes("compaction"));
      const notList = await alter([{ name: "retention.ms", configOperation: 3, value: "1" }]);
      strictEqual(notList?.errorCode, ErrorCode.INVALID_CONFIG);
      strictEqual(
        (await alter([{ name: "retention.ms", configOperation: 9, value: "1" }]))?.errorCode,
        ErrorCode.INVALID_REQUEST,
      );
      strictEqual(
        (await alter([{ name: "retention.ms", configOperation: 0, value: "7" }], true))?.errorCode,
        ErrorCode.NONE,
      );
      strictEqual(b.store.topic("t")?.configs["retention.ms"], "5000");
    });
  }
});

Deno.test("DeleteRecords v0-2 moves the low watermark, -1 to the high watermark", async () => {
  for (const v of range(0, 2)) {
    await withBroker(async (b) => {
      b.store.createTopic("t", 1);
      for (let i = 0; i < 3; i++) await b.logs.produce("t", 0, textBatch(`b${i}`, 2));
      const del = (partitionIndex: number, offset: bigint) =>
        call(b, "DeleteRecords", v, {
          topics: [{ name: "t", partitions: [{ partitionIndex, offset }] }],
          timeoutMs: 1000,
        }).then((r) => r.topics[0]?.partitions[0]);
      deepStrictEqual(await del(0, 2n), { partitionIndex: 0, lowWatermark: 2n, errorCode: 0 });
      deepStrictEqual(await del(0, 1n), { partitionIndex: 0, lowWatermark: 2n, errorCode: 0 });
      strictEqual((await del(0, 7n))?.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      strictEqual((await del(0, -2n))?.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      strictEqual((await del(1, 0n))?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      deepStrictEqual(await del(0, -1n), { partitionIndex: 0, lowWatermark: 6n, errorCode: 0 });
      strictEqual(b.store.partition("t", 0).logStartOffset, 6);
    });
  }
});

Deno.test("OffsetForLeaderEpoch v0-4 answers epoch 0's end and checks the current epoch", async () => {
  for (const v of range(0, 4)) {
    await withBroker(async (b) => {
      b.store.createTopic("t", 1);
      await b.logs.produce("t", 0, textBatch("x", 3));
      const ask = (leaderEpoch: number, currentLeaderEpoch = -1, partition = 0) =>
        call(b, "OffsetForLeaderEpoch", v, {
          replicaId: -1,
          topics: [{ topic: "t", partitions: [{ partition, currentLeaderEpoch, leaderEpoch }] }],
        }).then((r) => r.topics[0]?.partitions[0]);
      const latest = await ask(0);
      strictEqual(latest?.errorCode, ErrorCode.NONE);
      strictEqual(latest?.endOffset, 3n);
      if (v >= 1) strictEqual(latest?.leaderEpoch, 0);
      const newer = await ask(5);
      strictEqual(newer?.errorCode, ErrorCode.NONE);
      strictEqual(newer?.endOffset, -1n);
      strictEqual((await ask(0, 0, 9))?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (v >= 2) {
        strictEqual((await ask(0, 0))?.errorCode, ErrorCode.NONE);
        strictEqual((await ask(0, 1))?.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
        strictEqual((await ask(0, -5))?.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
      }
    });
  }
});

Deno.test("DescribeCluster v0-1 describes this node; v1 refuses a controller endpoint", async () => {
  for (const v of range(0, 1)) {
    await withBroker(async (b) => {
      const r = await call(b, "DescribeCluster", v, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      strictEqual(r.errorCode, ErrorCode.NONE);
      strictEqual(r.clusterId, b.clusterId);
      strictEqual(r.controllerId, NODE_ID);
      deepStrictEqual(r.brokers, [{
        brokerId: NODE_ID,
        host: "127.0.0.1",
        port: b.advertisedPort,
        rack: null,
      }]);
      if (v >= 1) {
        strictEqual(r.endpointType, 1);
        const c = await call(b, "DescribeCluster", v, {
          includeClusterAuthorizedOperations: false,
          endpointType: 2,
        });
        strictEqual(c.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
      }
    });
  }
});

Deno.test("DescribeProducers v0 lists the idempotent producers of a partition", async () => {
  await withBroker(async (b) => {
    b.store.createTopic("t", 2);
    const batch = buildBatch({
      records: [{ value: new TextEncoder().encode("v"), timestampMs: 1_700_000_000_000 }],
      producerId: 1234n,
      producerEpoch: 3,
      baseSequence: 0,
    });
    const produced = await b.logs.produce("t", 0, batch);
    strictEqual(produced.type, "ok");
    const r = await call(b, "DescribeProducers", 0, {
      topics: [{ name: "t", partitionIndexes: [0, 1, 5] }],
    });
    const [p0, p1, p5] = r.topics[0]?.partitions ?? [];
    strictEqual(p0?.errorCode, ErrorCode.NONE);
    deepStrictEqual(
      p0?.activeProducers.map((p) => [p.producerId, p.producerEpoch, p.lastSequence]),
      [
        [1234n, 3, 0],
      ],
    );
    strictEqual(p0?.activeProducers[0]?.coordinatorEpoch, -1);
    strictEqual(p0?.activeProducers[0]?.currentTxnStartOffset, -1n);
    deepStrictEqual(p1?.activeProducers, []);
    strictEqual(p5?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
