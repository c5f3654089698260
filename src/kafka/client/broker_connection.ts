/**
 * One TCP connection to a Kafka broker: connect (bounded in time), ApiVersions negotiation,
 * then pipelined requests. Kafka answers a connection's requests in the order they were sent,
 * so responses are matched to a FIFO of pending requests and their correlation ids checked.
 *
 * Bounds: at most `maxInFlight` requests wait for an answer (more callers wait for a slot);
 * every request has a timeout; a response larger than `maxResponseBytes` fails the connection
 * before anything is allocated for it. Any failure (timeout, reset, bad frame, peer close)
 * fails the whole connection and every pending request with one `TransportError`, because
 * a connection whose answers can no longer be matched in order is useless.
 */
import { FrameDecodeError, TransportError } from "../../util/mod.ts";
import {
  type ApiName,
  decodeResponseFrame,
  encodeRequest,
  type RequestInput,
  type ResponseOf,
  UNSUPPORTED_VERSION,
} from "../protocol/mod.ts";
import { ApiVersionTable } from "./api_version_table.ts";

/** Default bound on connecting, in ms. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Default bound on one request's answer, in ms (a Fetch adds its own maxWaitMs). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Default bound on requests awaiting an answer on one connection. */
export const MAX_IN_FLIGHT = 32;
/** Default bound on one response frame. */
export const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;
const READ_CHUNK_BYTES = 256 * 1024;
const SIZE_PREFIX_BYTES = 4;
/** What the client reports as its software in ApiVersions v3+ (KIP-511). */
const SOFTWARE_NAME = "pyralog-client";
const SOFTWARE_VERSION = "0.1.0";

/** Options of `BrokerConnection.connect`. */
export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxInFlight?: number;
  readonly maxResponseBytes?: number;
}

interface Pending {
  readonly correlationId: number;
  readonly resolve: (frame: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** "host:port", with IPv6 hosts in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A connected, negotiated connection to one broker. */
export class BrokerConnection {
  /** "host:port" as dialled. */
  readonly address: string;
  readonly #conn: Deno.TcpConn;
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #maxResponseBytes: number;
  readonly #pending: Pending[] = [];
  readonly #slotWaiters: Array<() => void> = [];
  #versions: ApiVersionTable = new ApiVersionTable([]);
  #correlationId = 0;
  #writeChain: Promise<void> = Promise.resolve();
  #failure: TransportError | null = null;
  #buf = new Uint8Array(READ_CHUNK_BYTES);
  #start = 0;
  #end = 0;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn, address: string, o: ConnectionOptions) {
    this.#conn = conn;
    this.address = address;
    this.#clientId = o.clientId ?? "pyralog";
    this.#requestTimeoutMs = o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#maxInFlight = o.maxInFlight ?? MAX_IN_FLIGHT;
    this.#maxResponseBytes = o.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.#reading = this.#readLoop();
  }

  /**
   * Connects and negotiates API versions.
   * @throws {TransportError} `Cannot connect to "host:port": connection refused` and the like.
   */
  static async connect(o: ConnectionOptions): Promise<BrokerConnection> {
    const address = formatAddress(o.host, o.port);
    const conn = await dial(o.host, o.port, address, o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const c = new BrokerConnection(conn, address, o);
    try {
      await c.#negotiate();
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** The negotiated versions. */
  get versions(): ApiVersionTable {
    return this.#versions;
  }

  /** True once the connection failed or was closed. */
  get isClosed(): boolean {
    return this.#failure !== null;
  }

  /**
   * Sends `body` as the negotiated version of `api` and resolves with the answer.
   * @throws {TransportError} when the broker lacks the API, or the connection fails.
   */
  async request<N extends ApiName>(
    api: N,
    body: RequestInput<N>,
    options: { timeoutMs?: number } = {},
  ): Promise<{ version: number; body: ResponseOf<N> }> {
    const version = this.#versionFor(api);
    const frame = await this.#roundTrip(api, version, body, options.timeoutMs);
    return { version, body: this.#decode(api, version, frame) };
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0).
   * @throws {TransportError} as `request` does.
   */
  async send<N extends ApiName>(api: N, body: RequestInput<N>): Promise<void> {
    const version = this.#versionFor(api);
    this.#throwIfFailed();
    const bytes = encodeRequest(api, version, {
      correlationId: this.#nextCorrelationId(),
      clientId: this.#clientId,
    }, body);
    await this.#write(bytes);
  }

  /** Closes the connection; pending requests fail. Idempotent. */
  async close(): Promise<void> {
    this.#fail(new TransportError(`Connection to "${this.address}" closed`));
    await this.#reading;
  }

  #versionFor(api: ApiName): number {
    const version = this.#versions.versionOf(api);
    if (version === undefined) {
      const r = this.#versions.brokerRange(api);
      throw new TransportError(
        r === undefined
          ? `Cannot send ${api} to "${this.address}": the broker does not support it`
          : `Cannot send ${api} to "${this.address}": no common version (broker ${r.minVersion}-${r.maxVersion})`,
      );
    }
    return version;
  }

  /** ApiVersions v3, stepping down to the broker's listed maximum on UNSUPPORTED_VERSION. */
  async #negotiate(): Promise<void> {
    let version = 3;
    // Bounded: at most one step down (KIP-511: the error answer lists the broker's range).
    for (let attempt = 0; attempt < 2; attempt++) {
      const frame = await this.#roundTrip("ApiVersions", version, {
        clientSoftwareName: SOFTWARE_NAME,
        clientSoftwareVersion: SOFTWARE_VERSION,
      });
      let body: ResponseOf<"ApiVersions">;
      try {
        body = decodeResponseFrame("ApiVersions", version, frame).body;
      } catch (err) {
        if (!(err instanceof FrameDecodeError)) throw err;
        // An UNSUPPORTED_VERSION answer is always in v0 format, whatever was asked.
        body = this.#decode("ApiVersions", 0, frame);
      }
      if (body.errorCode === UNSUPPORTED_VERSION) {
        const own = body.apiKeys.find((k) => k.apiKey === 18);
        version = Math.min(version - 1, own?.maxVersion ?? 0);
        if (version < 0) break;
        continue;
      }
      if (body.errorCode !== 0) {
        throw new TransportError(
          `Cannot negotiate versions with "${this.address}": error code ${body.errorCode}`,
        );
      }
      this.#versions = new ApiVersionTable(body.apiKeys);
      return;
    }
    throw new TransportError(`Cannot negotiate versions with "${this.address}": no common version`);
  }

  #decode<N extends ApiName>(api: N, version: number, frame: Uint8Array): ResponseOf<N> {
    try {
      return decodeResponseFrame(api, version, frame).body;
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      const e = new TransportError(
        `Cannot decode ${api} v${version} answer from "${this.address}": ${err.message}`,
        { cause: err },
      );
      this.#fail(e);
      throw e;
    }
  }

  #nextCorrelationId(): number {
    this.#correlationId = (this.#correlationId + 1) & 0x7fffffff;
    return this.#correlationId;
  }

  async #roundTrip<N extends ApiName>(
    api: N,
    version: number,
    body: RequestInput<N>,
    timeoutMs?: number,
  ): Promise<Uint8Array> {
    // Bounded in-flight: wait for a slot (waiters are served in order).
    while (this.#pending.length >= this.#maxInFlight && this.#failure === null) {
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
    this.#throwIfFailed();
    const correlationId = this.#nextCorrelationId();
    const bytes = encodeRequest(api, version, { correlationId, clientId: this.#clientId }, body);
    const limitMs = timeoutMs ?? this.#requestTimeoutMs;
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          new TransportError(`Request ${api} to "${this.address}" timed out after ${limitMs} ms`),
        );
      }, limitMs);
      // Registered before the write is queued, so the FIFO order equals the wire order.
      this.#pending.push({ correlationId, resolve, reject, timer });
    });
    // The write's failure also fails the connection, which rejects `answer`.
    await this.#write(bytes).catch(() => {/* reported through `answer` */});
    return await answer;
  }

  #write(bytes: Uint8Array): Promise<void> {
    const next = this.#writeChain.then(async () => {
      this.#throwIfFailed();
      try {
        let off = 0;
        // Bounded: each write makes progress or throws.
        while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
      } catch (err) {
        const e = new TransportError(
          `Cannot write to "${this.address}": ${describeNetError(err)}`,
          { cause: err },
        );
        this.#fail(e);
        throw e;
      }
    });
    // The chain itself must not reject, or every later write would fail with this error.
    this.#writeChain = next.catch(() => {/* surfaced through `next` */});
    return next;
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  #fail(err: TransportError): void {
    if (this.#failure !== null) return;
    this.#failure = err;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or by an earlier failure: nothing left to release.
    }
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    for (const w of this.#slotWaiters.splice(0)) w();
  }

  async #readLoop(): Promise<void> {
    try {
      // Bounded by the connection: each read consumes bytes or ends the loop.
      for (;;) {
        if (this.#end === this.#buf.length) this.#makeRoom(READ_CHUNK_BYTES);
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) break;
        this.#end += n;
        this.#deliverFrames();
      }
      this.#fail(new TransportError(`Connection to "${this.address}" closed by the broker`));
    } catch (err) {
      this.#fail(
        err instanceof TransportError ? err : new TransportError(
          `Connection to "${this.address}" failed: ${describeNetError(err)}`,
          { cause: err },
        ),
      );
    }
  }

  #deliverFrames(): void {
    const view = new DataView(this.#buf.buffer);
    // Bounded by the bytes read: each iteration consumes one whole frame.
    while (this.#end - this.#start >= SIZE_PREFIX_BYTES) {
      const size = view.getInt32(this.#start);
      if (size < 4 || size > this.#maxResponseBytes) {
        // An HTTP or TLS server answers with text whose first bytes read as a huge size.
        throw new TransportError(
          `Connection to "${this.address}" failed: response of ${size} bytes is out of bounds (is it a Kafka listener?)`,
        );
      }
      if (this.#end - this.#start < SIZE_PREFIX_BYTES + size) {
        this.#makeRoom(SIZE_PREFIX_BYTES + size - (this.#end - this.#start));
        return;
      }
      // A copy: the buffer is reused, and decoded bodies keep views into their frame.
      const frame = this.#buf.slice(this.#start + SIZE_PREFIX_BYTES, this.#start + 4 + size);
      this.#start += SIZE_PREFIX_BYTES + size;
      this.#dispatch(frame);
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  #dispatch(frame: Uint8Array): void {
    const p = this.#pending.shift();
    const correlationId = new DataView(frame.buffer, frame.byteOffset).getInt32(0);
    if (p === undefined || p.correlationId !== correlationId) {
      throw new TransportError(
        `Connection to "${this.address}" failed: unexpected correlation id "${correlationId}"`,
      );
    }
    clearTimeout(p.timer);
    this.#slotWaiters.shift()?.();
    p.resolve(frame);
  }

  /** Ensures `need` free bytes after `#end`, compacting or growing the buffer. */
  #makeRoom(need: number): void {
    const used = this.#end - this.#start;
    if (this.#buf.length - this.#end >= need) return;
    const size = Math.max(this.#buf.length, used + need);
    const next = size === this.#buf.length ? this.#buf : new Uint8Array(size);
    next.set(this.#buf.subarray(this.#start, this.#end), 0);
    this.#buf = next;
    this.#start = 0;
    this.#end = used;
  }
}

/** Connects with a bound on time; wraps failures in one clear line. */
async function dial(
  host: string,
  port: number,
  address: string,
  timeoutMs: number,
): Promise<Deno.TcpConn> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    const conn = await Promise.race([attempt, timeout]);
    if (conn === null) {
      // Close the socket should the attempt still succeed after we gave up.
      attempt.then((c) => c.close(), () => {/* it failed: nothing to close */});
      throw new TransportError(`Cannot connect to "${address}": timed out after ${timeoutMs} ms`);
    }
    conn.setNoDelay(true);
    return conn;
  } catch (err) {
    if (err instanceof TransportError) throw err;
    throw new TransportError(`Cannot connect to "${address}": ${describeNetError(err)}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** A short lower-case reason for a network error ("connection refused"). */
function describeNetError(err: unknown): string {
  if (err instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (err instanceof Deno.errors.ConnectionReset) return "connection reset";
  if (err instanceof Deno.errors.TimedOut) return "timed out";
  if (err instanceof Deno.errors.BrokenPipe) return "broken pipe";
  if (err instanceof Deno.errors.NotFound) return "host not found";
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/ \(os error \d+\)$/, "").replace(/^./, (c) => c.toLowerCase());
}
