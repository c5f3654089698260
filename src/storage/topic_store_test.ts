/**
 * TopicStore: a deleted topic's name is not reusable while its data is being removed, and a
 * recreated topic (or a new partition) never inherits a deleted topic's records, even when a
 * crash left the old directories behind.
 */
import { ok, rejects, strictEqual, throws } from "node:assert/strict";
import fs from "node:fs";
import { textBatch, withTempDir } from "../testing/temp_dir.ts";
import { ManualClock } from "../util/mod.ts";
import { TopicError, TopicStore } from "./topic_store.ts";

Deno.test("TopicStore.createTopic refuses a name whose deletion is still running", async () => {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    try {
      store.createTopic("t");
      await store.partition("t", 0).append(textBatch("old", 3));
      const deleting = store.deleteTopic("t");
      throws(
        () => store.createTopic("t"),
        (e) =>
          e instanceof TopicError && e.code === "topic_exists" && /being deleted/.test(e.message),
      );
      await deleting;
      store.createTopic("t");
      const log = store.partition("t", 0);
      strictEqual(log.logEndOffset, 0);
      await log.append(textBatch("new", 1));
      strictEqual(log.logEndOffset, 1);
      await rejects(store.deleteTopic("missing"), TopicError);
    } finally {
      await store.close();
    }
  });
});

Deno.test("TopicStore.createTopic and createPartitions start empty over a crashed deletion's leftovers", async () => {
  await withTempDir(async (dir) => {
    const first = TopicStore.open(dir, { background: false });
    first.createTopic("t", 3);
    for (let p = 0; p < 3; p++) await first.partition("t", p).append(textBatch(`p${p}`, 2));
    await first.close();
    // A crash after topics.json forgot the topic but before its directories were removed.
    fs.writeFileSync(`${dir}/topics.json`, JSON.stringify({ version: 1, topics: [] }));
    ok(fs.existsSync(`${dir}/t-2`));
    const store = TopicStore.open(dir, { background: false });
    try {
      store.createTopic("t", 1);
      strictEqual(store.partition("t", 0).logEndOffset, 0);
      store.createPartitions("t", 3);
      strictEqual(store.partition("t", 1).logEndOffset, 0);
      strictEqual(store.partition("t", 2).logEndOffset, 0);
    } finally {
      await store.close();
    }
  });
});

Deno.test("TopicStore retention also trims partitions nobody opened since a restart", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock(1_000_000);
    const configs = { "retention.ms": "1000", "segment.bytes": "1024" };
    const first = TopicStore.open(dir, {
      clock,
      background: false,
      logDefaults: { fsync: "never" },
    });
    first.createTopic("old", 1, configs);
    const log = first.partition("old", 0);
    for (let i = 0; i < 40; i++) await log.append(textBatch(`r${i}`, 2, 1_000_000));
    await first.close();
    clock.advance(10_000);
    const again = TopicStore.open(dir, {
      clock,
      background: false,
      logDefaults: { fsync: "never" },
    });
    strictEqual(again.openLogCount, 0);
    ok(again.applyRetention() > 0, "closed segments past retention.ms are deleted");
    ok(again.partition("old", 0).logStartOffset > 0);
    await again.close();
  });
});
