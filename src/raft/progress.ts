/**
 * What a leader knows about one follower's log (etcd raft's Progress, §5.3 nextIndex and
 * matchIndex). States: `probe` sends one append at a time until the follower's position is
 * found; `replicate` streams appends optimistically (pipelining) with at most `maxInflight`
 * unacknowledged messages; `snapshot` waits for a reset to the leader's log start.
 *
 * `match` only grows, except when a follower reports a log end below it: that happens only
 * when the runtime acknowledged writes before syncing them (write caching) and the follower
 * crashed, so the leader must re-send what was lost.
 */
import type { Offset } from "../util/mod.ts";

/** Replication state of a follower, seen from its leader. */
export type ProgressState = "probe" | "replicate" | "snapshot";

/** A leader's bookkeeping for one follower. */
export class Progress {
  /** Follower's log matches the leader's below this offset. */
  match: Offset;
  /** ... and is synced below this offset (<= match). Commit counts these (§5.4.2). */
  durable: Offset;
  /** Next offset to send (always an entry boundary in the leader's log). */
  next: Offset;
  state: ProgressState = "probe";
  /** In probe state: one append is outstanding, wait for its answer or a heartbeat. */
  probeSent = false;
  /** Heard from since the last check-quorum round (§6 of the thesis, "check quorum"). */
  recentActive = false;
  /** In snapshot state: the log start the follower is being reset to. */
  pendingSnapshot: Offset | undefined;
  /** Ends of unacknowledged appends in replicate state (pipelining window). */
  readonly #inflight: Offset[] = [];
  readonly #maxInflight: number;

  constructor(match: Offset, next: Offset, maxInflight: number) {
    this.match = match;
    this.durable = match;
    this.next = next;
    this.#maxInflight = maxInflight;
  }

  /** True when no append may be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.#inflight.length >= this.#maxInflight;
      case "snapshot":
        return true;
    }
  }

  inflightCount(): number {
    return this.#inflight.length;
  }

  /** Probes from `next`, never below `match` (re-sending matched entries can loop). */
  becomeProbe(next: Offset): void {
    this.state = "probe";
    this.next = next < this.match ? this.match : next;
    this.probeSent = false;
    this.pendingSnapshot = undefined;
    this.#inflight.length = 0;
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.next = this.match;
    this.probeSent = false;
    this.#inflight.length = 0;
  }

  becomeSnapshot(logStart: Offset): void {
    this.state = "snapshot";
    this.pendingSnapshot = logStart;
    this.#inflight.length = 0;
  }

  /** Records an append sent with entries ending at `end`. */
  sentEntries(end: Offset): void {
    if (this.state === "replicate") {
      this.next = end;
      this.#inflight.push(end);
    } else if (this.state === "probe") {
      this.probeSent = true;
    }
  }

  /** Records a successful append response; returns true when `match` or `durable` grew. */
  acknowledge(matchEnd: Offset, durableEnd: Offset): boolean {
    this.probeSent = false;
    while (this.#inflight.length > 0 && (this.#inflight[0] ?? 0) <= matchEnd) {
      this.#inflight.shift();
    }
    let grew = false;
    if (this.next < matchEnd) this.next = matchEnd;
    if (matchEnd > this.match) {
      this.match = matchEnd;
      grew = true;
    }
    const durable = durableEnd < this.match ? durableEnd : this.match;
    if (durable > this.durable) {
      this.durable = durable;
      grew = true;
    }
    return grew;
  }

  /** The follower reported a log end below `match`: it lost unsynced writes in a crash. */
  lostAfter(logEnd: Offset): void {
    if (logEnd < this.match) this.match = logEnd;
    if (logEnd < this.durable) this.durable = logEnd;
  }

  /** A heartbeat answer frees one slot so a lost append cannot stall replication forever. */
  freeOneSlot(): void {
    this.#inflight.shift();
    this.probeSent = false;
  }
}
