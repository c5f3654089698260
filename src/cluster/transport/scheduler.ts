/**
 * Timers as an injected dependency, so a test can drive the TCP transport's reconnect and
 * heartbeat timers by hand (STYLE.md principle 1: only adapters read the real clock).
 */

/** A pending one-shot timer. */
export interface Timer {
  /** Cancels the timer; a no-op once it fired or was cancelled. */
  cancel(): void;
}

/** Sets one-shot timers. */
export interface Scheduler {
  /** Calls `fn` once after `delayMs`. */
  setTimer(fn: () => void, delayMs: number): Timer;
}

/** The process's timers. */
export const realScheduler: Scheduler = {
  setTimer: (fn, delayMs) => {
    const id = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(id) };
  },
};
