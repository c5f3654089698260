/**
 * A minimal Kafka wire client for tests and benchmarks: one TCP connection, requests encoded
 * with the codec, responses matched to requests in order (Kafka answers a connection's
 * requests in the order they were sent, so several may be in flight: pipelining).
 *
 * It also sends raw bytes and reads raw frames, so tests can feed the broker malformed
 * input and see whether the connection was answered or closed. It does not retry, reconnect
 * or negotiate versions: the caller picks every version. Every read is bounded by the frame
 * size limit; a peer that closes resolves every waiter with null.
 */
import {
  type ApiName,
  decodeResponseFrame,
  encodeRequest,
  type RequestInput,
  type ResponseOf,
} from "../../src/kafka/protocol/mod.ts";

/** Largest response frame accepted (a Fetch answer is bounded by the request's maxBytes). */
const RESPONSE_FRAME_MAX_BYTES = 256 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

/** A connection to a Kafka listener. */
export class WireClient {
  readonly #conn: Deno.TcpConn;
  #buf = new Uint8Array(READ_CHUNK_BYTES);
  #start = 0;
  #end = 0;
  #frames: Uint8Array[] = [];
  #waiters: Array<(frame: Uint8Array | null) => void> = [];
  #eof = false;
  #correlationId = 0;
  #writing: Promise<void> = Promise.resolve();
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = this.#readLoop();
  }

  /** Connects to `host:port`. */
  static async connect(host: string, port: number): Promise<WireClient> {
    const conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
    conn.setNoDelay(true);
    return new WireClient(conn);
  }

  /** True once the peer closed the connection (or it failed). */
  get isClosed(): boolean {
    return this.#eof;
  }

  /** The next correlation id this client will use. */
  nextCorrelationId(): number {
    return ++this.#correlationId;
  }

  /** Sends one request and resolves with its decoded response (null when the peer closed). */
  async request<N extends ApiName>(
    api: N,
    version: number,
    body: RequestInput<N>,
    clientId: string | null = "wire-client",
  ): Promise<ResponseOf<N> | null> {
    const correlationId = this.nextCorrelationId();
    const frame = this.nextFrame();
    await this.send(encodeRequest(api, version, { correlationId, clientId }, body));
    const bytes = await frame;
    if (bytes === null) return null;
    const r = decodeResponseFrame(api, version, bytes);
    if (r.correlationId !== correlationId) {
      throw new Error(`Response correlation id "${r.correlationId}" is not "${correlationId}"`);
    }
    return r.body;
  }

  /**
   * Writes bytes as they are (a frame, part of one, or garbage). Sends are queued: a send
   * started before the previous one finished writes after it, never interleaved with it
   * (a partial write would otherwise splice two frames together).
   */
  send(bytes: Uint8Array): Promise<void> {
    const write = async () => {
      let off = 0;
      // Bounded: each write makes progress or throws.
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    };
    const next = this.#writing.then(write);
    // The queue continues after a failed write; the failure reaches this send's caller.
    this.#writing = next.catch(() => {});
    return next;
  }

  /**
   * The next response frame (without its size prefix), or null when the peer closed first.
   * Call it before sending the request it answers when pipelining, so waiters stay in order.
   */
  nextFrame(): Promise<Uint8Array | null> {
    const ready = this.#frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#eof) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Closes the connection and waits for the read loop to end. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer: nothing to release.
    }
    await this.#reading;
  }

  async #readLoop(): Promise<void> {
    try {
      // Bounded by the connection: each read consumes bytes or ends the loop.
      for (;;) {
        if (this.#end === this.#buf.length) this.#makeRoom(this.#buf.length);
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) break;
        this.#end += n;
        this.#extractFrames();
      }
    } catch {
      // A reset or a local close ends the connection like an EOF: waiters get null.
    }
    this.#eof = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }

  #extractFrames(): void {
    // Bounded by the buffered bytes: each step consumes one whole frame or stops.
    while (this.#end - this.#start >= 4) {
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start, 4);
      const size = view.getInt32(0);
      if (size < 0 || size > RESPONSE_FRAME_MAX_BYTES) {
        throw new Error(`Response frame size "${size}" is out of range`);
      }
      if (this.#end - this.#start < 4 + size) {
        if (this.#buf.length < 4 + size) this.#makeRoom(4 + size);
        return;
      }
      const frame = this.#buf.slice(this.#start + 4, this.#start + 4 + size);
      this.#start += 4 + size;
      const w = this.#waiters.shift();
      if (w) w(frame);
      else this.#frames.push(frame);
    }
  }

  /** Compacts the buffer and grows it to hold at least `need` bytes. */
  #makeRoom(need: number): void {
    const have = this.#end - this.#start;
    const size = Math.max(READ_CHUNK_BYTES, need, have * 2);
    if (size > this.#buf.length) {
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = have;
  }
}

/** Encodes an int32 big-endian size prefix followed by `body` (for hand-made frames). */
export function sizePrefixed(body: Uint8Array, size = body.length): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, size);
  out.set(body, 4);
  return out;
}
