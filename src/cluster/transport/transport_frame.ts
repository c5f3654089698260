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

/** A group id as UTF-8, or null when it is longer than `GROUP_ID_MAX_BYTES`. */
export function encodeGroupId(groupId: string): Uint8Array | null {
  const bytes = utf8.encode(groupId);
  return bytes.length > GROUP_ID_MAX_BYTES ? null : bytes;
}

function header(length: number, kind: number): { out: Uint8Array; view: DataView } {
  const out = new Uint8Array(LENGTH_BYTES + length);
  const view = new DataView(out.buffer);
  view.setInt32(0, length);
  out[LENGTH_BYTES] = kind;
  return { out, view };
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
  const { out, view } = header(1 + 2 + 4 + 2 + cid.length, FrameKind.hello);
  view.setUint16(5, protocolVersion);
  view.setInt32(7, id);
  view.setUint16(11, cid.length);
  out.set(cid, 13);
  return out;
}

/** Size of a MESSAGE frame's length field for a group id of `groupIdBytes` and a payload. */
export function messageFrameLength(groupIdBytes: number, payloadBytes: number): number {
  return 1 + 2 + groupIdBytes + payloadBytes;
}

/** Encodes a MESSAGE frame from an already encoded group id. */
export function encodeMessage(groupId: Uint8Array, payload: Uint8Array): Uint8Array {
  const { out, view } = header(
    messageFrameLength(groupId.length, payload.length),
    FrameKind.message,
  );
  view.setUint16(5, groupId.length);
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
  const { out, view } = header(heartbeatsFrameLength(total), FrameKind.heartbeats);
  view.setInt32(5, beats.length);
  let at = 9;
  for (const b of beats) {
    view.setUint16(at, b.groupId.length);
    out.set(b.groupId, at + 2);
    at += 2 + b.groupId.length;
    view.setInt32(at, b.payload.length);
    out.set(b.payload, at + 4);
    at += 4 + b.payload.length;
  }
  return out;
}

/** Reads fields of one frame body, refusing any read past its end. */
class BodyReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at: number;
  constructor(bytes: Uint8Array, at: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    const v = this.#view.getUint16(this.#at);
    this.#at += 2;
    return v;
  }
  i32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getInt32(this.#at);
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
    try {
      return utf8Strict.decode(this.bytes(n, what));
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
