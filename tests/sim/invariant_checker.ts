/**
 * Safety invariants of the simulated cluster, checked as the runtime applies each `Ready`
 * and after every simulator step. A violation is returned as a message (the simulator
 * stops and prints the seed and trace); the checker never repairs anything.
 *
 * Invariants (Raft paper Figure 3, plus Pyralog's durability contract):
 * - Election safety: at most one leader per term.
 * - Log matching: an (offset, term) names one entry, and every log holding it holds the
 *   same predecessor (checked per append against a registry of created entries, which by
 *   induction gives identical prefixes).
 * - Durability: a committed entry is never removed from or changed on a replica by a
 *   leader of the commit's term or later, nor lost in a crash in sync mode. Commit counts
 *   synced copies in both durability modes, so the only allowed crash loss is what a
 *   write-caching replica never synced (see `onRemove`).
 * - Commit positions never go back (per replica incarnation), and an offset commits once.
 * - Leader completeness: a newly elected leader holds every entry committed in an earlier
 *   term (at or after its log start).
 * - Read index: a read's index is at least every commit end known when it was requested.
 */
import type { NodeId, Offset } from "../../src/util/mod.ts";
import type { Entry, MemoryLog } from "../../src/raft/mod.ts";

/** Whether acknowledgements mean durable (sync) or cached (write caching). */
export type DurabilityMode = "sync" | "writeCaching";

interface Created {
  readonly entry: Entry;
  /** Key of the predecessor in the creating leader's log, undefined at a log start. */
  readonly prevKey: string | undefined;
}

function keyOf(e: Entry): string {
  return `${e.term}:${e.base}`;
}

/** Tracks cluster history and reports the first broken invariant. */
export class InvariantChecker {
  readonly #mode: DurabilityMode;
  readonly #created = new Map<string, Created>();
  readonly #leaders = new Map<number, NodeId>();
  /** Committed entries by base, with the term of the first replica that reported them. */
  readonly #committed = new Map<number, { entry: Entry; commitTerm: number }>();
  #commitEnd = 0;
  violation: string | undefined;

  constructor(mode: DurabilityMode) {
    this.#mode = mode;
  }

  /** Largest commit end any replica has reported. */
  get commitEnd(): number {
    return this.#commitEnd;
  }

  /** Number of terms that had a leader. */
  get leaderTerms(): number {
    return this.#leaders.size;
  }

  #fail(message: string): void {
    if (this.violation === undefined) this.violation = message;
  }

  /** Entries were appended to `node`'s stored log (already in `log`). */
  onAppend(node: NodeId, log: MemoryLog, entries: readonly Entry[]): void {
    for (const e of entries) {
      const prevKey = e.base > log.startOffset()
        ? keyOf(log.entryAt((e.base - 1) as Offset))
        : undefined;
      const known = this.#created.get(keyOf(e));
      if (known === undefined) {
        this.#created.set(keyOf(e), { entry: e, prevKey });
        continue;
      }
      if (known.entry !== e) {
        this.#fail(
          `log matching: node ${node} holds a different entry at offset ${e.base} term ${e.term}`,
        );
      } else if (
        known.prevKey !== undefined && prevKey !== undefined && known.prevKey !== prevKey
      ) {
        this.#fail(
          `log matching: node ${node} holds ${
            keyOf(e)
          } after ${prevKey}, leader wrote it after ${known.prevKey}`,
        );
      }
    }
  }

  /**
   * Entries are about to be removed from `node`, whose term is `nodeTerm`: truncated by a
   * leader of that term, reset to a leader's log start, or lost in a crash.
   *
   * A replica may legitimately drop a committed entry it never counted for: a stale
   * leader's append, delayed in the network, can overwrite it on a replica that has not
   * learned of the commit (Raft only promises the entry to leaders of later terms). So a
   * removal is a violation when the remover's term is at least the commit's term (leader
   * completeness says such a leader holds it), or when a crash loses it in sync mode
   * (where every stored entry was acknowledged as durable).
   */
  onRemove(
    node: NodeId,
    nodeTerm: number,
    removed: readonly Entry[],
    reason: "truncate" | "reset" | "crash",
  ): void {
    // In write-caching mode a crash loses what this replica never synced (and so never
    // reported as durable): that is the mode's contract, not a violation.
    if (reason === "crash" && this.#mode === "writeCaching") return;
    for (const e of removed) {
      const committed = this.#committed.get(e.base);
      if (committed === undefined || committed.entry !== e) continue;
      if (reason === "crash" || committed.commitTerm <= nodeTerm) {
        this.#fail(
          `durability: committed entry ${
            keyOf(e)
          } (offsets ${e.base}-${e.last}, committed in term ${committed.commitTerm}) removed from node ${node} by ${reason} in term ${nodeTerm}`,
        );
        return;
      }
    }
  }

  /** `node` (in term `nodeTerm`) reports its commit end moved over `range`. */
  onCommit(
    node: NodeId,
    nodeTerm: number,
    log: MemoryLog,
    range: { from: number; to: number },
    previous: number,
  ): void {
    const { from, to } = range;
    if (to <= previous) {
      this.#fail(`commit went back on node ${node}: ${previous} -> ${to}`);
      return;
    }
    if (to > log.endOffset()) {
      this.#fail(`node ${node} committed ${to} beyond its log end ${log.endOffset()}`);
      return;
    }
    let at = Math.max(from, log.startOffset());
    while (at < to) {
      const e = log.entryAt(at as Offset);
      const known = this.#committed.get(e.base);
      if (known === undefined) {
        this.#committed.set(e.base, { entry: e, commitTerm: nodeTerm });
      } else if (known.entry !== e) {
        this.#fail(
          `committed entry changed at offset ${e.base}: term ${known.entry.term} then ${e.term} on node ${node}`,
        );
        return;
      }
      at = e.last + 1;
    }
    if (to > this.#commitEnd) this.#commitEnd = to;
  }

  /** `node` is leader in `term` with `log`; checks election safety and completeness. */
  onLeader(node: NodeId, term: number, log: MemoryLog): void {
    const known = this.#leaders.get(term);
    if (known === node) return;
    if (known !== undefined) {
      this.#fail(`election safety: nodes ${known} and ${node} are both leaders in term ${term}`);
      return;
    }
    this.#leaders.set(term, node);
    // Leader completeness (§5.4): every entry committed in an earlier term, at or after
    // its log start. (A leader of a lower term may be elected after a later term commits:
    // its votes were cast before; the property only speaks of higher terms.)
    const start = log.startOffset();
    const end = log.endOffset();
    for (const [base, { entry, commitTerm }] of this.#committed) {
      if (base < start || commitTerm >= term) continue;
      const held = base < end ? log.entryAt(base as Offset) : undefined;
      if (held !== entry) {
        this.#fail(
          `leader completeness: leader ${node} of term ${term} lacks committed entry ${
            keyOf(entry)
          }`,
        );
        return;
      }
    }
  }

  /** A read served at `index` must cover commits known when it was requested. */
  onRead(node: NodeId, index: number, commitEndAtRequest: number): void {
    if (index < commitEndAtRequest) {
      this.#fail(
        `stale read on node ${node}: index ${index} below commit end ${commitEndAtRequest} at request`,
      );
    }
  }
}
