/**
 * Runs every `bench/*_bench.ts` (sorted by name) as its own `deno run --allow-all` process,
 * one after another so they do not disturb each other's timings, and passes their JSON
 * lines through on stdout. Arguments are handed to every benchmark (e.g. `--duration-ms=N`).
 * Exits non-zero when any benchmark fails, after running the rest.
 *
 * Run: deno task bench [--duration-ms=N]
 */
const benchDir = new URL(".", import.meta.url).pathname;
const files = [...Deno.readDirSync(benchDir)]
  .filter((e) => e.isFile && e.name.endsWith("_bench.ts"))
  .map((e) => e.name)
  .sort();

const failed: string[] = [];
for (const name of files) {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${benchDir}${name}`, ...Deno.args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) failed.push(`${name} (exit ${status.code})`);
}
if (failed.length > 0) {
  console.error(`Benchmarks failed: ${failed.join(", ")}`);
  Deno.exit(1);
}
