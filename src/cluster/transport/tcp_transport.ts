/**
 * The TCP implementation of `Transport`: binary frames (`transport_frame.ts`) over
 * `Deno.listen`/`Deno.connect`.
 *
 * Connections: each node dials its own outbound connection to every configured peer and
 * sends only on it; it receives only on connections peers dialed to it. So a pair of nodes
 * has exactly one connection per direction, each owned by its sender, and no tie-break is
 * needed (with a single shared connection, two nodes dialing each other at the same moment
 * would both have to agree which connection to drop). A new inbound connection from a node
 * that already has one replaces it (the old one is half-open, e.g. after the peer restarted).
 *
 * Handshake: the dialer sends HELLO (protocol version, node id, cluster id); the acceptor
 * answers with its own HELLO, then refuses (log line, close) a version or cluster id that
 * differs from its own, or its own node id. The dialer likewise refuses an answer with
 * another version or cluster id, or from a node other than the one it dialed. Frames are
 * only written once the answer arrived.
 *
 * Bounds: a per-peer queue bounded in frames and bytes (a full queue refuses the send);
 * writes are pipelined — the writer drains the queue in batches of up to
 * `WRITE_BATCH_BYTES` without waiting for any answer; a frame longer than `maxFrameBytes`
 * is refused by its sender (`too_large`) and, should one arrive, closes the connection with
 * a log line; a hello must arrive within `helloTimeoutMs`. Reconnects back off
 * exponentially with jitter from the injected `Prng`, capped at `backoffMaxMs`; timers go
 * through the injected `Scheduler`. Environment failures are wrapped in `TransportError`
 * with their cause and logged; nothing here throws at the caller of `send`.
 */
import { FrameDecodeError, type NodeId, type Prng, TransportError } from "../../util/mod.ts";
import { Backoff } from "./backoff.ts";
import { FrameReader } from "./frame_reader.ts";
import { HeartbeatBatch } from "./heartbeat_batch.ts";
import { PeerQueue, runs } from "./peer_queue.ts";
import { realScheduler, type Scheduler, type Timer } from "./scheduler.ts";
import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_FRAMES,
  type Envelope,
  type HeartbeatHandler,
  type MessageHandler,
  type PeerState,
  type PeerStatus,
  type SendResult,
  stderrLog,
  type Transport,
  TRANSPORT_PROTOCOL_VERSION,
  type TransportLog,
} from "./transport.ts";
import {
  decodeFrame,
  encodeGroupId,
  encodeHello,
  encodeMessage,
  LENGTH_BYTES,
  messageFrameLength,
  type TransportFrame,
} from "./transport_frame.ts";

/** Frames are written in batches of up to this many bytes (one syscall per batch). */
export const WRITE_BATCH_BYTES = 256 * 1024;
/** Pieces at least this large are written as they are rather than gathered into one. */
const GATHER_MAX_BYTES = 64 * 1024;
/** Most inbound connections (with or without a hello yet) a transport keeps open. */
export const MAX_INBOUND_CONNECTIONS = 1024;
/** Default time a connection may take to exchange hellos. */
export const DEFAULT_HELLO_TIMEOUT_MS = 5000;

/** Where a peer listens. */
export interface PeerAddress {
  readonly hostname: string;
  readonly port: number;
}

/** Settings of a `TcpTransport`. */
export interface TcpTransportOptions {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  /** Listen address; port 0 picks a free port (see `addr`). */
  readonly hostname?: string;
  readonly port: number;
  /** The initial peers (more with `addPeer`). */
  readonly peers?: Iterable<readonly [NodeId, PeerAddress]>;
  /** Jitter of reconnect delays. */
  readonly prng: Prng;
  readonly scheduler?: Scheduler;
  readonly log?: TransportLog;
  readonly maxFrameBytes?: number;
  readonly maxQueueFrames?: number;
  readonly maxQueueBytes?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Flush heartbeats every this many ms; 0 (the default) leaves it to `flushHeartbeats`. */
  readonly heartbeatIntervalMs?: number;
  readonly helloTimeoutMs?: number;
}

/** Resolved settings shared by the links and connections of one transport. */
interface Settings {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly log: TransportLog;
  readonly maxFrameBytes: number;
  readonly maxQueueFrames: number;
  readonly maxQueueBytes: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly helloTimeoutMs: number;
  readonly hello: Uint8Array;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Writes all of `bytes`; each iteration writes at least one byte or throws. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const n = await conn.write(bytes.subarray(at));
    if (n <= 0) throw new Error("write made no progress");
    at += n;
  }
}

function concat(frames: readonly Uint8Array[]): Uint8Array {
  const first = frames[0];
  if (frames.length === 1 && first !== undefined) return first;
  let total = 0;
  for (const f of frames) total += f.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed (by the peer or by a racing failure path): nothing left to release.
  }
}

/** Why a hello is refused, or null when it is acceptable. */
function refusal(
  s: Settings,
  hello: TransportFrame,
  expected: NodeId | null,
): string | null {
  if (hello.type !== "hello") return `expected a hello, got a "${hello.type}" frame`;
  if (hello.protocolVersion !== TRANSPORT_PROTOCOL_VERSION) {
    return `protocol version "${hello.protocolVersion}" differs from ours "${TRANSPORT_PROTOCOL_VERSION}"`;
  }
  if (hello.clusterId !== s.clusterId) {
    return `cluster id "${hello.clusterId}" differs from ours "${s.clusterId}"`;
  }
  if (expected !== null && hello.nodeId !== expected) {
    return `it says it is node "${hello.nodeId}", expected "${expected}"`;
  }
  if (expected === null && hello.nodeId === s.nodeId) {
    return `it claims our own node id "${s.nodeId}"`;
  }
  return null;
}

/** A transport over TCP. */
export class TcpTransport implements Transport {
  readonly nodeId: NodeId;
  readonly #s: Settings;
  readonly #listener: Deno.TcpListener;
  readonly #prng: Prng;
  readonly #scheduler: Scheduler;
  readonly #timers = new Set<Timer>();
  readonly #links = new Map<NodeId, OutboundLink>();
  readonly #inbound = new Set<InboundConnection>();
  readonly #inboundByNode = new Map<NodeId, InboundConnection>();
  readonly #received = new Map<NodeId, number>();
  readonly #heartbeatIntervalMs: number;
  #heartbeatTimer: Timer | null = null;
  #messageHandler: MessageHandler = () => {};
  #heartbeatHandler: HeartbeatHandler = () => {};
  #closed = false;
  readonly #acceptLoop: Promise<void>;

  private constructor(listener: Deno.TcpListener, o: TcpTransportOptions) {
    this.nodeId = o.nodeId;
    this.#listener = listener;
    this.#prng = o.prng;
    this.#scheduler = o.scheduler ?? realScheduler;
    this.#heartbeatIntervalMs = o.heartbeatIntervalMs ?? 0;
    this.#s = {
      nodeId: o.nodeId,
      clusterId: o.clusterId,
      log: o.log ?? stderrLog,
      maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxQueueFrames: o.maxQueueFrames ?? DEFAULT_MAX_QUEUE_FRAMES,
      maxQueueBytes: o.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      backoffBaseMs: o.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      backoffMaxMs: o.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
      helloTimeoutMs: o.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
      hello: encodeHello(TRANSPORT_PROTOCOL_VERSION, o.nodeId, o.clusterId),
    };
    this.#acceptLoop = this.#accept();
    for (const [id, addr] of o.peers ?? []) this.addPeer(id, addr);
    if (this.#heartbeatIntervalMs > 0) this.#scheduleHeartbeats();
  }

  /**
   * Binds the listener and starts dialing the peers.
   * @throws {TransportError} when the address cannot be bound (cause: the Deno error).
   */
  static listen(options: TcpTransportOptions): TcpTransport {
    const hostname = options.hostname ?? "127.0.0.1";
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname, port: options.port, transport: "tcp" });
    } catch (err) {
      throw new TransportError(
        `Cannot listen on "${hostname}:${options.port}": ${message(err)}`,
        { cause: err },
      );
    }
    return new TcpTransport(listener, options);
  }

  /** The bound address (the real port when 0 was asked for). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Live timers and sockets (0 after `close`); for leak checks. */
  get openHandles(): number {
    let conns = this.#inbound.size;
    for (const l of this.#links.values()) conns += l.hasConnection ? 1 : 0;
    return this.#timers.size + conns + (this.#closed ? 0 : 1);
  }

  /** Adds a peer (or moves it to a new address) and starts dialing it. */
  addPeer(id: NodeId, addr: PeerAddress): void {
    if (this.#closed || id === this.nodeId) return;
    const old = this.#links.get(id);
    if (old !== undefined) {
      if (old.addr.hostname === addr.hostname && old.addr.port === addr.port) return;
      void old.close();
    }
    const link = new OutboundLink(this.#s, id, addr, {
      backoff: new Backoff(this.#s.backoffBaseMs, this.#s.backoffMaxMs, this.#prng.fork()),
      setTimer: (fn, ms) => this.#setTimer(fn, ms),
    });
    this.#links.set(id, link);
    link.start();
  }

  /** Stops dialing a peer and drops its queue. */
  async removePeer(id: NodeId): Promise<void> {
    const link = this.#links.get(id);
    if (link === undefined) return;
    this.#links.delete(id);
    await link.close();
  }

  send(to: NodeId, envelope: Envelope): SendResult {
    if (this.#closed) return { type: "dropped", reason: "closed" };
    const link = this.#links.get(to);
    if (link === undefined) return { type: "dropped", reason: "unknown_peer" };
    const gid = encodeGroupId(envelope.groupId);
    if (
      gid === null ||
      messageFrameLength(gid.length, envelope.payload.length) > this.#s.maxFrameBytes
    ) {
      link.droppedFrames++;
      return { type: "dropped", reason: "too_large" };
    }
    const bytes = LENGTH_BYTES + messageFrameLength(gid.length, envelope.payload.length);
    if (!link.fits(bytes)) {
      link.droppedFrames++;
      return { type: "dropped", reason: "queue_full" };
    }
    return link.enqueue(encodeMessage(gid, envelope.payload, link.alloc));
  }

  heartbeat(to: NodeId, groupId: string, payload: Uint8Array): SendResult {
    if (this.#closed) return { type: "dropped", reason: "closed" };
    const link = this.#links.get(to);
    if (link === undefined) return { type: "dropped", reason: "unknown_peer" };
    let added = link.batch.add(groupId, payload);
    if (added === "full") {
      // The batch would outgrow one frame: send what is pending, then start a new batch.
      link.flushHeartbeats();
      added = link.batch.add(groupId, payload);
    }
    if (added !== "added") {
      link.droppedFrames++;
      return { type: "dropped", reason: "too_large" };
    }
    return { type: "queued" };
  }

  flushHeartbeats(): void {
    for (const link of this.#links.values()) link.flushHeartbeats();
  }

  onMessage(handler: MessageHandler): void {
    this.#messageHandler = handler;
  }

  onHeartbeats(handler: HeartbeatHandler): void {
    this.#heartbeatHandler = handler;
  }

  peers(): PeerStatus[] {
    return [...this.#links.values()].map((l) => l.status(this.#received.get(l.id) ?? 0));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed: the accept loop failed and logged; nothing left to release.
    }
    const done: Promise<void>[] = [this.#acceptLoop];
    for (const l of this.#links.values()) done.push(l.close());
    for (const c of this.#inbound) done.push(c.close());
    await Promise.all(done);
    for (const h of [...this.#timers]) h.cancel();
    this.#timers.clear();
    this.#heartbeatTimer = null;
  }

  /** A timer counted in `openHandles` until it fires or is cancelled. */
  #setTimer(fn: () => void, delayMs: number): Timer {
    const timers = this.#timers;
    const inner = this.#scheduler.setTimer(() => {
      timers.delete(h);
      fn();
    }, delayMs);
    const h: Timer = {
      cancel: () => {
        timers.delete(h);
        inner.cancel();
      },
    };
    timers.add(h);
    return h;
  }

  #scheduleHeartbeats(): void {
    this.#heartbeatTimer = this.#setTimer(() => {
      this.#heartbeatTimer = null;
      if (this.#closed) return;
      this.flushHeartbeats();
      this.#scheduleHeartbeats();
    }, this.#heartbeatIntervalMs);
  }

  async #accept(): Promise<void> {
    try {
      // Bounded by the listener's life: close() ends the iteration.
      for await (const conn of this.#listener) {
        if (this.#closed) {
          closeQuietly(conn);
          break;
        }
        if (this.#inbound.size >= MAX_INBOUND_CONNECTIONS) {
          const a = conn.remoteAddr;
          this.#s.log(
            "warn",
            `Refusing connection from ${a.hostname}:${a.port}: ${MAX_INBOUND_CONNECTIONS} connections are open`,
          );
          closeQuietly(conn);
          continue;
        }
        const c = new InboundConnection(this.#s, conn, {
          setTimer: (fn, ms) => this.#setTimer(fn, ms),
          register: (id, c) => this.#register(id, c),
          deliver: (from, frame) => this.#deliver(from, frame),
        });
        this.#inbound.add(c);
        c.run().finally(() => {
          this.#inbound.delete(c);
          if (c.peer !== null && this.#inboundByNode.get(c.peer) === c) {
            this.#inboundByNode.delete(c.peer);
          }
        });
      }
    } catch (err) {
      // close() ends the loop by closing the listener; any other failure stops accepting.
      if (!this.#closed) {
        const e = new TransportError(`Cannot accept connections: ${message(err)}`, {
          cause: err,
        });
        this.#s.log("error", e.message);
      }
    }
  }

  /** Makes `c` the connection of node `id`, closing an older one. */
  #register(id: NodeId, c: InboundConnection): void {
    const old = this.#inboundByNode.get(id);
    if (old !== undefined && old !== c) {
      this.#s.log("info", `Replacing the older connection from node ${id}`);
      void old.close();
    }
    this.#inboundByNode.set(id, c);
  }

  #deliver(from: NodeId, frame: TransportFrame): void {
    this.#received.set(from, (this.#received.get(from) ?? 0) + 1);
    if (frame.type === "message") {
      this.#messageHandler(from, { groupId: frame.groupId, payload: frame.payload });
    } else if (frame.type === "heartbeats") {
      this.#heartbeatHandler(from, frame.beats);
    }
  }
}

/** What a link needs from its transport. */
interface LinkHooks {
  readonly backoff: Backoff;
  readonly setTimer: (fn: () => void, ms: number) => Timer;
}

/** The outbound connection to one peer: its queue, heartbeat batch, writer and redials. */
class OutboundLink {
  readonly id: NodeId;
  readonly addr: PeerAddress;
  readonly batch: HeartbeatBatch;
  readonly #s: Settings;
  readonly #hooks: LinkHooks;
  readonly #queue: PeerQueue;
  readonly #name: string;
  state: PeerState = "connecting";
  sentFrames = 0;
  droppedFrames = 0;
  #conn: Deno.TcpConn | null = null;
  /** Bumped by every connection attempt; stale failure reports compare it. */
  #gen = 0;
  #timer: Timer | null = null;
  /** Aborts the dial in progress (on close or when the hello deadline passes). */
  #attempt: AbortController | null = null;
  #cycle: Promise<void> = Promise.resolve();
  #writer: Promise<void> = Promise.resolve();
  #writing = false;
  #lastFailure = "";

  constructor(s: Settings, id: NodeId, addr: PeerAddress, hooks: LinkHooks) {
    this.#s = s;
    this.id = id;
    this.addr = addr;
    this.#hooks = hooks;
    this.#queue = new PeerQueue(s.maxQueueFrames, s.maxQueueBytes);
    this.batch = new HeartbeatBatch(s.maxFrameBytes);
    this.#name = `peer ${id} (${addr.hostname}:${addr.port})`;
  }

  get hasConnection(): boolean {
    return this.#conn !== null;
  }

  status(receivedFrames: number): PeerStatus {
    return {
      id: this.id,
      state: this.state,
      queuedFrames: this.#queue.frames,
      queuedBytes: this.#queue.bytes,
      failedAttempts: this.#hooks.backoff.attempt,
      sentFrames: this.sentFrames,
      droppedFrames: this.droppedFrames,
      receivedFrames,
    };
  }

  start(): void {
    if (this.state === "closed") return;
    this.#cycle = this.#run(++this.#gen);
  }

  /** Whether a frame of `bytes` fits in the queue now. */
  fits(bytes: number): boolean {
    return this.#queue.fits(bytes);
  }

  /** Room for a frame in the queue's slab. */
  readonly alloc = (n: number): Uint8Array => this.#queue.alloc(n);

  enqueue(frame: Uint8Array): SendResult {
    if (!this.#queue.push(frame)) {
      this.droppedFrames++;
      return { type: "dropped", reason: "queue_full" };
    }
    this.#kick();
    return { type: "queued" };
  }

  flushHeartbeats(): void {
    if (this.state !== "connected") {
      if (this.batch.discard()) this.droppedFrames++;
      return;
    }
    const frame = this.batch.drain();
    if (frame !== null) this.enqueue(frame);
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.#gen++;
    if (this.#timer !== null) this.#timer.cancel();
    this.#timer = null;
    this.#attempt?.abort();
    if (this.#conn !== null) closeQuietly(this.#conn);
    this.#queue.clear();
    this.batch.discard();
    await Promise.all([this.#cycle, this.#writer]);
    this.#conn = null;
  }

  /** One connection's life: dial, exchange hellos, then watch for its end. */
  async #run(gen: number): Promise<void> {
    this.state = "connecting";
    const attempt = new AbortController();
    this.#attempt = attempt;
    // One deadline covers the dial and the hello exchange (a black-holed address must not
    // leave the link "connecting" for the OS's minutes-long connect timeout).
    const helloTimer = this.#hooks.setTimer(() => {
      attempt.abort();
      this.#failed(
        gen,
        new TransportError(`No hello from ${this.#name} in ${this.#s.helloTimeoutMs} ms`),
      );
    }, this.#s.helloTimeoutMs);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ ...this.addr, transport: "tcp", signal: attempt.signal });
    } catch (err) {
      helloTimer.cancel();
      this.#failed(gen, new TransportError(`Cannot connect to ${this.#name}`, { cause: err }));
      return;
    }
    if (gen !== this.#gen) {
      helloTimer.cancel();
      closeQuietly(conn); // closed or timed out while dialing
      return;
    }
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // Latency only: frames still flow without TCP_NODELAY.
    }
    try {
      await writeAll(conn, this.#s.hello);
      const reader = new FrameReader(conn, this.#s.maxFrameBytes);
      const first = await reader.next();
      helloTimer.cancel();
      if (first.type !== "frame") {
        this.#failed(gen, new TransportError(`Connection closed by ${this.#name} at hello`));
        return;
      }
      const why = refusal(this.#s, decodeFrame(first.frame), this.id);
      if (why !== null) {
        this.#failed(gen, new TransportError(`Refusing ${this.#name}: ${why}`), "warn");
        return;
      }
      if (gen !== this.#gen) return;
      this.state = "connected";
      this.#hooks.backoff.reset();
      if (this.#lastFailure !== "") this.#s.log("info", `Connected to ${this.#name}`);
      this.#lastFailure = "";
      this.#kick();
      // The acceptor sends nothing after its hello: the next read returns at the end.
      const next = await reader.next();
      const why2 = next.type === "eof" ? "closed by the peer" : "unexpected data from the peer";
      this.#failed(gen, new TransportError(`Lost connection to ${this.#name}: ${why2}`), "warn");
    } catch (err) {
      helloTimer.cancel();
      const wrapped = err instanceof FrameDecodeError
        ? new TransportError(`Refusing ${this.#name}: ${err.message}`, { cause: err })
        : new TransportError(`Lost connection to ${this.#name}`, { cause: err });
      this.#failed(gen, wrapped, "warn");
    }
  }

  /** Ends connection `gen` (once), logs why, and schedules a redial. */
  #failed(gen: number, err: TransportError, level: "warn" | "info" = "info"): void {
    if (gen !== this.#gen || this.state === "closed") return;
    this.#gen++;
    if (this.#conn !== null) closeQuietly(this.#conn);
    this.#conn = null;
    const detail = err.cause === undefined ? err.message : `${err.message}: ${message(err.cause)}`;
    // Log each distinct failure once; repeats of the same one (a peer that stays down) at
    // debug level, so a dead peer does not flood the log every back-off period.
    this.#s.log(detail === this.#lastFailure ? "debug" : level, detail);
    this.#lastFailure = detail;
    this.state = "backing_off";
    const delayMs = this.#hooks.backoff.next();
    this.#timer = this.#hooks.setTimer(() => {
      this.#timer = null;
      this.start();
    }, delayMs);
  }

  /** Starts the writer if frames wait and the link is up. */
  #kick(): void {
    if (this.state !== "connected" || this.#writing || this.#queue.frames === 0) return;
    const conn = this.#conn;
    if (conn === null) return;
    this.#writing = true;
    this.#writer = this.#write(this.#gen, conn);
  }

  /** Drains the queue onto the socket in batches, without waiting for answers. */
  async #write(gen: number, conn: Deno.TcpConn): Promise<void> {
    let batch: Uint8Array[] = [];
    try {
      // Each iteration removes at least one frame from the bounded queue.
      while (gen === this.#gen && this.state === "connected" && this.#queue.frames > 0) {
        batch = this.#queue.take(WRITE_BATCH_BYTES);
        const pieces = runs(batch);
        // Adjacent slab frames go out uncopied; scattered small ones are gathered once.
        if (pieces.length === 1 || pieces.every((p) => p.length >= GATHER_MAX_BYTES)) {
          for (const p of pieces) await writeAll(conn, p);
        } else {
          await writeAll(conn, concat(pieces));
        }
        this.sentFrames += batch.length;
        batch = [];
      }
    } catch (err) {
      // Frames of a failed write are lost (at-most-once delivery; Raft retransmits).
      this.droppedFrames += batch.length;
      this.#failed(
        gen,
        new TransportError(`Lost connection to ${this.#name}: write failed`, { cause: err }),
        "warn",
      );
    } finally {
      this.#writing = false;
    }
  }
}

/** What an inbound connection needs from its transport. */
interface InboundHooks {
  readonly setTimer: (fn: () => void, ms: number) => Timer;
  readonly register: (id: NodeId, c: InboundConnection) => void;
  readonly deliver: (from: NodeId, frame: TransportFrame) => void;
}

/** A connection a peer dialed to us: hello, then a read loop delivering frames. */
class InboundConnection {
  readonly #s: Settings;
  readonly #conn: Deno.TcpConn;
  readonly #hooks: InboundHooks;
  #name: string;
  #closed = false;
  #done: Promise<void> = Promise.resolve();
  peer: NodeId | null = null;

  constructor(s: Settings, conn: Deno.TcpConn, hooks: InboundHooks) {
    this.#s = s;
    this.#conn = conn;
    this.#hooks = hooks;
    const a = conn.remoteAddr;
    this.#name = `connection from ${a.hostname}:${a.port}`;
  }

  run(): Promise<void> {
    this.#done = this.#loop().catch((err) => {
      // A failed read or write ends this connection only; the peer redials.
      if (!this.#closed) {
        const e = new TransportError(`Closing ${this.#name}`, { cause: err });
        this.#s.log("info", `${e.message}: ${message(err)}`);
      }
    }).finally(() => this.#close());
    return this.#done;
  }

  async close(): Promise<void> {
    this.#close();
    await this.#done;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#conn);
  }

  async #loop(): Promise<void> {
    const reader = new FrameReader(this.#conn, this.#s.maxFrameBytes);
    const timer = this.#hooks.setTimer(() => {
      this.#s.log("warn", `Closing ${this.#name}: no hello in ${this.#s.helloTimeoutMs} ms`);
      this.#close();
    }, this.#s.helloTimeoutMs);
    let first;
    try {
      first = await reader.next();
    } finally {
      timer.cancel();
    }
    const hello = this.#decode(first);
    if (hello === null) return;
    if (hello.type === "hello") await writeAll(this.#conn, this.#s.hello);
    const why = refusal(this.#s, hello, null);
    if (why !== null || hello.type !== "hello") {
      this.#s.log("warn", `Refusing ${this.#name}: ${why}`);
      return;
    }
    this.peer = hello.nodeId;
    this.#name = `connection from node ${hello.nodeId} (${this.#name.slice(16)})`;
    this.#hooks.register(hello.nodeId, this);
    // Each iteration consumes one frame or returns.
    while (!this.#closed) {
      const frame = this.#decode(await reader.next());
      if (frame === null) return;
      if (frame.type === "hello") {
        this.#s.log("warn", `Closing ${this.#name}: a second hello`);
        return;
      }
      try {
        this.#hooks.deliver(hello.nodeId, frame);
      } catch (err) {
        // A handler that throws is a bug of the runtime: log it and drop this connection only.
        this.#s.log(
          "error",
          `Closing ${this.#name}: handler failed: ${err instanceof Error ? err.stack : err}`,
        );
        return;
      }
    }
  }

  /** The decoded frame, or null (with a log line) when the connection must end. */
  #decode(
    read: Awaited<ReturnType<FrameReader["next"]>>,
  ): TransportFrame | null {
    if (this.#closed) return null;
    if (read.type === "eof") {
      this.#s.log("debug", `Closed ${this.#name}: end of stream`);
      return null;
    }
    if (read.type === "bad_length") {
      this.#s.log(
        "warn",
        `Closing ${this.#name}: frame size "${read.length}" outside 1..${this.#s.maxFrameBytes}`,
      );
      return null;
    }
    try {
      return decodeFrame(read.frame);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw err;
      this.#s.log("warn", `Closing ${this.#name}: ${err.message}`);
      return null;
    }
  }
}
