/**
 * MurmurHash2 (32-bit, seed 0x9747b28c) as Kafka's default partitioner applies it to record
 * keys, so a keyed record lands in the same partition whichever client or front door wrote it.
 */

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/** Kafka's murmur2 of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const j = i * 4;
    let k = (data[j] as number) | ((data[j + 1] as number) << 8) |
      ((data[j + 2] as number) << 16) | ((data[j + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = words * 4;
  // The 1-3 trailing bytes, mixed in as the reference's fall-through switch does.
  const rest = length & 3;
  if (rest === 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a keyed record. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
