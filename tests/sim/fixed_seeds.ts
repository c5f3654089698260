/**
 * The simulator's fixed seed list, run by `sim_test.ts` on every test run (and so in CI).
 * A seed that ever failed joins `REGRESSION_SEEDS` with a note of the bug it found. A seed
 * names a run only for a given simulator version: changing what the simulator draws
 * changes every run, so these keep exercising nearby schedules rather than the exact one.
 */

/** Seeds that found bugs during development; each must keep passing. */
export const REGRESSION_SEEDS: readonly number[] = [
  23, // E=1 let two candidates win one term (fixed: per-candidate terms when E <= N/2)
  130, // write caching let commit count unsynced copies (fixed: commit counts synced ends)
  1872, // a follower diverging before the leader's log start was probed forever (fixed: reset)
  1937, // a lost log-start reset left the follower paused forever (fixed: resend on heartbeat)
  1000870, // sim runtime: a crash truncated below a compacted log start (fixed in the sim)
  937, // E=N without pre-vote: doomed candidates kept resetting the only electable timer
  1013850, // same livelock (fixed: a higher term alone does not restart the election timer)
  1046337, // checker false alarm: a stale leader's delayed append may drop a committed entry
  //           from a replica that never counted for it (fixed: compare terms, see onRemove)
  1051461, // stale read: N - E + 1 = 1 of 2 voters confirmed a read while removing a voter
  //           (fixed: reads need a majority under default quorums)
  9277, // a probe below match re-sent matched entries forever (fixed: next >= match, and
  //        an answer without progress waits for the next heartbeat answer)
  939, // removed server without pre-vote or lease livelocked elections (sim keeps one on)
  1000278, // a duplicated old rejection lowered match inside an entry, probing mid-entry
  //           (fixed: round a lowered match down to an entry boundary)
  5000048, // with --safety-ms 30000: a 1300-entry backlog could not replicate in 4 s at one
  //           entry per append (fixed: maxUncommittedOffsets, bounds scale with the phase)
  1019820, // a lost write-caching sync report stalled commit for good (fixed: heartbeat
  //           answers repeat the follower's match and durable ends)
  2001350, // a write-caching follower lost acknowledged entries in a crash and a leader
  //           with nothing new to send never noticed (fixed: heartbeat answers carry logEnd)
  5002299, // with --safety-ms 30000: a candidate whose only peer had a higher term was never
  //           answered (fixed: stale vote requests are refused with our term, §5.1)
];

/** Seeds 1..N run on every test run in addition to the regression seeds. */
export const FIXED_SEED_COUNT = 2000;

/** The whole fixed list. */
export function fixedSeeds(): number[] {
  return [...REGRESSION_SEEDS, ...Array.from({ length: FIXED_SEED_COUNT }, (_, i) => i + 1)];
}
