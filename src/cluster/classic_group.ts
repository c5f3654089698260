/**
 * One classic consumer group (Kafka's GroupMetadata, later ClassicGroup): its state, members,
 * generation, selected protocol, static-member ids (KIP-345), members still owing a JoinGroup
 * after MEMBER_ID_REQUIRED (KIP-394), and its committed offsets. This file is data plus small
 * pure queries (protocol support and vote, subscribed topics); the rules that move a group
 * between states are in group_coordinator.ts. No clock, no timers, no I/O.
 *
 * Invariants (checked by `checkInvariants`, which the coordinator's tests call after steps):
 * - `leaderId` is null or the id of a member; it is null when there are no members;
 * - every `staticMembers` entry names a member whose `groupInstanceId` is that key;
 * - `Empty` has no members; `Stable` and `CompletingRebalance` have a leader and a protocol;
 * - a member has a pending `syncReply` only in `CompletingRebalance`.
 */
import { assert } from "../util/mod.ts";
import { parseSubscriptionTopics } from "./consumer_protocol.ts";

/** Classic group states (the names DescribeGroups and ListGroups report). */
export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

/** Every state, in the order Kafka's GroupState enum lists them. */
export const GROUP_STATES: readonly GroupState[] = [
  "Empty",
  "PreparingRebalance",
  "CompletingRebalance",
  "Stable",
  "Dead",
];

/** Expected refusals of group requests; the broker maps each once to a Kafka error code. */
export type GroupErrorKind =
  | "invalid_group_id"
  | "coordinator_not_available"
  | "not_coordinator"
  | "unknown_member_id"
  | "illegal_generation"
  | "inconsistent_group_protocol"
  | "rebalance_in_progress"
  | "member_id_required"
  | "fenced_instance_id"
  | "invalid_session_timeout"
  | "group_max_size_reached"
  | "non_empty_group"
  | "group_id_not_found"
  | "group_subscribed_to_topic";

/** A refusal. */
export interface GroupError {
  type: "error";
  error: GroupErrorKind;
}

/** One protocol a member supports (JoinGroup `protocols`), in the member's preference order. */
export interface GroupProtocol {
  name: string;
  metadata: Uint8Array;
}

/** A member as the leader sees it in its JoinGroup response. */
export interface JoinedMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Uint8Array;
}

/** What a JoinGroup is answered with. */
export type JoinOutcome =
  | {
    type: "ok";
    generationId: number;
    protocolType: string | null;
    protocolName: string | null;
    leaderId: string;
    memberId: string;
    /** Filled for the leader only; followers get an empty list. */
    members: JoinedMember[];
  }
  | (GroupError & {
    /** The generated id for member_id_required; otherwise the id the member sent. */
    memberId: string;
  });

/** What a SyncGroup is answered with. The assignment is empty bytes, never absent. */
export type SyncOutcome =
  | {
    type: "ok";
    protocolType: string | null;
    protocolName: string | null;
    assignment: Uint8Array;
  }
  | GroupError;

/** One member of a group. */
export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  /** The leader's assignment for this member in the current generation (empty until synced). */
  assignment: Uint8Array;
  /** Monotonic time of the last sign of life (join, sync, heartbeat, commit). */
  lastHeartbeatMs: number;
  /** Set while the member's JoinGroup waits for the rebalance to complete. */
  joinReply: ((o: JoinOutcome) => void) | null;
  /** Set while the member's SyncGroup waits for the leader's assignment. */
  syncReply: ((o: SyncOutcome) => void) | null;
}

/** A committed offset as OffsetFetch returns it (OffsetCommitValue v3 fields). */
export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
}

/** One classic group. Fields are mutated only by GroupCoordinator. */
export class ClassicGroup {
  readonly groupId: string;
  state: GroupState = "Empty";
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Members in join order (Map keeps insertion order: the first is the next leader). */
  readonly members = new Map<string, GroupMember>();
  /** KIP-394: ids handed out with MEMBER_ID_REQUIRED, and when each stops being awaited. */
  readonly pendingMembers = new Map<string, number>();
  /** KIP-345: group.instance.id -> current member id. */
  readonly staticMembers = new Map<string, string>();
  /** PreparingRebalance: when members that have not rejoined are dropped. */
  rebalanceDeadlineMs: number | null = null;
  /** PreparingRebalance of an empty group: no completion before this (initial delay). */
  initialDelayUntilMs: number | null = null;
  /** CompletingRebalance: when members that have not sent SyncGroup are dropped. */
  syncDeadlineMs: number | null = null;
  /** topic -> partition -> committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();

  constructor(groupId: string) {
    this.groupId = groupId;
  }

  /**
   * Whether a member with these protocols may join (Kafka's supportsProtocols): any type and
   * protocol list for an empty group, else the same type and a protocol every member supports.
   */
  supportsProtocols(protocolType: string, protocols: readonly GroupProtocol[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const common = new Set(this.candidateProtocols());
    return protocols.some((p) => common.has(p.name));
  }

  /** Protocol names every member supports, in the first member's preference order. */
  candidateProtocols(): string[] {
    const all = [...this.members.values()];
    const first = all[0];
    if (!first) return [];
    return first.protocols.map((p) => p.name).filter((name) =>
      all.every((m) => m.protocols.some((p) => p.name === name))
    );
  }

  /**
   * The protocol for the next generation (Kafka's selectProtocol): each member votes for its
   * most preferred candidate; most votes wins; ties go to the earlier candidate, so the
   * choice is deterministic.
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    assert(candidates.length > 0, `group "${this.groupId}" has no common protocol`);
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => votes.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = candidates[0] as string;
    for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
    return best;
  }

  /** True when every member has a pending JoinGroup and no KIP-394 rejoin is owed. */
  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (!m.joinReply) return false;
    return true;
  }

  /** The longest rebalance timeout among members (how long a rebalance may wait). */
  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** A member's metadata for the selected protocol (empty when it has none). */
  metadataOf(m: GroupMember): Uint8Array {
    return m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? new Uint8Array(0);
  }

  /**
   * Topics the members subscribe to, for a "consumer" group with members; null when the
   * group uses another protocol type or a subscription cannot be read (KIP-496 then refuses
   * OffsetDelete of a non-empty group as a whole).
   */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== "consumer" || this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const list = parseSubscriptionTopics(this.metadataOf(m));
      if (list === null) return null;
      for (const t of list) topics.add(t);
    }
    return topics;
  }

  /** True when the group holds at least one committed offset. */
  hasOffsets(): boolean {
    for (const parts of this.offsets.values()) if (parts.size > 0) return true;
    return false;
  }

  /** Asserts the invariants listed in the file comment. */
  checkInvariants(): void {
    const id = this.groupId;
    if (this.leaderId !== null) {
      assert(this.members.has(this.leaderId), `group "${id}" leader is not a member`);
    }
    assert(this.members.size > 0 || this.leaderId === null, `group "${id}" empty with a leader`);
    for (const [instance, memberId] of this.staticMembers) {
      const m = this.members.get(memberId);
      assert(m?.groupInstanceId === instance, `group "${id}" static id "${instance}" is stale`);
    }
    if (this.state === "Empty") assert(this.members.size === 0, `group "${id}" Empty has members`);
    if (this.state === "Stable" || this.state === "CompletingRebalance") {
      assert(this.leaderId !== null, `group "${id}" ${this.state} without a leader`);
      assert(this.protocolName !== null, `group "${id}" ${this.state} without a protocol`);
    }
    for (const m of this.members.values()) {
      assert(
        m.syncReply === null || this.state === "CompletingRebalance",
        `group "${id}" member "${m.memberId}" awaits sync in ${this.state}`,
      );
    }
  }
}

/** True when two protocol lists are equal by name and metadata bytes, in order. */
export function sameProtocols(a: readonly GroupProtocol[], b: readonly GroupProtocol[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i];
    if (!q || q.name !== p.name || q.metadata.length !== p.metadata.length) return false;
    return p.metadata.every((byte, j) => byte === q.metadata[j]);
  });
}
