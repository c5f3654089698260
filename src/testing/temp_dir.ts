/**
 * Test helpers: temporary directories removed after use, and small batch builders.
 * Imported only by tests and benchmarks.
 */
import { buildBatch } from "../records/record_batch.ts";

/** Runs `fn` with a fresh temporary directory, removing it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const enc = new TextEncoder();

/** A batch of `count` records whose values are `${tag}-${i}`, timestamps `timestampMs + i`. */
export function textBatch(tag: string, count: number, timestampMs = 1_700_000_000_000): Uint8Array {
  return buildBatch({
    records: Array.from({ length: count }, (_, i) => ({
      key: enc.encode(`k${i}`),
      value: enc.encode(`${tag}-${i}`),
      timestampMs: timestampMs + i,
    })),
  });
}

/** A batch of `count` records of `valueBytes` bytes each (benchmarks). */
export function sizedBatch(
  count: number,
  valueBytes: number,
  timestampMs = Date.now(),
): Uint8Array {
  const value = new Uint8Array(valueBytes).fill(0x61);
  return buildBatch({
    records: Array.from({ length: count }, () => ({ value, timestampMs })),
  });
}
