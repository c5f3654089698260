/** AdminService rules over a real TopicStore, and the KIP-101/KIP-320 epoch lookups. */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { TopicStore } from "../storage/mod.ts";
import { sizedBatch, textBatch, withTempDir } from "../testing/temp_dir.ts";
import { systemClock } from "../util/mod.ts";
import {
  AdminService,
  checkCurrentEpoch,
  endOffsetForEpoch,
  type NewTopic,
} from "./admin_service.ts";
import { LogService } from "./log_service.ts";

const NODE = 1;

async function withAdmin(
  fn: (admin: AdminService, store: TopicStore, logs: LogService) => Promise<void> | void,
): Promise<void> {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false, onWarning: () => {} });
    const logs = new LogService(store, {
      autoCreateTopics: false,
      defaultPartitions: 1,
      clock: systemClock,
    });
    try {
      await fn(new AdminService(store, logs, { nodeId: NODE, defaultPartitions: 2 }), store, logs);
    } finally {
      await store.close();
    }
  });
}

function topic(name: string, over: Partial<NewTopic> = {}): NewTopic {
  return { name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...over };
}

const kindOf = (r: { type: string; kind?: string }) => (r.type === "error" ? r.kind : "ok");

Deno.test("endOffsetForEpoch follows Kafka's LeaderEpochFileCache.endOffsetFor", () => {
  const epochs = [{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 10 }, {
    epoch: 5,
    startOffset: 20,
  }];
  deepStrictEqual(endOffsetForEpoch(5, epochs, 30), { leaderEpoch: 5, endOffset: 30 });
  deepStrictEqual(endOffsetForEpoch(3, epochs, 30), { leaderEpoch: 3, endOffset: 20 });
  // An epoch between known ones ends where the next known one starts.
  deepStrictEqual(endOffsetForEpoch(4, epochs, 30), { leaderEpoch: 3, endOffset: 20 });
  deepStrictEqual(endOffsetForEpoch(6, epochs, 30), { leaderEpoch: -1, endOffset: -1 });
  deepStrictEqual(endOffsetForEpoch(-1, epochs, 30), { leaderEpoch: -1, endOffset: -1 });
  deepStrictEqual(endOffsetForEpoch(-3, epochs, 30), { leaderEpoch: -3, endOffset: 0 });
  deepStrictEqual(endOffsetForEpoch(0, [], 30), { leaderEpoch: -1, endOffset: -1 });
});

Deno.test("checkCurrentEpoch fences older epochs and does not know newer ones (KIP-320)", () => {
  strictEqual(checkCurrentEpoch(-1, 4), null);
  strictEqual(checkCurrentEpoch(4, 4), null);
  strictEqual(checkCurrentEpoch(3, 4)?.kind, "fenced_leader_epoch");
  strictEqual(checkCurrentEpoch(5, 4)?.kind, "unknown_leader_epoch");
});

Deno.test("AdminService.createTopic checks everything before creating", async () => {
  await withAdmin(async (admin, store) => {
    strictEqual(
      kindOf(await admin.createTopic(topic("a", { replicationFactor: 2 }), false)),
      "invalid_replication_factor",
    );
    strictEqual(
      kindOf(await admin.createTopic(topic("a", { replicationFactor: 0 }), false)),
      "invalid_replication_factor",
    );
    strictEqual(
      kindOf(await admin.createTopic(topic("a", { numPartitions: -2 }), false)),
      "invalid_partitions",
    );
    strictEqual(
      kindOf(await admin.createTopic(topic("a", { numPartitions: 10_001 }), false)),
      "invalid_partitions",
    );
    strictEqual(kindOf(await admin.createTopic(topic("a/b"), false)), "invalid_topic");
    strictEqual(
      kindOf(await admin.createTopic(topic("__consumer_offsets"), false)),
      "invalid_request",
    );
    strictEqual(kindOf(await admin.createTopic(topic("__debezium-heartbeat.x"), true)), "ok");
    strictEqual(
      kindOf(
        await admin.createTopic(
          topic("a", { configs: [{ name: "retention.ms", value: null }] }),
          false,
        ),
      ),
      "invalid_config",
    );
    strictEqual(
      kindOf(
        await admin.createTopic(topic("a", { configs: [{ name: "nope", value: "1" }] }), false),
      ),
      "invalid_config",
    );
    strictEqual(
      kindOf(
        await admin.createTopic(
          topic("a", {
            configs: [{ name: "retention.ms", value: "1" }, { name: "retention.ms", value: "2" }],
          }),
          false,
        ),
      ),
      "invalid_request",
    );
    deepStrictEqual(store.listTopics(), []);
    const dry = await admin.createTopic(
      topic("a", { numPartitions: -1, replicationFactor: -1 }),
      true,
    );
    deepStrictEqual(dry, {
      type: "ok",
      id: null,
      partitions: 2,
      replicationFactor: 1,
      configs: {},
    });
    strictEqual(store.topic("a"), undefined);
    const made = await admin.createTopic(
      topic("a", { configs: [{ name: "retention.ms", value: "9" }] }),
      false,
    );
    strictEqual(made.type, "ok");
    if (made.type === "ok") strictEqual(made.id, store.topic("a")?.id);
    strictEqual(kindOf(await admin.createTopic(topic("a"), true)), "topic_exists");
  });
});

Deno.test("AdminService.deleteTopic deletes data and producer state; refuses internal topics", async () => {
  await withAdmin(async (admin, store, logs) => {
    store.createTopic("t");
    store.createTopic("__consumer_offsets");
    await logs.produce("t", 0, textBatch("x", 2));
    strictEqual(admin.topicById(store.topic("t")?.id.toUpperCase() ?? "")?.name, "t");
    strictEqual((await admin.deleteTopic("t")).type, "ok");
    strictEqual(store.topic("t"), undefined);
    strictEqual(kindOf(await admin.deleteTopic("t")), "unknown_topic");
    strictEqual(kindOf(await admin.deleteTopic("__consumer_offsets")), "invalid_request");
    // Recreated under the same name, the topic starts empty.
    store.createTopic("t");
    strictEqual(store.partition("t", 0).logEndOffset, 0);
  });
});

Deno.test("AdminService.alterTopicConfigs replaces or changes incrementally, validated as a whole", async () => {
  await withAdmin(async (admin, store) => {
    store.createTopic("t", 1, { "retention.ms": "5" });
    const inc = await admin.alterTopicConfigs("t", {
      mode: "incremental",
      changes: [{ name: "segment.ms", operation: 0, value: "100" }],
    }, false);
    deepStrictEqual(inc, { type: "ok", configs: { "retention.ms": "5", "segment.ms": "100" } });
    const bad = await admin.alterTopicConfigs("t", {
      mode: "incremental",
      changes: [{ name: "segment.ms", operation: 0, value: "-5" }],
    }, false);
    strictEqual(kindOf(bad), "invalid_config");
    const dry = await admin.alterTopicConfigs("t", { mode: "replace", entries: [] }, true);
    deepStrictEqual(dry, { type: "ok", configs: {} });
    deepStrictEqual(store.topic("t")?.configs, { "retention.ms": "5", "segment.ms": "100" });
    await admin.alterTopicConfigs("t", {
      mode: "replace",
      entries: [{ name: "retention.bytes", value: "1" }],
    }, false);
    deepStrictEqual(store.topic("t")?.configs, { "retention.bytes": "1" });
    strictEqual(
      kindOf(await admin.alterTopicConfigs("u", { mode: "replace", entries: [] }, false)),
      "unknown_topic",
    );
  });
});

Deno.test("AdminService.deleteRecords and offsetForLeaderEpoch follow the log's offsets", async () => {
  await withAdmin(async (admin, store, logs) => {
    store.createTopic("t", 1);
    for (let i = 0; i < 3; i++) await logs.produce("t", 0, textBatch(`b${i}`, 2));
    deepStrictEqual(await admin.deleteRecords("t", 0, 3), { type: "ok", lowWatermark: 3 });
    strictEqual(kindOf(await admin.deleteRecords("t", 0, 7)), "offset_out_of_range");
    strictEqual(kindOf(await admin.deleteRecords("t", 1, 0)), "unknown_topic");
    store.createTopic("__consumer_offsets");
    strictEqual(kindOf(await admin.deleteRecords("__consumer_offsets", 0, 0)), "invalid_topic");
    deepStrictEqual(admin.offsetForLeaderEpoch("t", 0, -1, 0), {
      type: "ok",
      leaderEpoch: 0,
      endOffset: 6,
    });
    deepStrictEqual(admin.offsetForLeaderEpoch("t", 0, -1, -4), {
      type: "ok",
      leaderEpoch: -4,
      endOffset: 3,
    });
    strictEqual(kindOf(admin.offsetForLeaderEpoch("t", 0, 2, 0)), "unknown_leader_epoch");
    deepStrictEqual(await admin.deleteRecords("t", 0, -1), { type: "ok", lowWatermark: 6 });
    ok(store.partition("t", 0).logStartOffset === 6);
  });
});

Deno.test("AdminService.createPartitions grows, validates assignments, honours validateOnly", async () => {
  await withAdmin(async (admin, store) => {
    store.createTopic("t", 2);
    strictEqual(kindOf(await admin.createPartitions("t", 2, null, false)), "invalid_partitions");
    strictEqual(
      kindOf(await admin.createPartitions("t", 4, [[NODE]], false)),
      "invalid_replica_assignment",
    );
    strictEqual(
      kindOf(await admin.createPartitions("t", 3, [[NODE, 2]], false)),
      "invalid_replica_assignment",
    );
    deepStrictEqual(await admin.createPartitions("t", 5, null, true), {
      type: "ok",
      partitions: 5,
    });
    strictEqual(store.topic("t")?.partitions, 2);
    deepStrictEqual(await admin.createPartitions("t", 3, [[NODE]], false), {
      type: "ok",
      partitions: 3,
    });
    strictEqual(store.topic("t")?.partitions, 3);
  });
});

Deno.test("AdminService.alterTopicConfigs takes effect: retention.bytes trims reopened logs", async () => {
  await withAdmin(async (admin, store, logs) => {
    await admin.createTopic(
      topic("t", { configs: [{ name: "segment.bytes", value: "1024" }] }),
      false,
    );
    // Each ~1 kB batch (timestamped now, so retention.ms keeps it) fills a 1 kB segment.
    for (let i = 0; i < 4; i++) {
      strictEqual((await logs.produce("t", 0, sizedBatch(1, 900))).type, "ok");
    }
    strictEqual(store.partition("t", 0).segmentCount, 4);
    store.applyRetention();
    strictEqual(store.partition("t", 0).logStartOffset, 0);
    const r = await admin.alterTopicConfigs("t", {
      mode: "incremental",
      changes: [{ name: "retention.bytes", operation: 0, value: "1000" }],
    }, false);
    strictEqual(r.type, "ok");
    const log = store.partition("t", 0); // reopened with the new settings
    strictEqual(log.config.retentionBytes, 1000);
    ok(store.applyRetention() >= 2);
    ok(log.logStartOffset >= 2, String(log.logStartOffset));
    ok(log.sizeBytes < 2000, String(log.sizeBytes));
  });
});
