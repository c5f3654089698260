/**
 * The big-endian binary writer and reader shared by the controller's two codecs (metadata
 * records and controller RPC frames). The writer range-checks every value (a failed check is
 * the caller's bug: RangeError); the reader checks every length against the bytes left before
 * using it and fails only with `FrameDecodeError`. `what` names the format in messages.
 */
import { FrameDecodeError, type NodeId, nodeId } from "../../util/mod.ts";

/** The uint16 length that encodes a null string. */
export const NULL_STRING = 0xffff;

/** A broker listener as both codecs carry it: string name | string host | uint16 port. */
export interface Endpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A growable big-endian writer with range checks. */
export class BinaryWriter {
  readonly #what: string;
  readonly #stringBytesMax: number;
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  constructor(what: string, stringBytesMax: number) {
    this.#what = what;
    this.#stringBytesMax = stringBytesMax;
  }

  /** @throws {RangeError} when `v` is not an integer in [min, max]. */
  checkInt(v: number, min: number, max: number, name: string): void {
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new RangeError(
        `Cannot encode ${this.#what}: ${name} "${v}" is not in [${min}, ${max}]`,
      );
    }
  }

  #fixed(n: number, put: (dv: DataView) => void): void {
    const b = new Uint8Array(n);
    put(new DataView(b.buffer));
    this.bytes(b);
  }
  /** Appends raw bytes (kept by reference until `finish`). */
  bytes(b: Uint8Array): void {
    this.#parts.push(b);
    this.#length += b.length;
  }
  int8(v: number): void {
    this.checkInt(v, -128, 127, "int8");
    this.#fixed(1, (dv) => dv.setInt8(0, v));
  }
  uint16(v: number): void {
    this.checkInt(v, 0, 0xffff, "uint16");
    this.#fixed(2, (dv) => dv.setUint16(0, v));
  }
  uint32(v: number): void {
    this.checkInt(v, 0, 0xffff_ffff, "uint32");
    this.#fixed(4, (dv) => dv.setUint32(0, v));
  }
  int32(v: number): void {
    this.checkInt(v, -0x8000_0000, 0x7fff_ffff, "int32");
    this.#fixed(4, (dv) => dv.setInt32(0, v));
  }
  int64(v: number): void {
    this.checkInt(v, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "int64");
    this.#fixed(8, (dv) => dv.setBigInt64(0, BigInt(v)));
  }
  /** A uint16 element count, at most `max`. */
  count(n: number, max: number, name: string): void {
    this.checkInt(n, 0, max, name);
    this.uint16(n);
  }
  /** A uint16-length UTF-8 string; null as NULL_STRING. */
  string(s: string | null): void {
    if (s === null) return this.uint16(NULL_STRING);
    const b = encoder.encode(s);
    this.checkInt(b.length, 0, this.#stringBytesMax, "string bytes");
    this.uint16(b.length);
    this.bytes(b);
  }
  /** A counted list of node ids. */
  ids(ids: readonly NodeId[], max: number, name: string): void {
    this.count(ids.length, max, name);
    for (const id of ids) this.int32(id);
  }
  /** A counted list of endpoints, at most `max`. */
  endpoints(list: readonly Endpoint[], max: number): void {
    this.count(list.length, max, "endpoints");
    for (const e of list) {
      this.string(e.name);
      this.string(e.host);
      this.uint16(e.port);
    }
  }
  /** Everything written, as one array. */
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

/** A bounds-checked big-endian reader. */
export class BinaryReader {
  readonly #what: string;
  readonly #stringBytesMax: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(bytes: Uint8Array, what: string, stringBytesMax: number) {
    this.#what = what;
    this.#stringBytesMax = stringBytesMax;
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A decode error naming the format. */
  malformed(detail: string, cause?: unknown): FrameDecodeError {
    return new FrameDecodeError(
      `Cannot decode ${this.#what}: ${detail}`,
      cause === undefined ? undefined : { cause },
    );
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }
  #take(n: number): number {
    if (n > this.remaining) {
      throw this.malformed(`needs ${n} bytes at ${this.#pos}, has ${this.remaining}`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
  /** The next `n` bytes, as a view. */
  bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#bytes.subarray(at, at + n);
  }
  int8(): number {
    return this.#view.getInt8(this.#take(1));
  }
  bool(): boolean {
    const v = this.int8();
    if (v !== 0 && v !== 1) throw this.malformed(`boolean "${v}"`);
    return v === 1;
  }
  uint16(): number {
    return this.#view.getUint16(this.#take(2));
  }
  uint32(): number {
    return this.#view.getUint32(this.#take(4));
  }
  int32(): number {
    return this.#view.getInt32(this.#take(4));
  }
  int64(): number {
    const v = this.#view.getBigInt64(this.#take(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.malformed(`int64 "${v}" outside the safe integer range`);
    }
    return Number(v);
  }
  nodeId(): NodeId {
    const v = this.int32();
    if (v < 0) throw this.malformed(`negative node id "${v}"`);
    return nodeId(v);
  }
  count(max: number, name: string): number {
    const n = this.uint16();
    if (n > max) throw this.malformed(`${n} ${name}, at most ${max}`);
    return n;
  }
  nullableString(): string | null {
    const n = this.uint16();
    if (n === NULL_STRING) return null;
    if (n > this.#stringBytesMax) throw this.malformed(`string of ${n} bytes`);
    const b = this.bytes(n);
    try {
      return decoder.decode(b);
    } catch (err) {
      throw this.malformed("invalid UTF-8", err);
    }
  }
  string(): string {
    const s = this.nullableString();
    if (s === null) throw this.malformed("null where a string is required");
    return s;
  }
  /** A counted list of node ids (the count is checked against the bytes left first). */
  ids(max: number, name: string): NodeId[] {
    const n = this.count(max, name);
    if (n * 4 > this.remaining) throw this.malformed(`${n} ${name}, ${this.remaining} bytes left`);
    const out: NodeId[] = [];
    for (let i = 0; i < n; i++) out.push(this.nodeId());
    return out;
  }
  /** A counted list of endpoints, at most `max`. */
  endpoints(max: number): Endpoint[] {
    const n = this.count(max, "endpoints");
    const out: Endpoint[] = [];
    for (let i = 0; i < n; i++) {
      out.push({ name: this.string(), host: this.string(), port: this.uint16() });
    }
    return out;
  }
}
