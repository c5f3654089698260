/**
 * The progress line `pyralog produce` prints on stderr for large inputs: records, bytes and
 * the rate since the start, at most once per interval and only past a threshold of records,
 * so small inputs stay silent. Pure: the caller passes the monotonic time and prints.
 */

/** Records before the first progress line. */
export const PROGRESS_RECORDS_MIN = 10_000;
/** Least time between two progress lines, in ms. */
export const PROGRESS_INTERVAL_MS = 1_000;

/** Counts records and says when to print. */
export class ProgressMeter {
  readonly #startMs: number;
  #lastMs: number;
  #records = 0;
  #bytes = 0;

  constructor(startMs: number) {
    this.#startMs = startMs;
    this.#lastMs = startMs;
  }

  /** Total records counted. */
  get records(): number {
    return this.#records;
  }

  /** Total bytes counted. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Counts a record of `bytes`. */
  add(records: number, bytes: number): void {
    this.#records += records;
    this.#bytes += bytes;
  }

  /** A progress line when one is due at `nowMs`, else null. */
  poll(nowMs: number): string | null {
    if (this.#records < PROGRESS_RECORDS_MIN || nowMs - this.#lastMs < PROGRESS_INTERVAL_MS) {
      return null;
    }
    this.#lastMs = nowMs;
    return this.summary(nowMs);
  }

  /** "1,234,567 records, 118.1 MB, 245,000 records/s, 23.4 MB/s, 5.0 s". */
  summary(nowMs: number): string {
    const seconds = Math.max(nowMs - this.#startMs, 1) / 1000;
    return `${group(this.#records)} records, ${mb(this.#bytes)}, ` +
      `${group(Math.round(this.#records / seconds))} records/s, ${mb(this.#bytes / seconds)}/s, ` +
      `${seconds.toFixed(1)} s`;
  }
}

function group(n: number): string {
  return n.toLocaleString("en-US");
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
