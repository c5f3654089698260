/**
 * Runs `main.ts` client commands as a user does (`deno run -A main.ts <command> ...`) for
 * the CLI tests: one-shot runs with stdin text and a bounded run time, and long-running
 * processes (a consumer without --count, a kcat group member) that the test stops by PID. Every process is
 * killed when its bound passes; none outlives its test.
 */

const ROOT = new URL("../..", import.meta.url).pathname;
/** Longest one command may run before it is killed. */
const RUN_LIMIT_MS = 30_000;

/** What a finished command left behind. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `runCli`. */
export interface RunOptions {
  readonly stdin?: string | Uint8Array;
  readonly timeoutMs?: number;
}

function command(args: string[], stdin: "piped" | "null"): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, ...args],
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

/** Runs `pyralog <args>` to completion (killed after the bound) and collects its output. */
export async function runCli(args: string[], o: RunOptions = {}): Promise<CliResult> {
  const child = command(args, o.stdin === undefined ? "null" : "piped").spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, o.timeoutMs ?? RUN_LIMIT_MS);
  try {
    if (o.stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(typeof o.stdin === "string" ? new TextEncoder().encode(o.stdin) : o.stdin);
      await w.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A command left running. */
export interface RunningCli {
  readonly pid: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Waits (bounded) until stdout satisfies `test`; false when the bound passed. */
  waitFor(test: (stdout: string) => boolean, limitMs?: number): Promise<boolean>;
  /** Sends `signal` to the PID and waits for the exit (SIGKILL after the bound). */
  stop(signal?: Deno.Signal): Promise<CliResult>;
}

/** Starts `pyralog <args>` and returns at once. */
export function spawnCli(args: string[]): RunningCli {
  return spawnProcess(command(args, "null"));
}

/** Starts another program (kcat) the same way, stdin closed. */
export function spawnProgram(program: string, args: string[]): RunningCli {
  return spawnProcess(
    new Deno.Command(program, { args, stdin: "null", stdout: "piped", stderr: "piped" }),
  );
}

function spawnProcess(cmd: Deno.Command): RunningCli {
  const child = cmd.spawn();
  let out = "";
  let err = "";
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    for await (const t of s.pipeThrough(new TextDecoderStream())) add(t);
  };
  const pumping = Promise.all([
    pump(child.stdout, (t) => (out += t)),
    pump(child.stderr, (t) => (err += t)),
  ]);
  return {
    pid: child.pid,
    stdout: () => out,
    async waitFor(test, limitMs = RUN_LIMIT_MS) {
      const deadline = Date.now() + limitMs;
      // Bounded by the deadline.
      while (Date.now() < deadline) {
        if (test(out)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return test(out);
    },
    async stop(signal = "SIGTERM") {
      try {
        Deno.kill(child.pid, signal);
      } catch {
        // Already exited.
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already exited.
        }
      }, RUN_LIMIT_MS);
      const status = await child.status;
      clearTimeout(timer);
      await pumping;
      return { code: status.code, stdout: out, stderr: err };
    },
  };
}
