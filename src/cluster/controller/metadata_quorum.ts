/**
 * The metadata Raft group of one node (issue #6): a `RaftGroup` over the single partition of
 * `__cluster_metadata` plus the applier that feeds its committed batches, in offset order, to
 * this node's `MetadataImage`. Every node runs one (voters and, later, observers), so every
 * node's image follows the same log and can answer Metadata requests; the node that leads the
 * group runs the `Controller` over it (`ControllerQuorum`).
 *
 * - Committed means below the group's commit offset (the high watermark): entries there are
 *   never rewritten (Raft §5.4), so the image only ever moves forward.
 * - `isActive` is true on the leader only once its image holds every entry of earlier terms:
 *   the leader's first entry of its term (the leader-change batch, Raft §8) is applied. Before
 *   that, a decision could miss a committed record of the previous controller.
 * - The group runs in "sync" durability: a proposal is `ok` once synced on a quorum and then
 *   applied here, so an answered request survives any minority of crashes.
 * - A committed batch that does not decode stops the applier (fail-stop with a warning): the
 *   node must not serve an image that skipped a record; a fixed binary replays the log.
 *
 * - Snapshots live in the log: the active controller writes a batch that starts with a
 *   `snapshot` record and holds the whole image (Controller). Once this replica applied one, it
 *   compacts its log to that batch (Raft §7: only whole segments leave the disk), so a restart
 *   replays from the last snapshot, and a follower behind a compacted leader is reset to the
 *   leader's log start, whose first batch is a snapshot that replaces its image whatever it
 *   held (KIP-630's purpose, without a separate snapshot file).
 *
 * Must not: apply uncommitted entries, or keep a timer after `close()`.
 */
import { RaftGroup, type RaftGroupOptions } from "../replication/mod.ts";
import type { EntryPayload } from "../../raft/mod.ts";
import type { Timer } from "../transport/mod.ts";
import { FrameDecodeError, type NodeId, offset } from "../../util/mod.ts";
import { ATTR, readBatchHeader } from "../../records/mod.ts";
import type { ControllerQuorum, QuorumProposeResult } from "./controller.ts";
import { MetadataImage } from "./metadata_image.ts";
import {
  decodeMetadataBatch,
  encodeMetadataBatch,
  METADATA_TOPIC,
  type MetadataRecord,
} from "./metadata_record.ts";

/** The Raft group id of the metadata log on the node transport. */
export const METADATA_GROUP_ID = `${METADATA_TOPIC}-0`;
/** Whether an entry is a snapshot batch (its first record is a `snapshot` record). */
function isSnapshot(payload: EntryPayload): boolean {
  if (payload.type !== "data") return false;
  if ((readBatchHeader(payload.bytes).attributes & ATTR.control) !== 0) return false;
  try {
    return decodeMetadataBatch(payload.bytes)[0]?.record.type === "snapshot";
  } catch (err) {
    if (!(err instanceof FrameDecodeError)) throw err;
    return false;
  }
}

/** Bytes read from the log per step of `catchUp`. */
const APPLY_READ_BYTES = 1024 * 1024;
/** Read steps one `catchUp` takes at most (the timer continues where it stopped). */
const APPLY_STEPS_MAX = 64;

/** Settings of a node's metadata quorum: those of its Raft group, minus the fixed ones. */
export type MetadataQuorumOptions = Omit<RaftGroupOptions, "groupId" | "durability">;

/** One node's replica of the metadata log and the image applied from it. */
export class MetadataQuorum implements ControllerQuorum {
  readonly image = new MetadataImage();
  readonly #group: RaftGroup;
  readonly #options: MetadataQuorumOptions;
  readonly #warn: (message: string) => void;
  #timer: Timer | undefined;
  #failure: Error | undefined;
  #closed = false;
  /** Times this replica compacted its log to a snapshot (for tests and metrics). */
  compactions = 0;

  private constructor(group: RaftGroup, options: MetadataQuorumOptions) {
    this.#group = group;
    this.#options = options;
    this.#warn = options.onWarning ?? ((m) => console.warn(m));
  }

  /**
   * Opens (or recovers) the metadata group in `options.dir`, replays its committed records
   * and starts applying new ones every tick.
   * @throws {StorageError} when the log cannot be opened.
   */
  static open(options: MetadataQuorumOptions): MetadataQuorum {
    const group = RaftGroup.open({ ...options, groupId: METADATA_GROUP_ID, durability: "sync" });
    const quorum = new MetadataQuorum(group, options);
    quorum.catchUp();
    quorum.#arm();
    return quorum;
  }

  /** The Raft group (to add to the node's `GroupRouter`, and for its state). */
  get group(): RaftGroup {
    return this.#group;
  }

  /** Why the applier stopped, if it did. */
  get failure(): Error | undefined {
    return this.#failure ?? this.#group.failure;
  }

  isActive(): boolean {
    const g = this.#group;
    if (this.#closed || this.failure !== undefined || g.role !== "leader") return false;
    // Terms only grow along the log, so the leader's term, if it has an entry, is the last.
    const current = g.log.lastTermBoundary();
    return current?.term === g.term && this.image.nextOffset > current.start;
  }

  leaderId(): NodeId | undefined {
    return this.#group.leader;
  }

  async propose(records: readonly MetadataRecord[]): Promise<QuorumProposeResult> {
    let batch: Uint8Array;
    try {
      batch = encodeMetadataBatch(records);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      return { type: "refused", reason: `Cannot propose metadata: ${err.message}` };
    }
    const r = await this.#group.propose(batch);
    // A busy leader (a transfer, the uncommitted bound) refuses for now; the caller retries.
    if (r.type === "busy") return { type: "refused", reason: r.reason };
    if (r.type !== "ok") return r;
    this.catchUp();
    if (this.image.nextOffset <= r.lastOffset) {
      // Committed but not applied: the applier stopped (its failure was reported).
      return { type: "refused", reason: "Cannot apply metadata: the applier stopped" };
    }
    return { type: "ok", lastOffset: r.lastOffset };
  }

  /** Applies committed batches not applied yet; returns how many records it applied. */
  catchUp(): number {
    if (this.#failure !== undefined || this.#closed) return 0;
    const log = this.#group.log;
    const end = Math.min(this.#group.commitOffset, log.endOffset());
    let applied = 0;
    for (let step = 0; step < APPLY_STEPS_MAX && this.image.nextOffset < end; step++) {
      const from = this.image.nextOffset;
      const start = log.startOffset();
      if (from < start) {
        // A compacted log (after a restart, or a reset to the leader's start) begins with a
        // snapshot, which rebuilds the whole image: continue from there.
        if (start >= end) return applied;
        if (!isSnapshot(log.entryAt(start).payload)) {
          this.#stop(new Error(`Cannot apply metadata from "${from}": the log starts later`));
          return applied;
        }
        this.image.skipTo(start);
        continue;
      }
      for (const entry of log.entries(offset(from), APPLY_READ_BYTES)) {
        if (entry.last >= end) return applied;
        const p = entry.payload;
        if (p.type === "data" && (readBatchHeader(p.bytes).attributes & ATTR.control) === 0) {
          try {
            const records = decodeMetadataBatch(p.bytes);
            this.image.applyAll(records);
            applied += records.length;
            if (records[0]?.record.type === "snapshot") this.#compactTo(records[0].offset);
          } catch (err) {
            if (!(err instanceof FrameDecodeError)) throw err;
            this.#stop(err);
            return applied;
          }
        }
        // Control batches (leader change, voters) hold no metadata but use offsets.
        this.image.skipTo(entry.last + 1);
      }
    }
    return applied;
  }

  /** Stops applying and closes the group. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#group.close();
  }

  #arm(): void {
    this.#timer = this.#options.scheduler.setTimer(() => {
      if (this.#closed) return;
      this.catchUp();
      this.#arm();
    }, this.#options.tickMs);
  }

  /** Deletes the log before a snapshot this replica applied (committed, so safe, §7). */
  #compactTo(at: number): void {
    if (at <= this.#group.logStartOffset) return;
    this.#group.compact(offset(at)).then(
      (done) => {
        if (done) this.compactions++;
      },
      (err: unknown) => this.#warn(`Cannot compact the metadata log: ${(err as Error).message}`),
    );
  }

  #stop(err: Error): void {
    this.#failure = err;
    this.#warn(`Metadata applier on node ${this.#options.nodeId} stopped: ${err.message}`);
  }
}
