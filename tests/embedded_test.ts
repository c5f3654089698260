/**
 * The embedded API (`mod.ts`) as a library user sees it: topics, keyed partitioning, headers,
 * timestamps, persistence across reopen, and clear errors for bad input.
 */
import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { openLog, StorageError, TopicError } from "../mod.ts";
import { partitionForKey } from "../src/util/mod.ts";
import { withTempDir } from "../src/testing/temp_dir.ts";

const enc = new TextEncoder(), dec = new TextDecoder();
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

Deno.test("embedded log partitions by key like Kafka and keeps order per key", async () => {
  await withTempDir(async (dir) => {
    const log = openLog(dir);
    log.createTopic("t", { partitions: 4 });
    const recs = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    const pos = await log.append("t", recs);
    pos.forEach((p, i) => strictEqual(p.partition, partitionForKey(enc.encode(`k${i % 5}`), 4)));
    for (let p = 0; p < 4; p++) {
      const { records } = log.read("t", p, 0);
      const expected = recs.filter((r) => partitionForKey(enc.encode(r.key), 4) === p).map((r) =>
        r.value
      );
      deepStrictEqual(records.map((r) => text(r.value)), expected);
    }
    await log.close();
  });
});

Deno.test("embedded log round-trips keys, null values, headers and timestamps across reopen", async () => {
  await withTempDir(async (dir) => {
    const log = openLog(dir);
    await log.append("auto", [
      { key: null, value: "a", timestamp: 1000, headers: { h1: "x", h2: null } },
      { key: enc.encode("bin"), value: null, timestamp: 2000 },
      { value: "c", timestamp: 3000, partition: 0 },
    ]);
    await log.close();
    const again = openLog(dir);
    deepStrictEqual(again.topics().map((t) => [t.name, t.partitions]), [["auto", 1]]);
    const { records, nextOffset } = again.read("auto", 0, 0);
    strictEqual(nextOffset, 3);
    deepStrictEqual(records.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value)]), [
      [0, 1000, null, "a"],
      [1, 2000, "bin", null],
      [2, 3000, null, "c"],
    ]);
    deepStrictEqual(Object.keys(records[0]?.headers ?? {}), ["h1", "h2"]);
    strictEqual(text(records[0]?.headers.h1 ?? null), "x");
    strictEqual(again.offsetForTimestamp("auto", 0, 1500), 1);
    strictEqual(again.offsetForTimestamp("auto", 0, 3001), null);
    deepStrictEqual(again.read("auto", 0, 1, { maxRecords: 1 }).records.map((r) => r.offset), [1]);
    strictEqual(again.read("auto", 0, 1, { maxRecords: 1 }).nextOffset, 2);
    await again.close();
  });
});

Deno.test("embedded log honours LogAppendTime and deleteRecordsBefore", async () => {
  await withTempDir(async (dir) => {
    const log = openLog(dir);
    log.createTopic("lat", { configs: { "message.timestamp.type": "LogAppendTime" } });
    const before = Date.now();
    await log.append("lat", [{ value: "x", timestamp: 5 }]);
    const [r] = log.read("lat", 0, 0).records;
    ok(r && r.timestamp >= before, `timestamp ${r?.timestamp}`);
    await log.append("lat", [{ value: "y" }, { value: "z" }]);
    log.deleteRecordsBefore("lat", 0, 2);
    deepStrictEqual(log.offsets("lat", 0), { start: 2, end: 3 });
    deepStrictEqual(log.read("lat", 0, 2).records.map((x) => text(x.value)), ["z"]);
    throws(() => log.read("lat", 0, 0), RangeError);
    await log.close();
  });
});

Deno.test("embedded log refuses bad names, configs, partitions and unknown topics", async () => {
  await withTempDir(async (dir) => {
    const log = openLog(dir, { autoCreateTopics: false });
    const code = (c: string) => (e: unknown) => e instanceof TopicError && e.code === c;
    throws(() => log.createTopic("bad/name"), code("invalid_topic"));
    throws(() => log.createTopic(".."), code("invalid_topic"));
    throws(() => log.createTopic("x".repeat(250)), code("invalid_topic"));
    throws(() => log.createTopic("t", { partitions: 0 }), code("invalid_partitions"));
    throws(
      () => log.createTopic("t", { configs: { "retention.ms": "soon" } }),
      code("invalid_config"),
    );
    throws(() => log.createTopic("t", { configs: { "no.such": "1" } }), code("invalid_config"));
    throws(
      () => log.createTopic("t", { configs: { "cleanup.policy": "compact" } }),
      code("invalid_config"),
    );
    log.createTopic("t", { partitions: 2 });
    throws(() => log.createTopic("t"), code("topic_exists"));
    await rejects(log.append("missing", [{ value: "v" }]), code("unknown_topic"));
    await rejects(log.append("t", [{ value: "v", partition: 2 }]), code("unknown_topic"));
    await log.deleteTopic("t");
    deepStrictEqual(log.topics(), []);
    await log.close();
    throws(
      () => log.createTopic("late"),
      (e: unknown) => e instanceof StorageError && e.code === "closed",
    );
  });
});
