/**
 * The simulated twin of `TcpTransport`: an in-memory network of `SimTransport`s driven by
 * virtual time and one seeded `Prng`, so that a cluster test replays exactly from its seed
 * (STYLE.md principle 4). It passes the same contract suite as TCP
 * (src/cluster/transport/transport_contract.ts) and shares TCP's bounded parts: the frame
 * codec, `PeerQueue`, `HeartbeatBatch` and `Backoff`.
 *
 * Model (what a test can rely on):
 * - Every node added is a peer of every other (full mesh). Each ordered pair has one link,
 *   owned by its sender, as over TCP. A link connects after one connect delay if the
 *   destination is up, neither direction is partitioned, and the cluster ids match
 *   (otherwise both sides log the refusal, as TCP does); it then backs off with jitter.
 * - Frames are encoded on send and decoded on delivery, so sizes and copies are real. A
 *   frame over the receiver's `maxFrameBytes` is refused: the receiver logs, the link is
 *   reset (frames in flight on it are lost) and the sender redials.
 * - Faults (`SimFaults`, changeable at any time): a delay drawn in [delayMinMs, delayMaxMs];
 *   loss and duplication probabilities; `reorder` lets frames of one link overtake each
 *   other (otherwise a link is FIFO). A partition (symmetric or one-way) silently loses
 *   frames on an established link and prevents new connections.
 * - `crash(id)` closes a node's transport abruptly: its timers stop, its queues vanish, its
 *   frames in flight are lost, and its peers' links drop and redial. `restart(id)` starts
 *   a fresh incarnation (empty queues); frames sent to an earlier incarnation never reach it.
 *
 * Not modelled: bandwidth and socket buffers (an established link puts a frame on the wire
 * at once, so its queue fills only while it is down), half-open connections, and the
 * heartbeat timer's drift. A handler that throws propagates out of `step` (a bug crashes
 * the simulation; TCP logs it and drops the connection).
 */
import { assert, createPrng, type NodeId, type Prng } from "../util/mod.ts";
import {
  Backoff,
  decodeFrame,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_FRAMES,
  encodeGroupId,
  encodeMessage,
  type Envelope,
  HeartbeatBatch,
  type HeartbeatHandler,
  LENGTH_BYTES,
  messageFrameLength,
  type MessageHandler,
  PeerQueue,
  type PeerState,
  type PeerStatus,
  type Scheduler,
  type SendResult,
  type Timer,
  type Transport,
  type TransportLog,
  type TransportLogLevel,
} from "../cluster/transport/mod.ts";

/** Fault knobs of the simulated wire. */
export interface SimFaults {
  /** Smallest one-way delay of a frame (and of a connection attempt). */
  readonly delayMinMs: number;
  /** Largest one-way delay. */
  readonly delayMaxMs: number;
  /** Probability that a frame is lost. */
  readonly lossRate: number;
  /** Probability that a frame is delivered twice. */
  readonly duplicateRate: number;
  /** Whether frames of one link may overtake each other. */
  readonly reorder: boolean;
}

/** A perfect wire: 1 ms, no loss, no duplicates, FIFO. */
export const NO_FAULTS: SimFaults = {
  delayMinMs: 1,
  delayMaxMs: 1,
  lossRate: 0,
  duplicateRate: 0,
  reorder: false,
};

/** Per-node settings (the `TcpTransport` options that matter in simulation). */
export interface SimNodeOptions {
  readonly clusterId?: string;
  readonly maxFrameBytes?: number;
  readonly maxQueueFrames?: number;
  readonly maxQueueBytes?: number;
  /** Flush heartbeats every this many virtual ms; 0 (the default) leaves it to the caller. */
  readonly heartbeatIntervalMs?: number;
  /** Also receives the node's log lines (they are kept in `logs(id)` regardless). */
  readonly log?: TransportLog;
}

/** Settings of a simulated network. */
export interface SimNetworkOptions {
  readonly seed: number;
  readonly faults?: Partial<SimFaults>;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** Log lines kept per node (the oldest are dropped beyond this). */
export const SIM_LOG_LINES_MAX = 10_000;
/** Events one `runUntil`/`runFor` may process before it declares a livelock. */
export const SIM_EVENTS_PER_RUN_MAX = 10_000_000;

interface SimEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap of events by (time, insertion order): runs are a function of the seed. */
class EventHeap {
  readonly #heap: SimEvent[] = [];

  get size(): number {
    return this.#heap.length;
  }

  peek(): SimEvent | undefined {
    return this.#heap[0];
  }

  push(e: SimEvent): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): SimEvent | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(l, m)) m = l;
      if (r < h.length && this.#less(r, m)) m = r;
      if (m === i) return top;
      this.#swap(i, m);
      i = m;
    }
  }

  #less(a: number, b: number): boolean {
    const x = this.#heap[a];
    const y = this.#heap[b];
    assert(x !== undefined && y !== undefined, "event heap index out of range");
    return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
  }

  #swap(a: number, b: number): void {
    const x = this.#heap[a];
    const y = this.#heap[b];
    assert(x !== undefined && y !== undefined, "event heap index out of range");
    this.#heap[a] = y;
    this.#heap[b] = x;
  }
}

interface SimNode {
  transport: SimTransport;
  options: SimNodeOptions;
  readonly logs: string[];
}

/** An in-memory network of transports on virtual time. */
export class SimNetwork {
  readonly #prng: Prng;
  readonly #events = new EventHeap();
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #blocked = new Set<string>();
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  #faults: SimFaults;
  #nowMs = 0;
  #seq = 0;

  constructor(options: SimNetworkOptions) {
    this.#prng = createPrng(options.seed);
    this.#faults = { ...NO_FAULTS, ...options.faults };
    this.#backoffBaseMs = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.#backoffMaxMs = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  }

  /** Virtual milliseconds since the start. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Events waiting (frames in flight and timers, cancelled ones until they come due). */
  get pendingEvents(): number {
    return this.#events.size;
  }

  get faults(): SimFaults {
    return this.#faults;
  }

  /** Changes fault knobs from now on. */
  setFaults(faults: Partial<SimFaults>): void {
    this.#faults = { ...this.#faults, ...faults };
    assert(
      this.#faults.delayMinMs >= 0 && this.#faults.delayMaxMs >= this.#faults.delayMinMs,
      "delays must satisfy 0 <= delayMinMs <= delayMaxMs",
    );
  }

  /** Adds node `id` (a peer of every other node) and starts its transport. */
  addNode(id: NodeId, options: SimNodeOptions = {}): SimTransport {
    assert(!this.#nodes.has(id), `node ${id} already exists`);
    const transport = new SimTransport(this, id, options);
    this.#nodes.set(id, { transport, options, logs: [] });
    for (const [other, n] of this.#nodes) if (other !== id) n.transport.addPeer(id);
    return transport;
  }

  /** The current transport of node `id`. */
  transport(id: NodeId): SimTransport {
    const n = this.#nodes.get(id);
    assert(n !== undefined, `node ${id} does not exist`);
    return n.transport;
  }

  /** Node ids in the order they were added. */
  get nodeIds(): NodeId[] {
    return [...this.#nodes.keys()];
  }

  /** Whether node `id`'s transport is running. */
  isUp(id: NodeId): boolean {
    return this.#nodes.get(id)?.transport.isClosed === false;
  }

  /** Crashes node `id`: its transport stops at once and its peers' links drop. */
  crash(id: NodeId): void {
    this.transport(id).halt();
  }

  /** Starts a fresh incarnation of a crashed node, with its options (or new ones). */
  restart(id: NodeId, options?: SimNodeOptions): SimTransport {
    const n = this.#nodes.get(id);
    assert(n !== undefined, `node ${id} does not exist`);
    assert(n.transport.isClosed, `node ${id} is running`);
    if (options !== undefined) n.options = options;
    n.transport = new SimTransport(this, id, n.options);
    return n.transport;
  }

  /** Cuts both directions between `a` and `b`. */
  partition(a: NodeId, b: NodeId): void {
    this.#blocked.add(`${a}>${b}`);
    this.#blocked.add(`${b}>${a}`);
  }

  /** Cuts frames from `from` to `to` only. */
  partitionOneWay(from: NodeId, to: NodeId): void {
    this.#blocked.add(`${from}>${to}`);
  }

  /** Restores both directions between `a` and `b`. */
  heal(a: NodeId, b: NodeId): void {
    this.#blocked.delete(`${a}>${b}`);
    this.#blocked.delete(`${b}>${a}`);
  }

  /** Restores every link. */
  healAll(): void {
    this.#blocked.clear();
  }

  /** The log lines of node `id`, as `level: message`. */
  logs(id: NodeId): readonly string[] {
    return this.#nodes.get(id)?.logs ?? [];
  }

  /** Runs the next event; false when none is left. */
  step(): boolean {
    const e = this.#events.pop();
    if (e === undefined) return false;
    this.#nowMs = Math.max(this.#nowMs, e.atMs);
    if (!e.cancelled) e.fn();
    return true;
  }

  /** Runs every event due within `ms` and moves the clock `ms` forward. */
  runFor(ms: number): void {
    const end = this.#nowMs + ms;
    this.#runUntilTime(end, () => false);
    this.#nowMs = Math.max(this.#nowMs, end);
  }

  /**
   * Runs events until `cond()` holds or `maxMs` of virtual time pass; returns `cond()`.
   * @throws {AssertionError} after `SIM_EVENTS_PER_RUN_MAX` events (a livelock).
   */
  runUntil(cond: () => boolean, maxMs: number): boolean {
    const end = this.#nowMs + maxMs;
    if (this.#runUntilTime(end, cond)) return true;
    this.#nowMs = Math.max(this.#nowMs, end);
    return cond();
  }

  /**
   * `runUntil` for nodes whose work finishes asynchronously (real file I/O): runs exactly one
   * event at a time, awaiting `settle()` (the I/O the last event caused) before each check
   * of `cond`. Returns whether `cond` held before `maxMs` of virtual time passed.
   * @throws {Error} after `eventsMax` events (a livelock), the message starting with `what`.
   */
  async runSettled(
    cond: () => boolean,
    maxMs: number,
    settle: () => Promise<void>,
    eventsMax: number,
    what: string,
  ): Promise<boolean> {
    const end = this.#nowMs + maxMs;
    for (let i = 0; i < eventsMax; i++) {
      await settle();
      if (cond()) return true;
      if (this.#nowMs >= end) return false;
      let n = 0;
      this.runUntil(() => n++ >= 1, end - this.#nowMs); // exactly one event
    }
    throw new Error(`${what}: no progress after ${eventsMax} events`);
  }

  /** Closes every node. */
  async close(): Promise<void> {
    await Promise.all([...this.#nodes.values()].map((n) => n.transport.close()));
  }

  #runUntilTime(end: number, cond: () => boolean): boolean {
    for (let n = 0; n < SIM_EVENTS_PER_RUN_MAX; n++) {
      if (cond()) return true;
      const next = this.#events.peek();
      if (next === undefined || next.atMs > end) return false;
      this.step();
    }
    throw new Error(`Simulation livelock: ${SIM_EVENTS_PER_RUN_MAX} events without progress`);
  }

  // ---- Internal API of SimTransport ----

  /** @internal A scheduler on virtual time. */
  readonly scheduler: Scheduler = {
    setTimer: (fn, delayMs) => this.#schedule(delayMs, fn),
  };

  #schedule(delayMs: number, fn: () => void): Timer {
    const e: SimEvent = { atMs: this.#nowMs + delayMs, seq: this.#seq++, fn, cancelled: false };
    this.#events.push(e);
    return { cancel: () => (e.cancelled = true) };
  }

  /** @internal A new back-off with its own jitter stream drawn from the seed. */
  newBackoff(): Backoff {
    return new Backoff(this.#backoffBaseMs, this.#backoffMaxMs, this.#prng.fork());
  }

  /** @internal A one-way delay drawn from the fault knobs. */
  delayMs(): number {
    return this.#prng.int(this.#faults.delayMinMs, this.#faults.delayMaxMs);
  }

  /** @internal Writes a log line of node `id`. */
  log(id: NodeId, level: TransportLogLevel, message: string): void {
    const n = this.#nodes.get(id);
    if (n === undefined) return;
    n.logs.push(`${level}: ${message}`);
    if (n.logs.length > SIM_LOG_LINES_MAX) n.logs.splice(0, n.logs.length - SIM_LOG_LINES_MAX);
    n.options.log?.(level, message);
  }

  /** @internal Why `from` cannot connect to `to` now (with the log line each side writes). */
  handshake(from: SimTransport, to: NodeId): { ok: true; peer: SimTransport } | {
    ok: false;
    reason: string;
    level: "info" | "warn";
  } {
    const peer = this.#nodes.get(to)?.transport;
    if (peer === undefined || peer.isClosed) {
      return { ok: false, reason: "connection refused", level: "info" };
    }
    if (this.#blocked.has(`${from.nodeId}>${to}`) || this.#blocked.has(`${to}>${from.nodeId}`)) {
      return { ok: false, reason: "connection timed out (partitioned)", level: "info" };
    }
    if (peer.clusterId !== from.clusterId) {
      this.log(
        to,
        "warn",
        `Refusing connection from node ${from.nodeId} (sim): cluster id "${from.clusterId}" differs from ours "${peer.clusterId}"`,
      );
      return {
        ok: false,
        reason: `cluster id "${peer.clusterId}" differs from ours "${from.clusterId}"`,
        level: "warn",
      };
    }
    return { ok: true, peer };
  }

  /**
   * @internal Puts a frame on the wire of link `from` → `to`, applying the faults. The
   * frame is delivered to `peer` only if the link's connection `epoch` is still current.
   */
  transmit(
    from: SimTransport,
    peer: SimTransport,
    frame: Uint8Array,
    link: { epoch: number; lastArrivalMs: number },
  ): void {
    if (this.#blocked.has(`${from.nodeId}>${peer.nodeId}`)) return;
    const f = this.#faults;
    if (f.lossRate > 0 && this.#prng.chance(f.lossRate)) return;
    const copies = f.duplicateRate > 0 && this.#prng.chance(f.duplicateRate) ? 2 : 1;
    const epoch = link.epoch;
    for (let i = 0; i < copies; i++) {
      let at = this.#nowMs + this.delayMs();
      // FIFO unless reordering is on: never arrive before an earlier frame of this link.
      if (!f.reorder) at = Math.max(at, link.lastArrivalMs);
      link.lastArrivalMs = Math.max(link.lastArrivalMs, at);
      this.#schedule(at - this.#nowMs, () => {
        if (link.epoch !== epoch || peer.isClosed) return; // connection gone: frame lost
        from.arrived(peer, frame);
      });
    }
  }
}

/** One outbound link of a `SimTransport`. */
interface SimLink {
  readonly id: NodeId;
  state: PeerState;
  readonly queue: PeerQueue;
  readonly batch: HeartbeatBatch;
  readonly backoff: Backoff;
  timer: Timer | null;
  /** Bumped whenever the connection ends; frames of an older epoch are lost. */
  epoch: number;
  lastArrivalMs: number;
  peer: SimTransport | null;
  sentFrames: number;
  droppedFrames: number;
  lastFailure: string;
}

/** A node's transport on a `SimNetwork`. */
export class SimTransport implements Transport {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly #net: SimNetwork;
  readonly #maxFrameBytes: number;
  readonly #maxQueueFrames: number;
  readonly #maxQueueBytes: number;
  readonly #links = new Map<NodeId, SimLink>();
  readonly #received = new Map<NodeId, number>();
  readonly #timers = new Set<Timer>();
  #messageHandler: MessageHandler = () => {};
  #heartbeatHandler: HeartbeatHandler = () => {};
  #closed = false;

  /** @internal Made by `SimNetwork.addNode` and `restart`. */
  constructor(net: SimNetwork, id: NodeId, o: SimNodeOptions) {
    this.#net = net;
    this.nodeId = id;
    this.clusterId = o.clusterId ?? "sim-cluster";
    this.#maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#maxQueueFrames = o.maxQueueFrames ?? DEFAULT_MAX_QUEUE_FRAMES;
    this.#maxQueueBytes = o.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    for (const other of net.nodeIds) if (other !== id) this.addPeer(other);
    const interval = o.heartbeatIntervalMs ?? 0;
    if (interval > 0) {
      const tick = () => {
        this.flushHeartbeats();
        this.#setTimer(tick, interval);
      };
      this.#setTimer(tick, interval);
    }
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Live timers of this transport (0 after `close`). */
  get openHandles(): number {
    return this.#timers.size;
  }

  /** @internal Adds a link to `id` and starts connecting. */
  addPeer(id: NodeId): void {
    if (this.#closed || this.#links.has(id)) return;
    const link: SimLink = {
      id,
      state: "connecting",
      queue: new PeerQueue(this.#maxQueueFrames, this.#maxQueueBytes),
      batch: new HeartbeatBatch(this.#maxFrameBytes),
      backoff: this.#net.newBackoff(),
      timer: null,
      epoch: 0,
      lastArrivalMs: 0,
      peer: null,
      sentFrames: 0,
      droppedFrames: 0,
      lastFailure: "",
    };
    this.#links.set(id, link);
    this.#connect(link);
  }

  send(to: NodeId, envelope: Envelope): SendResult {
    if (this.#closed) return { type: "dropped", reason: "closed" };
    const link = this.#links.get(to);
    if (link === undefined) return { type: "dropped", reason: "unknown_peer" };
    const gid = encodeGroupId(envelope.groupId);
    if (
      gid === null ||
      messageFrameLength(gid.length, envelope.payload.length) > this.#maxFrameBytes
    ) {
      link.droppedFrames++;
      return { type: "dropped", reason: "too_large" };
    }
    return this.#enqueue(link, encodeMessage(gid, envelope.payload));
  }

  heartbeat(to: NodeId, groupId: string, payload: Uint8Array): SendResult {
    if (this.#closed) return { type: "dropped", reason: "closed" };
    const link = this.#links.get(to);
    if (link === undefined) return { type: "dropped", reason: "unknown_peer" };
    let added = link.batch.add(groupId, payload);
    if (added === "full") {
      this.#flushLink(link);
      added = link.batch.add(groupId, payload);
    }
    if (added !== "added") {
      link.droppedFrames++;
      return { type: "dropped", reason: "too_large" };
    }
    return { type: "queued" };
  }

  flushHeartbeats(): void {
    for (const link of this.#links.values()) this.#flushLink(link);
  }

  onMessage(handler: MessageHandler): void {
    this.#messageHandler = handler;
  }

  onHeartbeats(handler: HeartbeatHandler): void {
    this.#heartbeatHandler = handler;
  }

  peers(): PeerStatus[] {
    return [...this.#links.values()].map((l) => ({
      id: l.id,
      state: l.state,
      queuedFrames: l.queue.frames,
      queuedBytes: l.queue.bytes,
      failedAttempts: l.backoff.attempt,
      sentFrames: l.sentFrames,
      droppedFrames: l.droppedFrames,
      receivedFrames: this.#received.get(l.id) ?? 0,
    }));
  }

  close(): Promise<void> {
    this.halt();
    return Promise.resolve();
  }

  /** @internal Stops at once (a crash and a close look the same to peers, as over TCP). */
  halt(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [...this.#timers]) t.cancel();
    for (const link of this.#links.values()) {
      link.state = "closed";
      link.epoch++;
      link.timer = null;
      link.queue.clear();
      link.batch.discard();
    }
    for (const id of this.#net.nodeIds) {
      if (id !== this.nodeId && this.#net.isUp(id)) this.#net.transport(id).peerClosed(this);
    }
  }

  /** @internal `peer` went away: drop the link to it (its socket would see EOF). */
  peerClosed(peer: SimTransport): void {
    const link = this.#links.get(peer.nodeId);
    if (link === undefined || link.peer !== peer) return;
    if (link.state === "connected") this.#fail(link, "closed by the peer", "warn");
  }

  /** @internal A frame of ours arrived at `peer` on a live connection. */
  arrived(peer: SimTransport, frame: Uint8Array): void {
    const length = frame.length - LENGTH_BYTES;
    if (length > peer.#maxFrameBytes) {
      this.#net.log(
        peer.nodeId,
        "warn",
        `Closing connection from node ${this.nodeId} (sim): frame size "${length}" outside 1..${peer.#maxFrameBytes}`,
      );
      const link = this.#links.get(peer.nodeId);
      if (link !== undefined) this.#fail(link, "closed by the peer", "warn");
      return;
    }
    peer.#deliver(this.nodeId, frame.subarray(LENGTH_BYTES));
  }

  #deliver(from: NodeId, body: Uint8Array): void {
    this.#received.set(from, (this.#received.get(from) ?? 0) + 1);
    // Frames were encoded by our own codec: a decode failure here is a bug, so it throws.
    const frame = decodeFrame(body.slice());
    if (frame.type === "message") {
      this.#messageHandler(from, { groupId: frame.groupId, payload: frame.payload });
    } else if (frame.type === "heartbeats") {
      this.#heartbeatHandler(from, frame.beats);
    }
  }

  #setTimer(fn: () => void, delayMs: number): Timer {
    const timers = this.#timers;
    const inner = this.#net.scheduler.setTimer(() => {
      timers.delete(t);
      fn();
    }, delayMs);
    const t: Timer = {
      cancel: () => {
        timers.delete(t);
        inner.cancel();
      },
    };
    timers.add(t);
    return t;
  }

  #enqueue(link: SimLink, frame: Uint8Array): SendResult {
    if (!link.queue.push(frame)) {
      link.droppedFrames++;
      return { type: "dropped", reason: "queue_full" };
    }
    this.#drain(link);
    return { type: "queued" };
  }

  #flushLink(link: SimLink): void {
    if (link.state !== "connected") {
      if (link.batch.discard()) link.droppedFrames++;
      return;
    }
    const frame = link.batch.drain();
    if (frame !== null) this.#enqueue(link, frame);
  }

  /** Puts every queued frame on the wire while the link is up. */
  #drain(link: SimLink): void {
    const peer = link.peer;
    if (link.state !== "connected" || peer === null) return;
    // Each iteration removes at least one frame from the bounded queue.
    while (link.queue.frames > 0) {
      for (const frame of link.queue.take(Number.MAX_SAFE_INTEGER)) {
        link.sentFrames++;
        this.#net.transmit(this, peer, frame, link);
      }
    }
  }

  /** One connection attempt after a connect delay (a round trip for the hellos). */
  #connect(link: SimLink): void {
    link.state = "connecting";
    link.timer = this.#setTimer(() => {
      link.timer = null;
      const hs = this.#net.handshake(this, link.id);
      if (!hs.ok) {
        const prefix = hs.level === "warn" ? "Refusing" : "Cannot connect to";
        this.#fail(link, hs.reason, hs.level, prefix);
        return;
      }
      link.state = "connected";
      link.peer = hs.peer;
      link.backoff.reset();
      if (link.lastFailure !== "") {
        this.#net.log(this.nodeId, "info", `Connected to peer ${link.id} (sim)`);
      }
      link.lastFailure = "";
      this.#drain(link);
    }, 2 * this.#net.delayMs());
  }

  /** Ends the link's connection, logs once per distinct failure, and schedules a redial. */
  #fail(
    link: SimLink,
    reason: string,
    level: "info" | "warn",
    prefix = "Lost connection to",
  ): void {
    if (link.state === "closed") return;
    link.epoch++;
    link.peer = null;
    if (link.timer !== null) link.timer.cancel();
    const detail = prefix === "Refusing"
      ? `Refusing peer ${link.id} (sim): ${reason}`
      : `${prefix} peer ${link.id} (sim): ${reason}`;
    this.#net.log(this.nodeId, detail === link.lastFailure ? "debug" : level, detail);
    link.lastFailure = detail;
    link.state = "backing_off";
    link.timer = this.#setTimer(() => {
      link.timer = null;
      this.#connect(link);
    }, link.backoff.next());
  }
}
