/**
 * Reads the topics out of a consumer's subscription, the bytes a member of a group of
 * protocol type "consumer" sends as its JoinGroup protocol metadata (ConsumerProtocol-
 * Subscription.json, versions 0-3): int16 version, then `topics` as an int32-counted array of
 * int16-length strings, then user data and (v1+) owned partitions, which are not needed here.
 *
 * The coordinator uses it for OffsetDelete (KIP-496): offsets of a topic that a live member
 * subscribes to must not be deleted (GROUP_SUBSCRIBED_TO_TOPIC). It never throws on input:
 * bytes that do not parse give null ("unknown subscription"), and every length is checked
 * against the buffer before it is used.
 */

/** Most topics read from one subscription; a larger count is treated as malformed. */
const SUBSCRIPTION_TOPICS_MAX = 100_000;

/** The topics of a consumer subscription, or null when the bytes are not one. */
export function parseSubscriptionTopics(metadata: Uint8Array): string[] | null {
  const view = new DataView(metadata.buffer, metadata.byteOffset, metadata.byteLength);
  let pos = 0;
  const need = (n: number) => pos + n <= metadata.length;
  // int16 version: any value is accepted, newer versions only append fields (KIP-429, KIP-881).
  if (!need(2)) return null;
  pos += 2;
  if (!need(4)) return null;
  const count = view.getInt32(pos);
  pos += 4;
  if (count < 0 || count > SUBSCRIPTION_TOPICS_MAX) return null;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const topics: string[] = [];
  // Bounded by `count`, which was checked against SUBSCRIPTION_TOPICS_MAX.
  for (let i = 0; i < count; i++) {
    if (!need(2)) return null;
    const len = view.getInt16(pos);
    pos += 2;
    if (len < 0 || !need(len)) return null;
    try {
      topics.push(decoder.decode(metadata.subarray(pos, pos + len)));
    } catch {
      return null; // not UTF-8: not a subscription we understand
    }
    pos += len;
  }
  return topics;
}

/** Encodes a version 0 subscription (for tests and tools): topics and empty user data. */
export function encodeSubscription(topics: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  const names = topics.map((t) => encoder.encode(t));
  const size = 2 + 4 + names.reduce((n, b) => n + 2 + b.length, 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  view.setInt16(pos, 0);
  pos += 2;
  view.setInt32(pos, names.length);
  pos += 4;
  for (const b of names) {
    view.setInt16(pos, b.length);
    pos += 2;
    out.set(b, pos);
    pos += b.length;
  }
  view.setInt32(pos, -1); // null user data
  return out;
}
