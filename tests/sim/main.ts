/**
 * The simulator's command line (`deno task sim`).
 *
 *   deno task sim --seeds N [--start-seed S]   run N seeds from S (default: random S)
 *   deno task sim --seed S [--trace-lines K]   replay one seed and print its trace
 *   --safety-ms MS                              length of the faulty phase (default 3000)
 *   --bug countRefusals|ackUnsynced             inject a bug (shows the checker failing)
 *
 * Prints one summary line per batch of seeds; on the first violation prints the seed, the
 * violation and the tail of a readable trace (replayed with tracing on, identical to the
 * failing run) and exits 1.
 */
import { parseArgs } from "node:util";
import { runSeed, type SimOptions, type SimResult } from "./simulator.ts";

const BATCH_SEEDS = 1000;

function printFailure(result: SimResult, traceLines: number, extra: Partial<SimOptions>): void {
  const replay = runSeed({ ...extra, seed: result.seed, trace: true });
  const lines = traceLines > 0 ? replay.trace.slice(-traceLines) : replay.trace;
  console.log(`FAIL seed=${result.seed} ${result.summary}`);
  console.log(`violation: ${result.violation}`);
  console.log(`trace (last ${lines.length} of ${replay.trace.length} lines):`);
  for (const line of lines) console.log(line);
  const safety = extra.safetyMs === undefined ? "" : ` --safety-ms ${extra.safetyMs}`;
  const bug = extra.bug === undefined ? "" : ` --bug ${extra.bug}`;
  console.log(`replay: deno task sim --seed ${result.seed}${safety}${bug}`);
}

function main(): number {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seeds: { type: "string" },
      "start-seed": { type: "string" },
      seed: { type: "string" },
      "trace-lines": { type: "string", default: "300" },
      "safety-ms": { type: "string" },
      bug: { type: "string" },
    },
  });
  const traceLines = Number(values["trace-lines"]);
  const bug = values.bug;
  if (bug !== undefined && bug !== "countRefusals" && bug !== "ackUnsynced") {
    console.error(`Cannot run simulation: unknown --bug "${bug}"`);
    return 2;
  }
  const extra: Partial<SimOptions> = {
    ...(values["safety-ms"] === undefined ? {} : { safetyMs: Number(values["safety-ms"]) }),
    ...(bug === undefined ? {} : { bug }),
  };
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    const result = runSeed({ ...extra, seed, trace: true });
    const lines = traceLines > 0 ? result.trace.slice(-traceLines) : result.trace;
    for (const line of lines) console.log(line);
    console.log(
      `seed=${seed} ${result.violation === undefined ? "ok" : "FAIL"} ${result.summary} ${
        JSON.stringify(result.stats)
      }`,
    );
    if (result.violation !== undefined) console.log(`violation: ${result.violation}`);
    return result.violation === undefined ? 0 : 1;
  }
  const count = Number(values.seeds ?? "100");
  // The only ambient randomness: choosing where a random batch starts; it is printed.
  const start = values["start-seed"] !== undefined
    ? Number(values["start-seed"])
    : Math.floor(Math.random() * 0x7fff_ffff);
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(start)) {
    console.error(`Cannot run simulation: invalid --seeds "${values.seeds}" or --start-seed`);
    return 2;
  }
  console.log(`seeds ${start}..${start + count - 1}`);
  let batchStart = performance.now();
  let elections = 0;
  let commits = 0;
  for (let i = 0; i < count; i++) {
    const seed = start + i;
    const result = runSeed({ ...extra, seed });
    if (result.violation !== undefined) {
      printFailure(result, traceLines, extra);
      return 1;
    }
    elections += result.stats.elections;
    commits += result.stats.committedOffsets;
    const done = i + 1;
    if (done % BATCH_SEEDS === 0 || done === count) {
      const ms = performance.now() - batchStart;
      console.log(
        `ok ${done}/${count} seeds (through ${seed}) elections=${elections} committedOffsets=${commits} batchMs=${
          Math.round(ms)
        }`,
      );
      batchStart = performance.now();
      elections = 0;
      commits = 0;
    }
  }
  return 0;
}

Deno.exit(main());
