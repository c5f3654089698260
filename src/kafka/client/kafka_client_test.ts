/**
 * Integration tests of the client against a real `main.ts serve` process (and two tiny local
 * listeners for failures): connect errors, negotiation, pipelining under the in-flight bound,
 * request timeouts, produce with the murmur2 partitioner, fetch, list offsets, admin calls,
 * and two group members sharing a topic through a rebalance. Ports come from the OS; every
 * process and listener is closed in `finally`; every wait is bounded.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { startPyralog } from "../../../tests/helpers/pyralog_process.ts";
import { buildBatch, decodeBatch, iterateBatches } from "../../records/mod.ts";
import { partitionForKey, TransportError } from "../../util/mod.ts";
import { BrokerConnection } from "./broker_connection.ts";
import { GroupConsumer } from "./group_consumer.ts";
import { EARLIEST_TIMESTAMP, KafkaClient, LATEST_TIMESTAMP } from "./kafka_client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A port nothing listens on: bound, then closed. */
function refusedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

Deno.test("BrokerConnection reports a refused port in one line", async () => {
  const port = refusedPort();
  await rejects(
    BrokerConnection.connect({ host: "127.0.0.1", port }),
    (e: unknown) =>
      e instanceof TransportError &&
      e.message === `Cannot connect to "127.0.0.1:${port}": connection refused`,
  );
});

Deno.test("BrokerConnection times out a broker that never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) accepted.push(c); // read nothing, answer nothing
  })().catch(() => {/* the listener closes at the end of the test */});
  try {
    await rejects(
      BrokerConnection.connect({
        host: "127.0.0.1",
        port: listener.addr.port,
        requestTimeoutMs: 200,
      }),
      /Request ApiVersions to "127\.0\.0\.1:\d+" timed out after 200 ms/,
    );
  } finally {
    listener.close();
    for (const c of accepted) c.close();
    await accepting;
  }
});

Deno.test("KafkaClient against a real node", async (t) => {
  const node = await startPyralog();
  const client = await KafkaClient.connect({
    brokers: [{ host: "127.0.0.1", port: node.kafkaPort }],
  });
  try {
    await t.step("negotiates versions and pipelines under the in-flight bound", async () => {
      strictEqual(client.bootstrap.versions.versionOf("Metadata"), 12);
      const conn = await BrokerConnection.connect({
        host: "127.0.0.1",
        port: node.kafkaPort,
        maxInFlight: 4,
      });
      try {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => conn.request("Metadata", { topics: [] })),
        );
        strictEqual(answers.length, 50);
        ok(answers.every((a) => a.body.brokers.length === 1));
      } finally {
        await conn.close();
      }
    });

    await t.step("creates a topic, produces by key, fetches and lists offsets", async () => {
      const [created] = await client.createTopics([{
        name: "keys",
        partitions: 3,
        replicationFactor: 1,
      }]);
      strictEqual(created?.errorCode, 0);
      const info = await client.topic("keys");
      strictEqual(info.partitions.length, 3);
      const before = Date.now();
      const keys = ["alpha", "beta", "gamma", "delta", "epsilon"];
      const byPartition = new Map<number, string[]>();
      for (const k of keys) {
        const p = partitionForKey(enc.encode(k), 3);
        byPartition.set(p, [...(byPartition.get(p) ?? []), k]);
      }
      const results = await client.produce(
        "keys",
        [...byPartition].map(([partition, ks]) => ({
          partition,
          records: buildBatch({
            records: ks.map((k) => ({ key: enc.encode(k), value: enc.encode(`v-${k}`) })),
            baseTimestampMs: Date.now(),
          }),
        })),
        -1,
      );
      ok(results.every((r) => r.errorCode === 0 && r.baseOffset === 0));
      const fetched = await client.fetch(
        [0, 1, 2].map((partition) => ({ topic: "keys", partition, offset: 0 })),
        { maxWaitMs: 100 },
      );
      for (const f of fetched) {
        const got: string[] = [];
        for (const frame of iterateBatches(f.records ?? new Uint8Array())) {
          for (const r of decodeBatch(frame.bytes).records) {
            got.push(dec.decode(r.key ?? new Uint8Array()));
          }
        }
        deepStrictEqual(got, byPartition.get(f.partition) ?? []);
        strictEqual(f.highWatermark, got.length);
      }
      const p = [...byPartition.keys()][0] ?? 0;
      const earliest = await client.listOffsets("keys", [p], EARLIEST_TIMESTAMP);
      const latest = await client.listOffsets("keys", [p], LATEST_TIMESTAMP);
      const byTime = await client.listOffsets("keys", [p], BigInt(before));
      strictEqual(earliest[0]?.offset, 0);
      strictEqual(latest[0]?.offset, byPartition.get(p)?.length);
      strictEqual(byTime[0]?.offset, 0);
    });

    await t.step("alters and describes configs, deletes the topic", async () => {
      await client.alterTopicConfigs("keys", { "retention.ms": "60000" }, []);
      const configs = await client.describeTopicConfigs("keys");
      strictEqual(configs.find((c) => c.name === "retention.ms")?.value, "60000");
      const [deleted] = await client.deleteTopics(["keys"]);
      strictEqual(deleted?.errorCode, 0);
      const md = await client.metadata(["keys"]);
      strictEqual(md.topics[0]?.errorCode, 3);
    });

    await t.step("two group members split a topic through a rebalance", async () => {
      await client.createTopics([{ name: "shared", partitions: 2, replicationFactor: 1 }]);
      const opts = { groupId: "pair", topics: ["shared"], heartbeatIntervalMs: 100 };
      const first = await GroupConsumer.join(client, opts);
      try {
        deepStrictEqual(first.assignment.get("shared"), [0, 1]);
        await first.commit([{ topic: "shared", partition: 1, offset: 7 }]);
        const joining = GroupConsumer.join(client, opts);
        // Bounded: the first member learns of the rebalance from a heartbeat.
        for (let i = 0; i < 200 && !first.needsRejoin; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        ok(first.needsRejoin, "the first member never saw the rebalance");
        const [, second] = await Promise.all([first.rejoin(), joining]);
        try {
          const parts = [first, second].map((m) => m.assignment.get("shared") ?? []).sort();
          deepStrictEqual(parts, [[0], [1]]);
          strictEqual(first.generationId, second.generationId);
          const owner = first.assignment.get("shared")?.[0] === 1 ? first : second;
          deepStrictEqual(await owner.committed(), [{ topic: "shared", partition: 1, offset: 7 }]);
        } finally {
          await second.leave();
        }
      } finally {
        await first.leave();
      }
      const d = await client.describeGroup("pair");
      strictEqual(d.members.length, 0);
    });
  } finally {
    await client.close();
    await node.stop();
  }
});
