/**
 * Power-cut test for the storage engine (issue #2). A loop-mounted ext4 image holds the log;
 * a child process appends with fsync=always from several concurrent appenders and prints
 * every acknowledged append (tests/helpers/append_child.ts). After some acks the child is frozen
 * (SIGSTOP, so like a power cut it acknowledges nothing more) and the file system is shut down
 * with `xfs_io -x -c shutdown`, which on ext4 (EXT4_IOC_SHUTDOWN, no log flush)
 * drops every write not yet made durable, as a power cut does; the child is killed, the image
 * unmounted and mounted again (replaying the journal), and the log reopened.
 *
 * Unlike a SIGKILL (whose writes survive in the page cache), this catches a missing fdatasync
 * anywhere an acknowledgement depends on one: segment data, a new segment's directory entry,
 * index files of sealed segments. Every acknowledged record must be there, intact, at its
 * offset, in a contiguous well-formed log that accepts appends.
 *
 * To see the test catch a loss, run the child without fsyncs: `PC_FSYNC=never deno test
 * --allow-all tests/storage_power_cut_test.ts` fails (acknowledged records are gone).
 *
 * Needs root, loop devices and xfs_io (Debian package xfsprogs); a missing tool or failed
 * mount fails the test with the command's error rather than skipping it.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { PartitionLog } from "../src/storage/mod.ts";
import { textBatch } from "../src/testing/temp_dir.ts";
import { killChild, readAll, readLines } from "./helpers/log_check.ts";
import { run, withExt4Loop } from "./helpers/mounts.ts";

const RUNS = 3;
const ACKS_BEFORE_CUT = [150, 300, 450];
const ACK_WAIT_MS = 30_000;
const IMAGE_MB = 64;
const APPENDERS = 8;
/** Small segments so the cut also lands around segment rolls (new files, sealed indexes). */
const SEGMENT_BYTES = 16 * 1024;
const CHILD = new URL("./helpers/append_child.ts", import.meta.url).pathname;

interface Ack {
  baseOffset: number;
  values: string[];
}

/** Runs the child, cuts power after `wanted` acks, kills it; returns every ack it printed. */
async function appendThenCutPower(mountPoint: string, wanted: number): Promise<Ack[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      CHILD,
      `${mountPoint}/log`,
      String(APPENDERS),
      String(SEGMENT_BYTES),
      Deno.env.get("PC_FSYNC") ?? "always",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const acks: Ack[] = [];
  let cut: Promise<void> | null = null;
  try {
    const cutPower = async () => {
      // Freeze the child first, as a power cut stops it: every ack it printed so far had its
      // fdatasync return before the file system goes down. Without the freeze, the child kept
      // running while xfs_io shut the file system down, and an fdatasync racing the shutdown
      // could report success for data the cut then lost — acks a real power cut could never
      // have produced (seen about once in ten runs, always on acks printed after the cut began).
      child.kill("SIGSTOP");
      // Let the reader drain what the frozen child already wrote (bounded: the pipe holds a
      // finite amount and nothing more arrives).
      let seen = -1;
      for (let i = 0; i < 100 && seen !== acks.length; i++) {
        seen = acks.length;
        await new Promise((r) => setTimeout(r, 50));
      }
      await run("xfs_io", ["-x", "-c", "shutdown", mountPoint], "Cannot shut down the file system");
      killChild(child);
    };
    // Read until the child's stdout closes (it is killed right after the cut); every line read
    // was printed before the freeze.
    await readLines(child.stdout, (line) => {
      const m = /^ack (\d+) (\S+)$/.exec(line);
      ok(m, `child printed an unexpected line: ${JSON.stringify(line)}`);
      acks.push({ baseOffset: Number(m[1]), values: (m[2] ?? "").split(",") });
      if (acks.length >= wanted) cut ??= cutPower();
      return true;
    }, performance.now() + ACK_WAIT_MS);
    ok(cut !== null, `the child gave only ${acks.length} of ${wanted} acks in ${ACK_WAIT_MS} ms`);
    await cut;
  } finally {
    killChild(child);
    await child.status;
  }
  return acks;
}

Deno.test("storage power cut: every append acknowledged with fsync=always survives", async () => {
  for (let i = 0; i < RUNS; i++) {
    await withExt4Loop(IMAGE_MB, async (m) => {
      const wanted = ACKS_BEFORE_CUT[i] ?? 300;
      const acks = await appendThenCutPower(m.mountPoint, wanted);
      ok(acks.length >= wanted, `run ${i}: ${acks.length} acks`);
      await m.remount();
      const dir = `${m.mountPoint}/log`;
      const log = PartitionLog.open(dir, { config: { fsync: "always" }, onWarning: () => {} });
      try {
        const records = readAll(log);
        deepStrictEqual(records.map((r) => r.offset), records.map((_, k) => k), "contiguous");
        for (const ack of acks) {
          ack.values.forEach((value, k) => {
            deepStrictEqual(
              records[ack.baseOffset + k],
              { offset: ack.baseOffset + k, value },
              `run ${i}: acknowledged record at offset ${ack.baseOffset + k} after the cut`,
            );
          });
        }
        for (const r of records) ok(/^w\d+-s\d+-r\d+$/.test(r.value), `record ${r.offset}`);
        const end = log.logEndOffset;
        strictEqual((await log.append(textBatch("after", 1))).baseOffset, end, "appendable");
      } finally {
        await log.close();
      }
    });
  }
});
