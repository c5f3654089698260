/**
 * Group metadata records of `__consumer_offsets`, in Kafka's binary layout
 * (GroupMetadataKey.json / GroupMetadataValue.json), next to the offset records of
 * offset_commit_record.ts:
 *
 *   key   = int16 version (2) | string group
 *   value = int16 version (3) | string protocol type | int32 generation
 *           | nullable string protocol | nullable string leader | int64 state timestamp
 *           | int32 count, then per member: string member id | nullable string instance id
 *             | string client id | string client host | int32 rebalance timeout
 *             | int32 session timeout | bytes subscription | bytes assignment
 *   string = int16 length + UTF-8 (nullable: length -1 = null); bytes = int32 length + bytes.
 *
 * A null value is a tombstone (DeleteGroups). Values v0-3 are read (v1 adds the rebalance
 * timeout, v2 the state timestamp, v3 the instance id; KIP-345). Decoding never throws:
 * malformed input gives null, and every length is checked before use.
 */
import { OffsetsTopicReader as Reader } from "./_offsets_topic_reader.ts";

/** Key version of group metadata (0 and 1 are offset commits). */
export const GROUP_KEY_VERSION = 2;
/** Value version written. */
export const GROUP_VALUE_VERSION = 3;
/** Most members read from one record (a sanity bound before allocating). */
const MEMBERS_MAX = 100_000;

/** One member as persisted. */
export interface PersistedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The member's metadata for the selected protocol. */
  subscription: Uint8Array;
  assignment: Uint8Array;
}

/** A group's membership as persisted: the last Stable generation, or Empty. */
export interface GroupSnapshot {
  protocolType: string;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  stateTimestampMs: number;
  members: PersistedMember[];
}

const encoder = new TextEncoder();

/** Encodes a group metadata key. */
export function encodeGroupKey(groupId: string): Uint8Array {
  const w = new Writer();
  w.int16(GROUP_KEY_VERSION);
  w.string(groupId);
  return w.finish();
}

/** The group id of a group metadata key; null for other record kinds or bad bytes. */
export function decodeGroupKey(bytes: Uint8Array): string | null {
  const r = new Reader(bytes);
  if (r.int16() !== GROUP_KEY_VERSION) return null;
  return r.string();
}

/**
 * Encodes a group snapshot (value v3).
 * @throws {RangeError} when a string is longer than 32767 bytes.
 */
export function encodeGroupValue(s: GroupSnapshot): Uint8Array {
  const w = new Writer();
  w.int16(GROUP_VALUE_VERSION);
  w.string(s.protocolType);
  w.int32(s.generationId);
  w.string(s.protocolName);
  w.string(s.leaderId);
  w.int64(s.stateTimestampMs);
  w.int32(s.members.length);
  for (const m of s.members) {
    w.string(m.memberId);
    w.string(m.groupInstanceId);
    w.string(m.clientId);
    w.string(m.clientHost);
    w.int32(m.rebalanceTimeoutMs);
    w.int32(m.sessionTimeoutMs);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return w.finish();
}

/** Decodes a group snapshot (value v0-3); null for malformed bytes or unknown versions. */
export function decodeGroupValue(bytes: Uint8Array): GroupSnapshot | null {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version === null || version < 0 || version > 3) return null;
  const protocolType = r.string();
  const generationId = r.int32();
  const protocolName = r.nullableString();
  const leaderId = r.nullableString();
  const stateTimestampMs = version >= 2 ? r.int64() : -1;
  const count = r.int32();
  if (
    protocolType === null || generationId === null || protocolName === undefined ||
    leaderId === undefined || stateTimestampMs === null || count === null || count < 0 ||
    count > MEMBERS_MAX
  ) {
    return null;
  }
  const members: PersistedMember[] = [];
  // Bounded by `count`, checked against MEMBERS_MAX; each member also needs bytes to exist.
  for (let i = 0; i < count; i++) {
    const memberId = r.string();
    const groupInstanceId = version >= 3 ? r.nullableString() : null;
    const clientId = r.string();
    const clientHost = r.string();
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : null;
    const sessionTimeoutMs = r.int32();
    const subscription = r.bytes();
    const assignment = r.bytes();
    if (
      memberId === null || groupInstanceId === undefined || clientId === null ||
      clientHost === null || sessionTimeoutMs === null || subscription === null ||
      assignment === null
    ) {
      return null;
    }
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // v0 has no rebalance timeout: Kafka then uses the session timeout.
      rebalanceTimeoutMs: rebalanceTimeoutMs ?? sessionTimeoutMs,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  return { protocolType, generationId, protocolName, leaderId, stateTimestampMs, members };
}

/** A growable big-endian writer. */
class Writer {
  #parts: Uint8Array[] = [];
  #length = 0;
  #push(b: Uint8Array): void {
    this.#parts.push(b);
    this.#length += b.length;
  }
  int16(v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setInt16(0, v);
    this.#push(b);
  }
  int32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v);
    this.#push(b);
  }
  int64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v));
    this.#push(b);
  }
  string(s: string | null): void {
    if (s === null) return this.int16(-1);
    const bytes = encoder.encode(s);
    if (bytes.length > 0x7fff) {
      throw new RangeError(`Cannot encode string of ${bytes.length} bytes: the limit is 32767`);
    }
    this.int16(bytes.length);
    this.#push(bytes);
  }
  bytes(b: Uint8Array): void {
    this.int32(b.length);
    this.#push(b);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let pos = 0;
    for (const p of this.#parts) {
      out.set(p, pos);
      pos += p.length;
    }
    return out;
  }
}
