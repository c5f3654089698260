/**
 * Fuzz-style robustness tests: random bit flips, byte overwrites and truncations of valid
 * batches (with and without a recomputed CRC, so the record and codec parsers are reached)
 * must never make the decoders throw anything but FrameDecodeError. Seeded: a failure names
 * its seed and iteration and replays exactly.
 */
import { fail } from "node:assert/strict";
import { createPrng, FrameDecodeError, type Prng } from "../util/mod.ts";
import { BATCH_HEADER_BYTES, type CompressionName, writeBatchCrc } from "./batch_header.ts";
import { decompress } from "./compression.ts";
import { buildBatch, decodeBatch, iterateBatches, type RecordInput } from "./record_batch.ts";

/** PYRALOG_FUZZ_SEED / PYRALOG_FUZZ_ITERATIONS replay a reported failure or run longer. */
const SEED = envNumber("PYRALOG_FUZZ_SEED") ?? 0x5eed_2026;
const ITERATIONS_PER_CODEC = envNumber("PYRALOG_FUZZ_ITERATIONS") ?? 1500;
const CODECS: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
/** A small limit so that a corrupted length cannot make the test itself slow. */
const LIMIT_BYTES = 1024 * 1024;

function envNumber(name: string): number | undefined {
  // Without --allow-env the defaults apply; asking must not prompt or throw.
  if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
    return undefined;
  }
  const v = Deno.env.get(name);
  return v === undefined ? undefined : Number(v);
}

function randomBytes(prng: Prng, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => prng.nextU32() & 0xff);
}

function randomRecords(prng: Prng): RecordInput[] {
  return Array.from({ length: prng.int(1, 40) }, (_, i) => ({
    key: prng.chance(0.3) ? null : randomBytes(prng, prng.int(0, 20)),
    value: prng.chance(0.1) ? null : new TextEncoder().encode(`v${i}-`.repeat(prng.int(0, 30))),
    headers: prng.chance(0.5) ? [] : [{ key: `h${i}`, value: randomBytes(prng, prng.int(0, 5)) }],
    timestampMs: 1_700_000_000_000 + prng.int(-100_000, 100_000),
  }));
}

/** Applies one random mutation; returns the mutated copy and a label for failure reports. */
function mutate(prng: Prng, batch: Uint8Array): [Uint8Array, string] {
  const b = batch.slice();
  switch (prng.int(0, 4)) {
    case 0: {
      for (let k = prng.int(1, 8); k > 0; k--) {
        const i = prng.int(0, b.length - 1);
        b[i] = (b[i] as number) ^ (1 << prng.int(0, 7));
      }
      return [b, "bit flips"];
    }
    case 1: {
      // Flips in the CRC-covered part, then a fresh CRC: reaches the record/codec parsers.
      for (let k = prng.int(1, 4); k > 0; k--) {
        const i = prng.int(BATCH_HEADER_BYTES - 40, b.length - 1);
        b[i] = (b[i] as number) ^ (1 << prng.int(0, 7));
      }
      writeBatchCrc(b);
      return [b, "bit flips with CRC"];
    }
    case 2: {
      const i = prng.int(BATCH_HEADER_BYTES, b.length - 1);
      b[i] = prng.chance(0.5) ? 0xff : prng.nextU32() & 0xff;
      writeBatchCrc(b);
      return [b, "byte overwrite with CRC"];
    }
    case 3:
      return [b.subarray(0, prng.int(0, b.length - 1)), "truncation"];
    default: {
      // Truncate the record block but keep the header's length consistent, with a valid CRC.
      const cut = b.slice(0, prng.int(BATCH_HEADER_BYTES, b.length));
      new DataView(cut.buffer).setInt32(8, cut.length - 12);
      writeBatchCrc(cut);
      return [cut, "consistent truncation"];
    }
  }
}

function expectOnlyDecodeErrors(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err: unknown) {
    if (!(err instanceof FrameDecodeError)) {
      fail(`${what} threw ${String(err)}${err instanceof Error ? `\n${err.stack}` : ""}`);
    }
  }
}

for (const codec of CODECS) {
  Deno.test(`decoders throw only FrameDecodeError on mutated ${codec} batches`, () => {
    const prng = createPrng(SEED + codec.length * 7919 + codec.charCodeAt(0));
    const valid = Array.from(
      { length: 5 },
      () => buildBatch({ records: randomRecords(prng), compression: codec }),
    );
    for (let iter = 0; iter < ITERATIONS_PER_CODEC; iter++) {
      const source = valid[iter % valid.length] as Uint8Array;
      const [bytes, how] = mutate(prng, source);
      const where = `seed ${SEED} codec ${codec} iteration ${iter} (${how})`;
      expectOnlyDecodeErrors(`decodeBatch, ${where}`, () => {
        decodeBatch(bytes, { decompressedBytesMax: LIMIT_BYTES });
      });
      expectOnlyDecodeErrors(`decodeBatch without CRC, ${where}`, () => {
        decodeBatch(bytes, { verifyCrc: false, decompressedBytesMax: LIMIT_BYTES });
      });
      expectOnlyDecodeErrors(`iterateBatches, ${where}`, () => {
        for (const frame of iterateBatches(bytes)) frame.header.recordCount;
      });
      if (codec !== "none") {
        expectOnlyDecodeErrors(`decompress, ${where}`, () => {
          decompress(codec, bytes.subarray(BATCH_HEADER_BYTES), LIMIT_BYTES);
        });
      }
    }
  });
}

Deno.test("decompressors throw only FrameDecodeError on random input", () => {
  const prng = createPrng(SEED);
  for (let iter = 0; iter < 3000; iter++) {
    const data = randomBytes(prng, prng.int(0, 200));
    // Give some inputs a plausible start so the parsers get past their magic checks.
    if (iter % 3 === 0 && data.length >= 7) data.set([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
    if (iter % 3 === 1 && data.length >= 16) {
      data.set([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    }
    for (const codec of CODECS) {
      expectOnlyDecodeErrors(`decompress ${codec}, seed ${SEED} iteration ${iter}`, () => {
        decompress(codec, data, LIMIT_BYTES);
      });
    }
  }
});
