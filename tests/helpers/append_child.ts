/**
 * Child process for the kill and power-cut tests: appends to the partition log in `dir`
 * (argument 1) with fsync=always from several concurrent appenders and prints one line per
 * acknowledged append, as soon as its promise resolves (so the line proves the append was
 * durable): `ack <baseOffset> <value>,<value>,...`.
 *
 * It never stops by itself before being killed, but it is bounded: it exits after
 * `MAX_APPENDS` appends or `MAX_RUN_MS`, so a parent that dies cannot leave it running.
 *
 * Usage: deno run --allow-all tests/helpers/append_child.ts DIR [APPENDERS] [SEGMENT_BYTES] [FSYNC]
 * (FSYNC defaults to "always"; "never" is for checking that the power-cut test detects loss)
 */
import { buildBatch } from "../../src/records/mod.ts";
import { type FsyncPolicy, PartitionLog } from "../../src/storage/mod.ts";

const MAX_APPENDS = 200_000;
const MAX_RUN_MS = 60_000;

const dir = Deno.args[0];
if (dir === undefined) throw new Error("Usage: append_child.ts DIR [APPENDERS] [SEGMENT_BYTES]");
const appenders = Number(Deno.args[1] ?? "8");
const segmentBytes = Number(Deno.args[2] ?? String(64 * 1024));
const enc = new TextEncoder();
const fsync = (Deno.args[3] ?? "always") as FsyncPolicy;
const log = PartitionLog.open(dir, { config: { fsync, segmentBytes } });
const startMs = performance.now();
let appended = 0;

/** Writes synchronously, so the line is in the pipe before the next append starts. */
function writeLine(line: string): void {
  const bytes = enc.encode(`${line}\n`);
  // Bounded: every writeSync to a pipe writes at least one byte or throws.
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

/** One appender: batches of 1-3 records whose values name the appender and its sequence. */
async function appender(worker: number): Promise<void> {
  // Bounded by MAX_APPENDS and MAX_RUN_MS across all appenders.
  for (let seq = 0; appended < MAX_APPENDS && performance.now() - startMs < MAX_RUN_MS; seq++) {
    appended++;
    const count = 1 + (seq % 3);
    const values = Array.from({ length: count }, (_, r) => `w${worker}-s${seq}-r${r}`);
    const batch = buildBatch({
      records: values.map((v) => ({ value: enc.encode(v), timestampMs: 1_700_000_000_000 })),
    });
    const r = await log.append(batch);
    writeLine(`ack ${r.baseOffset} ${values.join(",")}`);
  }
}

await Promise.all(Array.from({ length: appenders }, (_, w) => appender(w)));
await log.close();
