/**
 * The records of committed offsets in the internal topic `__consumer_offsets`, in Kafka's own
 * binary layout (OffsetCommitKey.json / OffsetCommitValue.json of the group coordinator), so
 * the topic reads the same as a Kafka broker's:
 *
 *   key   = int16 version (1) | string group | string topic | int32 partition
 *   value = int16 version (3) | int64 offset | int32 leader epoch | string metadata
 *           | int64 commit timestamp (ms)
 *   string = int16 byte length + UTF-8 bytes; integers are big-endian.
 *
 * A null value is a tombstone (OffsetDelete, DeleteGroups): the offset is gone. Key versions
 * 0 and 1 are offset commits; version 2 (group metadata) and later are other record kinds and
 * are skipped when reading. Value versions 0-3 are read (v1 carries an expire timestamp
 * after the commit timestamp, v3 adds the leader epoch; KIP-211, KIP-320).
 *
 * Decoding never throws on bad input: it returns null, and every length is checked first.
 */
import { OffsetsTopicReader as Reader } from "./_offsets_topic_reader.ts";
import type { CommittedOffset } from "./classic_group.ts";

/** Key version written (OffsetCommitKey v1). */
export const OFFSET_KEY_VERSION = 1;
/** Value version written (OffsetCommitValue v3: with the leader epoch). */
export const OFFSET_VALUE_VERSION = 3;

/** The identity of a committed offset. */
export interface OffsetKey {
  groupId: string;
  topic: string;
  partition: number;
}

const encoder = new TextEncoder();
const INT16_MAX = 0x7fff;

/**
 * Encodes an offset key.
 * @throws {RangeError} when a name is longer than a Kafka string allows (32767 bytes).
 */
export function encodeOffsetKey(key: OffsetKey): Uint8Array {
  const group = encodeString(key.groupId);
  const topic = encodeString(key.topic);
  const out = new Uint8Array(2 + group.length + topic.length + 4);
  const view = new DataView(out.buffer);
  view.setInt16(0, OFFSET_KEY_VERSION);
  out.set(group, 2);
  out.set(topic, 2 + group.length);
  view.setInt32(2 + group.length + topic.length, key.partition);
  return out;
}

/**
 * Encodes a committed offset (value v3).
 * @throws {RangeError} when the metadata is longer than 32767 bytes.
 */
export function encodeOffsetValue(v: CommittedOffset): Uint8Array {
  const metadata = encodeString(v.metadata);
  const out = new Uint8Array(2 + 8 + 4 + metadata.length + 8);
  const view = new DataView(out.buffer);
  view.setInt16(0, OFFSET_VALUE_VERSION);
  view.setBigInt64(2, BigInt(v.offset));
  view.setInt32(10, v.leaderEpoch);
  out.set(metadata, 14);
  view.setBigInt64(14 + metadata.length, BigInt(v.commitTimestampMs));
  return out;
}

/** Decodes an offset key; null for other record kinds or malformed bytes. */
export function decodeOffsetKey(bytes: Uint8Array): OffsetKey | null {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version === null || (version !== 0 && version !== 1)) return null;
  const groupId = r.string();
  const topic = r.string();
  const partition = r.int32();
  if (groupId === null || topic === null || partition === null) return null;
  return { groupId, topic, partition };
}

/** Decodes a committed offset (value v0-3); null for malformed bytes or unknown versions. */
export function decodeOffsetValue(bytes: Uint8Array): CommittedOffset | null {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version === null || version < 0 || version > 3) return null;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = r.string();
  const commitTimestampMs = r.int64();
  if (version === 1 && r.int64() === null) return null; // v1's expire timestamp
  if (offset === null || leaderEpoch === null || metadata === null || commitTimestampMs === null) {
    return null;
  }
  return { offset, leaderEpoch, metadata, commitTimestampMs };
}

function encodeString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  if (bytes.length > INT16_MAX) {
    throw new RangeError(
      `Cannot encode string of ${bytes.length} bytes: the limit is ${INT16_MAX}`,
    );
  }
  const out = new Uint8Array(2 + bytes.length);
  new DataView(out.buffer).setInt16(0, bytes.length);
  out.set(bytes, 2);
  return out;
}
