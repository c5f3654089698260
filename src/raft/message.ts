/**
 * Messages exchanged by replicas of one group, a discriminated union tagged with `type`.
 * Every message carries the sender's term (§5.1: a higher term makes the receiver a
 * follower, a lower term is stale). Offsets are Kafka offsets; "end" always means an
 * exclusive end (the next offset), so no message needs a -1 sentinel.
 */
import type { NodeId, Offset, Term } from "../util/mod.ts";
import type { Entry } from "./entry.ts";
import type { Membership } from "./membership.ts";

interface Envelope {
  readonly term: Term;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** A message between replicas. */
export type Message =
  /** Pre-vote (thesis §9.6): would you vote for me at `term` (our term + 1)? No state change. */
  | Envelope & { readonly type: "preVote"; readonly logEnd: Offset; readonly lastTerm: Term }
  | Envelope & { readonly type: "preVoteResp"; readonly granted: boolean }
  /** RequestVote (§5.2). `transfer` marks a leadership transfer, which bypasses leases. */
  | Envelope & {
    readonly type: "vote";
    readonly logEnd: Offset;
    readonly lastTerm: Term;
    readonly transfer: boolean;
  }
  | Envelope & { readonly type: "voteResp"; readonly granted: boolean }
  /**
   * AppendEntries (§5.3): `entries` start at `base`; `prevTerm` is the term of the entry
   * just before `base` in the leader's log; `highWatermark` is the leader's commit end.
   */
  | Envelope & {
    readonly type: "append";
    readonly base: Offset;
    readonly prevTerm: Term;
    readonly entries: readonly Entry[];
    readonly highWatermark: Offset;
  }
  /**
   * Success: the follower's log matches the leader's up to `matchEnd` (exclusive), and is
   * synced up to `durableEnd` (<= matchEnd; equal in sync mode). Commit counts durable ends.
   */
  | Envelope & {
    readonly type: "appendResp";
    readonly reject: false;
    readonly matchEnd: Offset;
    readonly durableEnd: Offset;
  }
  /**
   * Failure of the consistency check for `rejectedBase`. The hint lets the leader skip a
   * whole term per round trip (§5.3, "fast back-off"): the follower's entries before
   * `hintEnd` have terms <= `hintTerm`; `logEnd` is the follower's log end.
   */
  | Envelope & {
    readonly type: "appendResp";
    readonly reject: true;
    readonly rejectedBase: Offset;
    readonly hintEnd: Offset;
    readonly hintTerm: Term;
    readonly logEnd: Offset;
  }
  /** Leader liveness and commit propagation; `readSeq` confirms read-index requests. */
  | Envelope & {
    readonly type: "heartbeat";
    readonly highWatermark: Offset;
    readonly readSeq: number;
  }
  /**
   * Also repeats the follower's `matchEnd`/`durableEnd` for this leader (0 when none), so
   * a lost append answer or a lost write-caching sync report cannot stall commit, and its
   * `logEnd`, so a leader learns that a write-caching follower lost unsynced entries.
   */
  | Envelope & {
    readonly type: "heartbeatResp";
    readonly readSeq: number;
    readonly matchEnd: Offset;
    readonly durableEnd: Offset;
    readonly logEnd: Offset;
  }
  /**
   * Reset to the leader's log start (the InstallSnapshot of §7 for a log whose prefix was
   * removed): the follower's next offset is below the leader's log start.
   */
  | Envelope & {
    readonly type: "installSnapshot";
    readonly logStart: Offset;
    readonly startTerm: Term;
    readonly membership: Membership;
  }
  /** Leadership transfer (thesis §3.10): start an election now. */
  | Envelope & { readonly type: "timeoutNow" };

/** The `type` tags of `Message`. */
export type MessageType = Message["type"];
