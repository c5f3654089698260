/**
 * Reconnect delays: exponential growth from `baseMs`, capped at `maxMs`, with "equal jitter"
 * drawn from an injected `Prng` (half the step is fixed, half random), so that peers that
 * lost a node at the same moment do not all redial in lockstep, and a run replays from its
 * seed. Every delay lies in [step/2, step] where step = min(maxMs, baseMs * 2^attempt): the
 * lower bound grows until the cap, and no delay ever exceeds `maxMs`.
 */
import { assert, type Prng } from "../../util/mod.ts";

/** The exponent beyond which the step is the cap anyway (keeps 2^n finite). */
const MAX_DOUBLINGS = 30;

/** Exponential back-off with jitter. */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #prng: Prng;
  #attempt = 0;

  constructor(baseMs: number, maxMs: number, prng: Prng) {
    assert(baseMs > 0 && maxMs >= baseMs, `back-off bounds "${baseMs}".."${maxMs}" are invalid`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#prng = prng;
  }

  /** Failed attempts since the last `reset`. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const step = Math.min(
      this.#maxMs,
      this.#baseMs * 2 ** Math.min(this.#attempt, MAX_DOUBLINGS),
    );
    this.#attempt++;
    return Math.round(step / 2 + this.#prng.next() * (step / 2));
  }

  /** Forgets past failures (after a successful handshake). */
  reset(): void {
    this.#attempt = 0;
  }
}
