/**
 * Log entries of the consensus core. An entry is one Kafka RecordBatch seen from Raft: it
 * covers the contiguous offsets [base, last] and carries the Raft term, which the storage
 * engine keeps in the batch's partition-leader-epoch field (DESIGN.md "Consensus and
 * replication"). Consecutive entries are adjacent: the next entry's base is the previous
 * entry's last + 1. Entries are immutable values; the core never edits one in place.
 */
import type { Offset, Term } from "../util/mod.ts";
import type { Membership } from "./membership.ts";

/** What an entry carries. */
export type EntryPayload =
  /** Client records (the batch bytes, opaque to Raft). */
  | { readonly type: "data"; readonly bytes: Uint8Array }
  /** The empty batch a new leader appends so it can commit in its term (§5.4.2, §8). */
  | { readonly type: "leaderChange" }
  /** A new group configuration; in force as soon as it is in a log (thesis §4.1). */
  | { readonly type: "config"; readonly membership: Membership };

/** One batch in the replicated log. */
export interface Entry {
  /** First offset the batch covers. */
  readonly base: Offset;
  /** Last offset the batch covers (inclusive, >= base). */
  readonly last: Offset;
  /** Term of the leader that created the batch (the partition leader epoch). */
  readonly term: Term;
  readonly payload: EntryPayload;
}

/** Fixed per-entry overhead counted against byte limits (a RecordBatch v2 header). */
export const ENTRY_OVERHEAD_BYTES = 61;

/** Approximate encoded size of an entry, used only for batching limits. */
export function entryBytes(entry: Entry): number {
  return ENTRY_OVERHEAD_BYTES + (entry.payload.type === "data" ? entry.payload.bytes.length : 0);
}
