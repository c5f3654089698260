/**
 * The narrow interface through which the consensus core reads its log, so the same core runs
 * on the storage engine's partition log and on `MemoryLog`. The core never writes through
 * it: writes are handed out in `Ready` and applied by the runtime (etcd raft's Storage).
 *
 * Offsets are Kafka offsets. The log holds whole entries covering [startOffset, endOffset);
 * offsets below startOffset were removed (retention or a reset to a leader's log start) and
 * `startTerm` remembers the term of the entry just before startOffset, so the consistency
 * check of AppendEntries (§5.3) still works at the log start (like a snapshot's last term).
 */
import type { Offset, Term } from "../util/mod.ts";
import type { Entry } from "./entry.ts";

/** Read access to a replica's stored log. */
export interface RaftLog {
  /** First offset held; equals endOffset() when the log is empty. */
  startOffset(): Offset;
  /** Term of the entry just before startOffset (0 when startOffset is 0). */
  startTerm(): Term;
  /** Next offset to be written (Kafka's log end offset). */
  endOffset(): Offset;
  /** The entry covering `at`, which must lie in [startOffset, endOffset). */
  entryAt(at: Offset): Entry;
  /**
   * Entries from the one covering `from` onward, stopping before the total size would pass
   * `maxBytes` but always returning at least one entry when `from` < endOffset.
   */
  entries(from: Offset, maxBytes: number): Entry[];
}
