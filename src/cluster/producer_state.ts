/**
 * Idempotent-producer bookkeeping for one partition (KIP-98): per producer id, its epoch and
 * the sequence range and offsets of its last few batches, so that a retried batch is
 * acknowledged with its original offset and a gap is refused.
 *
 * Pure and synchronous: the caller checks a batch, appends it, then records it, all without
 * yielding in between, so two requests can never interleave between check and record.
 */

/** How many recent batches per producer are remembered for duplicate detection (Kafka: 5). */
export const PRODUCER_BATCHES_REMEMBERED = 5;
const INT32_MAX = 0x7fffffff;

interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
  logAppendTimeMs: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMeta[];
  lastTimestampMs: number;
}

/** The verdict on an incoming batch. */
export type SequenceCheck =
  | { type: "append" }
  | { type: "duplicate"; baseOffset: number; logAppendTimeMs: number }
  | { type: "outOfOrder"; expected: number; got: number }
  | { type: "fenced"; currentEpoch: number };

/** A producer's state as DescribeProducers reports it. */
export interface ProducerSummary {
  producerId: bigint;
  epoch: number;
  lastSequence: number;
  lastTimestampMs: number;
}

/** Adds `n` to a sequence number, wrapping at int32 max as Kafka does. */
function seqAdd(seq: number, n: number): number {
  const v = seq + n;
  return v > INT32_MAX ? v - INT32_MAX - 1 : v;
}

/** Producer states of one partition. */
export class ProducerStateTable {
  #producers = new Map<bigint, ProducerEntry>();

  /**
   * Checks a batch with producer id `pid` (>= 0), `epoch`, first sequence `firstSeq` and
   * `count` records against what this partition has seen.
   */
  check(pid: bigint, epoch: number, firstSeq: number, count: number): SequenceCheck {
    const p = this.#producers.get(pid);
    if (!p) return { type: "append" }; // new to this partition: any first sequence (KIP-360)
    if (epoch < p.epoch) return { type: "fenced", currentEpoch: p.epoch };
    if (epoch > p.epoch) {
      return firstSeq === 0
        ? { type: "append" }
        : { type: "outOfOrder", expected: 0, got: firstSeq };
    }
    const lastSeq = seqAdd(firstSeq, count - 1);
    for (const b of p.batches) {
      if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) {
        return { type: "duplicate", baseOffset: b.baseOffset, logAppendTimeMs: b.logAppendTimeMs };
      }
    }
    const last = p.batches[p.batches.length - 1];
    const expected = last ? seqAdd(last.lastSeq, 1) : firstSeq;
    return firstSeq === expected
      ? { type: "append" }
      : { type: "outOfOrder", expected, got: firstSeq };
  }

  /** Records a batch that was appended (or found in the log on recovery). */
  record(
    pid: bigint,
    epoch: number,
    firstSeq: number,
    count: number,
    baseOffset: number,
    logAppendTimeMs: number,
    timestampMs: number,
  ): void {
    let p = this.#producers.get(pid);
    if (!p || epoch > p.epoch) {
      p = { epoch, batches: [], lastTimestampMs: timestampMs };
      this.#producers.set(pid, p);
    }
    p.batches.push({
      firstSeq,
      lastSeq: seqAdd(firstSeq, count - 1),
      baseOffset,
      lastOffset: baseOffset + count - 1,
      logAppendTimeMs,
    });
    if (p.batches.length > PRODUCER_BATCHES_REMEMBERED) p.batches.shift();
    p.lastTimestampMs = Math.max(p.lastTimestampMs, timestampMs);
  }

  /** Forgets batches at or after `offset` (the log was truncated there). */
  truncateFrom(offset: number): void {
    for (const [pid, p] of this.#producers) {
      p.batches = p.batches.filter((b) => b.lastOffset < offset);
      if (p.batches.length === 0) this.#producers.delete(pid);
    }
  }

  /** Every producer seen, for DescribeProducers. */
  summaries(): ProducerSummary[] {
    return [...this.#producers].map(([producerId, p]) => ({
      producerId,
      epoch: p.epoch,
      lastSequence: p.batches[p.batches.length - 1]?.lastSeq ?? -1,
      lastTimestampMs: p.lastTimestampMs,
    }));
  }
}
