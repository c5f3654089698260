/**
 * A growable big-endian buffer that writes the Kafka protocol primitives (protocol guide
 * "Protocol Primitive Types"). Encoders write into one `ByteWriter` per frame; `finish()`
 * returns a view of the written bytes without copying.
 *
 * Invariants: the buffer only grows (doubling, so appends are amortised O(1)); large byte
 * payloads such as record batches are copied once, straight into place, or, when the writer
 * was made with `zeroCopyMinBytes`, not copied at all: `finishChunks()` then returns the
 * frame as a list of views (buffer segments and the caller's own payloads) to be written in
 * order, so a Fetch response hands stored batches to the socket untouched. It never
 * validates schema rules; `message_codec.ts` does, before calling it.
 */
import { AssertionError } from "../../util/mod.ts";

const INITIAL_BYTES = 256;
const UTF8 = new TextEncoder();

/** Writes Kafka primitives into a growing buffer. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  /** Payloads at least this long are referenced, not copied (Infinity: always copy). */
  readonly #zeroCopyMinBytes: number;
  /** Finished pieces of the frame, in order, when payloads are referenced. */
  readonly #chunks: Uint8Array[] = [];
  /** Start of the buffer segment not yet in `#chunks`. */
  #segmentStart = 0;
  /** Bytes of referenced payloads (in `#chunks`, not in the buffer). */
  #referencedBytes = 0;

  constructor(initialBytes = INITIAL_BYTES, zeroCopyMinBytes = Infinity) {
    this.#buf = new Uint8Array(Math.max(16, initialBytes));
    this.#view = new DataView(this.#buf.buffer);
    this.#zeroCopyMinBytes = zeroCopyMinBytes;
  }

  /** Bytes written so far, referenced payloads included. */
  get length(): number {
    return this.#pos + this.#referencedBytes;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }

  int8(v: number): void {
    this.#ensure(1);
    this.#view.setInt8(this.#pos, v);
    this.#pos += 1;
  }

  int16(v: number): void {
    this.#ensure(2);
    this.#view.setInt16(this.#pos, v);
    this.#pos += 2;
  }

  uint16(v: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#pos, v);
    this.#pos += 2;
  }

  int32(v: number): void {
    this.#ensure(4);
    this.#view.setInt32(this.#pos, v);
    this.#pos += 4;
  }

  uint32(v: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.#pos, v);
    this.#pos += 4;
  }

  int64(v: bigint): void {
    this.#ensure(8);
    this.#view.setBigInt64(this.#pos, v);
    this.#pos += 8;
  }

  float64(v: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, v);
    this.#pos += 8;
  }

  /** Unsigned varint (uint32): compact lengths, tagged-field counts, tags and sizes. */
  uvarint(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) bug(`uvarint out of range: ${v}`);
    this.#ensure(5);
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.#buf[this.#pos++] = v;
  }

  /** Signed zig-zag varint (int32). */
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Signed zig-zag varlong (int64). */
  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.#ensure(10);
    while (u >= 0x80n) {
      this.#buf[this.#pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.#buf[this.#pos++] = Number(u);
  }

  /** UUID from 32 hex digits (dashes allowed). */
  uuid(v: string): void {
    const hex = v.length === 32 ? v : v.replaceAll("-", "");
    if (!(/^[0-9a-fA-F]{32}$/.test(hex))) bug(`uuid must be 32 hex digits: "${v}"`);
    this.#ensure(16);
    for (let i = 0; i < 16; i++) {
      this.#buf[this.#pos++] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    }
  }

  /**
   * Raw bytes: copied once into place, or referenced when at least `zeroCopyMinBytes` long
   * (the caller must then leave `v` unchanged until the frame is written).
   */
  raw(v: Uint8Array): void {
    if (v.length >= this.#zeroCopyMinBytes) {
      // Close the current buffer segment as a view; later writes go after it in the same
      // buffer (or a grown copy), so the view stays intact.
      this.#chunks.push(this.#buf.subarray(this.#segmentStart, this.#pos), v);
      this.#segmentStart = this.#pos;
      this.#referencedBytes += v.length;
      return;
    }
    this.#ensure(v.length);
    this.#buf.set(v, this.#pos);
    this.#pos += v.length;
  }

  /** STRING / NULLABLE_STRING: int16 length (-1 = null) then UTF-8. */
  string(v: string | null): void {
    if (v === null) return this.int16(-1);
    const bytes = encodeUtf8(v);
    if (!(bytes.length <= 0x7fff)) bug(`string longer than 32767 bytes: ${bytes.length}`);
    this.int16(bytes.length);
    this.raw(bytes);
  }

  /** COMPACT_STRING / COMPACT_NULLABLE_STRING: unsigned varint length + 1 (0 = null). */
  compactString(v: string | null): void {
    if (v === null) return this.uvarint(0);
    const bytes = encodeUtf8(v);
    this.uvarint(bytes.length + 1);
    this.raw(bytes);
  }

  /** BYTES / NULLABLE_BYTES / RECORDS: int32 length (-1 = null). */
  bytes(v: Uint8Array | null): void {
    if (v === null) return this.int32(-1);
    this.int32(v.length);
    this.raw(v);
  }

  /** COMPACT_BYTES / COMPACT_NULLABLE_BYTES / COMPACT_RECORDS: varint length + 1. */
  compactBytes(v: Uint8Array | null): void {
    if (v === null) return this.uvarint(0);
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  /** Overwrites an int32 already written at `at` (frame size prefixes). */
  patchInt32(at: number, v: number): void {
    if (!(at >= 0 && at + 4 <= this.#pos)) bug(`patch outside written bytes: ${at}`);
    this.#view.setInt32(at, v);
    // With referenced payloads, the first segment may be a view of an older buffer (the
    // buffer grew since): patch it there too. Only the first segment can be patched.
    const first = this.#chunks[0];
    if (first !== undefined) {
      if (at + 4 > first.length) bug(`patch outside the first segment: ${at}`);
      new DataView(first.buffer, first.byteOffset, first.length).setInt32(at, v);
    }
  }

  /** The bytes written so far, as a view (no copy); the writer must not be reused. */
  finish(): Uint8Array {
    if (this.#chunks.length > 0) bug("finish() on a writer holding referenced payloads");
    return this.#buf.subarray(0, this.#pos);
  }

  /**
   * The frame as views to write in order: buffer segments and referenced payloads (empty
   * segments left out). The writer must not be reused.
   */
  finishChunks(): Uint8Array[] {
    const out = [...this.#chunks, this.#buf.subarray(this.#segmentStart, this.#pos)];
    return out.filter((c) => c.length > 0);
  }
}

/** UTF-8 bytes of `s`, with a by-hand path for short ASCII strings (names, ids). */
function encodeUtf8(s: string): Uint8Array {
  if (s.length < 64) {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return UTF8.encode(s);
      out[i] = c;
    }
    return out;
  }
  return UTF8.encode(s);
}

/**
 * Fails like `assert`, but lets hot paths build the message only when the check fails
 * (an eager template string per field costs more than the field itself).
 * @throws {AssertionError} always.
 */
function bug(message: string): never {
  throw new AssertionError(`Assertion failed: ${message}`);
}
