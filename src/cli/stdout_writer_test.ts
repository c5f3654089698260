/** Tests of the buffered writer: batching, partial writes, and a reader that went away. */
import { strictEqual } from "node:assert/strict";
import { type ByteSink, StdoutWriter } from "./stdout_writer.ts";

/** A sink that accepts at most `step` bytes a write, then fails with `failAfter` writes. */
function sink(
  step: number,
  failAfter = Infinity,
): ByteSink & { text: () => string; writes: number } {
  const chunks: Uint8Array[] = [];
  const s = {
    writes: 0,
    write(p: Uint8Array): Promise<number> {
      if (s.writes >= failAfter) return Promise.reject(new Deno.errors.BrokenPipe("gone"));
      s.writes++;
      const n = Math.min(step, p.length);
      chunks.push(p.slice(0, n));
      return Promise.resolve(n);
    },
    text: () => chunks.map((c) => new TextDecoder().decode(c)).join(""),
  };
  return s;
}

Deno.test("StdoutWriter buffers small writes and completes partial writes on flush", async () => {
  const s = sink(3);
  const w = new StdoutWriter(s);
  await w.write("hello ");
  await w.write("world\n");
  strictEqual(s.writes, 0);
  await w.flush();
  strictEqual(s.text(), "hello world\n");
  strictEqual(s.writes, 4);
});

Deno.test("StdoutWriter turns a broken pipe into isClosed and drops later output", async () => {
  const s = sink(1024, 0);
  const w = new StdoutWriter(s);
  await w.write("x");
  await w.flush();
  strictEqual(w.isClosed, true);
  await w.write("y");
  await w.flush();
  strictEqual(s.writes, 0);
});
