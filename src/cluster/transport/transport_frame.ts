/**
 * The transport's binary frame format (big-endian, as Kafka's). Pure: no I/O.
 *
 * ```
 * frame      = length:int32 kind:uint8 body          length = 1 + body bytes (kind + body)
 * kind 1 HELLO       version:uint16 nodeId:int32 clusterIdLen:uint16 clusterId:utf8
 * kind 2 MESSAGE     groupIdLen:uint16 groupId:utf8 payload:bytes (to the end of the frame)
 * kind 3 HEARTBEATS  count:int32 { groupIdLen:uint16 groupId:utf8 payloadLen:int32 payload }*
 * ```
 *
 * A connection starts with one HELLO each way (dialer first); after that the dialer sends
 * only MESSAGE and HEARTBEATS frames. `length` counts the bytes after the length field, and
 * is checked against the receiver's `maxFrameBytes` before anything is allocated from it.
 * Every count and length inside a body is checked against the bytes that remain, so a
 * decode loop is bounded by the frame's size and garbage fails with `FrameDecodeError`.
 */
import { FrameDecodeError, type NodeId, nodeId } from "../../util/mod.ts";
import type { Envelope } from "./transport.ts";

/** Frame kinds (the byte after the length). */
export const FrameKind = { hello: 1, message: 2, heartbeats: 3 } as const;
/** Bytes of the length field. */
export const LENGTH_BYTES = 4;
/** Bytes of length + kind. */
export const FRAME_HEADER_BYTES = 5;
/** Longest group id, in UTF-8 bytes. */
export const GROUP_ID_MAX_BYTES = 1024;
/** Longest cluster id, in UTF-8 bytes. */
export const CLUSTER_ID_MAX_BYTES = 255;
/** Bytes of one heartbeat entry besides its group id and payload. */
const BEAT_OVERHEAD_BYTES = 6;

/** A decoded frame. */
export type TransportFrame =
  | {
    readonly type: "hello";
    readonly protocolVersion: number;
    readonly nodeId: NodeId;
    readonly clusterId: string;
  }
  | { readonly type: "message"; readonly groupId: string; readonly payload: Uint8Array }
  | { readonly type: "heartbeats"; readonly beats: readonly Envelope[] };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
/** The last string decoded, and its bytes (see `BodyReader.text`). */
let lastText = { bytes: new Uint8Array(0), text: "" };

/** Group ids encoded recently (a node serves a bounded set of groups; cleared when full). */
const GROUP_ID_CACHE_MAX = 4096;
const groupIdCache = new Map<string, Uint8Array>();

/**
 * A group id as UTF-8, or null when it is longer than `GROUP_ID_MAX_BYTES`. The bytes are
 * shared through a small cache: callers must not modify them.
 */
export function encodeGroupId(groupId: string): Uint8Array | null {
  let bytes = groupIdCache.get(groupId);
  if (bytes === undefined) {
    bytes = utf8.encode(groupId);
    if (groupIdCache.size >= GROUP_ID_CACHE_MAX) groupIdCache.clear();
    groupIdCache.set(groupId, bytes);
  }
  return bytes.length > GROUP_ID_MAX_BYTES ? null : bytes;
}

/** Writes a big-endian uint16 (no DataView: this is on the per-message path). */
function putU16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v;
}

/** Writes a big-endian int32. */
function putI32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

/** Reads a big-endian int32. */
export function getI32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) |
    (bytes[at + 3] ?? 0);
}

/** Where an encoder gets its bytes (zeroed or not: every byte is written). */
export type FrameAlloc = (bytes: number) => Uint8Array;
const newBytes: FrameAlloc = (n) => new Uint8Array(n);

function header(length: number, kind: number, alloc: FrameAlloc = newBytes): Uint8Array {
  const out = alloc(LENGTH_BYTES + length);
  putI32(out, 0, length);
  out[LENGTH_BYTES] = kind;
  return out;
}

/** Encodes a HELLO frame. */
export function encodeHello(
  protocolVersion: number,
  id: NodeId,
  clusterId: string,
): Uint8Array {
  const cid = utf8.encode(clusterId);
  if (cid.length > CLUSTER_ID_MAX_BYTES) {
    throw new RangeError(`Cannot encode hello: cluster id longer than ${CLUSTER_ID_MAX_BYTES}`);
  }
  const out = header(1 + 2 + 4 + 2 + cid.length, FrameKind.hello);
  putU16(out, 5, protocolVersion);
  putI32(out, 7, id);
  putU16(out, 11, cid.length);
  out.set(cid, 13);
  return out;
}

/** Size of a MESSAGE frame's length field for a group id of `groupIdBytes` and a payload. */
export function messageFrameLength(groupIdBytes: number, payloadBytes: number): number {
  return 1 + 2 + groupIdBytes + payloadBytes;
}

/** Encodes a MESSAGE frame from an already encoded group id. */
export function encodeMessage(
  groupId: Uint8Array,
  payload: Uint8Array,
  alloc: FrameAlloc = newBytes,
): Uint8Array {
  const length = messageFrameLength(groupId.length, payload.length);
  const out = header(length, FrameKind.message, alloc);
  putU16(out, 5, groupId.length);
  out.set(groupId, 7);
  out.set(payload, 7 + groupId.length);
  return out;
}

/** Bytes one heartbeat adds to a HEARTBEATS frame. */
export function beatBytes(groupIdBytes: number, payloadBytes: number): number {
  return BEAT_OVERHEAD_BYTES + groupIdBytes + payloadBytes;
}

/** Length field of a HEARTBEATS frame whose entries total `beatsBytes`. */
export function heartbeatsFrameLength(beatsBytes: number): number {
  return 1 + 4 + beatsBytes;
}

/** Encodes a HEARTBEATS frame from encoded group ids and payloads. */
export function encodeHeartbeats(
  beats: readonly { readonly groupId: Uint8Array; readonly payload: Uint8Array }[],
): Uint8Array {
  let total = 0;
  for (const b of beats) total += beatBytes(b.groupId.length, b.payload.length);
  const out = header(heartbeatsFrameLength(total), FrameKind.heartbeats);
  putI32(out, 5, beats.length);
  let at = 9;
  for (const b of beats) {
    putU16(out, at, b.groupId.length);
    out.set(b.groupId, at + 2);
    at += 2 + b.groupId.length;
    putI32(out, at, b.payload.length);
    out.set(b.payload, at + 4);
    at += 4 + b.payload.length;
  }
  return out;
}

/** Reads fields of one frame body, refusing any read past its end. */
class BodyReader {
  readonly #bytes: Uint8Array;
  #at: number;
  constructor(bytes: Uint8Array, at: number) {
    this.#bytes = bytes;
    this.#at = at;
  }
  get remaining(): number {
    return this.#bytes.length - this.#at;
  }
  #need(n: number, what: string): void {
    if (n < 0 || n > this.remaining) {
      throw new FrameDecodeError(
        `Cannot decode transport frame: ${what} needs ${n} bytes, ${this.remaining} remain`,
      );
    }
  }
  u16(what: string): number {
    this.#need(2, what);
    const b = this.#bytes;
    const v = ((b[this.#at] ?? 0) << 8) | (b[this.#at + 1] ?? 0);
    this.#at += 2;
    return v;
  }
  i32(what: string): number {
    this.#need(4, what);
    const v = getI32(this.#bytes, this.#at);
    this.#at += 4;
    return v;
  }
  /** A view of the next `n` bytes (the caller's buffer is a private copy). */
  bytes(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const v = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }
  text(n: number, what: string): string {
    const bytes = this.bytes(n, what);
    // Consecutive frames mostly name the same group: reuse the last decoded string.
    if (bytes.length === lastText.bytes.length && bytes.every((x, i) => x === lastText.bytes[i])) {
      return lastText.text;
    }
    try {
      const text = utf8Strict.decode(bytes);
      if (bytes.length <= GROUP_ID_MAX_BYTES) lastText = { bytes: bytes.slice(), text };
      return text;
    } catch (err) {
      if (err instanceof FrameDecodeError) throw err;
      throw new FrameDecodeError(`Cannot decode transport frame: ${what} is not UTF-8`, {
        cause: err,
      });
    }
  }
  end(): void {
    if (this.remaining !== 0) {
      throw new FrameDecodeError(
        `Cannot decode transport frame: ${this.remaining} bytes after the last field`,
      );
    }
  }
}

/**
 * Decodes a frame from the bytes after its length field (kind + body). Payloads are views
 * of `frame`, so the caller passes a buffer it will not reuse.
 * @throws {FrameDecodeError} when the bytes are not a well-formed frame.
 */
export function decodeFrame(frame: Uint8Array): TransportFrame {
  const kind = frame[0];
  const r = new BodyReader(frame, 1);
  switch (kind) {
    case FrameKind.hello: {
      const protocolVersion = r.u16("hello version");
      const id = r.i32("hello node id");
      if (id < 0) throw new FrameDecodeError(`Cannot decode hello: node id "${id}" is negative`);
      const clusterId = r.text(r.u16("hello cluster id length"), "hello cluster id");
      r.end();
      return { type: "hello", protocolVersion, nodeId: nodeId(id), clusterId };
    }
    case FrameKind.message: {
      const groupId = r.text(r.u16("group id length"), "group id");
      return { type: "message", groupId, payload: r.bytes(r.remaining, "payload") };
    }
    case FrameKind.heartbeats: {
      const count = r.i32("heartbeat count");
      // Each entry takes at least BEAT_OVERHEAD_BYTES: this bounds the loop by the frame.
      if (count < 0 || count * BEAT_OVERHEAD_BYTES > r.remaining) {
        throw new FrameDecodeError(
          `Cannot decode heartbeats: count "${count}" does not fit in ${r.remaining} bytes`,
        );
      }
      const beats: Envelope[] = [];
      for (let i = 0; i < count; i++) {
        const groupId = r.text(r.u16("group id length"), "group id");
        const payload = r.bytes(r.i32("heartbeat payload length"), "heartbeat payload");
        beats.push({ groupId, payload });
      }
      r.end();
      return { type: "heartbeats", beats };
    }
    default:
      throw new FrameDecodeError(`Cannot decode transport frame: unknown kind "${kind}"`);
  }
}
