/**
 * GroupCoordinator, rule by rule: the classic rebalance protocol driven with explicit times
 * and a fixed PRNG (no clock, no timers). Each test names the rule it checks; invariants are
 * asserted after the steps (`checkInvariants`). A seeded random walk at the end drives many
 * members through joins, syncs, heartbeats, leaves and ticks and checks the invariants and
 * that every Stable generation hands out each member's assignment exactly once.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { createPrng } from "../util/mod.ts";
import type { JoinOutcome, SyncOutcome } from "./classic_group.ts";
import { encodeSubscription } from "./consumer_protocol.ts";
import { GroupCoordinator, type GroupEvent, type JoinGroupInput } from "./group_coordinator.ts";

const DELAY_MS = 3_000;
const SESSION_MS = 10_000;
const REBALANCE_MS = 30_000;
const enc = new TextEncoder();

function coordinator(seed = 7): GroupCoordinator {
  return new GroupCoordinator({ prng: createPrng(seed), initialRebalanceDelayMs: DELAY_MS });
}

function input(over: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId: "g",
    memberId: "",
    groupInstanceId: null,
    clientId: "client",
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: encodeSubscription(["t"]) }],
    requireKnownMemberId: true,
    ...over,
  };
}

/** Collects the replies of one request. */
class Box<T> {
  readonly all: T[] = [];
  readonly reply = (o: T) => {
    this.all.push(o);
  };
  get value(): T | undefined {
    return this.all[this.all.length - 1];
  }
}

function joined(b: Box<JoinOutcome>): Extract<JoinOutcome, { type: "ok" }> {
  const v = b.value;
  if (!v || v.type !== "ok") throw new Error(`expected a joined member, got ${JSON.stringify(v)}`);
  strictEqual(b.all.length, 1, "a JoinGroup is answered exactly once");
  return v;
}

function errorOf(b: Box<JoinOutcome> | Box<SyncOutcome>): string | undefined {
  const v = b.value;
  return v?.type === "error" ? v.error : undefined;
}

/** KIP-394 handshake: first join gets an id, second join (pending) uses it. */
function joinNew(
  c: GroupCoordinator,
  nowMs: number,
  over: Partial<JoinGroupInput> = {},
): { id: string; box: Box<JoinOutcome> } {
  const first = new Box<JoinOutcome>();
  c.join(input(over), nowMs, first.reply);
  const v = first.value;
  if (v?.type !== "error" || v.error !== "member_id_required") {
    throw new Error(`expected member_id_required, got ${JSON.stringify(v)}`);
  }
  const box = new Box<JoinOutcome>();
  c.join(input({ ...over, memberId: v.memberId }), nowMs, box.reply);
  return { id: v.memberId, box };
}

function sync(
  c: GroupCoordinator,
  memberId: string,
  generationId: number,
  nowMs: number,
  assignments: Array<{ memberId: string; assignment: Uint8Array }> = [],
): Box<SyncOutcome> {
  const box = new Box<SyncOutcome>();
  c.sync(
    {
      groupId: "g",
      generationId,
      memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments,
    },
    nowMs,
    box.reply,
  );
  return box;
}

/** Forms a Stable group of `n` dynamic members at time `t`; the leader assigns "a<i>". */
function formGroup(c: GroupCoordinator, n: number, t = 0) {
  const members = Array.from({ length: n }, () => joinNew(c, t));
  c.tick(t + DELAY_MS);
  const results = members.map((m) => joined(m.box));
  const leader = results[0]?.leaderId ?? "";
  const generation = results[0]?.generationId ?? -1;
  const ids = members.map((m) => m.id);
  const assignments = ids.map((memberId, i) => ({ memberId, assignment: enc.encode(`a${i}`) }));
  const syncs = ids.map((id) =>
    sync(c, id, generation, t + DELAY_MS, id === leader ? assignments : [])
  );
  c.checkInvariants();
  return { ids, leader, generation, syncs, t: t + DELAY_MS };
}

Deno.test("GroupCoordinator.join refuses an empty group id and out-of-range session timeouts", () => {
  const c = coordinator();
  const a = new Box<JoinOutcome>();
  c.join(input({ groupId: "" }), 0, a.reply);
  strictEqual(errorOf(a), "invalid_group_id");
  const b = new Box<JoinOutcome>();
  c.join(input({ sessionTimeoutMs: 1_000 }), 0, b.reply);
  strictEqual(errorOf(b), "invalid_session_timeout");
  const d = new Box<JoinOutcome>();
  c.join(input({ sessionTimeoutMs: 3_600_000 }), 0, d.reply);
  strictEqual(errorOf(d), "invalid_session_timeout");
});

Deno.test("GroupCoordinator.join (v4+) answers MEMBER_ID_REQUIRED with a fresh id first", () => {
  const c = coordinator();
  const first = new Box<JoinOutcome>();
  c.join(input({ clientId: "app" }), 0, first.reply);
  strictEqual(errorOf(first), "member_id_required");
  const id = first.value?.memberId ?? "";
  ok(id.startsWith("app-"), `member id "${id}" starts with the client id`);
  // The id is deterministic for a seed (the PRNG is the only source).
  const again = new Box<JoinOutcome>();
  coordinator().join(input({ clientId: "app" }), 0, again.reply);
  strictEqual(again.value?.memberId, id);
  // An id nobody handed out is refused.
  const forged = new Box<JoinOutcome>();
  c.join(input({ memberId: "app-forged" }), 0, forged.reply);
  strictEqual(errorOf(forged), "unknown_member_id");
});

Deno.test("GroupCoordinator.join before v4 adds the member at once", () => {
  const c = coordinator();
  const box = new Box<JoinOutcome>();
  c.join(input({ requireKnownMemberId: false }), 0, box.reply);
  strictEqual(box.all.length, 0, "waits for the initial delay");
  c.tick(DELAY_MS);
  const r = joined(box);
  strictEqual(r.generationId, 1);
  strictEqual(r.leaderId, r.memberId);
});

Deno.test("GroupCoordinator.join of a member id into an unknown group is UNKNOWN_MEMBER_ID", () => {
  const c = coordinator();
  const box = new Box<JoinOutcome>();
  c.join(input({ memberId: "ghost", groupId: "nothing" }), 0, box.reply);
  strictEqual(errorOf(box), "unknown_member_id");
});

Deno.test("GroupCoordinator: the initial delay (KIP-134) gathers members into one generation", () => {
  const c = coordinator();
  const a = joinNew(c, 0);
  const b = joinNew(c, 1_000); // extends the delay to 4 000
  c.tick(3_000);
  strictEqual(a.box.all.length, 0, "not completed while the delay holds");
  c.tick(4_000);
  const ra = joined(a.box);
  const rb = joined(b.box);
  strictEqual(ra.generationId, 1);
  strictEqual(rb.generationId, 1);
  strictEqual(ra.leaderId, a.id, "the first joiner leads");
  deepStrictEqual(ra.members.map((m) => m.memberId), [a.id, b.id], "the leader sees everyone");
  deepStrictEqual(rb.members, [], "followers get no member list");
  strictEqual(ra.protocolName, "range");
  c.checkInvariants();
});

Deno.test("GroupCoordinator: the initial delay never outlasts the rebalance timeout", () => {
  const c = coordinator();
  const a = joinNew(c, 0, { rebalanceTimeoutMs: 2_000 });
  c.tick(1_999);
  strictEqual(a.box.all.length, 0);
  c.tick(2_000);
  strictEqual(joined(a.box).generationId, 1);
});

Deno.test("GroupCoordinator: members need a common protocol (INCONSISTENT_GROUP_PROTOCOL)", () => {
  const c = coordinator();
  formGroup(c, 1);
  const wrongType = new Box<JoinOutcome>();
  c.join(input({ protocolType: "connect" }), 10_000, wrongType.reply);
  strictEqual(errorOf(wrongType), "inconsistent_group_protocol");
  const noCommon = new Box<JoinOutcome>();
  c.join(
    input({ protocols: [{ name: "sticky", metadata: new Uint8Array(0) }] }),
    10_000,
    noCommon.reply,
  );
  strictEqual(errorOf(noCommon), "inconsistent_group_protocol");
  const empty = new Box<JoinOutcome>();
  c.join(input({ groupId: "other", protocols: [] }), 10_000, empty.reply);
  strictEqual(errorOf(empty), "inconsistent_group_protocol");
});

Deno.test("GroupCoordinator: the protocol most members prefer is selected", () => {
  const c = coordinator();
  const p = (name: string) => ({ name, metadata: enc.encode(name) });
  const a = joinNew(c, 0, { protocols: [p("range"), p("roundrobin")] });
  const b = joinNew(c, 0, { protocols: [p("roundrobin"), p("range")] });
  const d = joinNew(c, 0, { protocols: [p("roundrobin"), p("range"), p("sticky")] });
  c.tick(DELAY_MS);
  const r = joined(a.box);
  strictEqual(r.protocolName, "roundrobin");
  deepStrictEqual(r.members.map((m) => new TextDecoder().decode(m.metadata)), [
    "roundrobin",
    "roundrobin",
    "roundrobin",
  ]);
  strictEqual(joined(b.box).protocolName, "roundrobin");
  strictEqual(joined(d.box).protocolName, "roundrobin");
});

Deno.test("GroupCoordinator.sync: followers wait for the leader, and get empty bytes if left out", () => {
  const c = coordinator();
  const a = joinNew(c, 0);
  const b = joinNew(c, 0);
  const d = joinNew(c, 0);
  c.tick(DELAY_MS);
  const gen = joined(a.box).generationId;
  const sb = sync(c, b.id, gen, DELAY_MS);
  strictEqual(sb.all.length, 0, "a follower waits in CompletingRebalance");
  const sa = sync(c, a.id, gen, DELAY_MS, [
    { memberId: a.id, assignment: enc.encode("A") },
    { memberId: b.id, assignment: enc.encode("B") },
    { memberId: "stranger", assignment: enc.encode("X") },
  ]);
  deepStrictEqual(sa.value, {
    type: "ok",
    protocolType: "consumer",
    protocolName: "range",
    assignment: enc.encode("A"),
  });
  strictEqual(sb.value?.type === "ok" && new TextDecoder().decode(sb.value.assignment), "B");
  // d was left out by the leader: its answer still carries (empty) assignment bytes.
  const sd = sync(c, d.id, gen, DELAY_MS);
  deepStrictEqual(sd.value?.type === "ok" && sd.value.assignment, new Uint8Array(0));
  strictEqual(c.describe("g").state, "Stable");
  c.checkInvariants();
});

Deno.test("GroupCoordinator.sync refuses wrong generations, strangers, protocols and rebalances", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const leader = g.leader;
  strictEqual(errorOf(sync(c, leader, g.generation + 1, g.t)), "illegal_generation");
  strictEqual(errorOf(sync(c, "stranger", g.generation, g.t)), "unknown_member_id");
  const wrongName = new Box<SyncOutcome>();
  c.sync(
    {
      groupId: "g",
      generationId: g.generation,
      memberId: leader,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "roundrobin",
      assignments: [],
    },
    g.t,
    wrongName.reply,
  );
  strictEqual(errorOf(wrongName), "inconsistent_group_protocol");
  const newcomer = joinNew(c, g.t);
  strictEqual(c.describe("g").state, "PreparingRebalance");
  strictEqual(errorOf(sync(c, leader, g.generation, g.t)), "rebalance_in_progress");
  strictEqual(newcomer.box.all.length, 0);
  const missing = new Box<SyncOutcome>();
  c.sync({ ...syncInputOf(leader, g.generation), groupId: "absent" }, g.t, missing.reply);
  strictEqual(errorOf(missing), "unknown_member_id");
});

function syncInputOf(memberId: string, generationId: number) {
  return {
    groupId: "g",
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: [],
  };
}

Deno.test("GroupCoordinator: a new member triggers a rebalance; heartbeats say so", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const hb = (memberId: string, generationId = g.generation) =>
    c.heartbeat({ groupId: "g", generationId, memberId, groupInstanceId: null }, g.t + 100);
  deepStrictEqual(hb(g.leader), { type: "ok" });
  const newcomer = joinNew(c, g.t + 100);
  deepStrictEqual(hb(g.leader), { type: "error", error: "rebalance_in_progress" });
  // Old members rejoin: no initial delay for a non-empty group.
  const rejoins = g.ids.map((memberId) => {
    const box = new Box<JoinOutcome>();
    c.join(input({ memberId }), g.t + 200, box.reply);
    return box;
  });
  const gens = [...rejoins, newcomer.box].map((b) => joined(b).generationId);
  deepStrictEqual(gens, [g.generation + 1, g.generation + 1, g.generation + 1]);
  strictEqual(joined(rejoins[0] as Box<JoinOutcome>).leaderId, g.leader, "the leader stays");
  deepStrictEqual(hb(g.leader), { type: "error", error: "illegal_generation" });
  deepStrictEqual(hb(g.leader, g.generation + 1), { type: "ok" }, "ok while completing");
  deepStrictEqual(hb("stranger", g.generation + 1), {
    type: "error",
    error: "unknown_member_id",
  });
  c.checkInvariants();
});

Deno.test("GroupCoordinator: a follower rejoining unchanged in Stable just gets the generation", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const follower = g.ids[1] ?? "";
  const box = new Box<JoinOutcome>();
  c.join(input({ memberId: follower }), g.t + 1, box.reply);
  strictEqual(joined(box).generationId, g.generation);
  strictEqual(c.describe("g").state, "Stable");
  // The leader rejoining starts a rebalance (it wants to re-assign).
  const lb = new Box<JoinOutcome>();
  c.join(input({ memberId: g.leader }), g.t + 2, lb.reply);
  strictEqual(c.describe("g").state, "PreparingRebalance");
});

Deno.test("GroupCoordinator: changed metadata from a member triggers a rebalance", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const box = new Box<JoinOutcome>();
  const protocols = [{ name: "range", metadata: encodeSubscription(["t", "u"]) }];
  c.join(input({ memberId: g.ids[1] ?? "", protocols }), g.t + 1, box.reply);
  strictEqual(c.describe("g").state, "PreparingRebalance");
  strictEqual(box.all.length, 0);
});

Deno.test("GroupCoordinator: members that do not rejoin within the rebalance timeout are removed", () => {
  const c = coordinator();
  const g = formGroup(c, 3);
  const newcomer = joinNew(c, g.t);
  const keep = new Box<JoinOutcome>();
  c.join(input({ memberId: g.ids[1] ?? "" }), g.t + 10, keep.reply);
  // The others keep heartbeating (so their sessions stay alive) but never rejoin.
  for (let t = g.t; t < g.t + REBALANCE_MS; t += SESSION_MS / 2) {
    for (const memberId of [g.ids[0], g.ids[2]]) {
      const beat = c.heartbeat(
        {
          groupId: "g",
          generationId: g.generation,
          memberId: memberId ?? "",
          groupInstanceId: null,
        },
        t,
      );
      deepStrictEqual(beat, { type: "error", error: "rebalance_in_progress" });
    }
    c.tick(t);
  }
  c.tick(g.t + REBALANCE_MS - 1);
  strictEqual(keep.all.length, 0);
  c.tick(g.t + REBALANCE_MS);
  const r = joined(keep);
  strictEqual(r.generationId, g.generation + 1);
  strictEqual(joined(newcomer.box).generationId, g.generation + 1);
  const d = c.describe("g");
  deepStrictEqual(d.members.map((m) => m.memberId).sort(), [g.ids[1], newcomer.id].sort());
  strictEqual(r.leaderId, g.ids[1], "the old leader left: the first remaining member leads");
  c.checkInvariants();
});

Deno.test("GroupCoordinator: a leader that never syncs is removed at the sync deadline", () => {
  const c = coordinator();
  const a = joinNew(c, 0);
  const b = joinNew(c, 0);
  c.tick(DELAY_MS);
  const gen = joined(a.box).generationId;
  joined(b.box);
  const sb = sync(c, b.id, gen, DELAY_MS);
  c.tick(DELAY_MS + REBALANCE_MS);
  strictEqual(errorOf(sb), "rebalance_in_progress");
  deepStrictEqual(c.describe("g").members.map((m) => m.memberId), [b.id]);
  const rejoin = new Box<JoinOutcome>();
  c.join(input({ memberId: b.id }), DELAY_MS + REBALANCE_MS + 1, rejoin.reply);
  const r = joined(rejoin);
  strictEqual(r.leaderId, b.id);
  strictEqual(r.generationId, gen + 1);
});

Deno.test("GroupCoordinator: session expiry removes silent members and rebalances", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const [a, b] = g.ids as [string, string];
  const beat = (memberId: string, t: number) =>
    c.heartbeat({ groupId: "g", generationId: g.generation, memberId, groupInstanceId: null }, t);
  beat(a, g.t + SESSION_MS - 1);
  c.tick(g.t + SESSION_MS - 1);
  strictEqual(c.describe("g").state, "Stable");
  c.tick(g.t + SESSION_MS); // b never heartbeat
  strictEqual(c.describe("g").state, "PreparingRebalance");
  deepStrictEqual(c.describe("g").members.map((m) => m.memberId), [a]);
  deepStrictEqual(beat(b, g.t + SESSION_MS), { type: "error", error: "unknown_member_id" });
  c.checkInvariants();
});

Deno.test("GroupCoordinator: a member waiting in JoinGroup does not expire", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const newcomer = joinNew(c, g.t);
  const rejoin = new Box<JoinOutcome>();
  c.join(input({ memberId: g.leader }), g.t, rejoin.reply);
  c.tick(g.t + SESSION_MS + 1); // the other old member expires; the waiting ones do not
  strictEqual(joined(rejoin).generationId, g.generation + 1);
  strictEqual(joined(newcomer.box).generationId, g.generation + 1);
});

Deno.test("GroupCoordinator: KIP-394 ids never used are forgotten after a session timeout", () => {
  const c = coordinator();
  const g = formGroup(c, 1);
  const first = new Box<JoinOutcome>();
  c.join(input(), g.t, first.reply);
  const id = first.value?.memberId ?? "";
  c.tick(g.t + SESSION_MS);
  const late = new Box<JoinOutcome>();
  c.join(input({ memberId: id }), g.t + SESSION_MS, late.reply);
  strictEqual(errorOf(late), "unknown_member_id");
});

Deno.test("GroupCoordinator.leave: batches of members, per-member errors, Empty at the end", () => {
  const c = coordinator();
  const g = formGroup(c, 3);
  const r = c.leave("g", [
    { memberId: g.ids[0] ?? "", groupInstanceId: null },
    { memberId: "stranger", groupInstanceId: null },
  ], g.t + 1);
  deepStrictEqual(r.type === "ok" && r.members.map((m) => m.error), [null, "unknown_member_id"]);
  strictEqual(c.describe("g").state, "PreparingRebalance");
  const rest = c.leave(
    "g",
    g.ids.slice(1).map((memberId) => ({ memberId, groupInstanceId: null })),
    g.t + 2,
  );
  deepStrictEqual(rest.type === "ok" && rest.members.map((m) => m.error), [null, null]);
  const d = c.describe("g");
  strictEqual(d.state, "Empty");
  deepStrictEqual(d.members, []);
  const unknownGroup = c.leave("nope", [{ memberId: "m", groupInstanceId: null }], 0);
  deepStrictEqual(
    unknownGroup.type === "ok" && unknownGroup.members[0]?.error,
    "unknown_member_id",
  );
  deepStrictEqual(c.leave("", [], 0), { type: "error", error: "invalid_group_id" });
  c.checkInvariants();
});

Deno.test("GroupCoordinator.leave of a member waiting in JoinGroup answers it UNKNOWN_MEMBER_ID", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const rejoin = new Box<JoinOutcome>();
  c.join(input({ memberId: g.leader }), g.t, rejoin.reply);
  c.leave("g", [{ memberId: g.leader, groupInstanceId: null }], g.t + 1);
  strictEqual(errorOf(rejoin), "unknown_member_id");
});

Deno.test("GroupCoordinator: static members (KIP-345) join without MEMBER_ID_REQUIRED", () => {
  const c = coordinator();
  const box = new Box<JoinOutcome>();
  c.join(input({ groupInstanceId: "i-1" }), 0, box.reply);
  c.tick(DELAY_MS);
  const r = joined(box);
  ok(r.memberId.startsWith("i-1-"), `static member id "${r.memberId}" starts with the instance`);
});

Deno.test("GroupCoordinator: a returning static follower keeps its assignment without a rebalance", () => {
  const c = coordinator();
  const lead = new Box<JoinOutcome>();
  const follow = new Box<JoinOutcome>();
  c.join(input({ groupInstanceId: "i-lead" }), 0, lead.reply);
  c.join(input({ groupInstanceId: "i-follow" }), 0, follow.reply);
  c.tick(DELAY_MS);
  const l = joined(lead);
  const f = joined(follow);
  sync(c, l.memberId, l.generationId, DELAY_MS, [
    { memberId: f.memberId, assignment: enc.encode("F") },
  ]);
  // The follower restarts: it knows its instance id but not its member id.
  const back = new Box<JoinOutcome>();
  c.join(input({ groupInstanceId: "i-follow" }), DELAY_MS + 5, back.reply);
  const r = joined(back);
  strictEqual(r.generationId, l.generationId, "no new generation");
  ok(r.memberId !== f.memberId, "a new member id replaces the old one");
  strictEqual(c.describe("g").state, "Stable");
  const s = new Box<SyncOutcome>();
  c.sync({ ...syncInputOf(r.memberId, r.generationId), groupInstanceId: "i-follow" }, 1, s.reply);
  strictEqual(s.value?.type === "ok" && new TextDecoder().decode(s.value.assignment), "F");
  // The old incarnation is fenced everywhere.
  const old = { groupId: "g", generationId: l.generationId, memberId: f.memberId };
  deepStrictEqual(c.heartbeat({ ...old, groupInstanceId: "i-follow" }, 2), {
    type: "error",
    error: "fenced_instance_id",
  });
  const j = new Box<JoinOutcome>();
  c.join(input({ memberId: f.memberId, groupInstanceId: "i-follow" }), 3, j.reply);
  strictEqual(errorOf(j), "fenced_instance_id");
  deepStrictEqual(
    c.validateOffsetCommit({ ...old, groupInstanceId: "i-follow" }, 4),
    { type: "error", error: "fenced_instance_id" },
  );
  const leave = c.leave("g", [{ memberId: f.memberId, groupInstanceId: "i-follow" }], 5);
  deepStrictEqual(leave.type === "ok" && leave.members[0]?.error, "fenced_instance_id");
  // An admin removes it by instance id alone (member id "").
  const removed = c.leave("g", [{ memberId: "", groupInstanceId: "i-follow" }], 6);
  deepStrictEqual(removed.type === "ok" && removed.members[0]?.error, null);
  strictEqual(c.describe("g").state, "PreparingRebalance");
  c.checkInvariants();
});

Deno.test("GroupCoordinator: a returning static leader triggers a rebalance", () => {
  const c = coordinator();
  const lead = new Box<JoinOutcome>();
  c.join(input({ groupInstanceId: "i-lead" }), 0, lead.reply);
  c.tick(DELAY_MS);
  const l = joined(lead);
  sync(c, l.memberId, l.generationId, DELAY_MS);
  const back = new Box<JoinOutcome>();
  c.join(input({ groupInstanceId: "i-lead" }), DELAY_MS + 1, back.reply);
  const r = joined(back);
  strictEqual(r.generationId, l.generationId + 1);
  strictEqual(r.leaderId, r.memberId);
  c.checkInvariants();
});

Deno.test("GroupCoordinator.validateOffsetCommit: simple commits, members and generations", () => {
  const c = coordinator();
  const simple = { groupId: "s", generationId: -1, memberId: "", groupInstanceId: null };
  deepStrictEqual(c.validateOffsetCommit(simple, 0), { type: "ok" });
  strictEqual(c.describe("s").state, "Empty", "a simple commit creates an empty group");
  deepStrictEqual(
    c.validateOffsetCommit({ ...simple, groupId: "x", generationId: 3, memberId: "m" }, 0),
    { type: "error", error: "illegal_generation" },
  );
  const g = formGroup(c, 1);
  const member = { groupId: "g", generationId: g.generation, memberId: g.leader };
  deepStrictEqual(c.validateOffsetCommit({ ...member, groupInstanceId: null }, 1), { type: "ok" });
  deepStrictEqual(
    c.validateOffsetCommit({ ...member, generationId: 99, groupInstanceId: null }, 1),
    { type: "error", error: "illegal_generation" },
  );
  deepStrictEqual(
    c.validateOffsetCommit({ ...member, memberId: "x", groupInstanceId: null }, 1),
    { type: "error", error: "unknown_member_id" },
  );
  deepStrictEqual(
    c.validateOffsetCommit({ ...simple, groupId: "g" }, 1),
    { type: "error", error: "unknown_member_id" },
    "a v0 commit into a group with members",
  );
  // In CompletingRebalance the generation is right but the assignment is not there yet.
  const other = joinNew(c, 2);
  const rejoin = new Box<JoinOutcome>();
  c.join(input({ memberId: g.leader }), 2, rejoin.reply);
  const next = joined(rejoin).generationId;
  joined(other.box);
  deepStrictEqual(
    c.validateOffsetCommit({ ...member, generationId: next, groupInstanceId: null }, 3),
    { type: "error", error: "rebalance_in_progress" },
  );
});

Deno.test("GroupCoordinator.deleteGroup: empty groups only; their offsets are returned", () => {
  const c = coordinator();
  const off = { offset: 5, leaderEpoch: -1, metadata: "", commitTimestampMs: 0 };
  c.applyOffset("g", "t", 1, off);
  c.applyOffset("g", "t", 0, off);
  c.applyOffset("g", "u", 0, off);
  deepStrictEqual(c.deleteGroup("none"), { type: "error", error: "group_id_not_found" });
  const g = formGroup(c, 1);
  deepStrictEqual(c.deleteGroup("g"), { type: "error", error: "non_empty_group" });
  c.leave("g", [{ memberId: g.leader, groupInstanceId: null }], g.t);
  deepStrictEqual(c.deleteGroup("g"), {
    type: "ok",
    offsets: [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }, {
      topic: "u",
      partition: 0,
    }],
  });
  strictEqual(c.describe("g").state, "Dead");
  strictEqual(c.committedOffset("g", "t", 0), undefined);
});

Deno.test("GroupCoordinator.offsetDeletion keeps topics a live consumer subscribes to", () => {
  const c = coordinator();
  deepStrictEqual(c.offsetDeletion("g"), { type: "error", error: "group_id_not_found" });
  formGroup(c, 1);
  const r = c.offsetDeletion("g");
  deepStrictEqual(r.type === "ok" && [...r.subscribed], ["t"]);
  const other = coordinator();
  const box = new Box<JoinOutcome>();
  other.join(input({ protocolType: "connect", requireKnownMemberId: false }), 0, box.reply);
  other.tick(DELAY_MS);
  deepStrictEqual(other.offsetDeletion("g"), { type: "error", error: "non_empty_group" });
  const simple = coordinator();
  simple.applyOffset("g", "t", 0, {
    offset: 1,
    leaderEpoch: -1,
    metadata: "",
    commitTimestampMs: 0,
  });
  deepStrictEqual(simple.offsetDeletion("g"), { type: "ok", subscribed: new Set() });
});

Deno.test("GroupCoordinator.applyOffset applies values and tombstones in order", () => {
  const c = coordinator();
  const v = (offset: number) => ({ offset, leaderEpoch: 2, metadata: "m", commitTimestampMs: 9 });
  c.applyOffset("g", "t", 0, v(1));
  c.applyOffset("g", "t", 0, v(7));
  c.applyOffset("g", "t", 1, v(3));
  c.applyOffset("g", "t", 1, null);
  c.applyOffset("none", "t", 1, null);
  deepStrictEqual(c.committedOffsets("g"), [{
    topic: "t",
    partitions: [{ partition: 0, committed: v(7) }],
  }]);
  strictEqual(c.hasGroup("none"), false, "a tombstone does not create a group");
});

Deno.test("GroupCoordinator.describe shows metadata and assignments only when Stable", () => {
  const c = coordinator();
  deepStrictEqual(c.describe("g"), {
    groupId: "g",
    state: "Dead",
    protocolType: "",
    protocolName: "",
    members: [],
  });
  const g = formGroup(c, 2);
  const d = c.describe("g");
  strictEqual(d.state, "Stable");
  strictEqual(d.protocolName, "range");
  deepStrictEqual(d.members.map((m) => new TextDecoder().decode(m.assignment)), ["a0", "a1"]);
  deepStrictEqual(d.members[0]?.metadata, encodeSubscription(["t"]));
  strictEqual(d.members[0]?.clientHost, "/127.0.0.1");
  joinNew(c, g.t);
  const p = c.describe("g");
  strictEqual(p.state, "PreparingRebalance");
  strictEqual(p.protocolName, "");
  deepStrictEqual(p.members.map((m) => m.assignment.length), [0, 0, 0]);
});

Deno.test("GroupCoordinator.list filters by state, case-insensitively", () => {
  const c = coordinator();
  formGroup(c, 1);
  c.applyOffset("simple", "t", 0, {
    offset: 1,
    leaderEpoch: -1,
    metadata: "",
    commitTimestampMs: 0,
  });
  deepStrictEqual(c.list().map((g) => [g.groupId, g.state, g.protocolType]), [
    ["g", "Stable", "consumer"],
    ["simple", "Empty", ""],
  ]);
  deepStrictEqual(c.list(["stable"]).map((g) => g.groupId), ["g"]);
  deepStrictEqual(c.list(["EMPTY", "Dead"]).map((g) => g.groupId), ["simple"]);
});

Deno.test("GroupCoordinator.tick forgets empty groups without offsets", () => {
  const c = coordinator();
  const g = formGroup(c, 1);
  c.applyOffset("kept", "t", 0, { offset: 1, leaderEpoch: -1, metadata: "", commitTimestampMs: 0 });
  c.leave("g", [{ memberId: g.leader, groupInstanceId: null }], g.t);
  strictEqual(c.describe("g").state, "Empty");
  c.tick(g.t + 1);
  strictEqual(c.hasGroup("g"), false);
  strictEqual(c.hasGroup("kept"), true);
});

Deno.test("GroupCoordinator.close answers every waiting request", () => {
  const c = coordinator();
  const a = joinNew(c, 0);
  c.close();
  strictEqual(errorOf(a.box), "coordinator_not_available");
});

Deno.test("GroupCoordinator.abandon removes a dynamic member whose waiting request lost its connection", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const [b, a] = g.ids as [string, string]; // b leads
  const ja = new Box<JoinOutcome>();
  const jb = new Box<JoinOutcome>();
  c.join(input({ memberId: b }), g.t, jb.reply); // the leader rejoins: a rebalance
  c.abandon("g", jb.reply, g.t + 1); // b's connection closed while it waited
  strictEqual(errorOf(jb), "unknown_member_id");
  c.join(input({ memberId: a }), g.t + 2, ja.reply);
  const r = joined(ja);
  strictEqual(r.generationId, g.generation + 1, "the rebalance completes without b");
  deepStrictEqual(r.members.map((m) => m.memberId), [a]);
  // A follower abandoning its SyncGroup is removed the same way.
  const other = joinNew(c, g.t + 3);
  const again = new Box<JoinOutcome>();
  c.join(input({ memberId: a }), g.t + 3, again.reply);
  const gen = joined(again).generationId;
  const s = sync(c, other.id, gen, g.t + 4);
  c.abandon("g", s.reply, g.t + 5);
  strictEqual(errorOf(s), "unknown_member_id");
  deepStrictEqual(c.describe("g").members.map((m) => m.memberId), [a]);
  c.abandon("g", () => {}, g.t + 6); // a reply nobody waits with: nothing happens
  c.abandon("none", () => {}, g.t + 6);
  c.checkInvariants();
});

Deno.test("GroupCoordinator.abandon keeps a static member (KIP-345)", () => {
  const c = coordinator();
  const box = new Box<JoinOutcome>();
  c.join(input({ groupInstanceId: "i" }), 0, box.reply);
  c.abandon("g", box.reply, 1);
  strictEqual(box.all.length, 0);
  strictEqual(c.describe("g").members.length, 1);
});

Deno.test("GroupCoordinator: a second JoinGroup from one member supersedes the first", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const first = new Box<JoinOutcome>();
  const second = new Box<JoinOutcome>();
  c.join(input({ memberId: g.leader }), g.t, first.reply);
  c.join(input({ memberId: g.leader }), g.t, second.reply);
  strictEqual(errorOf(first), "rebalance_in_progress");
  strictEqual(second.all.length, 0);
});

Deno.test("GroupCoordinator reports rebalances and removals with their cause", () => {
  const events: GroupEvent[] = [];
  const c = new GroupCoordinator({
    prng: createPrng(7),
    initialRebalanceDelayMs: DELAY_MS,
    onEvent: (e) => events.push(e),
  });
  const g = formGroup(c, 2);
  deepStrictEqual(events, [{
    type: "rebalanced",
    groupId: "g",
    generationId: 1,
    protocolName: "range",
    leaderId: g.leader,
    members: 2,
  }, { type: "stable", groupId: "g", generationId: 1 }]);
  events.length = 0;
  c.leave("g", [{ memberId: g.ids[1] ?? "", groupInstanceId: null }], g.t);
  c.tick(g.t + SESSION_MS); // the leader never heartbeat nor rejoined
  deepStrictEqual(
    events.map((e) =>
      e.type === "member_removed" ? e.cause : e.type === "rebalanced" ? e.members : e.type
    ),
    [
      "left",
      "session_expired",
      0,
    ],
  );
});

Deno.test("GroupCoordinator.snapshot and restore carry a Stable group over a restart", () => {
  const c = coordinator();
  const g = formGroup(c, 2);
  const snap = c.snapshot("g");
  strictEqual(snap?.generationId, g.generation);
  const next = coordinator(99);
  next.restore("g", snap, 500);
  next.checkInvariants();
  deepStrictEqual(next.describe("g"), c.describe("g"));
  for (const memberId of g.ids) {
    deepStrictEqual(
      next.heartbeat(
        { groupId: "g", generationId: g.generation, memberId, groupInstanceId: null },
        501,
      ),
      { type: "ok" },
    );
  }
  // Transient states have no snapshot (the last persisted one stands).
  const rejoin = new Box<JoinOutcome>();
  next.join(input({ memberId: g.leader }), 502, rejoin.reply);
  strictEqual(next.snapshot("g"), null);
  // Sessions start at the restore: members that never come back expire, and the group,
  // holding no offsets, is forgotten.
  next.tick(502 + REBALANCE_MS);
  strictEqual(next.describe("g").members.length, 1, "only the rejoined leader remains");
  // A tombstone clears the membership.
  next.restore("g", null, 0);
  strictEqual(next.hasGroup("g"), false);
});

Deno.test("GroupCoordinator: a seeded random walk keeps the invariants (replay with its seed)", () => {
  let assigned = 0;
  for (let seed = 1; seed <= 20; seed++) assigned += randomWalk(seed);
  ok(assigned > 20, `the walks reached Stable generations (${assigned} assignments delivered)`);
});

/**
 * Clients with simple behaviour (join, sync, heartbeat, leave, crash) and a clock that jumps
 * forward, all chosen by one seed. After every step: the invariants hold, no request is
 * answered twice, and in Stable every member's assignment is the one its leader gave it.
 */
function randomWalk(seed: number): number {
  let assigned = 0;
  const prng = createPrng(seed);
  const c = new GroupCoordinator({ prng: prng.fork(), initialRebalanceDelayMs: DELAY_MS });
  interface Client {
    name: string;
    memberId: string;
    generation: number;
    join: Box<JoinOutcome> | null;
    sync: Box<SyncOutcome> | null;
  }
  const clients: Client[] = Array.from({ length: 5 }, (_, i) => ({
    name: `c${i}`,
    memberId: "",
    generation: -1,
    join: null,
    sync: null,
  }));
  let now = 0;
  const STEPS = 400;
  for (let step = 0; step < STEPS; step++) {
    const cl = clients[prng.int(0, clients.length - 1)] as Client;
    const action = prng.int(0, 9);
    try {
      if (action <= 2 && !cl.join && !cl.sync) {
        const box = new Box<JoinOutcome>();
        cl.join = box;
        c.join(input({ memberId: cl.memberId, clientId: cl.name }), now, box.reply);
      } else if (action <= 4 && !cl.join && !cl.sync && cl.memberId !== "") {
        const box = new Box<SyncOutcome>();
        cl.sync = box;
        const d = c.describe("g");
        const assignments = d.members.map((m) => ({
          memberId: m.memberId,
          assignment: enc.encode(`${cl.generation}:${m.memberId}`),
        }));
        c.sync({ ...syncInputOf(cl.memberId, cl.generation), assignments }, now, box.reply);
      } else if (action <= 6 && cl.memberId !== "") {
        c.heartbeat({ ...syncInputOf(cl.memberId, cl.generation) }, now);
      } else if (action === 7 && cl.memberId !== "") {
        c.leave("g", [{ memberId: cl.memberId, groupInstanceId: null }], now);
        cl.memberId = "";
      } else {
        now += prng.int(0, 4_000);
        c.tick(now);
      }
      // Consume answers: each box is answered at most once.
      for (const x of clients) {
        if (x.join && x.join.all.length > 0) {
          strictEqual(x.join.all.length, 1, `seed ${seed}: a join answered twice`);
          const v = x.join.all[0] as JoinOutcome;
          if (v.type === "ok") {
            x.memberId = v.memberId;
            x.generation = v.generationId;
          } else if (v.error === "member_id_required") {
            x.memberId = v.memberId;
          } else if (v.error === "unknown_member_id") x.memberId = "";
          x.join = null;
        }
        if (x.sync && x.sync.all.length > 0) {
          strictEqual(x.sync.all.length, 1, `seed ${seed}: a sync answered twice`);
          const v = x.sync.all[0] as SyncOutcome;
          if (v.type === "ok" && v.assignment.length > 0) {
            const text = new TextDecoder().decode(v.assignment);
            ok(text.endsWith(`:${x.memberId}`), `seed ${seed}: "${text}" is not ${x.memberId}'s`);
            assigned++;
          }
          x.sync = null;
        }
      }
      c.checkInvariants();
    } catch (err) {
      throw new Error(`random walk failed at seed ${seed}, step ${step}: ${String(err)}`, {
        cause: err,
      });
    }
  }
  return assigned;
}
