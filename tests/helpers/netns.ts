/**
 * Linux network namespaces for multi-node tests: one bridge in the root namespace
 * (`pyb<id>`, address 10.A.B.1/24 on a /24 no existing route overlaps) and one namespace per
 * node (`pyns<id>-<k>`, k = 1..N) joined to it by a veth pair, with address 10.A.B.(k+1)/24
 * and `lo` up. The root namespace reaches every node address, so clients (kcat, fetch) run
 * in the test process as usual.
 *
 * Faults are packet drops (DROP, never REJECT: a cut link is silent, as a pulled cable is),
 * written by iptables (or nft when iptables is absent) into the node namespaces only, in
 * chains of our own that `heal` flushes. Loopback inside a namespace is never cut, so a node
 * can still reach its own addresses.
 *
 * Invariants: every resource made is recorded before the next is made, and `close` removes
 * all of them in reverse order (processes first, by PID), also after a failed `create`.
 * It must not touch anything it did not create; the one rule it may add in the root
 * namespace (see `#allowBridgedForwarding`) names its own bridge and is removed by `close`.
 *
 * Needs root, iproute2 (`ip`) and iptables or nftables; without them `create` throws a
 * message saying what to install, so a test fails instead of silently skipping.
 */

/** Most nodes one lab holds (addresses .2 to .17 of its /24). */
export const NETNS_NODES_MAX = 16;
/** How long one `ip`/`iptables` invocation may take. */
const TOOL_TIMEOUT_MS = 10_000;
/** Attempts at picking a free name and subnet (another test may race for the same one). */
const CREATE_ATTEMPTS = 5;
/** Attempts at drawing a /24 that no route overlaps. */
const SUBNET_DRAWS = 50;
/** The Debian packages the helper needs. */
export const NETNS_PACKAGES = "iproute2 iptables";
/** Extra time for a probe process inside a namespace to start (Deno startup on 2 cores). */
const PROBE_STARTUP_MS = 20_000;

/** A node (1..N) or the root namespace where the test process runs. */
export type Endpoint = number | "host";

/** The outcome of one HTTP probe. */
export type ProbeResult =
  | { type: "status"; status: number }
  | { type: "timeout" }
  | { type: "error"; message: string };

/** What a finished command printed. */
export interface ToolOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of `NetnsLab.create`. */
export interface NetnsOptions {
  /** Node namespaces to make, 1..NETNS_NODES_MAX. */
  nodes: number;
  /** Firewall front end; by default iptables when installed, else nft. */
  firewall?: "iptables" | "nft";
}

/**
 * Runs a command to completion within a bound.
 * @throws when it cannot start (missing binary) or, with `check`, when it exits non-zero.
 */
export async function runTool(
  cmd: string,
  args: string[],
  options: { check?: boolean; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<ToolOutput> {
  const timeoutMs = options.timeoutMs ?? TOOL_TIMEOUT_MS;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }).output();
  } catch (err) {
    const hint = err instanceof Deno.errors.NotFound
      ? ` (not installed? needs: apt-get install -y ${NETNS_PACKAGES})`
      : "";
    throw new Error(`Cannot run "${cmd}": ${(err as Error).message}${hint}`, { cause: err });
  }
  const result = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if ((options.check ?? true) && !out.success) {
    const why = out.signal
      ? `was killed by ${out.signal} after ${timeoutMs} ms`
      : `exited ${out.code}`;
    throw new Error(`Command "${cmd} ${args.join(" ")}" ${why}: ${result.stderr.trim()}`);
  }
  return result;
}

/**
 * Sends `GET path` over a fresh TCP connection (no pooling, no proxy) and reads the status
 * line, giving up after `timeoutMs`. Self-contained on purpose: `NetnsLab.probeFrom` runs
 * its source text inside a namespace.
 */
export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const target = new URL(url);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let conn: Deno.TcpConn | null = null;
  try {
    conn = await Deno.connect({
      hostname: target.hostname,
      port: Number(target.port),
      signal: abort.signal,
    });
    const open = conn;
    // A connected socket that never answers is closed by the timer; the read then fails.
    abort.signal.addEventListener("abort", () => {
      try {
        open.close();
      } catch {
        // Already closed by the finally below: nothing left to interrupt.
      }
    });
    const request = `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      `Connection: close\r\n\r\n`;
    await open.write(new TextEncoder().encode(request));
    const buf = new Uint8Array(1024);
    let head = "";
    // Bounded: at most 4 KiB of response head is read.
    while (!head.includes("\r\n") && head.length < 4096) {
      const n = await open.read(buf);
      if (n === null) break;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) return { type: "error", message: `no HTTP status line in ${JSON.stringify(head)}` };
    return { type: "status", status: Number(m[1]) };
  } catch (err) {
    if (abort.signal.aborted) return { type: "timeout" };
    return { type: "error", message: String(err) };
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Closed by the timeout handler already.
    }
  }
}

/** Commands of one firewall front end; each entry is one argv after the binary name. */
interface Firewall {
  bin: string;
  setup: string[][];
  dropIn(cidr: string): string[];
  dropOut(cidr: string): string[];
  flush: string[][];
}

const IPTABLES: Firewall = {
  bin: "iptables",
  setup: [
    ["-w", "5", "-N", "PYRALOG_IN"],
    ["-w", "5", "-N", "PYRALOG_OUT"],
    ["-w", "5", "-A", "INPUT", "!", "-i", "lo", "-j", "PYRALOG_IN"],
    ["-w", "5", "-A", "OUTPUT", "!", "-o", "lo", "-j", "PYRALOG_OUT"],
  ],
  dropIn: (cidr) => ["-w", "5", "-A", "PYRALOG_IN", "-s", cidr, "-j", "DROP"],
  dropOut: (cidr) => ["-w", "5", "-A", "PYRALOG_OUT", "-d", cidr, "-j", "DROP"],
  flush: [["-w", "5", "-F", "PYRALOG_IN"], ["-w", "5", "-F", "PYRALOG_OUT"]],
};

const NFT: Firewall = {
  bin: "nft",
  setup: [
    ["add", "table", "inet", "pyralog"],
    ["add", "chain", "inet", "pyralog", "cut_in"],
    ["add", "chain", "inet", "pyralog", "cut_out"],
    ["add", "chain", "inet", "pyralog", "input", "{ type filter hook input priority 0 ; }"],
    ["add", "chain", "inet", "pyralog", "output", "{ type filter hook output priority 0 ; }"],
    ["add", "rule", "inet", "pyralog", "input", "iifname", "!=", "lo", "jump", "cut_in"],
    ["add", "rule", "inet", "pyralog", "output", "oifname", "!=", "lo", "jump", "cut_out"],
  ],
  dropIn: (cidr) => ["add", "rule", "inet", "pyralog", "cut_in", "ip", "saddr", cidr, "drop"],
  dropOut: (cidr) => ["add", "rule", "inet", "pyralog", "cut_out", "ip", "daddr", cidr, "drop"],
  flush: [
    ["flush", "chain", "inet", "pyralog", "cut_in"],
    ["flush", "chain", "inet", "pyralog", "cut_out"],
  ],
};

/** True when the failed removal says the thing is already gone. */
function isGone(out: ToolOutput): boolean {
  return out.code === 0 ||
    /Cannot find device|does not exist|No such file|Bad rule|not found/i.test(out.stderr);
}

/** A bridge, its node namespaces and their cuts; see the file comment. */
export class NetnsLab implements AsyncDisposable {
  /** Random per lab; part of every name it makes. */
  readonly id: string;
  readonly nodes: number;
  readonly bridge: string;
  /** "10.A.B.0/24". */
  readonly subnet: string;
  /** The bridge's address in the root namespace. */
  readonly hostAddress: string;
  readonly #prefix: string;
  readonly #firewall: Firewall;
  /** Removals of what was made, run in reverse by `close`. */
  readonly #undo: Array<{ what: string; run: () => Promise<void> }> = [];
  readonly #children = new Set<Deno.ChildProcess>();
  #closing: Promise<void> | null = null;

  private constructor(id: string, nodes: number, prefix: string, firewall: Firewall) {
    this.id = id;
    this.nodes = nodes;
    this.bridge = `pyb${id}`;
    this.#prefix = prefix;
    this.subnet = `${prefix}.0/24`;
    this.hostAddress = `${prefix}.1`;
    this.#firewall = firewall;
  }

  /**
   * Makes the bridge and the namespaces.
   * @throws when not root, when `ip` or the firewall tool is missing, or when a step fails
   * (everything made so far is removed first).
   */
  static async create(options: NetnsOptions): Promise<NetnsLab> {
    const { nodes } = options;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > NETNS_NODES_MAX) {
      throw new Error(`Cannot create network namespaces: nodes must be 1..${NETNS_NODES_MAX}`);
    }
    if (Deno.uid() !== 0) {
      throw new Error(
        `Cannot create network namespaces: needs root (uid 0), running as uid ${Deno.uid()}`,
      );
    }
    await runTool("ip", ["-V"]);
    const firewall = await pickFirewall(options.firewall);
    let lastErr: unknown = null;
    for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      const id = randomHex4();
      const lab = new NetnsLab(id, nodes, await freePrefix(), firewall);
      try {
        await lab.#build();
        return lab;
      } catch (err) {
        await lab.close().catch((closeErr) => {
          throw new AggregateError([err, closeErr], `Cannot clean up failed lab "${id}"`);
        });
        lastErr = err;
        // Only a name or address taken by a concurrent lab is worth another draw.
        if (!/File exists|Address already assigned/i.test(String(err))) throw err;
      }
    }
    throw new Error(`Cannot create network namespaces after ${CREATE_ATTEMPTS} attempts`, {
      cause: lastErr,
    });
  }

  /** The namespace name of node `k` (1..N). */
  namespace(k: number): string {
    this.#checkNode(k);
    return `pyns${this.id}-${k}`;
  }

  /** The address of node `k` (1..N), or of the root namespace's bridge for "host". */
  address(k: Endpoint): string {
    if (k === "host") return this.hostAddress;
    this.#checkNode(k);
    return `${this.#prefix}.${k + 1}`;
  }

  /** Every namespace name, for assertions against `ip netns list`. */
  namespaces(): string[] {
    return Array.from({ length: this.nodes }, (_, i) => this.namespace(i + 1));
  }

  /**
   * Spawns `cmd` inside node `k`'s namespace through `ip netns exec`, which enters the
   * namespace and then execs `cmd`: the returned child's PID is `cmd`'s own, so signals
   * sent to it reach `cmd`. `close` kills every child still running.
   */
  spawn(
    k: number,
    cmd: string,
    args: string[],
    options: Deno.CommandOptions = {},
  ): Deno.ChildProcess {
    this.#checkOpen();
    const child = new Deno.Command("ip", {
      ...options,
      args: ["netns", "exec", this.namespace(k), cmd, ...args],
    }).spawn();
    this.#children.add(child);
    child.status.then(() => this.#children.delete(child));
    return child;
  }

  /** Runs `cmd` to completion inside node `k`'s namespace, bounded by `timeoutMs`. */
  exec(k: number, cmd: string, args: string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<ToolOutput> {
    this.#checkOpen();
    return runTool("ip", ["netns", "exec", this.namespace(k), cmd, ...args], {
      check: false,
      timeoutMs,
    });
  }

  /**
   * Probes `url` with `probeHttp` from inside node `k`'s namespace (a `deno eval` child).
   * @throws when the probe process itself fails.
   */
  async probeFrom(k: number, url: string, timeoutMs: number): Promise<ProbeResult> {
    this.#checkOpen();
    const code = `${probeHttp.toString()}\n` +
      `console.log(JSON.stringify(await probeHttp(${JSON.stringify(url)}, ${timeoutMs})));`;
    // cwd "/" so the probe does not pick up the repository's deno.json and its npm imports.
    const out = await runTool(
      "ip",
      ["netns", "exec", this.namespace(k), Deno.execPath(), "eval", code],
      { check: true, timeoutMs: timeoutMs + PROBE_STARTUP_MS, cwd: "/", env: NO_UPDATE_ENV },
    );
    return JSON.parse(out.stdout.trim()) as ProbeResult;
  }

  /** Silently drops every packet between node `k` and all other addresses of the lab. */
  async isolate(k: number): Promise<void> {
    await this.#fw(k, this.#firewall.dropIn(this.subnet));
    await this.#fw(k, this.#firewall.dropOut(this.subnet));
  }

  /**
   * Silently drops the packets `from` sends to `to` (one of them a node); the reverse
   * direction still flows, so TCP between them stalls both ways (handshakes and ACKs are
   * lost), while UDP-like traffic from `to` still arrives.
   */
  async cutOneWay(from: Endpoint, to: Endpoint): Promise<void> {
    if (from === to) throw new Error(`Cannot cut "${from}" from itself`);
    if (to !== "host") await this.#fw(to, this.#firewall.dropIn(`${this.address(from)}/32`));
    else if (from !== "host") {
      await this.#fw(from, this.#firewall.dropOut(`${this.hostAddress}/32`));
    } else throw new Error(`Cannot cut "host" from "host"`);
  }

  /** Removes every cut. */
  async heal(): Promise<void> {
    for (let k = 1; k <= this.nodes; k++) {
      for (const args of this.#firewall.flush) await this.#fw(k, args);
    }
  }

  /** The rules of node `k`'s namespace as the firewall lists them (for failure messages). */
  async rules(k: number): Promise<string> {
    const args = this.#firewall.bin === "iptables" ? ["-w", "5", "-S"] : ["list", "ruleset"];
    return (await this.exec(k, this.#firewall.bin, args)).stdout;
  }

  /**
   * Kills every child still running (SIGKILL by PID) and every process left in the lab's
   * namespaces, then removes namespaces, veths, the root rule and the bridge. Idempotent.
   * @throws {AggregateError} listing what could not be removed (after trying everything).
   */
  close(): Promise<void> {
    this.#closing ??= this.#teardown();
    return this.#closing;
  }

  /** `await using lab = await NetnsLab.create(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #teardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const child of [...this.#children]) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited between the listing and the kill.
      }
      await child.status;
    }
    for (let k = 1; k <= this.nodes; k++) {
      await this.#killStragglers(this.namespace(k)).catch((err) => errors.push(err));
    }
    for (const step of this.#undo.reverse()) {
      try {
        await step.run();
      } catch (err) {
        errors.push(new Error(`Cannot remove ${step.what}`, { cause: err }));
      }
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `Cannot clean up network lab "${this.id}"`);
    }
  }

  /** Processes in a namespace that were not spawned here (a node's own children, say). */
  async #killStragglers(ns: string): Promise<void> {
    const out = await runTool("ip", ["netns", "pids", ns], { check: false });
    if (out.code !== 0) return; // Namespace never made or already gone.
    for (const pid of out.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s))) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }
  }

  async #build(): Promise<void> {
    const ip = (args: string[]) => runTool("ip", args);
    const removal = (what: string, args: string[]) => {
      this.#undo.push({
        what,
        run: async () => {
          const out = await runTool("ip", args, { check: false });
          if (!isGone(out)) throw new Error(`"ip ${args.join(" ")}": ${out.stderr.trim()}`);
        },
      });
    };
    await ip(["link", "add", this.bridge, "type", "bridge"]);
    removal(`bridge "${this.bridge}"`, ["link", "del", this.bridge]);
    await ip(["addr", "add", `${this.hostAddress}/24`, "dev", this.bridge]);
    await ip(["link", "set", this.bridge, "up"]);
    await this.#allowBridgedForwarding();
    for (let k = 1; k <= this.nodes; k++) {
      const ns = this.namespace(k);
      const hostEnd = `pyv${this.id}h${k}`, nodeEnd = `pyv${this.id}n${k}`;
      await ip(["netns", "add", ns]);
      removal(`namespace "${ns}"`, ["netns", "del", ns]);
      await ip(["link", "add", hostEnd, "type", "veth", "peer", "name", nodeEnd, "netns", ns]);
      removal(`veth "${hostEnd}"`, ["link", "del", hostEnd]);
      await ip(["link", "set", hostEnd, "master", this.bridge]);
      await ip(["link", "set", hostEnd, "up"]);
      await ip(["-n", ns, "addr", "add", `${this.address(k)}/24`, "dev", nodeEnd]);
      await ip(["-n", ns, "link", "set", nodeEnd, "up"]);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
      // The namespace's own chains vanish with it; no removal needed.
      for (const args of this.#firewall.setup) await this.#fw(k, args);
    }
  }

  /**
   * With br_netfilter loaded and `bridge-nf-call-iptables` on, frames crossing the bridge
   * between two node namespaces pass the root namespace's FORWARD chain, whose policy may be
   * DROP (Docker sets it). One ACCEPT for this bridge only keeps node-to-node traffic flowing
   * whatever that policy is; `close` deletes it.
   */
  async #allowBridgedForwarding(): Promise<void> {
    let flag = "0";
    try {
      flag = (await Deno.readTextFile("/proc/sys/net/bridge/bridge-nf-call-iptables")).trim();
    } catch {
      // No br_netfilter: bridged frames never reach iptables, nothing to allow.
    }
    if (flag !== "1" || this.#firewall.bin !== "iptables") return;
    const rule = ["FORWARD", "-i", this.bridge, "-o", this.bridge, "-j", "ACCEPT"];
    await runTool("iptables", ["-w", "5", "-I", ...rule]);
    this.#undo.push({
      what: `root FORWARD rule of "${this.bridge}"`,
      run: async () => {
        const out = await runTool("iptables", ["-w", "5", "-D", ...rule], { check: false });
        if (!isGone(out)) throw new Error(`"iptables -D ${rule.join(" ")}": ${out.stderr.trim()}`);
      },
    });
  }

  async #fw(k: number, args: string[]): Promise<void> {
    this.#checkOpen();
    await runTool("ip", ["netns", "exec", this.namespace(k), this.#firewall.bin, ...args]);
  }

  #checkNode(k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > this.nodes) {
      throw new Error(`Unknown node ${k}: this lab has nodes 1..${this.nodes}`);
    }
  }

  #checkOpen(): void {
    if (this.#closing) throw new Error(`Network lab "${this.id}" is closed`);
  }
}

const NO_UPDATE_ENV = { DENO_NO_UPDATE_CHECK: "1" };

/** iptables when installed (and asked for), else nft; throws naming the packages. */
async function pickFirewall(wanted: "iptables" | "nft" | undefined): Promise<Firewall> {
  const candidates = wanted === "nft"
    ? [NFT]
    : wanted === "iptables"
    ? [IPTABLES]
    : [IPTABLES, NFT];
  for (const fw of candidates) {
    try {
      await runTool(fw.bin, fw.bin === "nft" ? ["--version"] : ["-V"]);
      return fw;
    } catch {
      // Not installed; try the next front end, and report both below.
    }
  }
  throw new Error(
    `Cannot create network namespaces: neither iptables nor nft is installed ` +
      `(apt-get install -y ${NETNS_PACKAGES})`,
  );
}

/** Four random hex digits. */
function randomHex4(): string {
  const b = crypto.getRandomValues(new Uint8Array(2));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** "10.A.B" whose /24 overlaps no route (default routes aside) and no address. */
async function freePrefix(): Promise<string> {
  const routes = (await runTool("ip", ["-4", "-o", "route", "show", "table", "all"])).stdout;
  const addrs = (await runTool("ip", ["-4", "-o", "addr", "show"])).stdout;
  const taken: Array<[number, number]> = [];
  for (const m of `${routes}\n${addrs}`.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/gm)) {
    const bits = m[2] === undefined ? 32 : Number(m[2]);
    if (bits === 0) continue;
    taken.push([ipv4ToInt(m[1] as string), bits]);
  }
  const rand = crypto.getRandomValues(new Uint8Array(2 * SUBNET_DRAWS));
  for (let i = 0; i < SUBNET_DRAWS; i++) {
    // 10.64.0.0 to 10.254.255.0: away from the low 10.x ranges VPNs and clouds favour.
    const a = 64 + ((rand[2 * i] as number) % 191), b = rand[2 * i + 1] as number;
    const net = ipv4ToInt(`10.${a}.${b}.0`);
    const overlaps = taken.some(([addr, bits]) => {
      const shared = Math.min(bits, 24);
      const mask = shared === 0 ? 0 : (~0 << (32 - shared)) >>> 0;
      return ((addr & mask) >>> 0) === ((net & mask) >>> 0);
    });
    if (!overlaps) return `10.${a}.${b}`;
  }
  throw new Error(`Cannot find a free 10.x.y.0/24 after ${SUBNET_DRAWS} draws`);
}

function ipv4ToInt(text: string): number {
  return text.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
