/**
 * Kafka's "range" assignor (RangeAssignor.java): per topic, the subscribed members sorted by
 * member id share the partitions in contiguous ranges; the first `partitions % members`
 * members get one extra. The group leader runs it between JoinGroup and SyncGroup. Pure.
 */

/** The assignor's protocol name in JoinGroup. */
export const RANGE_ASSIGNOR = "range";

/** One member and the topics it subscribes to. */
export interface MemberSubscription {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/**
 * Assigns the partitions of every subscribed topic; `partitionCounts` gives each topic's
 * partition count (a topic missing from it gets none). Every member appears in the result,
 * possibly with no partitions.
 */
export function assignRange(
  members: readonly MemberSubscription[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, Map<string, number[]>> {
  const result = new Map<string, Map<string, number[]>>();
  for (const m of members) result.set(m.memberId, new Map());
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const count = partitionCounts.get(topic) ?? 0;
    const subscribers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId)
      .sort();
    if (count === 0 || subscribers.length === 0) continue;
    const per = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    subscribers.forEach((memberId, i) => {
      const start = per * i + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      if (length === 0) return;
      const parts = Array.from({ length }, (_, k) => start + k);
      result.get(memberId)?.set(topic, parts);
    });
  }
  return result;
}
