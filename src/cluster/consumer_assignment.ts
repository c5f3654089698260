/**
 * Reads a consumer group member's assignment, the bytes the leader hands out in SyncGroup for
 * protocol type "consumer" (ConsumerProtocolAssignment.json, versions 0-3): int16 version,
 * then `assigned_partitions` as an int32-counted array of (int16-length topic, int32-counted
 * int32 partitions), then user data, which is not needed here. Used to show assignments in
 * the HTTP API. Never throws on input: bytes that do not parse give null, and every length is
 * checked against the buffer first.
 *
 * It also holds the leader's side for in-process members (`GroupMember`): Kafka's range
 * assignment and the v0 encoding of its result. Both are pure.
 */

/** Most topics or partitions read from one assignment; larger counts are malformed. */
const ASSIGNMENT_ITEMS_MAX = 100_000;

/** One topic's partitions in an assignment. */
export interface AssignedPartitions {
  topic: string;
  partitions: number[];
}

/** The partitions a consumer assignment names, or null when the bytes are not one. */
export function parseConsumerAssignment(bytes: Uint8Array): AssignedPartitions[] | null {
  if (bytes.length === 0) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => pos + n <= bytes.length;
  if (!need(6)) return null;
  pos += 2; // version: newer versions only append fields
  const topics = view.getInt32(pos);
  pos += 4;
  if (topics < 0 || topics > ASSIGNMENT_ITEMS_MAX) return null;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const out: AssignedPartitions[] = [];
  // Bounded by the counts, each checked against ASSIGNMENT_ITEMS_MAX and the buffer.
  for (let t = 0; t < topics; t++) {
    if (!need(2)) return null;
    const len = view.getInt16(pos);
    pos += 2;
    if (len < 0 || !need(len + 4)) return null;
    let topic: string;
    try {
      topic = decoder.decode(bytes.subarray(pos, pos + len));
    } catch {
      return null;
    }
    pos += len;
    const count = view.getInt32(pos);
    pos += 4;
    if (count < 0 || count > ASSIGNMENT_ITEMS_MAX || !need(count * 4)) return null;
    const partitions: number[] = [];
    for (let i = 0; i < count; i++, pos += 4) partitions.push(view.getInt32(pos));
    out.push({ topic, partitions });
  }
  return out;
}

/**
 * Encodes a ConsumerProtocolAssignment v0, what a group leader hands each member in
 * SyncGroup: int16 version 0, int32 topic count, per topic an int16-length name and an
 * int32-counted array of int32 partitions, then null user data (int32 -1). Every client
 * reads v0 (later versions only append fields).
 */
export function encodeConsumerAssignment(assigned: readonly AssignedPartitions[]): Uint8Array {
  const encoder = new TextEncoder();
  const names = assigned.map((a) => encoder.encode(a.topic));
  const size = 2 + 4 +
    assigned.reduce((n, a, i) => n + 2 + (names[i]?.length ?? 0) + 4 + 4 * a.partitions.length, 0) +
    4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  view.setInt16(pos, 0);
  pos += 2;
  view.setInt32(pos, assigned.length);
  pos += 4;
  assigned.forEach((a, i) => {
    const name = names[i] ?? new Uint8Array(0);
    view.setInt16(pos, name.length);
    pos += 2;
    out.set(name, pos);
    pos += name.length;
    view.setInt32(pos, a.partitions.length);
    pos += 4;
    for (const p of a.partitions) {
      view.setInt32(pos, p);
      pos += 4;
    }
  });
  view.setInt32(pos, -1); // null user data
  return out;
}

/** One member and the topics it subscribes to, as the range assignor sees it. */
export interface MemberTopics {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/**
 * Kafka's "range" assignment (RangeAssignor.java): per topic, the members subscribing to it
 * sorted by member id share the partitions (sorted) in contiguous ranges; each gets
 * floor(n/m) and the first n%m one more. `partitionCount` gives a topic's partition count (0
 * for an unknown topic, which nobody gets). Every member appears in the result, in member-id
 * order, with its topics in name order; topics with no partitions for it are left out.
 */
export function assignRange(
  members: readonly MemberTopics[],
  partitionCount: (topic: string) => number,
): Map<string, AssignedPartitions[]> {
  const ids = members.map((m) => m.memberId).sort();
  const result = new Map<string, AssignedPartitions[]>(ids.map((id) => [id, []]));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const count = partitionCount(topic);
    const subscribers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId)
      .sort();
    if (count <= 0 || subscribers.length === 0) continue;
    const per = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    subscribers.forEach((memberId, i) => {
      const start = per * i + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      if (length === 0) return;
      const partitions = Array.from({ length }, (_, k) => start + k);
      result.get(memberId)?.push({ topic, partitions });
    });
  }
  return result;
}

/**
 * Kafka's "roundrobin" assignment (RoundRobinAssignor.java): every subscribed topic's
 * partitions, sorted by topic then partition, are dealt in turn to the members sorted by id,
 * skipping members that do not subscribe to the partition's topic. Used when the group
 * picks a round-robin protocol (kafkajs offers only its "RoundRobinAssigner"); members accept
 * whatever the leader assigns, so the exact dealing order need not match the client's.
 */
export function assignRoundRobin(
  members: readonly MemberTopics[],
  partitionCount: (topic: string) => number,
): Map<string, AssignedPartitions[]> {
  const sorted = [...members].sort((a, b) => a.memberId < b.memberId ? -1 : 1);
  const plan = new Map<string, Map<string, number[]>>(
    sorted.map((m) => [m.memberId, new Map()]),
  );
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  let next = 0;
  for (const topic of topics) {
    const count = Math.max(0, partitionCount(topic));
    for (let partition = 0; partition < count; partition++) {
      // Bounded: at most one full turn of the members to find a subscriber.
      for (let step = 0; step < sorted.length; step++) {
        const m = sorted[(next + step) % sorted.length];
        if (!m || !m.topics.includes(topic)) continue;
        const mine = plan.get(m.memberId);
        mine?.set(topic, [...(mine.get(topic) ?? []), partition]);
        next = (next + step + 1) % sorted.length;
        break;
      }
    }
  }
  return new Map(
    [...plan].map(([id, byTopic]) => [
      id,
      [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    ]),
  );
}
