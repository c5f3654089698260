/**
 * `main.ts serve` as a real process: it starts on a free port, answers health, readiness and
 * metrics, keeps data across a restart, and exits 0 on SIGTERM. Bad flags exit 2 with one line.
 */
import { ok, strictEqual } from "node:assert/strict";
import { withTempDir } from "../src/testing/temp_dir.ts";

const root = new URL("..", import.meta.url).pathname;
const STARTUP_LIMIT_MS = 20_000;

interface Node {
  child: Deno.ChildProcess;
  httpPort: number;
  stderr: () => string;
}

async function startNode(dataDir: string): Promise<Node> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}main.ts`,
      "serve",
      "--data-dir",
      dataDir,
      "--http-listen",
      "127.0.0.1:0",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + STARTUP_LIMIT_MS;
  try {
    while (Date.now() < deadline) {
      const m = /http 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        // Keep draining stderr in the background so the child never blocks on a full pipe.
        (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            text += value;
          }
        })().catch(() => {/* the pipe closes when the child exits */});
        return { child, httpPort: Number(m[1]), stderr: () => text };
      }
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  child.kill("SIGKILL");
  await child.status;
  throw new Error(`node did not start: ${text}`);
}

Deno.test("serve answers /healthz, /readyz and /metrics and stops on SIGTERM with exit 0", async () => {
  await withTempDir(async (dir) => {
    const node = await startNode(`${dir}/data`);
    try {
      const base = `http://127.0.0.1:${node.httpPort}`;
      const health = await fetch(`${base}/healthz`);
      strictEqual(health.status, 200);
      await health.body?.cancel();
      const ready = await fetch(`${base}/readyz`);
      strictEqual(ready.status, 200);
      await ready.body?.cancel();
      const metrics = await (await fetch(`${base}/metrics`)).text();
      ok(/^pyralog_up 1$/m.test(metrics), metrics);
      const missing = await fetch(`${base}/nope`);
      strictEqual(missing.status, 404);
      ok(typeof (await missing.json()).message === "string");
      node.child.kill("SIGTERM");
      const status = await node.child.status;
      strictEqual(status.code, 0, node.stderr());
      ok(node.stderr().includes("Stopped"));
    } finally {
      try {
        node.child.kill("SIGKILL");
      } catch {
        // Already exited: nothing to stop.
      }
    }
  });
});

Deno.test("serve with a bad flag exits 2 with one clear line", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${root}main.ts`, "serve", "--fsync", "sometimes"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  strictEqual(out.code, 2);
  const err = new TextDecoder().decode(out.stderr).trim();
  strictEqual(err, 'pyralog serve: Invalid --fsync "sometimes": must be always, interval or never');
});
