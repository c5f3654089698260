/**
 * The consumer-group APIs version by version over a real socket: an in-process broker
 * (`startKafkaBroker`, port 0, temporary data dir, no initial rebalance delay) driven with
 * hand-built requests through the wire client, so every version's fields and error codes are
 * checked as a client sees them: FindCoordinator v0-6, JoinGroup v0-9, SyncGroup v0-5,
 * Heartbeat v0-4, LeaveGroup v0-5, OffsetCommit v0-9, OffsetFetch v0-9, ListGroups v0-5,
 * DescribeGroups v0-5, DeleteGroups v0-2 and OffsetDelete v0.
 *
 * Bounds: every request has a response or the peer closes (WireClient); the broker and
 * store are closed in `finally`; no sleeps: waiting requests are observed as pending
 * promises that settle after a later request.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { encodeSubscription } from "../src/cluster/mod.ts";
import { type KafkaBroker, startKafkaBroker } from "../src/kafka/broker/mod.ts";
import { TopicStore } from "../src/storage/mod.ts";
import { WireClient } from "./clients/wire_client.ts";

/** Kafka error codes the tests expect (protocol guide, "Error Codes"). */
const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  COORDINATOR_NOT_AVAILABLE: 15,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  FENCED_INSTANCE_ID: 82,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
} as const;

const enc = new TextEncoder();
const PROTOCOLS = [{ name: "range", metadata: encodeSubscription(["t"]) }];

async function withBroker(
  fn: (broker: KafkaBroker, connect: () => Promise<WireClient>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-groups-wire-" });
  const store = TopicStore.open(dir, { background: false });
  store.createTopic("t", 3);
  const broker = startKafkaBroker(store, {
    nodeId: 3,
    host: "127.0.0.1",
    port: 0,
    groupInitialRebalanceDelayMs: 0,
    log: () => {},
  });
  const clients: WireClient[] = [];
  const connect = async () => {
    const c = await WireClient.connect("127.0.0.1", broker.addr.port);
    clients.push(c);
    return c;
  };
  try {
    await fn(broker, connect);
  } finally {
    for (const c of clients) await c.close();
    await broker.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function must<T>(v: T | null): T {
  if (v === null) throw new Error("the broker closed the connection");
  return v;
}

/** Joins as a new dynamic member at JoinGroup version `v` (handling KIP-394 from v4). */
async function joinNew(c: WireClient, v: number, groupId: string, instance: string | null = null) {
  const body = {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: "",
    groupInstanceId: instance,
    protocolType: "consumer",
    protocols: PROTOCOLS,
  };
  let r = must(await c.request("JoinGroup", v, body));
  if (v >= 4 && instance === null) {
    strictEqual(r.errorCode, E.MEMBER_ID_REQUIRED, `v${v} asks for a member id first`);
    ok(r.memberId.length > 0);
    r = must(await c.request("JoinGroup", v, { ...body, memberId: r.memberId }));
  }
  return r;
}

Deno.test("FindCoordinator v0-6 answers this node for groups, refuses transactions", async () => {
  await withBroker(async (broker, connect) => {
    const c = await connect();
    for (let v = 0; v <= 6; v++) {
      if (v < 4) {
        const r = must(await c.request("FindCoordinator", v, { key: "g", keyType: 0 }));
        deepStrictEqual([r.errorCode, r.nodeId, r.host, r.port], [
          E.NONE,
          3,
          "127.0.0.1",
          broker.addr.port,
        ]);
        if (v >= 1) {
          const t = must(await c.request("FindCoordinator", v, { key: "tx", keyType: 1 }));
          strictEqual(t.errorCode, E.COORDINATOR_NOT_AVAILABLE);
        }
      } else {
        const r = must(
          await c.request("FindCoordinator", v, { coordinatorKeys: ["a", "b"], keyType: 0 }),
        );
        deepStrictEqual(r.coordinators.map((x) => [x.key, x.errorCode, x.nodeId, x.port]), [
          ["a", E.NONE, 3, broker.addr.port],
          ["b", E.NONE, 3, broker.addr.port],
        ]);
      }
    }
    strictEqual(broker.context.store.topic("__consumer_offsets")?.partitions, 10);
  });
});

Deno.test("JoinGroup v0-9, SyncGroup, Heartbeat and LeaveGroup: one member's life per version", async () => {
  await withBroker(async (_broker, connect) => {
    const c = await connect();
    for (let v = 0; v <= 9; v++) {
      const groupId = `life-${v}`;
      const j = await joinNew(c, v, groupId);
      strictEqual(j.errorCode, E.NONE);
      strictEqual(j.generationId, 1);
      strictEqual(j.leader, j.memberId);
      strictEqual(j.protocolName, "range");
      strictEqual(j.protocolType, v >= 7 ? "consumer" : null);
      deepStrictEqual(j.members.map((m) => [m.memberId, m.metadata]), [[
        j.memberId,
        PROTOCOLS[0]?.metadata,
      ]]);
      const sv = Math.min(v, 5);
      const s = must(
        await c.request("SyncGroup", sv, {
          groupId,
          generationId: 1,
          memberId: j.memberId,
          protocolType: "consumer",
          protocolName: "range",
          assignments: [{ memberId: j.memberId, assignment: enc.encode(`mine-${v}`) }],
        }),
      );
      strictEqual(s.errorCode, E.NONE);
      deepStrictEqual(s.assignment, enc.encode(`mine-${v}`));
      strictEqual(s.protocolName, sv >= 5 ? "range" : null);
      const hv = Math.min(v, 4);
      const beat = { groupId, generationId: 1, memberId: j.memberId };
      strictEqual(must(await c.request("Heartbeat", hv, beat)).errorCode, E.NONE);
      strictEqual(
        must(await c.request("Heartbeat", hv, { ...beat, generationId: 2 })).errorCode,
        E.ILLEGAL_GENERATION,
      );
      const lv = Math.min(v, 5);
      const leave = must(
        await c.request("LeaveGroup", lv, {
          groupId,
          memberId: j.memberId,
          members: [{ memberId: j.memberId, groupInstanceId: null }, {
            memberId: "ghost",
            groupInstanceId: null,
          }],
        }),
      );
      if (lv >= 3) {
        strictEqual(leave.errorCode, E.NONE);
        deepStrictEqual(leave.members.map((m) => m.errorCode), [E.NONE, E.UNKNOWN_MEMBER_ID]);
      } else {
        strictEqual(leave.errorCode, E.NONE);
      }
      strictEqual(must(await c.request("Heartbeat", hv, beat)).errorCode, E.UNKNOWN_MEMBER_ID);
    }
  });
});

Deno.test("JoinGroup and Heartbeat refuse the empty group id; wrong protocols are inconsistent", async () => {
  await withBroker(async (_broker, connect) => {
    const c = await connect();
    const j = must(
      await c.request("JoinGroup", 5, {
        groupId: "",
        sessionTimeoutMs: 10_000,
        memberId: "",
        protocolType: "consumer",
        protocols: PROTOCOLS,
      }),
    );
    strictEqual(j.errorCode, E.INVALID_GROUP_ID);
    const hb = must(
      await c.request("Heartbeat", 4, { groupId: "", generationId: 1, memberId: "m" }),
    );
    strictEqual(hb.errorCode, E.INVALID_GROUP_ID);
    await joinNew(c, 5, "proto");
    const other = must(
      await c.request("JoinGroup", 5, {
        groupId: "proto",
        sessionTimeoutMs: 10_000,
        memberId: "",
        protocolType: "consumer",
        protocols: [{ name: "sticky", metadata: new Uint8Array(0) }],
      }),
    );
    strictEqual(other.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  });
});

Deno.test("A second member's JoinGroup waits for the rebalance; followers wait for the leader's SyncGroup", async () => {
  await withBroker(async (_broker, connect) => {
    const a = await connect();
    const b = await connect();
    const groupId = "pair";
    const ja = await joinNew(a, 5, groupId);
    must(
      await a.request("SyncGroup", 3, {
        groupId,
        generationId: 1,
        memberId: ja.memberId,
        assignments: [],
      }),
    );
    // B joins: its second JoinGroup waits until A rejoins.
    const first = must(
      await b.request("JoinGroup", 5, {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: "",
        protocolType: "consumer",
        protocols: PROTOCOLS,
      }),
    );
    let bJoined = false;
    const bJoin = b.request("JoinGroup", 5, {
      groupId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: first.memberId,
      protocolType: "consumer",
      protocols: PROTOCOLS,
    }).then((r) => {
      bJoined = true;
      return must(r);
    });
    const beat = must(
      await a.request("Heartbeat", 3, { groupId, generationId: 1, memberId: ja.memberId }),
    );
    strictEqual(beat.errorCode, E.REBALANCE_IN_PROGRESS);
    strictEqual(bJoined, false, "B waits while A has not rejoined");
    const ja2 = must(
      await a.request("JoinGroup", 5, {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: ja.memberId,
        protocolType: "consumer",
        protocols: PROTOCOLS,
      }),
    );
    const jb = await bJoin;
    deepStrictEqual([ja2.generationId, jb.generationId], [2, 2]);
    strictEqual(ja2.leader, ja.memberId);
    strictEqual(ja2.members.length, 2);
    strictEqual(jb.members.length, 0);
    let bSynced = false;
    const bSync = b.request("SyncGroup", 3, {
      groupId,
      generationId: 2,
      memberId: jb.memberId,
      assignments: [],
    }).then((r) => {
      bSynced = true;
      return must(r);
    });
    // A heartbeat on A's connection is answered while B's SyncGroup still waits.
    const beat2 = must(
      await a.request("Heartbeat", 3, { groupId, generationId: 2, memberId: ja.memberId }),
    );
    strictEqual(beat2.errorCode, E.NONE);
    strictEqual(bSynced, false, "B waits for the leader's assignment");
    const sa = must(
      await a.request("SyncGroup", 3, {
        groupId,
        generationId: 2,
        memberId: ja.memberId,
        assignments: [
          { memberId: ja.memberId, assignment: enc.encode("A") },
          { memberId: jb.memberId, assignment: enc.encode("B") },
        ],
      }),
    );
    deepStrictEqual(sa.assignment, enc.encode("A"));
    deepStrictEqual((await bSync).assignment, enc.encode("B"));
  });
});

Deno.test("Static membership (JoinGroup v5+): a returning instance gets a new id; the old id is fenced", async () => {
  await withBroker(async (_broker, connect) => {
    const c = await connect();
    const groupId = "static";
    const first = await joinNew(c, 5, groupId, "instance-1");
    strictEqual(first.errorCode, E.NONE, "no MEMBER_ID_REQUIRED for static members");
    must(
      await c.request("SyncGroup", 3, {
        groupId,
        generationId: 1,
        memberId: first.memberId,
        groupInstanceId: "instance-1",
        assignments: [{ memberId: first.memberId, assignment: enc.encode("S") }],
      }),
    );
    const again = await joinNew(c, 5, groupId, "instance-1");
    strictEqual(again.errorCode, E.NONE);
    ok(again.memberId !== first.memberId);
    // It was the leader, so it rebalances to assign again (a returning follower keeps its
    // assignment without one: group_coordinator_test.ts checks that rule).
    deepStrictEqual([again.generationId, again.leader], [2, again.memberId]);
    const old = must(
      await c.request("Heartbeat", 3, {
        groupId,
        generationId: again.generationId,
        memberId: first.memberId,
        groupInstanceId: "instance-1",
      }),
    );
    strictEqual(old.errorCode, E.FENCED_INSTANCE_ID);
  });
});

Deno.test("OffsetCommit v0-9 and OffsetFetch v0-9 store and return offsets per version", async () => {
  await withBroker(async (_broker, connect) => {
    const c = await connect();
    for (let v = 0; v <= 9; v++) {
      const r = must(
        await c.request("OffsetCommit", v, {
          groupId: `oc-${v}`,
          generationIdOrMemberEpoch: -1,
          memberId: "",
          topics: [
            {
              name: "t",
              partitions: [{
                partitionIndex: 1,
                committedOffset: BigInt(100 + v),
                committedLeaderEpoch: 7,
                committedMetadata: `meta-${v}`,
              }],
            },
            {
              name: "absent",
              partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }],
            },
          ],
        }),
      );
      deepStrictEqual(r.topics.map((t) => t.partitions.map((p) => p.errorCode)), [
        [E.NONE],
        [E.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
    }
    for (let v = 0; v <= 7; v++) {
      const r = must(
        await c.request("OffsetFetch", v, {
          groupId: "oc-6",
          topics: [{ name: "t", partitionIndexes: [0, 1] }],
        }),
      );
      deepStrictEqual(
        r.topics[0]?.partitions.map((
          p,
        ) => [
          p.partitionIndex,
          p.committedOffset,
          p.committedLeaderEpoch,
          p.metadata,
          p.errorCode,
        ]),
        [[0, -1n, -1, "", E.NONE], [1, 106n, v >= 5 ? 7 : -1, "meta-6", E.NONE]],
      );
      if (v >= 2) {
        const all = must(await c.request("OffsetFetch", v, { groupId: "oc-3", topics: null }));
        deepStrictEqual(
          all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)]),
          [[
            "t",
            [103n],
          ]],
        );
      }
    }
    for (const v of [8, 9]) {
      const r = must(
        await c.request("OffsetFetch", v, {
          groups: [
            { groupId: "oc-0", topics: null },
            { groupId: "oc-9", topics: [{ name: "t", partitionIndexes: [1] }] },
            { groupId: "nobody", topics: [{ name: "t", partitionIndexes: [2] }] },
          ],
        }),
      );
      deepStrictEqual(
        r.groups.map((g) => [g.groupId, g.errorCode, g.topics[0]?.partitions[0]?.committedOffset]),
        [["oc-0", E.NONE, 100n], ["oc-9", E.NONE, 109n], ["nobody", E.NONE, -1n]],
      );
    }
  });
});

Deno.test("OffsetCommit from a group member checks generation and member id", async () => {
  await withBroker(async (_broker, connect) => {
    const c = await connect();
    const j = await joinNew(c, 5, "members");
    const commitAs = async (generationIdOrMemberEpoch: number, memberId: string) =>
      must(
        await c.request("OffsetCommit", 7, {
          groupId: "members",
          generationIdOrMemberEpoch,
          memberId,
          topics: [{
            name: "t",
            partitions: [{ partitionIndex: 0, committedOffset: 5n, committedMetadata: "" }],
          }],
        }),
      ).topics[0]?.partitions[0]?.errorCode;
    strictEqual(await commitAs(1, j.memberId), E.REBALANCE_IN_PROGRESS, "not synced yet");
    must(
      await c.request("SyncGroup", 3, {
        groupId: "members",
        generationId: 1,
        memberId: j.memberId,
        assignments: [],
      }),
    );
    strictEqual(await commitAs(1, j.memberId), E.NONE);
    strictEqual(await commitAs(2, j.memberId), E.ILLEGAL_GENERATION);
    strictEqual(await commitAs(1, "stranger"), E.UNKNOWN_MEMBER_ID);
    strictEqual(await commitAs(-1, ""), E.UNKNOWN_MEMBER_ID, "no simple commits into live groups");
  });
});

Deno.test("ListGroups v0-5, DescribeGroups v0-5, OffsetDelete v0 and DeleteGroups v0-2", async () => {
  await withBroker(async (_broker, connect) => {
    const c = await connect();
    const live = await joinNew(c, 5, "live");
    must(
      await c.request("SyncGroup", 3, {
        groupId: "live",
        generationId: 1,
        memberId: live.memberId,
        assignments: [{ memberId: live.memberId, assignment: enc.encode("x") }],
      }),
    );
    for (const groupId of ["live", "idle"]) {
      must(
        await c.request("OffsetCommit", 2, {
          groupId,
          generationIdOrMemberEpoch: groupId === "live" ? 1 : -1,
          memberId: groupId === "live" ? live.memberId : "",
          topics: [{
            name: "t",
            partitions: [
              { partitionIndex: 0, committedOffset: 1n, committedMetadata: null },
              { partitionIndex: 1, committedOffset: 2n, committedMetadata: null },
            ],
          }],
        }),
      );
    }
    for (let v = 0; v <= 5; v++) {
      const r = must(await c.request("ListGroups", v, { statesFilter: [], typesFilter: [] }));
      deepStrictEqual(r.groups.map((g) => [g.groupId, g.protocolType]), [["idle", ""], [
        "live",
        "consumer",
      ]]);
      if (v >= 4) {
        deepStrictEqual(r.groups.map((g) => g.groupState), ["Empty", "Stable"]);
        const f = must(await c.request("ListGroups", v, { statesFilter: ["stable"] }));
        deepStrictEqual(f.groups.map((g) => g.groupId), ["live"]);
      }
      if (v >= 5) {
        deepStrictEqual(r.groups.map((g) => g.groupType), ["classic", "classic"]);
        const none = must(await c.request("ListGroups", v, { typesFilter: ["consumer"] }));
        deepStrictEqual(none.groups, []);
      }
    }
    for (let v = 0; v <= 5; v++) {
      const r = must(await c.request("DescribeGroups", v, { groups: ["live", "ghost"] }));
      const [g, ghost] = r.groups;
      deepStrictEqual([g?.groupState, g?.protocolType, g?.protocolData], [
        "Stable",
        "consumer",
        "range",
      ]);
      deepStrictEqual(g?.members.map((m) => [m.memberId, m.clientId, m.memberAssignment]), [
        [live.memberId, "wire-client", enc.encode("x")],
      ]);
      deepStrictEqual([ghost?.errorCode, ghost?.groupState], [E.NONE, "Dead"]);
    }
    const del = must(
      await c.request("OffsetDelete", 0, {
        groupId: "live",
        topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }],
      }),
    );
    strictEqual(del.topics[0]?.partitions[0]?.errorCode, E.GROUP_SUBSCRIBED_TO_TOPIC);
    const idleDel = must(
      await c.request("OffsetDelete", 0, {
        groupId: "idle",
        topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }],
      }),
    );
    strictEqual(idleDel.topics[0]?.partitions[0]?.errorCode, E.NONE);
    const left = must(await c.request("OffsetFetch", 3, { groupId: "idle", topics: null }));
    deepStrictEqual(left.topics[0]?.partitions.map((p) => p.partitionIndex), [1]);
    const missing = must(await c.request("OffsetDelete", 0, { groupId: "ghost", topics: [] }));
    strictEqual(missing.errorCode, E.GROUP_ID_NOT_FOUND);
    for (let v = 0; v <= 2; v++) {
      const r = must(await c.request("DeleteGroups", v, { groupsNames: ["live", "ghost"] }));
      deepStrictEqual(r.results.map((x) => [x.groupId, x.errorCode]), [
        ["live", E.NON_EMPTY_GROUP],
        ["ghost", E.GROUP_ID_NOT_FOUND],
      ]);
    }
    const gone = must(await c.request("DeleteGroups", 2, { groupsNames: ["idle"] }));
    strictEqual(gone.results[0]?.errorCode, E.NONE);
    const after = must(await c.request("ListGroups", 4, { statesFilter: [] }));
    deepStrictEqual(after.groups.map((g) => g.groupId), ["live"]);
  });
});

Deno.test("Closing the broker answers a JoinGroup that waits for a rebalance", async () => {
  await withBroker(async (broker, connect) => {
    const a = await connect();
    const b = await connect();
    const ja = await joinNew(a, 5, "closing");
    strictEqual(ja.errorCode, E.NONE);
    const first = must(
      await b.request("JoinGroup", 5, {
        groupId: "closing",
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 60_000,
        memberId: "",
        protocolType: "consumer",
        protocols: PROTOCOLS,
      }),
    );
    const waiting = b.request("JoinGroup", 5, {
      groupId: "closing",
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 60_000,
      memberId: first.memberId,
      protocolType: "consumer",
      protocols: PROTOCOLS,
    });
    // A's heartbeat proves B's JoinGroup reached the coordinator before the close.
    const beat = must(
      await a.request("Heartbeat", 3, {
        groupId: "closing",
        generationId: 1,
        memberId: ja.memberId,
      }),
    );
    strictEqual(beat.errorCode, E.REBALANCE_IN_PROGRESS);
    const started = performance.now();
    await broker.close();
    const r = await waiting;
    ok(r === null || r.errorCode === E.COORDINATOR_NOT_AVAILABLE, `answered: ${JSON.stringify(r)}`);
    ok(performance.now() - started < 5_000, "close does not wait for the rebalance timeout");
  });
});
