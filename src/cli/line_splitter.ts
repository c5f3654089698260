/**
 * Splits a byte stream into lines for `pyralog produce`, without decoding: records are
 * bytes, so a line is a view of the input between "\n"s (a trailing "\r" is kept, as kcat
 * keeps it). A final line without "\n" is a line too; the empty remainder after a final "\n"
 * is not. Bounded: a line longer than `lineBytesMax` is an error, not an allocation. Pure.
 */

/** Default bound on one line (Kafka's default max.message.bytes is about 1 MiB). */
export const LINE_BYTES_MAX = 16 * 1024 * 1024;
const NEWLINE = 0x0a;

/** A stateful splitter: feed chunks, take whole lines. */
export class LineSplitter {
  readonly #lineBytesMax: number;
  #partial: Uint8Array = new Uint8Array(0);
  #lines = 0;

  constructor(lineBytesMax = LINE_BYTES_MAX) {
    this.#lineBytesMax = lineBytesMax;
  }

  /**
   * The whole lines completed by `chunk` (views into a copy the caller may keep).
   * @throws {RangeError} when a line exceeds the bound.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const data = this.#partial.length === 0 ? chunk : concat(this.#partial, chunk);
    const lines: Uint8Array[] = [];
    let start = 0;
    // Bounded by the chunk: each turn consumes one line.
    for (;;) {
      const nl = data.indexOf(NEWLINE, start);
      if (nl < 0) break;
      this.#check(nl - start);
      lines.push(data.subarray(start, nl));
      start = nl + 1;
    }
    this.#check(data.length - start);
    // Copy the tail: the caller may reuse `chunk`'s buffer.
    this.#partial = data.slice(start);
    this.#lines += lines.length;
    return lines;
  }

  /** The last line when the input did not end with "\n", else null. */
  end(): Uint8Array | null {
    const last = this.#partial.length > 0 ? this.#partial : null;
    this.#partial = new Uint8Array(0);
    return last;
  }

  #check(length: number): void {
    if (length > this.#lineBytesMax) {
      throw new RangeError(
        `Cannot read line ${this.#lines + 1}: longer than ${this.#lineBytesMax} bytes`,
      );
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Splits a line into key and value at the first `separator`; without a separator in the
 * line the key is null and the whole line is the value (kcat -K does the same).
 */
export function splitKey(
  line: Uint8Array,
  separator: Uint8Array | null,
): { key: Uint8Array | null; value: Uint8Array } {
  if (separator === null || separator.length === 0) return { key: null, value: line };
  const i = indexOfBytes(line, separator);
  if (i < 0) return { key: null, value: line };
  return { key: line.subarray(0, i), value: line.subarray(i + separator.length) };
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0] ?? 0;
  // Bounded by the line's length.
  for (let i = hay.indexOf(first); i >= 0 && i + needle.length <= hay.length;) {
    let match = true;
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) {
        match = false;
        break;
      }
    }
    if (match) return i;
    i = hay.indexOf(first, i + 1);
  }
  return -1;
}
