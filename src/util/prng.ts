/**
 * A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) so that
 * the consensus core and the simulator never touch ambient randomness: one seed reproduces
 * a whole run exactly (STYLE.md principle 4).
 */

/** A deterministic source of randomness, passed in wherever randomness is needed. */
export interface Prng {
  /** A uniform integer in [0, 2^32). */
  nextU32(): number;
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A new generator whose sequence is derived from this one. */
  fork(): Prng;
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Creates a seeded `Prng`. The same seed always yields the same sequence. */
export function createPrng(seed: number): Prng {
  const sm = splitmix32(seed);
  let s0 = sm(), s1 = sm(), s2 = sm(), s3 = sm();
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };
  const prng: Prng = {
    nextU32,
    next: () => nextU32() / 0x1_0000_0000,
    int: (min, max) => min + Math.floor((nextU32() / 0x1_0000_0000) * (max - min + 1)),
    chance: (p) => nextU32() / 0x1_0000_0000 < p,
    fork: () => createPrng(nextU32()),
  };
  return prng;
}
