/**
 * GroupMember over a real GroupService (manual clock, no deadline timer, no initial
 * rebalance delay): joining through MEMBER_ID_REQUIRED, the leader's range assignment, two
 * members splitting a topic after a heartbeat learns of the rebalance, commits with the
 * generation, rejoining after session expiry, refusals, and that neither the heartbeat timer
 * nor the group membership outlives `close()` or the node's shutdown.
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { TopicStore } from "../storage/mod.ts";
import { withTempDir } from "../testing/temp_dir.ts";
import { createPrng, ManualClock } from "../util/mod.ts";
import { type AssignedPartitions, parseConsumerAssignment } from "./consumer_assignment.ts";
import { encodeSubscription } from "./consumer_protocol.ts";
import { GroupMember, GroupMemberError, type GroupMemberOptions } from "./group_member.ts";
import { GroupService } from "./group_service.ts";

async function withGroups(
  fn: (groups: GroupService, store: TopicStore, clock: ManualClock) => Promise<void>,
) {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    store.createTopic("t", 4);
    const clock = new ManualClock();
    const groups = new GroupService(store, {
      clock,
      prng: createPrng(7),
      background: false,
      initialRebalanceDelayMs: 0,
    });
    try {
      await fn(groups, store, clock);
    } finally {
      groups.close();
      await store.close();
    }
  });
}

function member(
  groups: GroupService,
  store: TopicStore,
  extra: Partial<GroupMemberOptions> = {},
): GroupMember {
  return new GroupMember({
    groups,
    groupId: "g",
    topics: ["t"],
    partitionCount: (t) => store.topic(t)?.partitions ?? 0,
    background: false,
    ...extra,
  });
}

/** Lets pending promises run until the group is in `state` (bounded). */
async function untilState(groups: GroupService, state: string): Promise<void> {
  for (let i = 0; i < 100 && groups.coordinator.describe("g").state !== state; i++) {
    await new Promise((r) => setTimeout(r, 0));
  }
  strictEqual(groups.coordinator.describe("g").state, state);
}

const partitionsOf = (m: GroupMember) => m.assignment.flatMap((a) => a.partitions);

Deno.test("GroupMember joins through MEMBER_ID_REQUIRED and, as leader, takes every partition", async () => {
  await withGroups(async (groups, store) => {
    const m = member(groups, store, { clientId: "rest" });
    ok(!m.isStable);
    await m.ensureJoined();
    ok(m.isStable);
    strictEqual(m.generationId, 1);
    ok(m.memberId.startsWith("rest-"), m.memberId);
    deepStrictEqual(m.assignment, [{ topic: "t", partitions: [0, 1, 2, 3] }]);
    const d = groups.coordinator.describe("g");
    deepStrictEqual([d.state, d.protocolType, d.protocolName], ["Stable", "consumer", "range"]);
    strictEqual(d.members[0]?.memberId, m.memberId);
    await m.close();
    strictEqual(groups.coordinator.describe("g").state, "Empty", "close leaves the group");
  });
});

Deno.test("GroupMember: two members split a topic once a heartbeat learns of the rebalance", async () => {
  await withGroups(async (groups, store) => {
    const revoked: AssignedPartitions[][] = [];
    const a = member(groups, store, {
      clientId: "a",
      onRevoke: (r) => {
        revoked.push([...r]);
        return Promise.resolve();
      },
    });
    await a.ensureJoined();
    const b = member(groups, store, { clientId: "b" });
    const joiningB = b.ensureJoined(); // waits for `a` to rejoin
    await untilState(groups, "PreparingRebalance");
    ok(!b.isStable);
    await a.heartbeat(); // REBALANCE_IN_PROGRESS: `a` gives up its partitions and rejoins
    await joiningB;
    ok(a.isStable && b.isStable);
    strictEqual(a.generationId, 2);
    strictEqual(b.generationId, 2);
    deepStrictEqual(revoked, [[{ topic: "t", partitions: [0, 1, 2, 3] }]]);
    // Range: members sorted by id, two partitions each.
    const [first, second] = [a, b].sort((x, y) => x.memberId < y.memberId ? -1 : 1);
    deepStrictEqual(first && partitionsOf(first), [0, 1]);
    deepStrictEqual(second && partitionsOf(second), [2, 3]);
    // `b` leaves: `a` learns of it at its next heartbeat and takes everything back.
    await b.close();
    await a.heartbeat();
    deepStrictEqual(partitionsOf(a), [0, 1, 2, 3]);
    strictEqual(a.generationId, 3);
    await a.close();
  });
});

Deno.test("GroupMember.commit uses its generation; a stale one marks the member for rejoining", async () => {
  await withGroups(async (groups, store) => {
    const a = member(groups, store);
    await a.ensureJoined();
    deepStrictEqual(
      (await a.commit([{ topic: "t", partition: 1, offset: 5, metadata: "m" }])).map((r) =>
        r.error
      ),
      [null],
    );
    deepStrictEqual(
      groups.fetchOffsets("g", [{ name: "t", partitions: [1] }])[0]?.partitions[0]
        ?.committed?.offset,
      5,
    );
    const b = member(groups, store);
    const joiningB = b.ensureJoined();
    await untilState(groups, "PreparingRebalance");
    // The group is rebalancing: Kafka accepts commits of the current generation meanwhile.
    deepStrictEqual(
      (await a.commit([{ topic: "t", partition: 1, offset: 6 }])).map((r) => r.error),
      [
        null,
      ],
    );
    await a.heartbeat();
    await joiningB;
    await b.close();
    // A member that never joined is refused, and marked for joining.
    const stale = new GroupMember({
      groups,
      groupId: "g",
      topics: ["t"],
      partitionCount: () => 4,
      background: false,
    });
    deepStrictEqual(
      (await stale.commit([{ topic: "t", partition: 0, offset: 1 }])).map((r) => r.error),
      ["unknown_member_id"],
    );
    ok(!stale.isStable);
    await a.heartbeat();
    strictEqual(a.generationId, 3);
    deepStrictEqual(
      (await a.commit([{ topic: "t", partition: 0, offset: 9 }])).map((r) => r.error),
      [
        null,
      ],
    );
    await a.close();
    await stale.close();
  });
});

Deno.test("GroupMember rejoins with a new id after its session expired", async () => {
  await withGroups(async (groups, store, clock) => {
    const a = member(groups, store, { sessionTimeoutMs: 10_000 });
    await a.ensureJoined();
    const firstId = a.memberId;
    clock.advance(10_000);
    groups.tick();
    strictEqual(groups.coordinator.describe("g").members.length, 0, "expired");
    await a.heartbeat(); // UNKNOWN_MEMBER_ID: join again as a new member
    ok(a.isStable);
    ok(a.memberId !== firstId && a.memberId !== "", a.memberId);
    deepStrictEqual(partitionsOf(a), [0, 1, 2, 3]);
    await a.close();
  });
});

Deno.test("GroupMember: a refusal ends joining with its kind; a closed member refuses", async () => {
  await withGroups(async (groups, store) => {
    const bad = member(groups, store, { sessionTimeoutMs: 1_000 });
    await rejects(bad.ensureJoined(), (e) => {
      ok(e instanceof GroupMemberError);
      strictEqual(e.kind, "invalid_session_timeout");
      return true;
    });
    await bad.close();
    await rejects(bad.ensureJoined(), GroupMemberError);
    // A subscription change rejoins with the new topics.
    store.createTopic("u", 2);
    const m = member(groups, store);
    await m.ensureJoined();
    m.subscribe(["u"]);
    ok(!m.isStable);
    await m.ensureJoined();
    deepStrictEqual(m.assignment, [{ topic: "u", partitions: [0, 1] }]);
    deepStrictEqual(m.topics, ["u"]);
    await m.close();
  });
});

Deno.test("GroupMember's heartbeat timer joins, beats, and stops on close and on shutdown", async () => {
  await withGroups(async (groups, store) => {
    const a = member(groups, store, { background: true, heartbeatIntervalMs: 5 });
    a.start();
    // Bounded: the background join completes within a few beats.
    for (let i = 0; i < 200 && !a.isStable; i++) await new Promise((r) => setTimeout(r, 5));
    ok(a.isStable);
    await a.close();
    strictEqual(groups.coordinator.describe("g").state, "Empty");

    const shutdown = new AbortController();
    const b = member(groups, store, {
      background: true,
      heartbeatIntervalMs: 5,
      signal: shutdown.signal,
    });
    b.start();
    for (let i = 0; i < 200 && !b.isStable; i++) await new Promise((r) => setTimeout(r, 5));
    ok(b.isStable);
    shutdown.abort(); // no timer may be left: Deno's sanitizer fails the test otherwise
    ok(b.isClosed);
    await b.close();
    strictEqual(groups.coordinator.describe("g").state, "Empty");
  });
});

Deno.test("GroupMember leads a group whose other member offers only kafkajs's round robin", async () => {
  await withGroups(async (groups, store) => {
    const a = member(groups, store, { clientId: "a" });
    await a.ensureJoined();
    // A kafkajs-like member: its only protocol is "RoundRobinAssigner".
    const join = groups.join({
      groupId: "g",
      memberId: "",
      groupInstanceId: null,
      clientId: "kafkajs",
      clientHost: "",
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: "consumer",
      protocols: [{ name: "RoundRobinAssigner", metadata: encodeSubscription(["t"]) }],
      requireKnownMemberId: false,
    }, new AbortController().signal);
    await untilState(groups, "PreparingRebalance");
    await a.heartbeat(); // rejoins; the group completes and `a` (the leader) assigns
    const joined = await join;
    strictEqual(joined.type, "ok");
    if (joined.type !== "ok") return;
    strictEqual(joined.protocolName, "RoundRobinAssigner");
    const synced = await groups.sync({
      groupId: "g",
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "RoundRobinAssigner",
      assignments: [],
    }, new AbortController().signal);
    strictEqual(synced.type, "ok");
    const theirs = synced.type === "ok" ? parseConsumerAssignment(synced.assignment) : null;
    const mine = partitionsOf(a);
    const other = (theirs ?? []).flatMap((x) => x.partitions);
    strictEqual(mine.length, 2);
    deepStrictEqual([...mine, ...other].sort(), [0, 1, 2, 3]);
    await a.close();
  });
});

Deno.test("GroupMember: a subscription change during a join is joined right after it", async () => {
  await withGroups(async (groups, store) => {
    store.createTopic("u", 2);
    const a = member(groups, store);
    await a.ensureJoined();
    const b = member(groups, store);
    const joiningB = b.ensureJoined();
    await untilState(groups, "PreparingRebalance");
    b.subscribe(["u"]); // while its join (for "t") waits for `a`
    await a.heartbeat(); // generation 2 completes with b on "t"; b owes a rejoin for "u"
    await untilState(groups, "PreparingRebalance");
    await a.heartbeat();
    await joiningB;
    ok(b.isStable);
    deepStrictEqual(b.assignment, [{ topic: "u", partitions: [0, 1] }]);
    deepStrictEqual(a.assignment, [{ topic: "t", partitions: [0, 1, 2, 3] }]);
    await a.close();
    await b.close();
  });
});
