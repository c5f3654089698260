/**
 * Starts a real `main.ts serve` process for integration tests: its own temporary data
 * directory (unless one is given), port 0 for every listener, the real ports read from its
 * startup line. Every process is stopped by its PID (`stop`), and `using`/`finally` callers
 * must always call it. Startup is bounded in time.
 */

const ROOT = new URL("../..", import.meta.url).pathname;
const STARTUP_LIMIT_MS = 30_000;
const STOP_LIMIT_MS = 10_000;

/** A running node. */
export interface PyralogProcess {
  readonly pid: number;
  readonly dataDir: string;
  readonly kafkaPort: number;
  readonly httpPort: number;
  /** "127.0.0.1:PORT" of the Kafka listener. */
  readonly bootstrap: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and waits for exit (SIGKILL after a bound); returns the code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** Options of `startPyralog`. */
export interface StartOptions {
  /** Reuse a data directory (for restart tests); otherwise a fresh one is made and removed. */
  dataDir?: string;
  /** Extra `serve` flags, e.g. ["--fsync", "never"]. */
  args?: string[];
  env?: Record<string, string>;
}

/**
 * Starts a node and waits until it listens.
 * @throws when it does not start within the bound (the process is killed first).
 */
export async function startPyralog(options: StartOptions = {}): Promise<PyralogProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "pyralog-node-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${ROOT}main.ts`,
      "serve",
      "--data-dir",
      dataDir,
      "--kafka-listen",
      "127.0.0.1:0",
      "--http-listen",
      "127.0.0.1:0",
      ...(options.args ?? []),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: options.env ?? {},
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const drain = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += value;
    }
  };
  let drained: Promise<void> | null = null;
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  let exited = false;
  child.status.then(() => (exited = true));
  const stop = async (signal: Deno.Signal = "SIGTERM"): Promise<number> => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch {
        // Exited between the check and the kill: nothing to stop.
      }
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, STOP_LIMIT_MS);
    const status = await child.status;
    clearTimeout(timer);
    await drained;
    if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {/* already gone */});
    return status.code;
  };
  try {
    // Bounded by the deadline and by the stream ending.
    while (Date.now() < deadline && !exited) {
      const m = /kafka 127\.0\.0\.1:(\d+), http 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        drained = drain().catch(() => {/* the pipe closes when the child exits */});
        const kafkaPort = Number(m[1]);
        return {
          pid: child.pid,
          dataDir,
          kafkaPort,
          httpPort: Number(m[2]),
          bootstrap: `127.0.0.1:${kafkaPort}`,
          stderr: () => text,
          stop,
        };
      }
      // Never block past the deadline (a node started with --log-level warn prints no
      // startup line): race the read against the time left.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<null>((
        r,
      ) => (timer = setTimeout(() => r(null), Math.max(1, deadline - Date.now()))));
      const got = await Promise.race([reader.read(), tick]);
      clearTimeout(timer);
      if (got === null) continue;
      if (got.done) break;
      text += got.value;
    }
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  await stop("SIGKILL");
  throw new Error(`pyralog did not start within ${STARTUP_LIMIT_MS} ms: ${text}`);
}
