/**
 * Runs every `bench/*_bench.ts` (sorted by name) as its own `deno run --allow-all` process,
 * one after another so they do not disturb each other's timings, and passes their JSON
 * lines through on stdout (their diagnostics go to stderr). Each benchmark runs with its own
 * defaults: options differ between them, so none are forwarded. `--filter=TEXT` runs only the
 * files whose name contains TEXT. Exits non-zero when any benchmark fails, after running the
 * rest.
 *
 * Run: deno task bench [--filter=storage]
 */
const benchDir = new URL(".", import.meta.url).pathname;
const filterArg = Deno.args.find((a) => a.startsWith("--filter="));
const filter = filterArg === undefined ? "" : filterArg.slice("--filter=".length);
const files = [...Deno.readDirSync(benchDir)]
  .filter((e) => e.isFile && e.name.endsWith("_bench.ts") && e.name.includes(filter))
  .map((e) => e.name)
  .sort();

const failed: string[] = [];
for (const name of files) {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${benchDir}${name}`],
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
