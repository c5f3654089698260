/**
 * Runs the README's embedding example exactly as written, so the documentation cannot rot.
 */
import { ok, strictEqual } from "node:assert/strict";

Deno.test("README embedding example runs and prints the records it wrote", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const readme = await Deno.readTextFile(`${root}README.md`);
  const block = /## Embedding\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  ok(block, "README has a ts example under ## Embedding");
  const dir = await Deno.makeTempDir({ prefix: "pyralog-readme-" });
  try {
    const file = `${dir}/example.ts`;
    await Deno.writeTextFile(file, block.replace('"./mod.ts"', JSON.stringify(`${root}mod.ts`)));
    const out = await new Deno.Command(Deno.execPath(), {
      // Run as a user of this repository does: with its deno.json (import map, npm deps).
      args: ["run", "--allow-all", "--quiet", "--config", `${root}deno.json`, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
    ok(stdout.includes('0 {"item":"book","qty":1}'), stdout);
    ok(stdout.includes('1 {"item":"pen","qty":2}'), stdout);
    ok(stdout.includes("next offset 2"), stdout);
    ok(stdout.includes("first at or after t0: 0"), stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
