/**
 * The topics that hold Pyralog's own state. Clients never write them (Kafka's ReplicaManager
 * refuses client appends to internal topics with InvalidTopicException: a client could
 * otherwise forge any group's committed offsets in __consumer_offsets), and the admin APIs
 * never create, delete or grow them. A leaf module, so every service can share the rule.
 */

/** Kafka's internal topics, plus KRaft's metadata log. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  "__consumer_offsets",
  "__transaction_state",
  "__cluster_metadata",
]);

/** True for an internal topic. */
export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}
