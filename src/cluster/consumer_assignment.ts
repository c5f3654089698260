/**
 * Reads a consumer group member's assignment, the bytes the leader hands out in SyncGroup for
 * protocol type "consumer" (ConsumerProtocolAssignment.json, versions 0-3): int16 version,
 * then `assigned_partitions` as an int32-counted array of (int16-length topic, int32-counted
 * int32 partitions), then user data, which is not needed here. Used to show assignments in
 * the HTTP API. Never throws on input: bytes that do not parse give null, and every length is
 * checked against the buffer first.
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
