/**
 * The Kafka protocol listener: one read loop per TCP connection. Requests on a connection are
 * handled one at a time and answered in order, as Kafka does (it mutes a channel until its
 * response is sent); not reading the next frame until the current one is answered is the
 * backpressure that keeps a fast producer from making the broker buffer without bound.
 *
 * Bounds: a frame larger than `maxFrameBytes` or one that cannot be decoded closes the
 * connection with a log line; an idle connection is closed after `idleTimeoutMs`; the
 * broker never crashes on input. ApiVersions of an unknown version is answered in v0 with
 * error 35 and the supported ranges (KIP-511), so the client steps down.
 */
import { FrameDecodeError } from "../../util/mod.ts";
import {
  type ApiName,
  type ApiVersionRange,
  decodeRequestFrame,
  encodeApiVersionsFallback,
  encodeResponseChunks,
  type ResponseInput,
  SUPPORTED_VERSIONS,
} from "../protocol/mod.ts";
import type { BrokerContext, Handler, HandlerTable, RequestContext } from "./broker_context.ts";

/** Kafka's socket.request.max.bytes default: 100 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;
/** Kafka's connections.max.idle.ms default: 10 minutes. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** How long shutdown waits for in-flight requests before closing connections anyway. */
const SHUTDOWN_GRACE_MS = 5000;
const READ_CHUNK_BYTES = 64 * 1024;
/**
 * Responses up to this size are gathered into one buffer and written with one call; larger
 * ones are written piece by piece so stored record batches reach the socket uncopied.
 */
const COALESCE_MAX_BYTES = 64 * 1024;

/** Listener settings. */
export interface KafkaServerOptions {
  host: string;
  port: number;
  maxFrameBytes?: number;
  idleTimeoutMs?: number;
  /** Told about every request handled (metrics). */
  observer?: RequestObserver;
}

/** Receives one call per request: its API, how long it took, and how it ended. */
export type RequestObserver = (
  api: string,
  durationMs: number,
  /** Error codes other than NONE in the response, or 1 for a closed connection. */
  errors: number,
) => void;

/** Counts non-zero `errorCode` fields in a response body (bounded depth, records skipped). */
export function countErrorCodes(body: unknown, depth = 0): number {
  if (depth > 6 || body === null || typeof body !== "object" || body instanceof Uint8Array) {
    return 0;
  }
  let n = 0;
  if (Array.isArray(body)) {
    for (const x of body) n += countErrorCodes(x, depth + 1);
    return n;
  }
  for (const [k, v] of Object.entries(body)) {
    if (k === "errorCode") {
      if (typeof v === "number" && v !== 0) n++;
    } else if (typeof v === "object") n += countErrorCodes(v, depth + 1);
  }
  return n;
}

/** The API ranges advertised: the codec's ranges of the APIs that have a handler. */
export function advertisedVersions(handlers: HandlerTable): ApiVersionRange[] {
  return SUPPORTED_VERSIONS.filter((v) => handlers[v.api] !== undefined).map((v) => ({
    apiKey: v.apiKey,
    minVersion: v.minVersion,
    maxVersion: v.maxVersion,
  }));
}

/** A running Kafka listener. */
export class KafkaServer {
  readonly #listener: Deno.TcpListener;
  readonly #ctx: BrokerContext;
  readonly #handlers: HandlerTable;
  readonly #maxFrameBytes: number;
  readonly #idleTimeoutMs: number;
  readonly #observer: RequestObserver | null;
  readonly #connections = new Set<Connection>();
  readonly #shutdown = new AbortController();
  #acceptLoop: Promise<void>;

  private constructor(
    listener: Deno.TcpListener,
    ctx: BrokerContext,
    handlers: HandlerTable,
    o: KafkaServerOptions,
  ) {
    this.#listener = listener;
    this.#ctx = ctx;
    this.#handlers = handlers;
    this.#maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#idleTimeoutMs = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#observer = o.observer ?? null;
    this.#acceptLoop = this.#accept();
  }

  /**
   * Binds the listener and starts accepting.
   * @throws {Deno.errors.AddrInUse} and other bind errors.
   */
  static start(
    ctx: BrokerContext,
    handlers: HandlerTable,
    options: KafkaServerOptions,
  ): KafkaServer {
    const listener = Deno.listen({ hostname: options.host, port: options.port, transport: "tcp" });
    return new KafkaServer(listener, ctx, handlers, options);
  }

  /** The bound address (the real port when 0 was asked for). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops accepting, lets in-flight requests finish (bounded), closes every connection. */
  async close(): Promise<void> {
    if (this.#shutdown.signal.aborted) return;
    this.#shutdown.abort();
    this.#listener.close();
    await this.#acceptLoop;
    const deadline = setTimeout(() => {
      for (const c of this.#connections) c.close();
    }, SHUTDOWN_GRACE_MS);
    await Promise.all([...this.#connections].map((c) => c.stop()));
    clearTimeout(deadline);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const c = new Connection(conn, this);
        this.#connections.add(c);
        c.run().finally(() => this.#connections.delete(c));
      }
    } catch (err) {
      // The listener was closed by close(); anything else is logged (accepting stops).
      if (!this.#shutdown.signal.aborted) {
        this.#ctx.log("error", `Kafka listener failed: ${(err as Error).message}`);
      }
    }
  }

  /** Internal: what a connection needs. */
  get settings() {
    return {
      observer: this.#observer,
      ctx: this.#ctx,
      handlers: this.#handlers,
      maxFrameBytes: this.#maxFrameBytes,
      idleTimeoutMs: this.#idleTimeoutMs,
      shutdown: this.#shutdown.signal,
    };
  }
}

/** One client connection and its read loop. */
class Connection {
  readonly #conn: Deno.TcpConn;
  readonly #server: KafkaServer;
  readonly #abort = new AbortController();
  #buf = new Uint8Array(READ_CHUNK_BYTES);
  #start = 0;
  #end = 0;
  #closed = false;
  #done: Promise<void> = Promise.resolve();
  readonly #peer: string;

  constructor(conn: Deno.TcpConn, server: KafkaServer) {
    this.#conn = conn;
    this.#server = server;
    const a = conn.remoteAddr;
    this.#peer = `${a.hostname}:${a.port}`;
    try {
      conn.setNoDelay(true);
    } catch {
      // Not every transport supports it; latency only.
    }
  }

  run(): Promise<void> {
    this.#done = this.#loop().catch((err) => {
      this.#server.settings.ctx.log(
        "warn",
        `Connection ${this.#peer} failed: ${(err as Error).message}`,
      );
    }).finally(() => this.close());
    return this.#done;
  }

  /** Ends the loop after the in-flight request. */
  async stop(): Promise<void> {
    this.#abort.abort();
    // Unblock a pending read; an in-flight handler finishes and its write fails harmlessly.
    this.close();
    await this.#done;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer: nothing to release.
    }
  }

  async #loop(): Promise<void> {
    const { ctx, maxFrameBytes, shutdown } = this.#server.settings;
    // Bounded by the connection's life: each iteration consumes one frame or returns.
    while (!this.#closed && !shutdown.aborted) {
      const sizeBytes = await this.#readExact(4);
      if (!sizeBytes) return;
      const size = new DataView(sizeBytes.buffer, sizeBytes.byteOffset, 4).getInt32(0);
      if (size <= 0 || size > maxFrameBytes) {
        ctx.log("warn", `Closing ${this.#peer}: frame size "${size}" outside 1..${maxFrameBytes}`);
        return;
      }
      const frame = await this.#readExact(size);
      if (!frame) return;
      const response = await this.#handle(frame);
      if (response === "close") return;
      if (response) await this.#writeChunks(response);
    }
  }

  /**
   * Decodes and dispatches one frame; returns the response as pieces to write in order
   * (record payloads are referenced, not copied: encodeResponseChunks), null, or "close".
   */
  async #handle(frame: Uint8Array): Promise<Uint8Array[] | null | "close"> {
    const { ctx, handlers } = this.#server.settings;
    let req;
    try {
      req = decodeRequestFrame(frame);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      ctx.log("warn", `Closing ${this.#peer}: cannot decode request: ${err.message}`);
      return "close";
    }
    if (req.type === "unsupported") {
      if (req.header.apiKey === 18) {
        return [encodeApiVersionsFallback(req.header.correlationId, advertisedVersions(handlers))];
      }
      ctx.log(
        "warn",
        `Closing ${this.#peer}: ${
          req.reason === "unknown_api" ? "unknown API" : "unsupported version of API"
        } key ${req.header.apiKey} v${req.header.apiVersion}`,
      );
      return "close";
    }
    const handler = handlers[req.api] as Handler<ApiName> | undefined;
    if (!handler) {
      ctx.log("warn", `Closing ${this.#peer}: API "${req.api}" is not served`);
      return "close";
    }
    const rctx: RequestContext = {
      broker: ctx,
      header: req.header,
      version: req.header.apiVersion,
      signal: this.#abort.signal,
    };
    const { observer } = this.#server.settings;
    const startMs = observer ? performance.now() : 0;
    try {
      const body = await handler(req.body as never, rctx);
      observer?.(req.api, performance.now() - startMs, body === null ? 0 : countErrorCodes(body));
      if (body === null) return null;
      if (req.api === "Produce" && req.body.acks === 0) return this.#acksZero(body as never);
      return encodeResponseChunks(
        req.api,
        req.header.apiVersion,
        req.header.correlationId,
        body as never,
      );
    } catch (err) {
      observer?.(req.api, performance.now() - startMs, 1);
      // A handler that throws is a bug: log it with its stack and close this connection only.
      ctx.log(
        "error",
        `Closing ${this.#peer}: ${req.api} v${req.header.apiVersion} failed: ${
          (err as Error).stack ?? err
        }`,
      );
      return "close";
    }
  }

  /**
   * A Produce with acks=0 is never answered; when a partition failed the connection is
   * closed instead, as Kafka does (KafkaApis.handleProduceRequest), so the producer notices
   * on reconnecting, refreshes its metadata, and does not keep writing into a void.
   */
  #acksZero(body: ResponseInput<"Produce">): null | "close" {
    for (const t of body.responses) {
      for (const p of t.partitionResponses) {
        if (p.errorCode === 0) continue;
        const detail = p.errorMessage ? `: ${p.errorMessage}` : "";
        this.#server.settings.ctx.log(
          "warn",
          `Closing ${this.#peer}: Produce with acks=0 to "${t.name}-${p.index}" failed with error ${p.errorCode}${detail}`,
        );
        return "close";
      }
    }
    return null;
  }

  /** Reads exactly `n` bytes, or null at end of stream or idle timeout. */
  async #readExact(n: number): Promise<Uint8Array | null> {
    const { idleTimeoutMs } = this.#server.settings;
    if (this.#end - this.#start >= n) {
      const out = this.#buf.slice(this.#start, this.#start + n);
      this.#start += n;
      return out;
    }
    // Make room: compact, and grow to hold the whole frame (n was checked against the max).
    const have = this.#end - this.#start;
    if (this.#buf.length < n) {
      const bigger = new Uint8Array(Math.max(n, READ_CHUNK_BYTES));
      bigger.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = bigger;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = have;
    while (this.#end < n) {
      const timer = setTimeout(() => this.close(), idleTimeoutMs);
      let got: number | null;
      try {
        got = await this.#conn.read(this.#buf.subarray(this.#end));
      } catch (err) {
        if (this.#closed) return null;
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (got === null || got === 0) return null;
      this.#end += got;
    }
    const out = this.#buf.slice(0, n);
    this.#start = n;
    if (this.#buf.length > READ_CHUNK_BYTES * 4 && this.#end - this.#start < READ_CHUNK_BYTES) {
      // Do not keep a huge buffer around after one large frame.
      const small = new Uint8Array(READ_CHUNK_BYTES);
      small.set(this.#buf.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buf = small;
    }
    return out;
  }

  /**
   * Writes a response given as pieces: a small one (or the small pieces between large ones)
   * gathered into one buffer so each write is one syscall, large pieces as they are.
   */
  async #writeChunks(chunks: Uint8Array[]): Promise<void> {
    if (chunks.length === 1 && chunks[0]) return await this.#write(chunks[0]);
    let total = 0;
    for (const c of chunks) total += c.length;
    if (total <= COALESCE_MAX_BYTES) return await this.#write(concat(chunks, total));
    let small: Uint8Array[] = [];
    let smallBytes = 0;
    // Bounded by the number of pieces.
    for (const c of chunks) {
      if (c.length < ZERO_COPY_WRITE_MIN_BYTES) {
        small.push(c);
        smallBytes += c.length;
        continue;
      }
      if (small.length > 0) await this.#write(concat(small, smallBytes));
      small = [];
      smallBytes = 0;
      await this.#write(c);
    }
    if (small.length > 0) await this.#write(concat(small, smallBytes));
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    // Bounded: each write makes progress or throws.
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }
}

/** Pieces smaller than this are gathered with their neighbours rather than written alone. */
const ZERO_COPY_WRITE_MIN_BYTES = 16 * 1024;

/** The pieces in one buffer (`total` is their summed length). */
function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1 && pieces[0]) return pieces[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
