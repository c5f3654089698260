/**
 * Kill test for the storage engine (issue #2): a child process appends with fsync=always from
 * several concurrent appenders (tests/helpers/append_child.ts) and prints every acknowledged
 * append; the parent SIGKILLs it mid-stream, reopens the log and checks that every
 * acknowledged record is there, intact, at its acknowledged offset, that the log is one
 * contiguous run of well-formed batches from offset 0, and that it still accepts appends.
 *
 * Group commit is exercised on the way: many appenders wait on shared fdatasyncs, and the
 * kill lands while some appends are written but not yet synced or acknowledged.
 *
 * Bounds: the parent waits for at most `ACKS_WANTED` acks or `ACK_WAIT_MS`; the child is
 * killed by its PID in a `finally` and itself exits after a fixed count or time.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { PartitionLog } from "../src/storage/mod.ts";
import { textBatch, withTempDir } from "../src/testing/temp_dir.ts";
import { killChild, readAll, readLines } from "./helpers/log_check.ts";

const ACKS_WANTED = 300;
const ACK_WAIT_MS = 30_000;
const RUNS = 3;
const APPENDERS = 8;
/** Small segments so kills also land around segment rolls. */
const SEGMENT_BYTES = 16 * 1024;
const CHILD = new URL("./helpers/append_child.ts", import.meta.url).pathname;

/** An acknowledged append: its base offset and the values of its records. */
interface Ack {
  baseOffset: number;
  values: string[];
}

/** Runs the child until it has printed `wanted` acks, then SIGKILLs it. Returns the acks. */
async function appendThenKill(dir: string, wanted: number): Promise<Ack[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CHILD, dir, String(APPENDERS), String(SEGMENT_BYTES)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const acks: Ack[] = [];
  let status: Deno.CommandStatus;
  try {
    await readLines(child.stdout, (line) => {
      const m = /^ack (\d+) (\S+)$/.exec(line);
      ok(m, `child printed an unexpected line: ${JSON.stringify(line)}`);
      acks.push({ baseOffset: Number(m[1]), values: (m[2] ?? "").split(",") });
      return acks.length < wanted;
    }, performance.now() + ACK_WAIT_MS);
  } finally {
    killChild(child);
    status = await child.status;
  }
  if (acks.length < wanted) {
    const stderr = await new Response(child.stderr).text();
    throw new Error(
      `child gave ${acks.length} of ${wanted} acks within ${ACK_WAIT_MS} ms ` +
        `(exit ${status.code}, signal ${status.signal}): ${stderr}`,
    );
  }
  await child.stderr.cancel();
  strictEqual(status.signal, "SIGKILL", "the child was killed, not finished");
  return acks;
}

Deno.test("storage kill: every append acknowledged with fsync=always survives SIGKILL", async () => {
  for (let run = 0; run < RUNS; run++) {
    await withTempDir(async (dir) => {
      const acks = await appendThenKill(dir, ACKS_WANTED + run * 100);
      const log = PartitionLog.open(dir, { config: { fsync: "always" }, onWarning: () => {} });
      const records = readAll(log);
      // readAll walks offsets from 0 to the end; the records must be exactly that run.
      deepStrictEqual(records.map((r) => r.offset), records.map((_, i) => i), "contiguous");
      strictEqual(log.logEndOffset, records.length, "end offset matches the records");
      for (const ack of acks) {
        ack.values.forEach((value, i) => {
          deepStrictEqual(
            records[ack.baseOffset + i],
            { offset: ack.baseOffset + i, value },
            `run ${run}: acknowledged record at offset ${ack.baseOffset + i}`,
          );
        });
      }
      // Every record is one the child wrote, none twice, each appender's in its own order.
      const lastSeq = new Map<string, number>();
      const seen = new Set<string>();
      for (const r of records) {
        const m = /^(w\d+)-s(\d+)-r(\d+)$/.exec(r.value);
        ok(m, `run ${run}: record ${r.offset} holds ${JSON.stringify(r.value)}`);
        ok(!seen.has(r.value), `run ${run}: ${r.value} stored twice`);
        seen.add(r.value);
        const worker = m[1] ?? "", seq = Number(m[2]);
        ok(seq >= (lastSeq.get(worker) ?? 0), `run ${run}: ${r.value} out of order`);
        lastSeq.set(worker, seq);
      }
      const end = log.logEndOffset;
      strictEqual((await log.append(textBatch("after", 1))).baseOffset, end, "appendable");
      await log.close();
      const again = PartitionLog.open(dir, { config: { fsync: "always" } });
      strictEqual(again.logEndOffset, end + 1, `run ${run}: stable across a second reopen`);
      await again.close();
    });
  }
});
