/**
 * Builds the single `pyralog` executable into `dist/` with `deno compile`.
 *
 * `deno compile` needs Deno's runtime binary (denort) for the target. Deno downloads it from
 * its release host unless `DENORT_BIN` points at a local copy. Our build machines cannot
 * reach that host, so there set `DENORT_BIN=/path/to/denort`; elsewhere it just works.
 */
const out = "dist/pyralog";
const env = Deno.env.get("DENORT_BIN");
console.error(
  env
    ? `Using the runtime binary at DENORT_BIN="${env}"`
    : "DENORT_BIN not set: deno compile will download the runtime binary",
);
const cmd = new Deno.Command(Deno.execPath(), {
  args: ["compile", "--allow-all", "--output", out, "main.ts"],
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await cmd.output();
if (code !== 0) {
  console.error(
    `deno compile failed (exit ${code}). Without network access to Deno's release host, set DENORT_BIN to a local denort binary.`,
  );
  Deno.exit(code);
}
console.error(`Built ${out}`);
