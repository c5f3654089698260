/**
 * The admin APIs (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
 * AlterConfigs, DeleteRecords; issue #3) against a real `main.ts serve` process, driven by
 * real clients: kafkajs 2.2.4's admin and producer, confluent-kafka-python's AdminClient
 * (librdkafka 2.0.2) and kafka-python 2.0.2's KafkaAdminClient, each Python client in a
 * subprocess. The APIs none of them sends (DescribeCluster, OffsetForLeaderEpoch,
 * IncrementalAlterConfigs, DescribeProducers) are sent as raw frames by Pyralog's codec,
 * over producer state a real kafkajs idempotent producer made. Configs are checked to take effect: max.message.bytes refuses
 * a larger batch with MESSAGE_TOO_LARGE until it is raised, segment.bytes rolls segments on
 * disk, DeleteRecords moves the earliest offset and removes whole segments.
 *
 * Every process is stopped by PID in `finally`; every wait is bounded by a client timeout or
 * an abort signal; ports are chosen by the OS.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import {
  type ApiName,
  decodeResponseFrame,
  encodeRequest,
  type RequestInput,
  type ResponseOf,
} from "../src/kafka/protocol/mod.ts";
import { startPyralog } from "./helpers/pyralog_process.ts";

/** Longest a client subprocess may run. */
const PYTHON_LIMIT_MS = 60_000;
/** Debian's interpreter, where python3-confluent-kafka is installed. */
const PYTHON = "/usr/bin/python3";

function kafkaFor(bootstrap: string): Kafka {
  return new Kafka({
    clientId: "pyralog-admin-test",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 500 },
    connectionTimeout: 5_000,
    requestTimeout: 10_000,
  });
}

/** The type name of a kafkajs protocol error (or of each error of an aggregate). */
function errorTypes(e: unknown): string[] {
  const x = e as { type?: string; errors?: Array<{ type?: string }> };
  if (Array.isArray(x.errors)) return x.errors.map((er) => er.type ?? "?");
  return [x.type ?? String(e)];
}

async function segmentFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".log")) names.push(e.name);
  return names.sort();
}

Deno.test("kafkajs admin creates, describes, alters, grows, trims and deletes topics", async (t) => {
  const node = await startPyralog();
  const kafka = kafkaFor(node.bootstrap);
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    await admin.connect();
    await producer.connect();

    await t.step("createTopics with configs, validateOnly, duplicate and bad input", async () => {
      strictEqual(
        await admin.createTopics({
          topics: [{
            topic: "orders",
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [
              { name: "max.message.bytes", value: "2000" },
              { name: "segment.bytes", value: "1024" },
            ],
          }],
        }),
        true,
      );
      // validateOnly: accepted, nothing created (waitForLeaders would auto-create by metadata).
      strictEqual(
        await admin.createTopics({
          validateOnly: true,
          waitForLeaders: false,
          topics: [{ topic: "dry-run", numPartitions: 3 }],
        }),
        true,
      );
      ok(!(await admin.listTopics()).includes("dry-run"));
      // Already exists: kafkajs answers false for TOPIC_ALREADY_EXISTS.
      strictEqual(await admin.createTopics({ topics: [{ topic: "orders" }] }), false);
      await rejects(
        admin.createTopics({ topics: [{ topic: "bad/name" }] }),
        (e) => errorTypes(e).includes("INVALID_TOPIC_EXCEPTION"),
      );
      await rejects(
        admin.createTopics({ topics: [{ topic: "replicated", replicationFactor: 3 }] }),
        (e) => errorTypes(e).includes("INVALID_REPLICATION_FACTOR"),
      );
      await rejects(
        admin.createTopics({
          topics: [{ topic: "bad-config", configEntries: [{ name: "retention.ms", value: "x" }] }],
        }),
        (e) => errorTypes(e).includes("INVALID_CONFIG"),
      );
      const topics = await admin.listTopics();
      ok(topics.includes("orders"));
      ok(!topics.includes("replicated") && !topics.includes("bad-config"));
      const meta = await admin.fetchTopicMetadata({ topics: ["orders"] });
      strictEqual(meta.topics[0]?.partitions.length, 2);
    });

    await t.step("describeConfigs reports set values and defaults", async () => {
      const r = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: "orders" }],
      });
      const res = r.resources[0];
      strictEqual(res?.errorCode, 0);
      const byName = new Map(res?.configEntries.map((c) => [c.configName, c]));
      strictEqual(byName.get("max.message.bytes")?.configValue, "2000");
      strictEqual(byName.get("max.message.bytes")?.isDefault, false);
      strictEqual(byName.get("retention.ms")?.configValue, "604800000");
      strictEqual(byName.get("retention.ms")?.isDefault, true);
      strictEqual(byName.get("cleanup.policy")?.configValue, "delete");
      const only = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: "orders", configNames: ["segment.bytes"] }],
      });
      deepStrictEqual(
        only.resources[0]?.configEntries.map((c) => [c.configName, c.configValue]),
        [["segment.bytes", "1024"]],
      );
      const missing = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: "nope" }],
      }).catch((e) => e);
      ok(errorTypes(missing).includes("UNKNOWN_TOPIC_OR_PARTITION"), String(missing));
      const broker = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 4, name: "0" }],
      });
      ok(broker.resources[0]?.configEntries.some((c) => c.configName === "log.retention.ms"));
    });

    await t.step(
      "max.message.bytes refuses a large batch until alterConfigs raises it",
      async () => {
        const big = "x".repeat(5_000);
        await rejects(
          producer.send({ topic: "orders", acks: -1, messages: [{ value: big }] }),
          (e) => errorTypes(e).includes("MESSAGE_TOO_LARGE"),
        );
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{
            type: 2,
            name: "orders",
            configEntries: [
              { name: "max.message.bytes", value: "100000" },
              { name: "segment.bytes", value: "1024" },
            ],
          }],
        });
        const [sent] = await producer.send({
          topic: "orders",
          acks: -1,
          messages: [{ value: big, partition: 0 }],
        });
        strictEqual(sent?.errorCode, 0);
        // validateOnly and a bad value change nothing.
        await admin.alterConfigs({
          validateOnly: true,
          resources: [{
            type: 2,
            name: "orders",
            configEntries: [{ name: "max.message.bytes", value: "100" }],
          }],
        });
        await rejects(
          admin.alterConfigs({
            validateOnly: false,
            resources: [{ type: 2, name: "orders", configEntries: [{ name: "nope", value: "1" }] }],
          }),
          (e) => errorTypes(e).includes("INVALID_CONFIG"),
        );
        const r = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: 2, name: "orders", configNames: ["max.message.bytes"] }],
        });
        strictEqual(r.resources[0]?.configEntries[0]?.configValue, "100000");
      },
    );

    await t.step(
      "segment.bytes rolls segments; deleteTopicRecords moves the low watermark",
      async () => {
        // Each ~1.2 kB batch fills a 1 kB segment, so every send starts a new segment.
        for (let i = 0; i < 5; i++) {
          await producer.send({
            topic: "orders",
            acks: -1,
            messages: [{ value: `r${i}-${"y".repeat(1_200)}`, partition: 0 }],
          });
        }
        const dir = `${node.dataDir}/orders-0`;
        ok((await segmentFiles(dir)).length >= 5, String(await segmentFiles(dir)));
        const before = await admin.fetchTopicOffsets("orders");
        const p0 = before.find((p) => p.partition === 0);
        strictEqual(p0?.high, "6");
        strictEqual(p0?.low, "0");
        await admin.deleteTopicRecords({
          topic: "orders",
          partitions: [{ partition: 0, offset: "4" }],
        });
        const after = await admin.fetchTopicOffsets("orders");
        strictEqual(after.find((p) => p.partition === 0)?.low, "4");
        ok(!(await segmentFiles(dir)).includes("00000000000000000000.log"));
        await admin.deleteTopicRecords({
          topic: "orders",
          partitions: [{ partition: 0, offset: "-1" }],
        });
        const all = await admin.fetchTopicOffsets("orders");
        strictEqual(all.find((p) => p.partition === 0)?.low, "6");
        await rejects(
          admin.deleteTopicRecords({
            topic: "orders",
            partitions: [{ partition: 0, offset: "99" }],
          }),
          /deleting records/,
        );
        // kafkajs keeps only its own message for this OFFSET_OUT_OF_RANGE (the code is checked
        // in the handler tests); nothing moved.
        const still = await admin.fetchTopicOffsets("orders");
        strictEqual(still.find((p) => p.partition === 0)?.low, "6");
      },
    );

    await t.step("createPartitions grows and refuses to shrink", async () => {
      await admin.createPartitions({ topicPartitions: [{ topic: "orders", count: 4 }] });
      const meta = await admin.fetchTopicMetadata({ topics: ["orders"] });
      strictEqual(meta.topics[0]?.partitions.length, 4);
      await rejects(
        admin.createPartitions({ topicPartitions: [{ topic: "orders", count: 3 }] }),
        (e) => errorTypes(e).includes("INVALID_PARTITIONS"),
      );
      await admin.createPartitions({
        validateOnly: true,
        topicPartitions: [{ topic: "orders", count: 8 }],
      });
      strictEqual((await admin.fetchTopicOffsets("orders")).length, 4);
      // A new producer learns the new partitions from metadata and can write to them.
      const fresh = kafka.producer({ allowAutoTopicCreation: false });
      await fresh.connect();
      try {
        const [sent] = await fresh.send({
          topic: "orders",
          acks: -1,
          messages: [{ value: "new", partition: 3 }],
        });
        strictEqual(sent?.partition, 3);
        strictEqual(sent?.errorCode, 0);
      } finally {
        await fresh.disconnect();
      }
    });

    await t.step("describeCluster names this node as broker and controller", async () => {
      const c = await admin.describeCluster();
      strictEqual(c.brokers.length, 1);
      strictEqual(c.brokers[0]?.port, node.kafkaPort);
      strictEqual(c.controller, c.brokers[0]?.nodeId);
      ok(c.clusterId.length > 0);
    });

    await t.step("deleteTopics removes the topic and its data", async () => {
      await admin.deleteTopics({ topics: ["orders"] });
      ok(!(await admin.listTopics()).includes("orders"));
      await rejects(Deno.stat(`${node.dataDir}/orders-0`));
      await rejects(
        admin.deleteTopics({ topics: ["orders"] }),
        (e) => /UNKNOWN_TOPIC_OR_PARTITION|does not host/i.test(JSON.stringify(e) + String(e)),
      );
    });
  } finally {
    await producer.disconnect().catch(() => {/* the node may be gone already */});
    await admin.disconnect().catch(() => {/* the node may be gone already */});
    await node.stop();
  }
});

/** The confluent-kafka-python side of the test: prints one JSON object of observations. */
const PYTHON_SCRIPT = `
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions, ConfigResource

admin = AdminClient({"bootstrap.servers": sys.argv[1], "socket.timeout.ms": 10000})
out = {}
T = 30

def code_of(f):
    try:
        f.result(timeout=T)
        return "NONE"
    except KafkaException as e:
        return e.args[0].name()

fs = admin.create_topics([NewTopic("py-topic", num_partitions=3, replication_factor=1,
                                   config={"retention.ms": "3600000"})], operation_timeout=10)
out["create"] = code_of(fs["py-topic"])
fs = admin.create_topics([NewTopic("py-topic", num_partitions=1, replication_factor=1)])
out["create_again"] = code_of(fs["py-topic"])
fs = admin.create_topics([NewTopic("py-rf3", num_partitions=1, replication_factor=3)])
out["create_rf3"] = code_of(fs["py-rf3"])
fs = admin.create_topics([NewTopic("py-dry", num_partitions=1, replication_factor=1)],
                         validate_only=True)
out["create_dry"] = code_of(fs["py-dry"])

def describe(name):
    res = ConfigResource(ConfigResource.Type.TOPIC, name)
    entries = admin.describe_configs([res])[res].result(timeout=T)
    return {k: [v.value, v.is_default, int(v.source)] for k, v in entries.items()}

out["describe"] = describe("py-topic")
res = ConfigResource(ConfigResource.Type.BROKER, "0")
out["describe_broker"] = sorted(admin.describe_configs([res])[res].result(timeout=T).keys())

res = ConfigResource(ConfigResource.Type.TOPIC, "py-topic",
                     set_config={"retention.bytes": "1048576"})
out["alter"] = code_of(admin.alter_configs([res])[res])
out["describe_after_alter"] = describe("py-topic")
res = ConfigResource(ConfigResource.Type.TOPIC, "py-topic", set_config={"segment.bytes": "1"})
out["alter_bad"] = code_of(admin.alter_configs([res])[res])

fs = admin.create_partitions([NewPartitions("py-topic", 5)])
out["partitions"] = code_of(fs["py-topic"])
md = admin.list_topics(timeout=T)
out["listed"] = {n: len(t.partitions) for n, t in md.topics.items()}
out["brokers"] = [b.id for b in md.brokers.values()]
fs = admin.delete_topics(["py-topic"], operation_timeout=10)
out["delete"] = code_of(fs["py-topic"])
fs = admin.delete_topics(["py-topic"])
out["delete_again"] = code_of(fs["py-topic"])
out["listed_after"] = sorted(admin.list_topics(timeout=T).topics.keys())
print(json.dumps(out))
`;

Deno.test("confluent-kafka-python AdminClient manages topics and configs", async () => {
  const node = await startPyralog();
  try {
    const run = await new Deno.Command(PYTHON, {
      args: ["-c", PYTHON_SCRIPT, node.bootstrap],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(PYTHON_LIMIT_MS),
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    strictEqual(run.code, 0, stderr);
    const out = JSON.parse(new TextDecoder().decode(run.stdout));
    strictEqual(out.create, "NONE");
    strictEqual(out.create_again, "TOPIC_ALREADY_EXISTS");
    strictEqual(out.create_rf3, "INVALID_REPLICATION_FACTOR");
    strictEqual(out.create_dry, "NONE");
    // Source 1 = DYNAMIC_TOPIC_CONFIG, 5 = DEFAULT_CONFIG.
    deepStrictEqual(out.describe["retention.ms"], ["3600000", false, 1]);
    deepStrictEqual(out.describe["retention.bytes"], ["-1", true, 5]);
    ok(out.describe_broker.includes("broker.id"));
    strictEqual(out.alter, "NONE");
    deepStrictEqual(out.describe_after_alter["retention.bytes"], ["1048576", false, 1]);
    // AlterConfigs replaces the whole set: retention.ms went back to its default.
    deepStrictEqual(out.describe_after_alter["retention.ms"], ["604800000", true, 5]);
    strictEqual(out.alter_bad, "INVALID_CONFIG");
    strictEqual(out.partitions, "NONE");
    strictEqual(out.listed["py-topic"], 5);
    ok(!("py-dry" in out.listed));
    strictEqual(out.brokers.length, 1);
    strictEqual(out.delete, "NONE");
    strictEqual(out.delete_again, "UNKNOWN_TOPIC_OR_PART");
    ok(!out.listed_after.includes("py-topic"));
  } finally {
    await node.stop();
  }
});

/** kafka-python 2.0.2's KafkaAdminClient (it guesses the broker version, then picks versions). */
const KAFKA_PYTHON_SCRIPT = `
import json, sys
from kafka.admin import (KafkaAdminClient, NewTopic, NewPartitions, ConfigResource,
                         ConfigResourceType)
from kafka.errors import KafkaError
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=10000,
                         api_version_auto_timeout_ms=10000)
out = {}
r = admin.create_topics([NewTopic("kp", 2, 1, topic_configs={"retention.ms": "1000"})])
out["create"] = [list(x) for x in r.topic_errors]
try:
    admin.create_topics([NewTopic("kp", 2, 1)])
    out["create_again"] = "NONE"
except KafkaError as e:
    out["create_again"] = type(e).__name__
r = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp")])
out["describe"] = {c[0]: c[1] for c in r[0].resources[0][4]}
r = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp",
                                        configs={"retention.ms": "2000"})])
out["alter"] = [list(x) for x in r.resources]
r = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp")])
out["describe_after"] = {c[0]: c[1] for c in r[0].resources[0][4]}
r = admin.create_partitions({"kp": NewPartitions(4)})
out["partitions"] = [list(x) for x in r.topic_errors]
r = admin.delete_topics(["kp"])
out["delete"] = [list(x) for x in r.topic_error_codes]
out["listed"] = admin.list_topics()
admin.close()
print(json.dumps(out))
`;

Deno.test("kafka-python KafkaAdminClient manages topics and configs", async () => {
  const node = await startPyralog();
  try {
    const run = await new Deno.Command(PYTHON, {
      args: ["-c", KAFKA_PYTHON_SCRIPT, node.bootstrap],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(PYTHON_LIMIT_MS),
    }).output();
    strictEqual(run.code, 0, new TextDecoder().decode(run.stderr));
    const out = JSON.parse(new TextDecoder().decode(run.stdout));
    deepStrictEqual(out.create, [["kp", 0, null]]);
    strictEqual(out.create_again, "TopicAlreadyExistsError");
    strictEqual(out.describe["retention.ms"], "1000");
    strictEqual(out.describe["segment.bytes"], "1073741824");
    deepStrictEqual(out.alter, [[0, null, 2, "kp"]]);
    strictEqual(out.describe_after["retention.ms"], "2000");
    deepStrictEqual(out.partitions, [["kp", 0, null]]);
    deepStrictEqual(out.delete, [["kp", 0]]);
    deepStrictEqual(out.listed, []);
  } finally {
    await node.stop();
  }
});

/** Reads exactly `n` bytes from `conn` (bounded by the connection closing). */
async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let done = 0;
  while (done < n) {
    const got = await conn.read(out.subarray(done));
    if (got === null) throw new Error(`Connection closed after ${done} of ${n} bytes`);
    done += got;
  }
  return out;
}

/** Sends one request on `conn` and decodes its answer with Pyralog's own codec. */
async function roundTrip<N extends ApiName>(
  conn: Deno.Conn,
  api: N,
  version: number,
  body: RequestInput<N>,
): Promise<ResponseOf<N>> {
  await conn.write(encodeRequest(api, version, { correlationId: 9, clientId: "raw" }, body));
  const size = new DataView((await readExactly(conn, 4)).buffer).getInt32(0);
  const r = decodeResponseFrame(api, version, await readExactly(conn, size));
  strictEqual(r.correlationId, 9);
  return r.body;
}

Deno.test("APIs no installed client sends answer raw frames from a real process", async () => {
  const node = await startPyralog();
  const kafka = kafkaFor(node.bootstrap);
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let conn: Deno.Conn | null = null;
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "raw", numPartitions: 1 }] });
    await producer.connect();
    await producer.send({ topic: "raw", acks: -1, messages: [{ value: "a" }, { value: "b" }] });
    conn = await Deno.connect({ hostname: "127.0.0.1", port: node.kafkaPort });
    const versions = await roundTrip(conn, "ApiVersions", 3, {
      clientSoftwareName: "raw",
      clientSoftwareVersion: "1",
    });
    const max = new Map(versions.apiKeys.map((k) => [k.apiKey, k.maxVersion]));
    deepStrictEqual([19, 20, 21, 23, 32, 33, 37, 44, 60, 61].map((k) => max.get(k)), [
      7,
      6,
      2,
      4,
      4,
      2,
      3,
      1,
      1,
      0,
    ]);
    const cluster = await roundTrip(conn, "DescribeCluster", 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    strictEqual(cluster.errorCode, 0);
    deepStrictEqual(cluster.brokers.map((b) => b.port), [node.kafkaPort]);
    const epochs = await roundTrip(conn, "OffsetForLeaderEpoch", 4, {
      replicaId: -1,
      topics: [{
        topic: "raw",
        partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }],
      }],
    });
    deepStrictEqual(epochs.topics[0]?.partitions[0], {
      errorCode: 0,
      partition: 0,
      leaderEpoch: 0,
      endOffset: 2n,
    });
    const producers = await roundTrip(conn, "DescribeProducers", 0, {
      topics: [{ name: "raw", partitionIndexes: [0] }],
    });
    const active = producers.topics[0]?.partitions[0]?.activeProducers ?? [];
    strictEqual(active.length, 1);
    strictEqual(active[0]?.lastSequence, 1);
    const altered = await roundTrip(conn, "IncrementalAlterConfigs", 1, {
      resources: [{
        resourceType: 2,
        resourceName: "raw",
        configs: [
          { name: "retention.ms", configOperation: 0, value: "60000" },
          { name: "cleanup.policy", configOperation: 2, value: "delete" },
        ],
      }],
      validateOnly: false,
    });
    strictEqual(altered.responses[0]?.errorCode, 0);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: "raw", configNames: ["retention.ms"] }],
    });
    strictEqual(described.resources[0]?.configEntries[0]?.configValue, "60000");
  } finally {
    conn?.close();
    await producer.disconnect().catch(() => {/* the node may be gone already */});
    await admin.disconnect().catch(() => {/* the node may be gone already */});
    await node.stop();
  }
});
