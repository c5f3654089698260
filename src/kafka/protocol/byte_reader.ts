/**
 * A bounds-checked big-endian cursor over one Kafka frame: the primitive types of the
 * protocol guide ("Protocol Primitive Types") read from a `Uint8Array` without copying.
 *
 * Invariants:
 * - Every read checks the bytes it needs against the current limit (the frame end, or a
 *   tagged field's declared size) first, so a lying length never reads past the frame or
 *   allocates from an unchecked number (STYLE.md principle 5).
 * - The only error thrown is `FrameDecodeError`.
 * - `bytes` and `records` values are views (`subarray`) into the frame: they alias the
 *   caller's buffer and stay valid only as long as it does.
 *
 * It must not know about schemas; that is `message_codec.ts`'s job.
 */
import { FrameDecodeError } from "../../util/mod.ts";

/** Largest unsigned varint the protocol uses for lengths and tags (uint32, 5 bytes). */
const UVARINT_MAX_BYTES = 5;
/** A varlong (zig-zag int64) takes at most 10 bytes. */
const VARLONG_MAX_BYTES = 10;
/** Strings shorter than this are decoded by hand when pure ASCII (faster than TextDecoder). */
const ASCII_FAST_PATH_MAX = 64;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const UTF8 = new TextDecoder("utf-8");

/** Reads Kafka primitives from a frame, refusing to step past its limit. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos: number;
  #limit: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) {
      throw new FrameDecodeError(`Cannot read frame: bad window "${start}..${end}"`);
    }
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pos = start;
    this.#limit = end;
  }

  /** Current position within the underlying buffer. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left before the current limit. */
  get remaining(): number {
    return this.#limit - this.#pos;
  }

  /**
   * Ensures `n` more bytes exist before the limit.
   * @throws {FrameDecodeError} when they do not.
   */
  need(n: number, what: string): void {
    if (n > this.#limit - this.#pos) {
      throw new FrameDecodeError(
        `Cannot read ${what}: needs "${n}" bytes, "${this.#limit - this.#pos}" left`,
      );
    }
  }

  /**
   * Runs `fn` with the limit narrowed to the next `size` bytes, then skips to their end
   * whatever `fn` consumed. Used for tagged fields (KIP-482): a known tag's value must lie
   * inside its declared size, and trailing bytes a newer writer added are ignored.
   */
  within<T>(size: number, what: string, fn: (r: ByteReader) => T): T {
    this.need(size, what);
    const savedLimit = this.#limit;
    const end = this.#pos + size;
    this.#limit = end;
    try {
      return fn(this);
    } finally {
      this.#limit = savedLimit;
      this.#pos = end;
    }
  }

  /** Skips `n` bytes. */
  skip(n: number, what: string): void {
    this.need(n, what);
    this.#pos += n;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int8(): number {
    this.need(1, "int8");
    return this.#view.getInt8(this.#pos++);
  }

  int16(): number {
    this.need(2, "int16");
    const v = this.#view.getInt16(this.#pos);
    this.#pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2, "uint16");
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, "int32");
    const v = this.#view.getInt32(this.#pos);
    this.#pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4, "uint32");
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** int64 as a bigint: exact for every wire value; callers convert at the edge. */
  int64(): bigint {
    this.need(8, "int64");
    const v = this.#view.getBigInt64(this.#pos);
    this.#pos += 8;
    return v;
  }

  float64(): number {
    this.need(8, "float64");
    const v = this.#view.getFloat64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /**
   * Unsigned varint (protocol guide "UNSIGNED_VARINT"), at most 5 bytes and 32 bits; used
   * for compact lengths, tagged-field counts, tags and sizes.
   */
  uvarint(): number {
    let result = 0;
    for (let i = 0; i < UVARINT_MAX_BYTES; i++) {
      this.need(1, "unsigned varint");
      const b = this.#buf[this.#pos++] ?? 0;
      if (i === UVARINT_MAX_BYTES - 1 && b > 0x0f) {
        throw new FrameDecodeError("Cannot read unsigned varint: value exceeds 32 bits");
      }
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return result;
    }
    throw new FrameDecodeError("Cannot read unsigned varint: longer than 5 bytes");
  }

  /** Signed zig-zag varint (protocol guide "VARINT"), 32 bits. */
  varint(): number {
    const u = this.uvarint();
    return (u % 2 === 0 ? u / 2 : -(u + 1) / 2) | 0;
  }

  /** Signed zig-zag varlong (protocol guide "VARLONG"), 64 bits. */
  varlong(): bigint {
    let result = 0n;
    for (let i = 0; i < VARLONG_MAX_BYTES; i++) {
      this.need(1, "varlong");
      const b = this.#buf[this.#pos++] ?? 0;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        const u = BigInt.asUintN(64, result);
        return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
      }
    }
    throw new FrameDecodeError("Cannot read varlong: longer than 10 bytes");
  }

  /** UUID (16 bytes) as 32 lowercase hex digits; Kafka's zero uuid is all zeros. */
  uuid(): string {
    this.need(16, "uuid");
    let s = "";
    for (let i = 0; i < 16; i++) s += HEX[this.#buf[this.#pos + i] ?? 0];
    this.#pos += 16;
    return s;
  }

  /** A UTF-8 string of `len` bytes (length already read and non-negative). */
  utf8(len: number): string {
    this.need(len, "string");
    const start = this.#pos;
    this.#pos += len;
    if (len < ASCII_FAST_PATH_MAX) {
      // Topic names, client ids and group ids are ASCII in practice; building them by hand
      // avoids TextDecoder's per-call overhead on the hot path.
      let s = "";
      for (let i = start; i < start + len; i++) {
        const c = this.#buf[i] ?? 0;
        if (c >= 0x80) return UTF8.decode(this.#buf.subarray(start, start + len));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return UTF8.decode(this.#buf.subarray(start, start + len));
  }

  /** `len` bytes as a view into the frame (no copy). */
  view(len: number, what = "bytes"): Uint8Array {
    this.need(len, what);
    const v = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return v;
  }

  /** STRING / NULLABLE_STRING: int16 length, -1 = null. */
  string(nullable: boolean): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len === -1 && nullable) return null;
      throw new FrameDecodeError(`Cannot read string: bad length "${len}"`);
    }
    return this.utf8(len);
  }

  /** COMPACT_STRING / COMPACT_NULLABLE_STRING: unsigned varint length + 1, 0 = null. */
  compactString(nullable: boolean): string | null {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return null;
      throw new FrameDecodeError("Cannot read compact string: null where not nullable");
    }
    return this.utf8(n - 1);
  }

  /** BYTES / NULLABLE_BYTES (and RECORDS): int32 length, -1 = null; a view, no copy. */
  bytes(nullable: boolean): Uint8Array | null {
    const len = this.int32();
    if (len < 0) {
      if (len === -1 && nullable) return null;
      throw new FrameDecodeError(`Cannot read bytes: bad length "${len}"`);
    }
    return this.view(len);
  }

  /** COMPACT_BYTES / COMPACT_NULLABLE_BYTES (and COMPACT_RECORDS): varint length + 1. */
  compactBytes(nullable: boolean): Uint8Array | null {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return null;
      throw new FrameDecodeError("Cannot read compact bytes: null where not nullable");
    }
    return this.view(n - 1);
  }

  /**
   * ARRAY length (int32, -1 = null) checked against the bytes left: each element takes at
   * least `minElementBytes` (counted as 1 when 0) so a count can never make us allocate
   * more slots than the frame could hold.
   */
  arrayLength(nullable: boolean, minElementBytes: number): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new FrameDecodeError(`Cannot read array: bad length "${n}"`);
    }
    this.#checkCount(n, minElementBytes);
    return n;
  }

  /** COMPACT_ARRAY length (unsigned varint N+1, 0 = null), checked like `arrayLength`. */
  compactArrayLength(nullable: boolean, minElementBytes: number): number {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return -1;
      throw new FrameDecodeError("Cannot read compact array: null where not nullable");
    }
    this.#checkCount(n - 1, minElementBytes);
    return n - 1;
  }

  #checkCount(n: number, minElementBytes: number): void {
    const per = minElementBytes > 0 ? minElementBytes : 1;
    if (n * per > this.#limit - this.#pos) {
      throw new FrameDecodeError(
        `Cannot read array: "${n}" elements cannot fit in "${this.#limit - this.#pos}" bytes`,
      );
    }
  }
}
