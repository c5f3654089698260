/**
 * Time as an injected dependency. Core code receives a `Clock`; only adapters read the real
 * one, so tests and the simulator run on virtual time.
 */

/** A source of wall-clock and monotonic time, in milliseconds. */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (record timestamps, retention). */
  nowMs(): number;
  /** Monotonic milliseconds (timeouts, latency); never goes back. */
  monotonicMs(): number;
}

/** The process's real clock. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  #wallMs: number;
  #monoMs = 0;
  constructor(startWallMs = 1_700_000_000_000) {
    this.#wallMs = startWallMs;
  }
  nowMs(): number {
    return this.#wallMs;
  }
  monotonicMs(): number {
    return this.#monoMs;
  }
  /** Moves both clocks forward by `ms`. */
  advance(ms: number): void {
    this.#wallMs += ms;
    this.#monoMs += ms;
  }
}
