/**
 * Per-process figures from Linux's /proc for the benchmarks that start brokers: CPU time and
 * resident memory of a PID. Elsewhere (or once the process is gone) they are null and the
 * benchmark leaves the figure out. Not a benchmark itself (run_all.ts runs *_bench.ts only).
 */

/** Linux reports process CPU time in USER_HZ ticks, 100 per second. */
const CLOCK_TICK_MS = 10;

/** CPU time (user + system) of process `pid` in ms; null when unknown. */
export function cpuMs(pid: number | null): number | null {
  if (pid === null || pid <= 0) return null;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * CLOCK_TICK_MS : null;
  } catch {
    return null; // not Linux, or the process is gone
  }
}

/** Resident memory of process `pid` now and at its peak (VmRSS, VmHWM), in MiB; null when unknown. */
export function rssMiB(pid: number | null): { now: number; peak: number } | null {
  if (pid === null || pid <= 0) return null;
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    const now = kib("VmRSS");
    const peak = kib("VmHWM");
    if (!Number.isFinite(now) || !Number.isFinite(peak)) return null;
    return { now: Math.round(now / 102.4) / 10, peak: Math.round(peak / 102.4) / 10 };
  } catch {
    return null; // not Linux, or the process is gone
  }
}
