/**
 * Buffered output to stdout (or any `Deno.Writer`-like sink): many small strings become few
 * large writes, which is what makes printing a million records fast. A closed pipe (the
 * reader was `head`) is reported once as `isClosed` instead of an exception per write, so a
 * consumer piped into `head -n 5` exits quietly, as `kcat` does.
 */

/** Where bytes go. */
export interface ByteSink {
  write(p: Uint8Array): Promise<number>;
}

/** Buffer bound before a flush, in bytes (roughly; strings are counted in UTF-16 units). */
const FLUSH_BYTES = 64 * 1024;

/** A buffered text writer. */
export class StdoutWriter {
  readonly #sink: ByteSink;
  readonly #encoder = new TextEncoder();
  #parts: string[] = [];
  #size = 0;
  #closed = false;

  constructor(sink: ByteSink = Deno.stdout) {
    this.#sink = sink;
  }

  /** True once the reader went away (broken pipe). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Queues `text`; flushes when the buffer is full. */
  async write(text: string): Promise<void> {
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= FLUSH_BYTES) await this.flush();
  }

  /** Writes everything queued. */
  async flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const bytes = this.#encoder.encode(this.#parts.join(""));
    this.#parts = [];
    this.#size = 0;
    if (this.#closed) return;
    try {
      let off = 0;
      // Bounded: each write makes progress or throws.
      while (off < bytes.length) off += await this.#sink.write(bytes.subarray(off));
    } catch (err) {
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
      this.#closed = true; // the reader is gone: drop output, the caller stops soon
    }
  }
}
