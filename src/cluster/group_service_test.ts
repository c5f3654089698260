/**
 * GroupService over a real TopicStore in a temporary directory: offsets are appended to
 * `__consumer_offsets` (in the partition murmur2 picks for the group), answered once
 * durable, and replayed by a new service after the store is reopened; tombstones of
 * OffsetDelete and DeleteGroups survive the same way. Waiting JoinGroups end on abort and on
 * close, and the deadline timer does not outlive `close()` (Deno's sanitizers check it).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { decodeBatch } from "../records/mod.ts";
import { TopicStore } from "../storage/mod.ts";
import { withTempDir } from "../testing/temp_dir.ts";
import { createPrng, ManualClock, partitionForKey } from "../util/mod.ts";
import { encodeSubscription } from "./consumer_protocol.ts";
import { GroupService, type OffsetCommitInput, OFFSETS_TOPIC } from "./group_service.ts";
import { decodeOffsetKey } from "./offset_commit_record.ts";

function open(dir: string, clock = new ManualClock()) {
  const store = TopicStore.open(dir, { background: false });
  const groups = new GroupService(store, {
    clock,
    prng: createPrng(1),
    background: false,
    initialRebalanceDelayMs: 0,
  });
  return { store, groups, clock };
}

function commit(groupId: string, partitions: Array<[string, number, number]>): OffsetCommitInput {
  return {
    groupId,
    generationId: -1,
    memberId: "",
    groupInstanceId: null,
    topics: [...new Set(partitions.map(([t]) => t))].map((name) => ({
      name,
      partitions: partitions.filter(([t]) => t === name).map(([, partition, offset]) => ({
        partition,
        offset,
        leaderEpoch: 4,
        metadata: `m${offset}`,
        commitTimestampMs: -1,
      })),
    })),
  };
}

Deno.test("GroupService.commitOffsets appends durably and a new service replays the offsets", async () => {
  await withTempDir(async (dir) => {
    let { store, groups, clock } = open(dir);
    store.createTopic("t", 3);
    const results = await groups.commitOffsets(commit("g", [["t", 0, 10], ["t", 2, 20]]));
    deepStrictEqual(results.map((r) => r.error), [null, null]);
    const info = store.topic(OFFSETS_TOPIC);
    strictEqual(info?.partitions, 10);
    strictEqual(info?.configs["retention.ms"], "-1");
    const p = partitionForKey(new TextEncoder().encode("g"), 10);
    strictEqual(groups.partitionFor("g"), p);
    const log = store.partition(OFFSETS_TOPIC, p);
    strictEqual(log.logEndOffset, 2, "one record per partition, in the group's partition");
    const read = log.read(0, 1 << 20);
    const recs = read.type === "ok" ? decodeBatch(read.bytes).records : [];
    deepStrictEqual(recs.map((r) => r.key && decodeOffsetKey(r.key)), [
      { groupId: "g", topic: "t", partition: 0 },
      { groupId: "g", topic: "t", partition: 2 },
    ]);
    groups.close();
    await store.close();

    ({ store, groups, clock } = open(dir, clock));
    const fetched = groups.fetchOffsets("g", [{ name: "t", partitions: [0, 1, 2] }]);
    deepStrictEqual(fetched[0]?.partitions.map((x) => x.committed?.offset ?? -1), [10, -1, 20]);
    deepStrictEqual(fetched[0]?.partitions[0]?.committed, {
      offset: 10,
      leaderEpoch: 4,
      metadata: "m10",
      commitTimestampMs: clock.nowMs(),
    });
    deepStrictEqual(groups.fetchOffsets("g", null).map((t) => t.partitions.length), [2]);
    deepStrictEqual(groups.coordinator.list().map((g) => [g.groupId, g.state]), [["g", "Empty"]]);

    // DeleteGroups writes tombstones: after another restart the group is gone.
    deepStrictEqual(await groups.deleteGroups(["g", "g"]), [
      { groupId: "g", error: null },
      { groupId: "g", error: "group_id_not_found" },
    ]);
    groups.close();
    await store.close();
    ({ store, groups } = open(dir));
    deepStrictEqual(groups.fetchOffsets("g", null), []);
    strictEqual(groups.coordinator.hasGroup("g"), false);
    groups.close();
    await store.close();
  });
});

Deno.test("GroupService.commitOffsets refuses unknown topics, big metadata and stale members", async () => {
  await withTempDir(async (dir) => {
    const { store, groups } = open(dir);
    store.createTopic("t", 1);
    const input = commit("g", [["t", 0, 1], ["t", 5, 1], ["nope", 0, 1]]);
    const first = input.topics[0]?.partitions[0];
    if (first) first.metadata = "x".repeat(5_000);
    deepStrictEqual((await groups.commitOffsets(input)).map((r) => r.error), [
      "offset_metadata_too_large",
      "unknown_topic",
      "unknown_topic",
    ]);
    strictEqual(store.topic(OFFSETS_TOPIC), undefined, "nothing to store: no offsets topic yet");
    const stale = { ...commit("g2", [["t", 0, 1]]), generationId: 3, memberId: "m" };
    deepStrictEqual((await groups.commitOffsets(stale)).map((r) => r.error), [
      "illegal_generation",
    ]);
    groups.close();
    await store.close();
  });
});

Deno.test("GroupService.deleteOffsets keeps subscribed topics and tombstones the rest", async () => {
  await withTempDir(async (dir) => {
    let { store, groups } = open(dir);
    store.createTopic("t", 1);
    store.createTopic("u", 1);
    await groups.commitOffsets(commit("g", [["t", 0, 1], ["u", 0, 2]]));
    // A live consumer subscribed to "t" joins.
    const joined = await groups.join({
      groupId: "g",
      memberId: "",
      groupInstanceId: null,
      clientId: "c",
      clientHost: "",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: encodeSubscription(["t"]) }],
      requireKnownMemberId: false,
    }, new AbortController().signal);
    strictEqual(joined.type, "ok");
    if (joined.type === "ok") {
      const synced = await groups.sync({
        groupId: "g",
        generationId: joined.generationId,
        memberId: joined.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }, new AbortController().signal);
      deepStrictEqual(synced.type === "ok" && synced.assignment, new Uint8Array(0));
    }
    const r = await groups.deleteOffsets("g", [
      { name: "t", partitions: [0] },
      { name: "u", partitions: [0] },
      { name: "v", partitions: [0] },
    ]);
    deepStrictEqual(r.type === "ok" && r.results.map((x) => x.error), [
      "group_subscribed_to_topic",
      null,
      "unknown_topic",
    ]);
    deepStrictEqual(await groups.deleteOffsets("nope", []), {
      type: "error",
      error: "group_id_not_found",
    });
    groups.close();
    await store.close();
    ({ store, groups } = open(dir));
    deepStrictEqual(groups.fetchOffsets("g", null).map((t) => t.topic), ["t"]);
    groups.close();
    await store.close();
  });
});

Deno.test("GroupService.join waits are bounded: abort and close answer them", async () => {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    const groups = new GroupService(store, {
      clock: new ManualClock(),
      prng: createPrng(2),
      background: false,
      initialRebalanceDelayMs: 3_000,
    });
    const base = {
      groupId: "g",
      memberId: "",
      groupInstanceId: null,
      clientId: "c",
      clientHost: "",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: new Uint8Array(0) }],
      requireKnownMemberId: false,
    };
    const aborter = new AbortController();
    const waiting = groups.join(base, aborter.signal); // held by the initial delay
    aborter.abort(); // the connection closed: the member is gone
    const aborted = await waiting;
    strictEqual(aborted.type === "error" && aborted.error, "unknown_member_id");
    strictEqual(groups.coordinator.describe("g").members.length, 0);
    const second = groups.join({ ...base, groupId: "h" }, new AbortController().signal);
    groups.close();
    const closed = await second;
    strictEqual(closed.type === "error" && closed.error, "coordinator_not_available");
    const after = await groups.join(base, new AbortController().signal);
    strictEqual(after.type === "error" && after.error, "coordinator_not_available");
    await store.close();
  });
});

Deno.test("GroupService runs its deadline timer until close()", async () => {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    const groups = new GroupService(store, { clock: new ManualClock(), tickMs: 5 });
    ok(groups.ensureOffsetsTopic());
    groups.close();
    groups.close(); // idempotent
    await store.close();
  });
});

Deno.test("GroupService checkpoints a grown offsets partition and replays the same offsets", async () => {
  await withTempDir(async (dir) => {
    const reopen = () => {
      const store = TopicStore.open(dir, { background: false });
      const groups = new GroupService(store, {
        clock: new ManualClock(),
        prng: createPrng(3),
        background: false,
        checkpointMinRecords: 20,
      });
      return { store, groups };
    };
    let { store, groups } = reopen();
    store.createTopic("t", 2);
    // "gone" shares g's partition of __consumer_offsets and is deleted before the checkpoint:
    // its records are cut with the prefix and must not come back.
    const home = groups.partitionFor("g");
    const gone = Array.from({ length: 200 }, (_, i) =>
      `gone-${i}`).find((id) =>
        groups.partitionFor(id) === home
      ) ?? "";
    ok(gone !== "", "some group id shares the partition");
    await groups.commitOffsets(commit(gone, [["t", 0, 1]]));
    deepStrictEqual(await groups.deleteGroups([gone]), [{ groupId: gone, error: null }]);
    for (let i = 0; i < 60; i++) {
      const results = await groups.commitOffsets(commit("g", [["t", i % 2, i]]));
      deepStrictEqual(results.map((r) => r.error), [null]);
    }
    const log = store.partition(OFFSETS_TOPIC, groups.partitionFor("g"));
    ok(log.logStartOffset > 0, "the prefix before a checkpoint is deleted");
    ok(log.logEndOffset - log.logStartOffset <= 40, "at most a checkpoint threshold remains");
    groups.close();
    await store.close();

    ({ store, groups } = reopen());
    deepStrictEqual(
      groups.fetchOffsets("g", null)[0]?.partitions.map((p) => [p.partition, p.committed?.offset]),
      [[0, 58], [1, 59]],
    );
    deepStrictEqual(groups.coordinator.groupIds(), ["g"]);
    groups.close();
    await store.close();
  });
});

Deno.test("GroupService.deleteTopicOffsets tombstones a deleted topic's offsets in every group", async () => {
  await withTempDir(async (dir) => {
    let { store, groups } = open(dir);
    store.createTopic("t", 1);
    store.createTopic("u", 1);
    await groups.commitOffsets(commit("g1", [["t", 0, 1], ["u", 0, 2]]));
    await groups.commitOffsets(commit("g2", [["t", 0, 3]]));
    strictEqual(await groups.deleteTopicOffsets("t"), null);
    deepStrictEqual(groups.fetchOffsets("g1", null).map((t) => t.topic), ["u"]);
    strictEqual(groups.coordinator.hasGroup("g2"), false, "a group left without offsets goes");
    groups.close();
    await store.close();
    ({ store, groups } = open(dir));
    deepStrictEqual(groups.coordinator.groupIds(), ["g1"]);
    groups.close();
    await store.close();
  });
});

Deno.test("GroupService persists membership: a Stable group survives a restart without a rebalance", async () => {
  await withTempDir(async (dir) => {
    const clock = new ManualClock();
    let { store, groups } = open(dir, clock);
    store.createTopic("t", 1);
    const joined = await groups.join({
      groupId: "g",
      memberId: "",
      groupInstanceId: "instance-1",
      clientId: "c",
      clientHost: "/10.0.0.1",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 20_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: encodeSubscription(["t"]) }],
      requireKnownMemberId: true,
    }, new AbortController().signal);
    if (joined.type !== "ok") throw new Error(`join failed: ${JSON.stringify(joined)}`);
    const member = {
      groupId: "g",
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: "instance-1",
    };
    await groups.sync({
      ...member,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: joined.memberId, assignment: new TextEncoder().encode("A") }],
    }, new AbortController().signal);
    await groups.commitOffsets({ ...commit("g", [["t", 0, 7]]), ...member });
    await groups.settled();
    groups.close();
    await store.close();

    ({ store, groups } = open(dir, clock));
    const d = groups.coordinator.describe("g");
    deepStrictEqual(
      [
        d.state,
        d.protocolName,
        d.members.map((m) => [m.memberId, m.groupInstanceId, m.clientHost]),
      ],
      ["Stable", "range", [[joined.memberId, "instance-1", "/10.0.0.1"]]],
    );
    deepStrictEqual(d.members[0]?.assignment, new TextEncoder().encode("A"));
    deepStrictEqual(groups.heartbeat(member), { type: "ok" }, "no rejoin needed");
    strictEqual(groups.fetchOffsets("g", null)[0]?.partitions[0]?.committed?.offset, 7);

    // The member is gone for good: its session expires, the group empties (generation 2).
    clock.advance(10_000);
    groups.tick();
    strictEqual(groups.coordinator.describe("g").state, "Empty");
    await groups.settled();
    groups.close();
    await store.close();

    ({ store, groups } = open(dir, clock));
    deepStrictEqual(
      [groups.coordinator.describe("g").state, groups.coordinator.snapshot("g")?.generationId],
      ["Empty", 2],
    );
    deepStrictEqual(await groups.deleteGroups(["g"]), [{ groupId: "g", error: null }]);
    groups.close();
    await store.close();
    ({ store, groups } = open(dir, clock));
    strictEqual(groups.coordinator.hasGroup("g"), false, "DeleteGroups tombstoned both kinds");
    groups.close();
    await store.close();
  });
});

Deno.test("GroupService checkpoints carry group membership forward", async () => {
  await withTempDir(async (dir) => {
    const reopen = () => {
      const store = TopicStore.open(dir, { background: false });
      const groups = new GroupService(store, {
        clock: new ManualClock(),
        prng: createPrng(4),
        background: false,
        initialRebalanceDelayMs: 0,
        checkpointMinRecords: 10,
      });
      return { store, groups };
    };
    let { store, groups } = reopen();
    store.createTopic("t", 1);
    const joined = await groups.join({
      groupId: "g",
      memberId: "",
      groupInstanceId: null,
      clientId: "c",
      clientHost: "",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: new Uint8Array(0) }],
      requireKnownMemberId: false,
    }, new AbortController().signal);
    if (joined.type !== "ok") throw new Error("join failed");
    const member = {
      groupId: "g",
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
    };
    await groups.sync(
      { ...member, protocolType: null, protocolName: null, assignments: [] },
      new AbortController().signal,
    );
    await groups.settled();
    for (let i = 0; i < 40; i++) {
      await groups.commitOffsets({ ...commit("g", [["t", 0, i]]), ...member });
    }
    ok(store.partition(OFFSETS_TOPIC, groups.partitionFor("g")).logStartOffset > 0, "checkpointed");
    groups.close();
    await store.close();
    ({ store, groups } = reopen());
    deepStrictEqual(groups.coordinator.describe("g").members.map((m) => m.memberId), [
      joined.memberId,
    ]);
    strictEqual(groups.fetchOffsets("g", null)[0]?.partitions[0]?.committed?.offset, 39);
    groups.close();
    await store.close();
  });
});
