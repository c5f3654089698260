/**
 * The "consumer" embedded protocol of classic groups: what a member sends as its JoinGroup
 * protocol metadata (ConsumerProtocolSubscription) and what the leader hands each member in
 * SyncGroup (ConsumerProtocolAssignment). Both are written at version 0: int16 version, then
 * the topics (int32-counted array of int16-length strings; for an assignment each topic has
 * an int32-counted array of int32 partitions), then nullable int32-length user data.
 *
 * Later versions (1-3: owned partitions, generation, rack) only append fields, so decoding
 * reads the version-0 prefix of any version, which lets this client join a group with Java
 * or librdkafka members. Decoding is bounded by the buffer and throws `FrameDecodeError` only.
 */
import { ByteReader, ByteWriter } from "../protocol/mod.ts";

/** A member's subscription. */
export interface Subscription {
  readonly topics: readonly string[];
  readonly userData: Uint8Array | null;
}

/** A member's assignment: partitions per topic. */
export interface Assignment {
  readonly partitions: ReadonlyMap<string, readonly number[]>;
  readonly userData: Uint8Array | null;
}

/** The embedded protocol type of consumer groups. */
export const CONSUMER_PROTOCOL_TYPE = "consumer";
const VERSION = 0;
/** Least bytes of one array element: an empty string, or a topic with no partitions. */
const STRING_BYTES_MIN = 2;
const INT32_BYTES = 4;

/** Encodes a version-0 subscription. */
export function encodeSubscription(s: Subscription): Uint8Array {
  const w = new ByteWriter(64);
  w.int16(VERSION);
  w.int32(s.topics.length);
  for (const t of s.topics) w.string(t);
  w.bytes(s.userData);
  return w.finish();
}

/**
 * Decodes the version-0 prefix of a subscription of any version.
 * @throws {FrameDecodeError} when the bytes are truncated or a length is impossible.
 */
export function decodeSubscription(bytes: Uint8Array): Subscription {
  const r = new ByteReader(bytes);
  r.int16(); // version: later versions append fields only
  const count = r.arrayLength(false, STRING_BYTES_MIN);
  const topics: string[] = [];
  for (let i = 0; i < count; i++) topics.push(r.string(false) ?? "");
  const userData = r.remaining >= INT32_BYTES ? r.bytes(true) : null;
  return { topics, userData };
}

/** Encodes a version-0 assignment; topics and partitions in ascending order. */
export function encodeAssignment(a: Assignment): Uint8Array {
  const w = new ByteWriter(64);
  w.int16(VERSION);
  const topics = [...a.partitions.keys()].sort();
  w.int32(topics.length);
  for (const t of topics) {
    const parts = [...(a.partitions.get(t) ?? [])].sort((x, y) => x - y);
    w.string(t);
    w.int32(parts.length);
    for (const p of parts) w.int32(p);
  }
  w.bytes(a.userData);
  return w.finish();
}

/**
 * Decodes the version-0 prefix of an assignment of any version; empty bytes (a member the
 * leader left out) decode as no partitions.
 * @throws {FrameDecodeError} when the bytes are truncated or a length is impossible.
 */
export function decodeAssignment(bytes: Uint8Array): Assignment {
  const partitions = new Map<string, number[]>();
  if (bytes.length === 0) return { partitions, userData: null };
  const r = new ByteReader(bytes);
  r.int16();
  const count = r.arrayLength(false, STRING_BYTES_MIN + INT32_BYTES);
  for (let i = 0; i < count; i++) {
    const topic = r.string(false) ?? "";
    const n = r.arrayLength(false, INT32_BYTES);
    const parts: number[] = [];
    for (let j = 0; j < n; j++) parts.push(r.int32());
    partitions.set(topic, parts);
  }
  const userData = r.remaining >= INT32_BYTES ? r.bytes(true) : null;
  return { partitions, userData };
}
