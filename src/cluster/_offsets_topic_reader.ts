/**
 * The lenient reader of the record layouts Pyralog keeps in `__consumer_offsets` (Kafka's
 * offset-commit and group-metadata keys and values): big-endian, int16-length strings, int32-
 * length bytes. It never throws: a value that does not fit answers null (undefined for a
 * malformed nullable string), so a record Pyralog did not write is skipped, not fatal.
 * Private to src/cluster; shared by offset_commit_record.ts and group_metadata_record.ts.
 */

const decoder = new TextDecoder("utf-8", { fatal: true });

/** A bounds-checked big-endian reader; null (or undefined for nullable strings) on bad input. */
export class OffsetsTopicReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #has(n: number): boolean {
    return n >= 0 && this.#pos + n <= this.#bytes.length;
  }
  int16(): number | null {
    if (!this.#has(2)) return null;
    const v = this.#view.getInt16(this.#pos);
    this.#pos += 2;
    return v;
  }
  int32(): number | null {
    if (!this.#has(4)) return null;
    const v = this.#view.getInt32(this.#pos);
    this.#pos += 4;
    return v;
  }
  int64(): number | null {
    if (!this.#has(8)) return null;
    const v = this.#view.getBigInt64(this.#pos);
    this.#pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) return null;
    return Number(v);
  }
  string(): string | null {
    const s = this.nullableString();
    return s === undefined ? null : s;
  }
  /** A nullable string: the string, null for length -1, undefined when malformed. */
  nullableString(): string | null | undefined {
    const len = this.int16();
    if (len === null) return undefined;
    if (len === -1) return null;
    if (!this.#has(len)) return undefined;
    try {
      const s = decoder.decode(this.#bytes.subarray(this.#pos, this.#pos + len));
      this.#pos += len;
      return s;
    } catch {
      return undefined; // not UTF-8: not a record we wrote
    }
  }
  bytes(): Uint8Array | null {
    const len = this.int32();
    if (len === null || !this.#has(len)) return null;
    const b = this.#bytes.slice(this.#pos, this.#pos + len);
    this.#pos += len;
    return b;
  }
}
