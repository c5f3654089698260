/**
 * Starts a multi-node Pyralog cluster as real `main.ts serve` processes for integration
 * tests: node ids 1..N, each with its own data directory under one temporary directory and
 * fixed listen addresses chosen before start (so `--peers` can name every RPC port and a
 * restarted node keeps its addresses). With `netns`, every node runs in its own network
 * namespace (`NetnsLab`) at 10.A.B.(id+1), listening on Pyralog's default ports, and tests
 * cut links through `cluster.netns`; without it, all nodes share 127.0.0.1 on free ports.
 *
 * Invariants: every process is signalled by its PID and awaited; each node's stdout and
 * stderr are drained into a bounded ring of lines; `close` (or `await using`) kills every
 * process, removes the temporary directory and the namespaces, also after a failed start.
 * Every wait is bounded in time.
 */

import { NetnsLab, probeHttp, type ProbeResult } from "./netns.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** Largest cluster the helper starts. */
const CLUSTER_NODES_MAX = 16;
/** How long a node may take to print its startup line. */
const STARTUP_LIMIT_MS = 60_000;
/** How long `stop` waits after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;
/** How long the output pipes may stay open after the process exited. */
const DRAIN_LIMIT_MS = 5_000;
/** Lines of output kept per node. */
const LOG_LINES_MAX = 200;
/** Longest line kept (longer lines are cut). */
const LOG_LINE_CHARS_MAX = 8_192;
/** Pause between two readiness probes. */
const POLL_INTERVAL_MS = 100;
/** Upper bound of one readiness probe. */
const PROBE_LIMIT_MS = 1_000;
/** Ports inside a node's own namespace: Pyralog's defaults, free in a fresh namespace. */
const NETNS_PORTS = { kafka: 9092, http: 8080, rpc: 9093 } as const;

/** Options of `startCluster`. */
export interface ClusterOptions {
  /** Nodes, ids 1..nodes. */
  nodes: number;
  /** Run each node in its own network namespace (needs root, iproute2, iptables). */
  netns?: boolean;
  /** Pass `--peers` naming the other nodes (default true); false starts N lone nodes. */
  peers?: boolean;
  writeCaching?: boolean;
  fsync?: "always" | "interval" | "never";
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Extra `serve` flags, for all nodes or per node id. */
  extraArgs?: string[] | ((id: number) => string[]);
  /** Added to the inherited environment. */
  env?: Record<string, string>;
}

/** A node's fixed addresses and its current process. */
export interface ClusterNode {
  readonly id: number;
  /** The address every listener of this node binds. */
  readonly host: string;
  readonly kafkaPort: number;
  readonly httpPort: number;
  readonly rpcPort: number;
  /** "HOST:PORT" forms of the three listeners. */
  readonly kafka: string;
  readonly http: string;
  readonly rpc: string;
  readonly dataDir: string;
  /** PID of the running process; null while stopped. */
  readonly pid: number | null;
  readonly running: boolean;
}

/** A bounded ring of the last `LOG_LINES_MAX` lines. */
class LineRing {
  readonly #lines: string[] = [];
  push(line: string): void {
    this.#lines.push(
      line.length > LOG_LINE_CHARS_MAX ? `${line.slice(0, LOG_LINE_CHARS_MAX)}…` : line,
    );
    if (this.#lines.length > LOG_LINES_MAX) this.#lines.shift();
  }
  lines(): string[] {
    return [...this.#lines];
  }
}

/** One live process of a node. */
interface Running {
  child: Deno.ChildProcess;
  status: Promise<Deno.CommandStatus>;
  exited: boolean;
  /** Resolves when both output pipes are drained. */
  drained: Promise<void>;
  /** Cancels the pipe readers (for a grandchild that keeps a pipe open). */
  cancel: () => void;
  /** Resolves with the startup line's match, or null when the output ended first. */
  started: Promise<RegExpExecArray | null>;
}

class NodeHandle implements ClusterNode {
  readonly id: number;
  readonly host: string;
  readonly kafkaPort: number;
  readonly httpPort: number;
  readonly rpcPort: number;
  readonly dataDir: string;
  readonly ring = new LineRing();
  process: Running | null = null;

  constructor(id: number, host: string, ports: number[], dataDir: string) {
    this.id = id;
    this.host = host;
    [this.kafkaPort, this.httpPort, this.rpcPort] = ports as [number, number, number];
    this.dataDir = dataDir;
  }
  get kafka(): string {
    return `${this.host}:${this.kafkaPort}`;
  }
  get http(): string {
    return `${this.host}:${this.httpPort}`;
  }
  get rpc(): string {
    return `${this.host}:${this.rpcPort}`;
  }
  get pid(): number | null {
    return this.process && !this.process.exited ? this.process.child.pid : null;
  }
  get running(): boolean {
    return this.pid !== null;
  }
}

/** A running cluster; see the file comment. */
export class PyralogCluster implements AsyncDisposable {
  readonly #options: ClusterOptions;
  readonly #nodes: NodeHandle[];
  readonly #tempDir: string;
  /** The namespaces, when started with `netns`. */
  readonly netns: NetnsLab | null;
  #closing: Promise<void> | null = null;

  constructor(options: ClusterOptions, nodes: NodeHandle[], tempDir: string, lab: NetnsLab | null) {
    this.#options = options;
    this.#nodes = nodes;
    this.#tempDir = tempDir;
    this.netns = lab;
  }

  /** Every node, ordered by id. */
  get nodes(): readonly ClusterNode[] {
    return this.#nodes;
  }

  /** "host:port,host:port,..." of every node's Kafka listener. */
  get bootstrap(): string {
    return this.#nodes.map((n) => n.kafka).join(",");
  }

  /** Node `id` (1..N). */
  node(id: number): ClusterNode {
    return this.#node(id);
  }

  /**
   * Starts node `id` (stopped) with its flags, ports and data directory, and waits for its
   * startup line.
   * @throws when it exits or prints no startup line within the bound (it is killed first).
   */
  async start(id: number): Promise<void> {
    this.#checkOpen();
    const node = this.#node(id);
    if (node.running) throw new Error(`Cannot start node ${id}: already running (pid ${node.pid})`);
    const run = this.#spawn(node);
    node.process = run;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), STARTUP_LIMIT_MS)));
    const got = await Promise.race([run.started, limit]);
    clearTimeout(timer);
    if (got !== "timeout" && got !== null) {
      const want = `kafka ${node.kafka}, http ${node.http}`;
      if (got[0] === want) return;
      await this.kill(id);
      throw new Error(
        `Node ${id} listens elsewhere: wanted "${want}", got "${got[0]}"${this.#tail(node)}`,
      );
    }
    await this.kill(id);
    const why = got === "timeout"
      ? `printed no startup line within ${STARTUP_LIMIT_MS} ms`
      : "exited";
    throw new Error(`Cannot start node ${id}: it ${why}${this.#tail(node)}`);
  }

  /**
   * Sends SIGTERM to node `id`'s PID and waits for it to exit, SIGKILL after `graceMs`.
   * Returns the exit status; a stopped node returns its last status.
   */
  async stop(id: number, graceMs = STOP_GRACE_MS): Promise<Deno.CommandStatus> {
    const run = this.#node(id).process;
    if (!run) throw new Error(`Cannot stop node ${id}: never started`);
    if (!run.exited) signal(run.child.pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (!run.exited) timer = setTimeout(() => signal(run.child.pid, "SIGKILL"), graceMs);
    const status = await run.status;
    clearTimeout(timer);
    await this.#drain(run);
    return status;
  }

  /** Sends SIGKILL to node `id`'s PID and waits for the exit. */
  async kill(id: number): Promise<Deno.CommandStatus> {
    const run = this.#node(id).process;
    if (!run) throw new Error(`Cannot kill node ${id}: never started`);
    if (!run.exited) signal(run.child.pid, "SIGKILL");
    const status = await run.status;
    await this.#drain(run);
    return status;
  }

  /** Stops node `id` if it runs (SIGTERM), then starts it again with the same flags, ports and data. */
  async restart(id: number): Promise<void> {
    const node = this.#node(id);
    if (node.running) await this.stop(id);
    node.ring.push(`--- cluster helper: restarting node ${id} ---`);
    await this.start(id);
  }

  /**
   * Polls GET /readyz of one node or of all until it answers 200.
   * @throws when the time runs out or a polled node exits; the message carries its log tail.
   */
  async waitReady(target: number | "all", timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ids = target === "all" ? this.#nodes.map((n) => n.id) : [target];
    for (const id of ids) await this.#waitPath(this.#node(id), "/readyz", deadline, timeoutMs);
  }

  /** Polls GET /healthz of node `id` until it answers 200. */
  async waitHealthy(id: number, timeoutMs: number): Promise<void> {
    await this.#waitPath(this.#node(id), "/healthz", Date.now() + timeoutMs, timeoutMs);
  }

  /** One GET of `path` on node `id`'s HTTP listener from the test process. */
  probe(id: number, path: string, timeoutMs = PROBE_LIMIT_MS): Promise<ProbeResult> {
    return probeHttp(`http://${this.#node(id).http}${path}`, timeoutMs);
  }

  /**
   * Cuts node `id` off from every other node, both ways, while the root namespace (where the
   * test's clients run) still reaches it: a node clients can talk to that cannot reach any
   * peer. `netns.heal()` undoes it.
   * @throws when the cluster was not started with `netns`.
   */
  async cutFromPeers(id: number): Promise<void> {
    const lab = this.netns;
    if (!lab) throw new Error(`Cannot cut node ${id} from its peers: the cluster has no netns`);
    this.#node(id);
    for (const other of this.#nodes) {
      if (other.id === id) continue;
      await lab.cutOneWay(id, other.id);
      await lab.cutOneWay(other.id, id);
    }
  }

  /** The last lines node `id` printed (stdout lines are marked). */
  logs(id: number): string[] {
    return this.#node(id).ring.lines();
  }

  /** Every node's log tail, for a failing test to print. */
  dumpLogs(): string {
    return this.#nodes.map((n) => `=== node ${n.id} (${n.http}) ===\n${n.ring.lines().join("\n")}`)
      .join("\n");
  }

  /**
   * Kills every process (SIGKILL by PID), then removes the namespaces and the temporary
   * directory. Idempotent.
   * @throws {AggregateError} when something could not be removed (after trying all).
   */
  close(): Promise<void> {
    this.#closing ??= this.#teardown();
    return this.#closing;
  }

  /** `await using cluster = await startCluster(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #teardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const node of this.#nodes) {
      if (node.process) await this.kill(node.id).catch((err) => errors.push(err));
    }
    if (this.netns) await this.netns.close().catch((err) => errors.push(err));
    await Deno.remove(this.#tempDir, { recursive: true }).catch((err) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, "Cannot clean up the cluster");
  }

  async #waitPath(
    node: NodeHandle,
    path: string,
    deadline: number,
    timeoutMs: number,
  ): Promise<void> {
    let last: ProbeResult | null = null;
    // Bounded by the deadline; each probe by PROBE_LIMIT_MS.
    while (Date.now() < deadline) {
      if (!node.running) {
        throw new Error(
          `Node ${node.id} is not running while waiting for ${path}${this.#tail(node)}`,
        );
      }
      const left = Math.max(1, Math.min(PROBE_LIMIT_MS, deadline - Date.now()));
      last = await probeHttp(`http://${node.http}${path}`, left);
      if (last.type === "status" && last.status === 200) return;
      await new Promise((r) =>
        setTimeout(r, Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())))
      );
    }
    throw new Error(
      `Node ${node.id} did not answer 200 on ${path} within ${timeoutMs} ms ` +
        `(last: ${JSON.stringify(last)})${this.#tail(node)}`,
    );
  }

  #spawn(node: NodeHandle): Running {
    const o = this.#options;
    const peers = this.#nodes.filter((n) => n.id !== node.id).map((n) => `${n.id}@${n.rpc}`);
    const extra = typeof o.extraArgs === "function" ? o.extraArgs(node.id) : o.extraArgs ?? [];
    const args = [
      "run",
      "--allow-all",
      `${ROOT}main.ts`,
      "serve",
      ...["--node-id", String(node.id), "--data-dir", node.dataDir],
      ...["--kafka-listen", node.kafka, "--http-listen", node.http, "--rpc-listen", node.rpc],
      ...((o.peers ?? true) && peers.length > 0 ? ["--peers", peers.join(",")] : []),
      ...(o.fsync ? ["--fsync", o.fsync] : []),
      ...(o.writeCaching ? ["--write-caching"] : []),
      ...["--log-level", o.logLevel ?? "info"],
      ...extra,
    ];
    const command: Deno.CommandOptions = {
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1", ...(o.env ?? {}) },
    };
    const child = this.netns
      ? this.netns.spawn(node.id, Deno.execPath(), args, command)
      : new Deno.Command(Deno.execPath(), { ...command, args }).spawn();
    return watch(child, node.ring);
  }

  async #drain(run: Running): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<"timeout">((
      r,
    ) => (timer = setTimeout(() => r("timeout"), DRAIN_LIMIT_MS)));
    if (await Promise.race([run.drained, limit]) === "timeout") {
      // A grandchild still holds a pipe; stop reading so nothing outlives the test.
      run.cancel();
      await run.drained;
    }
    clearTimeout(timer);
  }

  #tail(node: NodeHandle): string {
    return `; last output of node ${node.id}:\n${node.ring.lines().slice(-40).join("\n")}`;
  }

  #node(id: number): NodeHandle {
    const node = this.#nodes[id - 1];
    if (!node || node.id !== id) {
      throw new Error(`Unknown node ${id}: the cluster has 1..${this.#nodes.length}`);
    }
    return node;
  }

  #checkOpen(): void {
    if (this.#closing) throw new Error("The cluster is closed");
  }
}

/**
 * Picks addresses, makes data directories (and namespaces), starts every node and waits for
 * their startup lines; readiness is left to `waitReady`.
 * @throws when a node does not start; everything started so far is removed first.
 */
export async function startCluster(options: ClusterOptions): Promise<PyralogCluster> {
  const n = options.nodes;
  if (!Number.isInteger(n) || n < 1 || n > CLUSTER_NODES_MAX) {
    throw new Error(`Cannot start a cluster of ${n} nodes: must be 1..${CLUSTER_NODES_MAX}`);
  }
  const tempDir = await Deno.makeTempDir({ prefix: "pyralog-cluster-" });
  let lab: NetnsLab | null = null;
  let cluster: PyralogCluster | null = null;
  try {
    lab = options.netns ? await NetnsLab.create({ nodes: n }) : null;
    const ports = lab ? [] : freeLoopbackPorts(3 * n);
    const nodes: NodeHandle[] = [];
    for (let id = 1; id <= n; id++) {
      const dataDir = `${tempDir}/node-${id}`;
      await Deno.mkdir(dataDir);
      nodes.push(
        lab
          ? new NodeHandle(id, lab.address(id), [
            NETNS_PORTS.kafka,
            NETNS_PORTS.http,
            NETNS_PORTS.rpc,
          ], dataDir)
          : new NodeHandle(id, "127.0.0.1", ports.slice(3 * (id - 1), 3 * id), dataDir),
      );
    }
    cluster = new PyralogCluster(options, nodes, tempDir, lab);
    for (const node of nodes) await cluster.start(node.id);
    return cluster;
  } catch (err) {
    const cleanup = cluster ? cluster.close() : (async () => {
      await lab?.close();
      await Deno.remove(tempDir, { recursive: true });
    })();
    await cleanup.catch((closeErr) => {
      throw new AggregateError([err, closeErr], "Cannot start the cluster nor clean up after it");
    });
    throw err;
  }
}

/**
 * `count` distinct ports free on 127.0.0.1 now, taken from below the kernel's ephemeral range:
 * all are bound at once (so none repeats), then released for the nodes. Ports from the
 * ephemeral range (what port 0 gives) are handed out again as the source port of any outgoing
 * connection; while a node is stopped, a peer's or client's reconnect could take its port, and
 * its restart failed with "Address already in use" (seen once in CI). A port below the range
 * is only taken by an explicit bind. Another process could still bind one in between; the node
 * then fails to start and `start` reports it.
 */
function freeLoopbackPorts(count: number): number[] {
  const low = ephemeralLow();
  const floor = Math.max(10_000, low - 16_000);
  const listeners: Deno.Listener[] = [];
  try {
    for (let tries = 0; listeners.length < count && tries < 100 * count; tries++) {
      const port = floor + Math.floor(Math.random() * (low - floor));
      if (listeners.some((l) => (l.addr as Deno.NetAddr).port === port)) continue;
      try {
        listeners.push(Deno.listen({ hostname: "127.0.0.1", port }));
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse)) throw err;
      }
    }
    if (listeners.length < count) {
      throw new Error(`Cannot find ${count} free ports in [${floor}, ${low}) on 127.0.0.1`);
    }
    return listeners.map((l) => (l.addr as Deno.NetAddr).port);
  } finally {
    for (const l of listeners) l.close();
  }
}

/** The first port of the kernel's ephemeral range (Linux's default 32768 if it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(
      Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Sends `sig` to `pid`; a process that already exited is not an error. */
function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch (err) {
    // ESRCH: it exited between our check and the signal; nothing to stop.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Pumps a child's output into `ring` line by line and watches for the startup line. */
function watch(child: Deno.ChildProcess, ring: LineRing): Running {
  let resolveStarted: (m: RegExpExecArray | null) => void = () => {};
  const started = new Promise<RegExpExecArray | null>((r) => (resolveStarted = r));
  const readers: ReadableStreamDefaultReader<string>[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, mark: string) => {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    readers.push(reader);
    let partial = "";
    const line = (text: string) => {
      ring.push(mark + text);
      const m = /kafka \S+:\d+, http \S+:\d+/.exec(text);
      if (m) resolveStarted(m);
    };
    try {
      // Bounded by the stream's end (the process exiting) or by `cancel`.
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        partial += value;
        const parts = partial.split("\n");
        partial = parts.pop() ?? "";
        for (const p of parts) line(p);
        if (partial.length > LOG_LINE_CHARS_MAX) {
          line(partial);
          partial = "";
        }
      }
    } catch {
      // Cancelled by `#drain` after the process exited: the output is complete enough.
    }
    if (partial) line(partial);
  };
  const drained = Promise.all([pump(child.stderr, ""), pump(child.stdout, "[stdout] ")]).then(
    () => resolveStarted(null),
  );
  const run: Running = {
    child,
    status: child.status,
    exited: false,
    drained,
    cancel: () => {
      for (const r of readers) r.cancel().catch(() => {/* already closed */});
    },
    started,
  };
  child.status.then(() => {
    run.exited = true;
  });
  return run;
}
