/**
 * Group membership and flexible quorums (Flexible Paxos, Howard et al. 2016).
 *
 * A group of N voters commits with a replication quorum of W voters and elects with an
 * election quorum of E votes. Safety needs every election quorum to intersect every
 * replication quorum, i.e. W + E > N: then a new leader's voters include one holding every
 * committed entry, and the up-to-date check (§5.4.1) makes the leader hold it too.
 * Defaults are majorities. Learners receive the log but never count towards W or E.
 *
 * W + E > N is not the whole story for Raft: with E <= N/2 two election quorums need not
 * intersect, so two candidates could win the same term. RaftNode then makes terms unique
 * per candidate, like Flexible Paxos ballots (a voter of rank r campaigns only in terms
 * t = r mod N). Pre-vote also needs E grants; check-quorum needs W live voters (a leader
 * that cannot reach W cannot commit); read index needs N - E + 1 confirmations under
 * custom quorums (enough to meet every election quorum) but a majority under defaults: a
 * single-server change may be in flight, and only a majority of the new configuration is
 * sure to meet the old configuration's election quorums (N - E + 1 is N/2 for even N).
 *
 * Membership changes are one server at a time (Raft thesis §4.1) and only for groups on
 * majority defaults: two majorities of configurations that differ by one voter always
 * intersect, but two custom (W, E) pairs need not, so a voter change with a custom quorum is
 * refused (learner changes are allowed: learners sit outside every quorum).
 */
import type { NodeId } from "../util/mod.ts";

/** The voters and learners of a group, with optional custom quorum sizes. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** W: voters that must hold an entry before it commits. Default: a majority. */
  readonly replicationQuorum?: number;
  /** E: votes a candidate needs to win. Default: a majority. */
  readonly electionQuorum?: number;
}

/** The effective quorum sizes of a membership. */
export interface Quorums {
  /** W, replication (commit) quorum. */
  readonly w: number;
  /** E, election quorum. */
  readonly e: number;
  /**
   * Voters a leader must hear from to confirm it is still leader (read index): N - E + 1
   * under custom quorums, a majority under defaults (see the file comment).
   */
  readonly confirm: number;
}

/** A single-server membership change (thesis §4.1). */
export type ConfigChange =
  | { readonly type: "addLearner"; readonly node: NodeId }
  | { readonly type: "promote"; readonly node: NodeId }
  | { readonly type: "remove"; readonly node: NodeId };

/** Majority of n voters. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** True when the membership sets no custom quorum sizes. */
export function hasDefaultQuorums(m: Membership): boolean {
  return m.replicationQuorum === undefined && m.electionQuorum === undefined;
}

/**
 * Returns why a membership is invalid, or undefined when it is valid. Refuses W + E <= N,
 * which would let an election quorum miss every holder of a committed entry.
 */
export function validateMembership(m: Membership): string | undefined {
  const n = m.voters.length;
  if (n === 0) return "Invalid membership: no voters";
  const all = new Set<NodeId>([...m.voters, ...m.learners]);
  if (all.size !== n + m.learners.length) {
    return "Invalid membership: a node is listed twice";
  }
  const w = m.replicationQuorum ?? majority(n);
  const e = m.electionQuorum ?? majority(n);
  if (!Number.isInteger(w) || w < 1 || w > n) {
    return `Invalid membership: replication quorum "${w}" outside [1, ${n}]`;
  }
  if (!Number.isInteger(e) || e < 1 || e > n) {
    return `Invalid membership: election quorum "${e}" outside [1, ${n}]`;
  }
  if (w + e <= n) {
    return `Invalid membership: W + E must exceed N, got W=${w} E=${e} N=${n}`;
  }
  return undefined;
}

/**
 * Quorum sizes of a valid membership.
 * @throws {RangeError} when the membership is invalid.
 */
export function quorumsOf(m: Membership): Quorums {
  // Memberships are immutable values and this runs on every acknowledgement: cache it.
  const cached = QUORUM_CACHE.get(m);
  if (cached !== undefined) return cached;
  const error = validateMembership(m);
  if (error !== undefined) throw new RangeError(error);
  const n = m.voters.length;
  const e = m.electionQuorum ?? majority(n);
  const confirm = hasDefaultQuorums(m) ? majority(n) : n - e + 1;
  const q: Quorums = { w: m.replicationQuorum ?? majority(n), e, confirm };
  QUORUM_CACHE.set(m, q);
  return q;
}

const QUORUM_CACHE = new WeakMap<Membership, Quorums>();

/**
 * Applies a single-server change, returning the new membership or a reason for refusal.
 * Voter changes keep majority quorums and are refused when custom quorums are set.
 */
export function applyConfigChange(
  m: Membership,
  change: ConfigChange,
): { ok: true; membership: Membership } | { ok: false; reason: string } {
  const isVoter = m.voters.includes(change.node);
  const isLearner = m.learners.includes(change.node);
  const custom = !hasDefaultQuorums(m);
  let next: Membership;
  switch (change.type) {
    case "addLearner":
      if (isVoter || isLearner) return refuse(`node "${change.node}" is already a member`);
      next = { ...m, learners: [...m.learners, change.node] };
      break;
    case "promote":
      if (!isLearner) return refuse(`node "${change.node}" is not a learner`);
      if (custom) return refuse("voter changes need majority quorums");
      next = {
        voters: [...m.voters, change.node],
        learners: m.learners.filter((id) => id !== change.node),
      };
      break;
    case "remove":
      if (isLearner) {
        next = { ...m, learners: m.learners.filter((id) => id !== change.node) };
        break;
      }
      if (!isVoter) return refuse(`node "${change.node}" is not a member`);
      if (custom) return refuse("voter changes need majority quorums");
      if (m.voters.length === 1) return refuse("cannot remove the last voter");
      next = { voters: m.voters.filter((id) => id !== change.node), learners: m.learners };
      break;
  }
  const error = validateMembership(next);
  if (error !== undefined) return refuse(error);
  return { ok: true, membership: next };
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason: `Cannot change membership: ${reason}` };
}
