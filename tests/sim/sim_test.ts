/**
 * Runs the simulator as part of the test suite: the fixed seed list, a small random batch
 * (its start seed is printed so a failure can be replayed), a byte-for-byte replay check,
 * and proof that the checker fails when a bug is injected.
 */
import assert from "node:assert/strict";
import { fixedSeeds } from "./fixed_seeds.ts";
import { runSeed, runSeeds, type SimResult } from "./simulator.ts";

const RANDOM_BATCH = 300;

function explain(failure: SimResult | undefined): string {
  if (failure === undefined) return "";
  const replay = runSeed({ seed: failure.seed, trace: true });
  return [
    `seed ${failure.seed} (${failure.summary}): ${failure.violation}`,
    ...replay.trace.slice(-80),
    `replay: deno task sim --seed ${failure.seed}`,
  ].join("\n");
}

Deno.test("sim: the fixed seed list runs without a violation", () => {
  const seeds = fixedSeeds();
  const { ran, failure } = runSeeds(seeds);
  assert.equal(failure, undefined, explain(failure));
  assert.equal(ran, seeds.length);
});

Deno.test("sim: a random batch of seeds runs without a violation", () => {
  // Ambient randomness only picks the batch; the start seed is printed for replay.
  const start = Math.floor(Math.random() * 0x7fff_0000);
  console.log(`random batch: deno task sim --seeds ${RANDOM_BATCH} --start-seed ${start}`);
  const seeds = Array.from({ length: RANDOM_BATCH }, (_, i) => start + i);
  const { failure } = runSeeds(seeds);
  assert.equal(failure, undefined, explain(failure));
});

Deno.test("sim: replaying a seed gives a byte-identical trace", () => {
  for (const seed of [7, 130, 1937]) {
    const a = runSeed({ seed, trace: true });
    const b = runSeed({ seed, trace: true });
    assert.ok(a.trace.length > 100);
    assert.equal(a.trace.join("\n"), b.trace.join("\n"));
    assert.deepEqual(a.stats, b.stats);
  }
});

Deno.test("sim: tracing does not change the run", () => {
  for (const seed of [3, 11]) {
    const quiet = runSeed({ seed });
    const traced = runSeed({ seed, trace: true });
    assert.deepEqual(quiet.stats, traced.stats);
  }
});

Deno.test("sim: the checker catches a candidate that counts refused votes", () => {
  const { failure } = runSeeds(Array.from({ length: 200 }, (_, i) => i + 1), {
    bug: "countRefusals",
  });
  assert.ok(failure !== undefined, "an injected election bug went unnoticed");
  assert.match(
    failure.violation ?? "",
    /election safety|log matching|leader completeness|durability|committed entry changed|exception/,
  );
  const replay = runSeed({ seed: failure.seed, bug: "countRefusals", trace: true });
  assert.equal(replay.violation, failure.violation);
});

Deno.test("sim: the checker catches acknowledgements sent before the sync", () => {
  const { failure } = runSeeds(Array.from({ length: 200 }, (_, i) => i + 1), {
    bug: "ackUnsynced",
    mode: "sync",
  });
  assert.ok(failure !== undefined, "an injected durability bug went unnoticed");
  assert.match(failure.violation ?? "", /durability|leader completeness|committed entry changed/);
});
