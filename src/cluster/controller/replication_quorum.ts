/**
 * The per-topic `replication.quorum` config: the replication quorum W of each of the topic's
 * partition Raft groups (Flexible Paxos, Howard et al. 2016). A partition of N replicas then
 * elects with E = N - W + 1 votes, the smallest E with W + E > N, so every election quorum
 * meets every replication quorum and a new leader's voters include a holder of every
 * committed record. Unset, both quorums are majorities (Raft's defaults).
 *
 * W = N makes every write wait for all replicas and lets any one replica win an election;
 * W = 1 commits on the leader alone and needs every replica to elect. The value is checked
 * here against the replica count; its syntax (an integer >= 1) is checked by storage's
 * `validateTopicConfigs`. Pure: no I/O.
 */

/** The topic config key of the replication quorum W. */
export const REPLICATION_QUORUM_CONFIG = "replication.quorum";

/** The quorum sizes of one partition's Raft group. */
export interface ReplicationQuorum {
  /** W: replicas that must hold a record before it commits. */
  readonly w: number;
  /** E: votes a candidate needs to win an election. */
  readonly e: number;
  /** True when the topic sets no `replication.quorum` (both quorums are majorities). */
  readonly isMajority: boolean;
}

/**
 * Why `configs` cannot hold for a partition of `replicaCount` replicas (a
 * `replication.quorum` that is not an integer in [1, replicaCount]), or undefined.
 */
export function replicationQuorumProblem(
  configs: Readonly<Record<string, string>>,
  replicaCount: number,
): string | undefined {
  const v = configs[REPLICATION_QUORUM_CONFIG];
  if (v === undefined) return undefined;
  const w = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(w) || w < 1) {
    return `${REPLICATION_QUORUM_CONFIG} "${v}" is not an integer >= 1`;
  }
  if (w > replicaCount) {
    return `${REPLICATION_QUORUM_CONFIG} "${v}" exceeds the replication factor "${replicaCount}"`;
  }
  return undefined;
}

/**
 * The quorum sizes of a partition of `replicaCount` replicas of a topic with `configs`:
 * W from `replication.quorum` and E = N - W + 1, or majorities when the config is unset.
 * @throws {RangeError} when `replicaCount` is not a positive integer or the config does not
 * fit it (the controller refuses such configs, so this is a caller's bug).
 */
export function replicationQuorumOf(
  configs: Readonly<Record<string, string>>,
  replicaCount: number,
): ReplicationQuorum {
  if (!Number.isSafeInteger(replicaCount) || replicaCount < 1) {
    throw new RangeError(`Cannot size the quorums: replica count "${replicaCount}" is not >= 1`);
  }
  const problem = replicationQuorumProblem(configs, replicaCount);
  if (problem !== undefined) throw new RangeError(`Cannot size the quorums: ${problem}`);
  const v = configs[REPLICATION_QUORUM_CONFIG];
  if (v === undefined) {
    const majority = Math.floor(replicaCount / 2) + 1;
    return { w: majority, e: majority, isMajority: true };
  }
  const w = Number(v);
  return { w, e: replicaCount - w + 1, isMajority: false };
}
