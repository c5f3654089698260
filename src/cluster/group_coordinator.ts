/**
 * The classic group coordinator as a deterministic state machine: Kafka's consumer-group
 * rebalance protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup; the protocol guide's
 * "group membership" section, KIP-62, KIP-345 static membership, KIP-394 member ids) plus
 * the group-side rules of offset commits, OffsetDelete (KIP-496) and DeleteGroups (KIP-229).
 *
 * I/O contract: every input carries the monotonic time (`nowMs`); `tick(nowMs)` is the only
 * way deadlines fire (session expiry, rebalance and sync timeouts, the initial rebalance
 * delay). JoinGroup and SyncGroup may complete later: they take a `reply` callback that is
 * called exactly once, synchronously inside some later `join`, `sync`, `leave`, `tick` or
 * `close` call. Replies must not call back into the coordinator. Member ids come from the
 * injected `Prng`. No timers, no clock, no I/O: the adapter (group_service.ts) runs the one
 * timer and persists offsets.
 *
 * Group life (Kafka's GroupMetadata states):
 *   Empty --join--> PreparingRebalance --all joined / rebalance timeout--> CompletingRebalance
 *   CompletingRebalance --leader's SyncGroup--> Stable
 *   Stable / CompletingRebalance --join of a new member, leader rejoin, changed metadata,
 *     leave, session expiry--> PreparingRebalance
 *   PreparingRebalance --no member left--> Empty (the generation still advances)
 *   Empty without members and offsets --tick--> removed (Dead); DeleteGroups --> removed.
 */
import { assert, type Prng } from "../util/mod.ts";
import type { GroupSnapshot } from "./group_metadata_record.ts";
import {
  ClassicGroup,
  type CommittedOffset,
  type GroupError,
  type GroupErrorKind,
  type GroupMember,
  type GroupProtocol,
  type GroupState,
  type JoinOutcome,
  sameProtocols,
  type SyncOutcome,
} from "./classic_group.ts";

/** group.min.session.timeout.ms, Kafka's default. */
export const GROUP_MIN_SESSION_TIMEOUT_MS = 6_000;
/** group.max.session.timeout.ms, Kafka's default since 2.3 (raised to 30 minutes by KIP-345). */
export const GROUP_MAX_SESSION_TIMEOUT_MS = 1_800_000;
/** group.initial.rebalance.delay.ms, Kafka's default (KIP-134). */
export const GROUP_INITIAL_REBALANCE_DELAY_MS = 3_000;
/** Members (and KIP-394 pending ids) per group; Kafka's group.max.size is unbounded. */
export const GROUP_MAX_SIZE = 1_000;
/** Tries at drawing an unused member id before it is a bug (128 random bits each). */
const MEMBER_ID_TRIES = 8;

/** Why a member left its group. */
export type RemovalCause =
  | "left"
  | "session_expired"
  | "rebalance_timeout"
  | "sync_timeout"
  | "connection_closed";

/** What the coordinator reports as it runs; the adapter logs these (ops visibility). */
export type GroupEvent =
  | {
    type: "rebalanced";
    groupId: string;
    generationId: number;
    protocolName: string | null;
    leaderId: string | null;
    members: number;
  }
  | { type: "member_removed"; groupId: string; memberId: string; cause: RemovalCause }
  /** The group became Stable (or a static member's id changed in Stable): persist it. */
  | { type: "stable"; groupId: string; generationId: number };

/** Settings of a coordinator. */
export interface GroupCoordinatorOptions {
  /** Source of member ids. */
  prng: Prng;
  /** Receives events synchronously; must not call back into the coordinator. */
  onEvent?: (event: GroupEvent) => void;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  initialRebalanceDelayMs?: number;
  maxGroupSize?: number;
}

/** A JoinGroup, as the coordinator needs it. */
export interface JoinGroupInput {
  groupId: string;
  /** "" for a member without an id yet. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** -1 (JoinGroup v0) means "the session timeout". */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  /** JoinGroup v4+: a member without an id must fetch one first (KIP-394). */
  requireKnownMemberId: boolean;
}

/** Who sends a Heartbeat, SyncGroup or OffsetCommit. */
export interface MemberIdentity {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** A SyncGroup, as the coordinator needs it. */
export interface SyncGroupInput extends MemberIdentity {
  /** v5+: checked against the group's when not null. */
  protocolType: string | null;
  protocolName: string | null;
  /** The leader's assignment; ignored from followers. */
  assignments: Array<{ memberId: string; assignment: Uint8Array }>;
}

/** Success or a refusal. */
export type GroupResult = { type: "ok" } | GroupError;

/** One member named in a LeaveGroup (v3+ batches them; v0-2 send one). */
export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
}

/** The answer to a LeaveGroup: a whole-request refusal, or one result per member. */
export type LeaveOutcome =
  | GroupError
  | {
    type: "ok";
    members: Array<LeavingMember & { error: GroupErrorKind | null }>;
  };

/** A member as DescribeGroups reports it. */
export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  metadata: Uint8Array;
  assignment: Uint8Array;
}

/** A group as DescribeGroups reports it; an unknown group is "Dead" with nothing else. */
export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  /** The selected protocol in Stable, else "" (as Kafka's GroupSummary). */
  protocolName: string;
  members: DescribedMember[];
}

/** A group as ListGroups reports it. */
export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: GroupState;
}

/** The committed offsets of one topic of a group. */
export interface TopicOffsets {
  topic: string;
  partitions: Array<{ partition: number; committed: CommittedOffset }>;
}

/** The classic group coordinator of one node. */
export class GroupCoordinator {
  readonly #groups = new Map<string, ClassicGroup>();
  readonly #prng: Prng;
  readonly #minSessionMs: number;
  readonly #maxSessionMs: number;
  readonly #initialDelayMs: number;
  readonly #maxGroupSize: number;
  readonly #onEvent: (event: GroupEvent) => void;

  constructor(options: GroupCoordinatorOptions) {
    this.#prng = options.prng;
    this.#onEvent = options.onEvent ?? (() => {});
    this.#minSessionMs = options.minSessionTimeoutMs ?? GROUP_MIN_SESSION_TIMEOUT_MS;
    this.#maxSessionMs = options.maxSessionTimeoutMs ?? GROUP_MAX_SESSION_TIMEOUT_MS;
    this.#initialDelayMs = options.initialRebalanceDelayMs ?? GROUP_INITIAL_REBALANCE_DELAY_MS;
    this.#maxGroupSize = options.maxGroupSize ?? GROUP_MAX_SIZE;
  }

  // ---------------------------------------------------------------- JoinGroup

  /** JoinGroup: answers now (errors, MEMBER_ID_REQUIRED, current generation) or at completion. */
  join(input: JoinGroupInput, nowMs: number, reply: (o: JoinOutcome) => void): void {
    const fail = (error: GroupErrorKind) =>
      reply({ type: "error", error, memberId: input.memberId });
    // JoinGroup refuses the empty group id (Kafka's isValidGroupId for JOIN_GROUP).
    if (input.groupId === "") return fail("invalid_group_id");
    if (
      input.sessionTimeoutMs < this.#minSessionMs || input.sessionTimeoutMs > this.#maxSessionMs
    ) {
      return fail("invalid_session_timeout");
    }
    const isNew = input.memberId === "";
    let group = this.#groups.get(input.groupId);
    if (!group) {
      // A member that claims an id cannot be in a group that does not exist.
      if (!isNew) return fail("unknown_member_id");
      group = new ClassicGroup(input.groupId);
      this.#groups.set(input.groupId, group);
    }
    if (group.state === "Dead") return fail("coordinator_not_available");
    if (!group.supportsProtocols(input.protocolType, input.protocols)) {
      return fail("inconsistent_group_protocol");
    }
    const normalized: JoinGroupInput = {
      ...input,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs < 0
        ? input.sessionTimeoutMs
        : input.rebalanceTimeoutMs,
    };
    if (isNew) this.#joinNewMember(group, normalized, nowMs, reply);
    else this.#joinKnownMember(group, normalized, nowMs, reply);
  }

  #joinNewMember(
    group: ClassicGroup,
    input: JoinGroupInput,
    nowMs: number,
    reply: (o: JoinOutcome) => void,
  ): void {
    const instanceId = input.groupInstanceId;
    const existing = instanceId === null ? undefined : group.staticMembers.get(instanceId);
    if (
      existing === undefined && group.members.size + group.pendingMembers.size >= this.#maxGroupSize
    ) {
      return reply({ type: "error", error: "group_max_size_reached", memberId: "" });
    }
    if (instanceId !== null) {
      // KIP-345: static members never get MEMBER_ID_REQUIRED; a returning instance replaces
      // (and thereby fences) the member id it had.
      const id = this.#newMemberId(group, instanceId);
      if (existing !== undefined) {
        return this.#replaceStaticMember(group, existing, id, input, nowMs, reply);
      }
      return this.#addMemberAndRebalance(group, id, input, nowMs, reply);
    }
    const id = this.#newMemberId(group, input.clientId || "member");
    if (input.requireKnownMemberId) {
      // KIP-394: hand out the id and wait (one session timeout) for the member to join with it,
      // so a client that dies between the two requests leaves no member behind.
      group.pendingMembers.set(id, nowMs + input.sessionTimeoutMs);
      return reply({ type: "error", error: "member_id_required", memberId: id });
    }
    this.#addMemberAndRebalance(group, id, input, nowMs, reply);
  }

  #joinKnownMember(
    group: ClassicGroup,
    input: JoinGroupInput,
    nowMs: number,
    reply: (o: JoinOutcome) => void,
  ): void {
    const id = input.memberId;
    if (group.pendingMembers.has(id) && input.groupInstanceId === null) {
      return this.#addMemberAndRebalance(group, id, input, nowMs, reply);
    }
    const refusal = checkMember(group, id, input.groupInstanceId);
    if (refusal) return reply({ type: "error", error: refusal, memberId: id });
    const member = group.members.get(id);
    assert(member, `member "${id}" vanished from group "${group.groupId}"`);
    member.lastHeartbeatMs = nowMs;
    const unchanged = sameProtocols(member.protocols, input.protocols);
    switch (group.state) {
      case "PreparingRebalance":
        this.#awaitJoin(member, input, reply);
        return this.#tryCompleteJoin(group, nowMs);
      case "CompletingRebalance":
        // The member lost our JoinGroup answer: send it again (Kafka does the same).
        if (unchanged) return reply(joinResult(group, member));
        break;
      case "Stable":
        // A follower rejoining with the same metadata just learns the current generation; the
        // leader rejoining (it wants to re-assign) or changed metadata start a rebalance.
        if (unchanged && id !== group.leaderId) return reply(joinResult(group, member));
        break;
      case "Empty":
      case "Dead":
        return reply({ type: "error", error: "unknown_member_id", memberId: id });
    }
    this.#awaitJoin(member, input, reply);
    this.#prepareRebalance(group, nowMs);
    this.#tryCompleteJoin(group, nowMs);
  }

  /** KIP-345: a static member rejoined without its member id; `newId` replaces `oldId`. */
  #replaceStaticMember(
    group: ClassicGroup,
    oldId: string,
    newId: string,
    input: JoinGroupInput,
    nowMs: number,
    reply: (o: JoinOutcome) => void,
  ): void {
    const old = group.members.get(oldId);
    assert(old, `static member "${oldId}" missing from group "${group.groupId}"`);
    // The old incarnation is fenced: its pending requests fail and its id is no longer valid.
    const oldJoin = old.joinReply;
    const oldSync = old.syncReply;
    old.joinReply = null;
    old.syncReply = null;
    oldJoin?.({ type: "error", error: "fenced_instance_id", memberId: oldId });
    oldSync?.({ type: "error", error: "fenced_instance_id" });
    const member: GroupMember = { ...old, memberId: newId, lastHeartbeatMs: nowMs };
    replaceKey(group.members, oldId, newId, member);
    group.staticMembers.set(old.groupInstanceId ?? "", newId);
    const wasLeader = group.leaderId === oldId;
    if (wasLeader) group.leaderId = newId;
    const unchanged = sameProtocols(old.protocols, input.protocols) &&
      old.protocolType === input.protocolType;
    if (group.state === "Stable" && unchanged && !wasLeader) {
      // The point of static membership: a bounced follower gets its assignment back and the
      // group does not rebalance. Its SyncGroup answers from the stored assignment.
      member.clientId = input.clientId;
      member.clientHost = input.clientHost;
      member.sessionTimeoutMs = input.sessionTimeoutMs;
      member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
      this.#onEvent({ type: "stable", groupId: group.groupId, generationId: group.generationId });
      return reply(joinResult(group, member));
    }
    this.#awaitJoin(member, input, reply);
    if (group.state !== "PreparingRebalance") this.#prepareRebalance(group, nowMs);
    this.#tryCompleteJoin(group, nowMs);
  }

  #addMemberAndRebalance(
    group: ClassicGroup,
    id: string,
    input: JoinGroupInput,
    nowMs: number,
    reply: (o: JoinOutcome) => void,
  ): void {
    group.pendingMembers.delete(id);
    if (group.members.size === 0) group.protocolType = input.protocolType;
    const member: GroupMember = {
      memberId: id,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      sessionTimeoutMs: input.sessionTimeoutMs,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
      assignment: new Uint8Array(0),
      lastHeartbeatMs: nowMs,
      joinReply: reply,
      syncReply: null,
    };
    group.members.set(id, member);
    if (input.groupInstanceId !== null) group.staticMembers.set(input.groupInstanceId, id);
    // The first member to join leads (Kafka: the leader is the first joiner).
    group.leaderId ??= id;
    if (group.state === "PreparingRebalance") {
      // KIP-134: each new member during the initial delay extends it, up to the deadline.
      if (group.initialDelayUntilMs !== null && group.rebalanceDeadlineMs !== null) {
        group.initialDelayUntilMs = Math.min(
          nowMs + this.#initialDelayMs,
          group.rebalanceDeadlineMs,
        );
      }
    } else {
      this.#prepareRebalance(group, nowMs);
    }
    this.#tryCompleteJoin(group, nowMs);
  }

  /** Records a member's (re)join: its new protocols and timeouts and the pending reply. */
  #awaitJoin(member: GroupMember, input: JoinGroupInput, reply: (o: JoinOutcome) => void): void {
    const previous = member.joinReply;
    member.joinReply = reply;
    // A second JoinGroup from the same member supersedes the first, which is answered so
    // that no request waits forever.
    previous?.({ type: "error", error: "rebalance_in_progress", memberId: member.memberId });
    member.protocols = input.protocols;
    member.protocolType = input.protocolType;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
  }

  /** Enters PreparingRebalance: pending syncs fail, deadlines are set. */
  #prepareRebalance(group: ClassicGroup, nowMs: number): void {
    assert(group.state !== "PreparingRebalance", `group "${group.groupId}" already rebalancing`);
    assert(group.state !== "Dead", `group "${group.groupId}" is dead`);
    if (group.state === "CompletingRebalance") {
      // The generation being synced is abandoned (Kafka's resetAndPropagateAssignmentError).
      for (const m of group.members.values()) {
        const r = m.syncReply;
        if (!r) continue;
        m.syncReply = null;
        // As Kafka, answering a waiting member restarts its session timer.
        m.lastHeartbeatMs = nowMs;
        r({ type: "error", error: "rebalance_in_progress" });
      }
    }
    const wasEmpty = group.state === "Empty";
    group.state = "PreparingRebalance";
    group.syncDeadlineMs = null;
    const timeoutMs = group.maxRebalanceTimeoutMs();
    group.rebalanceDeadlineMs = nowMs + timeoutMs;
    // KIP-134: a group formed from empty waits a little for more members before completing.
    group.initialDelayUntilMs = wasEmpty ? nowMs + Math.min(this.#initialDelayMs, timeoutMs) : null;
  }

  /** Completes the join phase once every member has rejoined and no delay holds it back. */
  #tryCompleteJoin(group: ClassicGroup, nowMs: number): void {
    if (group.state !== "PreparingRebalance" || !group.allMembersJoined()) return;
    const delayed = group.initialDelayUntilMs !== null && nowMs < group.initialDelayUntilMs;
    if (delayed && group.members.size > 0) return;
    this.#completeJoin(group, nowMs);
  }

  /**
   * Ends the join phase (Kafka's onCompleteJoin): members that did not rejoin are removed,
   * the generation advances, a protocol is selected, the leader gets every member's
   * metadata and everyone gets the generation.
   */
  #completeJoin(group: ClassicGroup, nowMs: number): void {
    for (const m of [...group.members.values()]) {
      if (!m.joinReply) this.#dropMember(group, m, "unknown_member_id", "rebalance_timeout");
    }
    group.generationId += 1;
    group.rebalanceDeadlineMs = null;
    group.initialDelayUntilMs = null;
    if (group.members.size === 0) {
      group.state = "Empty";
      group.protocolName = null;
      group.leaderId = null;
      this.#emitRebalanced(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    const first = group.members.keys().next().value;
    if (group.leaderId === null || !group.members.has(group.leaderId)) {
      group.leaderId = first ?? null;
    }
    group.state = "CompletingRebalance";
    group.syncDeadlineMs = nowMs + group.maxRebalanceTimeoutMs();
    this.#emitRebalanced(group);
    for (const m of group.members.values()) {
      m.assignment = new Uint8Array(0);
      m.lastHeartbeatMs = nowMs;
      const r = m.joinReply;
      m.joinReply = null;
      r?.(joinResult(group, m));
    }
  }

  // ---------------------------------------------------------------- SyncGroup

  /** SyncGroup: followers wait for the leader's assignment; Stable answers at once. */
  sync(input: SyncGroupInput, nowMs: number, reply: (o: SyncOutcome) => void): void {
    const fail = (error: GroupErrorKind) => reply({ type: "error", error });
    if (input.groupId === "") return fail("invalid_group_id");
    const group = this.#groups.get(input.groupId);
    if (!group) return fail("unknown_member_id");
    if (group.state === "Dead") return fail("coordinator_not_available");
    const refusal = checkMember(group, input.memberId, input.groupInstanceId);
    if (refusal) return fail(refusal);
    if (input.generationId !== group.generationId) return fail("illegal_generation");
    // KIP-559 (v5+): the type and name the member believes in must be the group's.
    if (
      (input.protocolType !== null && input.protocolType !== group.protocolType) ||
      (input.protocolName !== null && input.protocolName !== group.protocolName)
    ) {
      return fail("inconsistent_group_protocol");
    }
    const member = group.members.get(input.memberId);
    assert(member, `member "${input.memberId}" vanished from group "${group.groupId}"`);
    member.lastHeartbeatMs = nowMs;
    switch (group.state) {
      case "Empty":
        return fail("unknown_member_id");
      case "PreparingRebalance":
        return fail("rebalance_in_progress");
      case "Stable":
        return reply(syncResult(group, member));
      case "CompletingRebalance":
        break;
    }
    const previous = member.syncReply;
    member.syncReply = reply;
    previous?.({ type: "error", error: "rebalance_in_progress" });
    if (member.memberId !== group.leaderId) return;
    // The leader's SyncGroup carries everyone's assignment; members it left out get empty
    // bytes (never an absent field: franz-go and others fail to parse that).
    const given = new Map(input.assignments.map((a) => [a.memberId, a.assignment]));
    for (const m of group.members.values()) {
      m.assignment = given.get(m.memberId) ?? new Uint8Array(0);
    }
    group.state = "Stable";
    group.syncDeadlineMs = null;
    this.#onEvent({ type: "stable", groupId: group.groupId, generationId: group.generationId });
    for (const m of group.members.values()) {
      const r = m.syncReply;
      if (!r) continue;
      m.syncReply = null;
      m.lastHeartbeatMs = nowMs;
      r(syncResult(group, m));
    }
  }

  // ---------------------------------------------------------------- Heartbeat

  /** Heartbeat: keeps a member alive and tells it when to rejoin. */
  heartbeat(input: MemberIdentity, nowMs: number): GroupResult {
    if (input.groupId === "") return error("invalid_group_id");
    const group = this.#groups.get(input.groupId);
    if (!group) return error("unknown_member_id");
    if (group.state === "Dead") return error("coordinator_not_available");
    const refusal = checkMember(group, input.memberId, input.groupInstanceId);
    if (refusal) return error(refusal);
    if (input.generationId !== group.generationId) return error("illegal_generation");
    const member = group.members.get(input.memberId);
    assert(member, `member "${input.memberId}" vanished from group "${group.groupId}"`);
    switch (group.state) {
      case "Empty":
        return error("unknown_member_id");
      case "PreparingRebalance":
        member.lastHeartbeatMs = nowMs;
        return error("rebalance_in_progress");
      case "CompletingRebalance":
      case "Stable":
        member.lastHeartbeatMs = nowMs;
        return { type: "ok" };
    }
  }

  // ---------------------------------------------------------------- LeaveGroup

  /** LeaveGroup: removes members (v3+ in batches, by member id or group.instance.id). */
  leave(groupId: string, members: LeavingMember[], nowMs: number): LeaveOutcome {
    if (groupId === "") return error("invalid_group_id");
    const group = this.#groups.get(groupId);
    if (!group) {
      return {
        type: "ok",
        members: members.map((m) => ({ ...m, error: "unknown_member_id" as const })),
      };
    }
    if (group.state === "Dead") return error("coordinator_not_available");
    const results = members.map((m) => ({ ...m, error: this.#leaveOne(group, m, nowMs) }));
    return { type: "ok", members: results };
  }

  #leaveOne(group: ClassicGroup, who: LeavingMember, nowMs: number): GroupErrorKind | null {
    if (who.groupInstanceId === null && group.pendingMembers.delete(who.memberId)) {
      // A KIP-394 member that gives up before joining: the rebalance need not wait for it.
      this.#tryCompleteJoin(group, nowMs);
      return null;
    }
    let member: GroupMember | undefined;
    if (who.groupInstanceId !== null) {
      // Admin clients remove static members by instance id alone (KIP-345 member id "").
      const current = group.staticMembers.get(who.groupInstanceId);
      if (current === undefined) return "unknown_member_id";
      if (who.memberId !== "" && who.memberId !== current) return "fenced_instance_id";
      member = group.members.get(current);
    } else {
      member = group.members.get(who.memberId);
    }
    if (!member) return "unknown_member_id";
    this.#removeMemberAndRebalance(group, member, nowMs, "left");
    return null;
  }

  // ---------------------------------------------------------------- time

  /** Fires every deadline due at `nowMs`: session expiry, rebalance and sync timeouts. */
  tick(nowMs: number): void {
    for (const group of [...this.#groups.values()]) {
      for (const [id, untilMs] of [...group.pendingMembers]) {
        if (nowMs >= untilMs) group.pendingMembers.delete(id);
      }
      // Session expiry (KIP-62): a member waiting in JoinGroup or SyncGroup is alive.
      for (const m of [...group.members.values()]) {
        if (m.joinReply || m.syncReply) continue;
        if (nowMs - m.lastHeartbeatMs >= m.sessionTimeoutMs) {
          this.#removeMemberAndRebalance(group, m, nowMs, "session_expired");
        }
      }
      if (
        group.state === "PreparingRebalance" && group.rebalanceDeadlineMs !== null &&
        nowMs >= group.rebalanceDeadlineMs
      ) {
        this.#completeJoin(group, nowMs);
      } else {
        this.#tryCompleteJoin(group, nowMs);
      }
      if (
        group.state === "CompletingRebalance" && group.syncDeadlineMs !== null &&
        nowMs >= group.syncDeadlineMs
      ) {
        // The leader never sent its assignment: members that did not sync are removed and
        // the rest rebalance (Kafka's pending-sync timeout, KAFKA-13079).
        for (const m of [...group.members.values()]) {
          if (!m.syncReply) this.#dropMember(group, m, "unknown_member_id", "sync_timeout");
        }
        this.#prepareRebalance(group, nowMs);
        this.#tryCompleteJoin(group, nowMs);
      }
      if (isForgettable(group)) {
        // Nothing left to remember (Kafka's offset-expiration cleanup marks such groups Dead).
        this.#groups.delete(group.groupId);
      }
    }
  }

  #removeMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    nowMs: number,
    cause: RemovalCause,
  ): void {
    this.#dropMember(group, member, "unknown_member_id", cause);
    if (group.state === "Stable" || group.state === "CompletingRebalance") {
      this.#prepareRebalance(group, nowMs);
    }
    this.#tryCompleteJoin(group, nowMs);
  }

  /** Removes a member; its pending requests fail with `reason`; a new leader is picked. */
  #dropMember(
    group: ClassicGroup,
    member: GroupMember,
    reason: GroupErrorKind,
    cause: RemovalCause,
  ): void {
    group.members.delete(member.memberId);
    this.#onEvent({
      type: "member_removed",
      groupId: group.groupId,
      memberId: member.memberId,
      cause,
    });
    const instance = member.groupInstanceId;
    if (instance !== null && group.staticMembers.get(instance) === member.memberId) {
      group.staticMembers.delete(instance);
    }
    if (group.leaderId === member.memberId) {
      group.leaderId = group.members.keys().next().value ?? null;
    }
    const join = member.joinReply;
    const sync = member.syncReply;
    member.joinReply = null;
    member.syncReply = null;
    join?.({ type: "error", error: reason, memberId: member.memberId });
    sync?.({ type: "error", error: reason });
  }

  // ---------------------------------------------------------------- offsets

  /**
   * Checks an OffsetCommit against the group (Kafka's ClassicGroup.validateOffsetCommit):
   * generation -1 without a member commits into an empty or new group ("simple" consumers
   * that assign partitions themselves); otherwise the member and generation must be current
   * and the group not awaiting its assignment. A valid member's commit counts as a heartbeat.
   */
  validateOffsetCommit(input: MemberIdentity, nowMs: number): GroupResult {
    let group = this.#groups.get(input.groupId);
    if (!group) {
      // Kafka answers ILLEGAL_GENERATION for a group-managed commit to an unknown group.
      if (input.generationId >= 0) return error("illegal_generation");
      group = new ClassicGroup(input.groupId);
      this.#groups.set(input.groupId, group);
    }
    if (group.state === "Dead") return error("coordinator_not_available");
    if (input.generationId < 0 && group.state === "Empty") return { type: "ok" };
    if (input.generationId >= 0 || input.memberId !== "" || input.groupInstanceId !== null) {
      const refusal = checkMember(group, input.memberId, input.groupInstanceId);
      if (refusal) return error(refusal);
      if (input.generationId !== group.generationId) return error("illegal_generation");
    } else {
      // A v0-style commit (no member) into a group with members.
      return error("unknown_member_id");
    }
    if (group.state === "CompletingRebalance") return error("rebalance_in_progress");
    const member = group.members.get(input.memberId);
    if (member) member.lastHeartbeatMs = nowMs;
    return { type: "ok" };
  }

  /** Applies a committed offset, or removes it (`null`: a tombstone), in log order. */
  applyOffset(groupId: string, topic: string, partition: number, value: CommittedOffset | null) {
    let group = this.#groups.get(groupId);
    if (!group) {
      if (value === null) return;
      group = new ClassicGroup(groupId);
      this.#groups.set(groupId, group);
    }
    let parts = group.offsets.get(topic);
    if (value === null) {
      parts?.delete(partition);
      if (parts && parts.size === 0) group.offsets.delete(topic);
      // A group that only existed through its offsets is gone with the last one (replaying
      // DeleteGroups tombstones must not resurrect it).
      if (isForgettable(group)) this.#groups.delete(groupId);
      return;
    }
    if (!parts) group.offsets.set(topic, parts = new Map());
    parts.set(partition, value);
  }

  /** The committed offset of one partition, if any. */
  committedOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#groups.get(groupId)?.offsets.get(topic)?.get(partition);
  }

  /** Every committed offset of a group, topics and partitions sorted. */
  committedOffsets(groupId: string): TopicOffsets[] {
    const group = this.#groups.get(groupId);
    if (!group) return [];
    return [...group.offsets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map((
      [topic, parts],
    ) => ({
      topic,
      partitions: [...parts.entries()].sort(([a], [b]) => a - b).map(([partition, committed]) => ({
        partition,
        committed,
      })),
    }));
  }

  /**
   * OffsetDelete (KIP-496): which topics' offsets must be kept because a member subscribes
   * to them. An empty group keeps none; a non-empty group whose subscriptions cannot be read
   * (not protocol type "consumer") is refused as a whole with NON_EMPTY_GROUP.
   */
  offsetDeletion(groupId: string): { type: "ok"; subscribed: ReadonlySet<string> } | GroupError {
    if (groupId === "") return error("invalid_group_id");
    const group = this.#groups.get(groupId);
    if (!group || group.state === "Dead") return error("group_id_not_found");
    if (group.state === "Empty") return { type: "ok", subscribed: new Set() };
    const subscribed = group.subscribedTopics();
    if (subscribed === null) return error("non_empty_group");
    return { type: "ok", subscribed };
  }

  /**
   * DeleteGroups (KIP-229): removes an empty group and returns its offsets, for which the
   * caller writes tombstones. A group with members is refused with NON_EMPTY_GROUP.
   */
  deleteGroup(
    groupId: string,
  ): { type: "ok"; offsets: Array<{ topic: string; partition: number }> } | GroupError {
    const group = this.#groups.get(groupId);
    if (!group || group.state === "Dead") return error("group_id_not_found");
    if (group.state !== "Empty") return error("non_empty_group");
    const offsets = this.committedOffsets(groupId).flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.topic, partition: p.partition }))
    );
    group.state = "Dead";
    this.#groups.delete(groupId);
    return { type: "ok", offsets };
  }

  // ---------------------------------------------------------------- admin views

  /** DescribeGroups of one group (Kafka's GroupSummary): metadata only when Stable. */
  describe(groupId: string): GroupDescription {
    const group = this.#groups.get(groupId);
    if (!group) return { groupId, state: "Dead", protocolType: "", protocolName: "", members: [] };
    const stable = group.state === "Stable";
    const none = new Uint8Array(0);
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocolName: stable ? (group.protocolName ?? "") : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? group.metadataOf(m) : none,
        assignment: stable ? m.assignment : none,
      })),
    };
  }

  /** ListGroups, optionally only groups in the given states (v4+, case-insensitive). */
  list(statesFilter: readonly string[] = []): GroupListing[] {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.#groups.values()) {
      if (g.state === "Dead") continue;
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType ?? "", state: g.state });
    }
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /**
   * The connection of a waiting JoinGroup or SyncGroup closed before its answer: the client
   * is gone (or will come back and be told UNKNOWN_MEMBER_ID). A dynamic member waiting with
   * `reply` is removed at once, so the rebalance need not wait for its rebalance or session
   * timeout (Kafka waits; it cannot see the closed connection from the coordinator). A
   * static member is kept (KIP-345: a restarting instance must not cause a rebalance).
   */
  abandon(groupId: string, reply: unknown, nowMs: number): void {
    const group = this.#groups.get(groupId);
    if (!group) return;
    for (const m of group.members.values()) {
      if (m.joinReply !== reply && m.syncReply !== reply) continue;
      if (m.groupInstanceId === null) {
        this.#removeMemberAndRebalance(group, m, nowMs, "connection_closed");
      }
      return;
    }
  }

  /** The longest rebalance timeout among a group's members (0 for an unknown group). */
  rebalanceTimeoutMs(groupId: string): number {
    return this.#groups.get(groupId)?.maxRebalanceTimeoutMs() ?? 0;
  }

  /**
   * The membership to persist (Kafka's GroupMetadataValue): a Stable group's generation,
   * protocol, leader and members with their assignments, or an Empty group's generation.
   * Null in the transient states (the last persisted snapshot still stands) and for unknown
   * groups. `stateTimestampMs` is left 0 for the caller, which owns the wall clock.
   */
  snapshot(groupId: string): GroupSnapshot | null {
    const group = this.#groups.get(groupId);
    if (!group || (group.state !== "Stable" && group.state !== "Empty")) return null;
    return {
      protocolType: group.protocolType ?? "",
      generationId: group.generationId,
      protocolName: group.protocolName,
      leaderId: group.leaderId,
      stateTimestampMs: 0,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: group.metadataOf(m),
        assignment: m.assignment,
      })),
    };
  }

  /**
   * Replay at start: sets a group's membership from a persisted snapshot (its members'
   * sessions start now, so members that are gone expire and the group rebalances), or
   * clears it for a tombstone (null). Not for use while requests are being served.
   */
  restore(groupId: string, snapshot: GroupSnapshot | null, nowMs: number): void {
    let group = this.#groups.get(groupId);
    if (snapshot === null) {
      if (!group) return;
      group.members.clear();
      group.staticMembers.clear();
      group.leaderId = null;
      group.protocolName = null;
      group.state = "Empty";
      if (isForgettable(group)) this.#groups.delete(groupId);
      return;
    }
    if (!group) {
      group = new ClassicGroup(groupId);
      this.#groups.set(groupId, group);
    }
    group.members.clear();
    group.staticMembers.clear();
    group.pendingMembers.clear();
    group.generationId = snapshot.generationId;
    group.protocolType = snapshot.protocolType === "" ? null : snapshot.protocolType;
    group.rebalanceDeadlineMs = null;
    group.initialDelayUntilMs = null;
    group.syncDeadlineMs = null;
    const usable = snapshot.protocolName !== null && snapshot.members.length > 0;
    group.protocolName = usable ? snapshot.protocolName : null;
    for (const m of usable ? snapshot.members : []) {
      group.members.set(m.memberId, {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocolType: snapshot.protocolType,
        protocols: [{ name: snapshot.protocolName ?? "", metadata: m.subscription }],
        assignment: m.assignment,
        lastHeartbeatMs: nowMs,
        joinReply: null,
        syncReply: null,
      });
      if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId);
    }
    const leader = snapshot.leaderId;
    group.leaderId = leader !== null && group.members.has(leader)
      ? leader
      : (group.members.keys().next().value ?? null);
    group.state = group.members.size > 0 ? "Stable" : "Empty";
  }

  /** The ids of every known group (members or offsets), in no particular order. */
  groupIds(): string[] {
    return [...this.#groups.keys()];
  }

  /** Whether the coordinator knows a group (members or offsets). */
  hasGroup(groupId: string): boolean {
    return this.#groups.has(groupId);
  }

  /**
   * Forgets a group whose coordination moved to another node (its `__consumer_offsets`
   * partition has a new leader, which replays it): waiting JoinGroup and SyncGroup requests
   * are answered NOT_COORDINATOR, so the members find the new coordinator.
   */
  unload(groupId: string): void {
    const group = this.#groups.get(groupId);
    if (group === undefined) return;
    this.#groups.delete(groupId);
    answerWaiting(group, "not_coordinator");
  }

  /** Answers every waiting JoinGroup and SyncGroup with COORDINATOR_NOT_AVAILABLE (shutdown). */
  close(): void {
    for (const group of this.#groups.values()) answerWaiting(group, "coordinator_not_available");
  }

  /** Asserts every group's invariants (tests call it after each step). */
  checkInvariants(): void {
    for (const g of this.#groups.values()) g.checkInvariants();
  }

  #emitRebalanced(group: ClassicGroup): void {
    this.#onEvent({
      type: "rebalanced",
      groupId: group.groupId,
      generationId: group.generationId,
      protocolName: group.protocolName,
      leaderId: group.leaderId,
      members: group.members.size,
    });
  }

  /** A fresh member id, `prefix-uuid` as Kafka makes them (client id or instance id first). */
  #newMemberId(group: ClassicGroup, prefix: string): string {
    for (let i = 0; i < MEMBER_ID_TRIES; i++) {
      const h = () => this.#prng.nextU32().toString(16).padStart(8, "0");
      const [a, b, c, d] = [h(), h(), h(), h()];
      const id = `${prefix}-${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
      if (!group.members.has(id) && !group.pendingMembers.has(id)) return id;
    }
    throw new Error(`Cannot draw a fresh member id for group "${group.groupId}"`);
  }
}

/** An empty group with nothing to remember (Kafka's cleanup marks such groups Dead). */
function isForgettable(group: ClassicGroup): boolean {
  return group.state === "Empty" && group.members.size === 0 &&
    group.pendingMembers.size === 0 && !group.hasOffsets();
}

function error(kind: GroupErrorKind): GroupError {
  return { type: "error", error: kind };
}

/** KIP-345 fencing, then membership: the refusal for a member's request, or null. */
function checkMember(
  group: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
): GroupErrorKind | null {
  if (groupInstanceId !== null) {
    const current = group.staticMembers.get(groupInstanceId);
    if (current !== undefined && current !== memberId) return "fenced_instance_id";
  }
  return group.members.has(memberId) ? null : "unknown_member_id";
}

function joinResult(group: ClassicGroup, member: GroupMember): JoinOutcome {
  assert(group.leaderId !== null, `group "${group.groupId}" has no leader`);
  const isLeader = member.memberId === group.leaderId;
  return {
    type: "ok",
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leaderId: group.leaderId,
    memberId: member.memberId,
    members: isLeader
      ? [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: group.metadataOf(m),
      }))
      : [],
  };
}

function syncResult(group: ClassicGroup, member: GroupMember): SyncOutcome {
  return {
    type: "ok",
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    assignment: member.assignment,
  };
}

/** Replaces key `from` by `to` keeping the entry's position (join order decides leaders). */
function replaceKey<V>(map: Map<string, V>, from: string, to: string, value: V): void {
  const entries = [...map.entries()].map(([k, v]): [string, V] =>
    k === from ? [to, value] : [k, v]
  );
  map.clear();
  for (const [k, v] of entries) map.set(k, v);
}

/** Answers every JoinGroup and SyncGroup waiting in `group` with `error`. */
function answerWaiting(group: ClassicGroup, error: GroupErrorKind): void {
  for (const m of group.members.values()) {
    const join = m.joinReply;
    const sync = m.syncReply;
    m.joinReply = null;
    m.syncReply = null;
    join?.({ type: "error", error, memberId: m.memberId });
    sync?.({ type: "error", error });
  }
}
