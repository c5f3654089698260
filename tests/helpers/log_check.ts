/**
 * Shared checks for the storage fault-injection tests: read a whole partition log back as
 * (offset, value) pairs, build batches with recognisable values, and run bounded child
 * processes. Imported only by tests under `tests/`.
 *
 * Every loop here is bounded (by the log end, a count or a deadline) so a broken engine makes
 * a test fail, never hang.
 */
import { decodeBatch, iterateBatches } from "../../src/records/mod.ts";
import type { PartitionLog } from "../../src/storage/mod.ts";

const dec = new TextDecoder();

/** One record as read back: its offset and its value as text. */
export interface RecordView {
  offset: number;
  value: string;
}

/** Largest read issued by `readAll`; small enough to make it walk several calls. */
const READ_BYTES_MAX = 64 * 1024;

/**
 * Reads every record from the log start to the log end, decoding (and so CRC-checking) each
 * batch. Bounded by the number of records: each call must make progress.
 * @throws {Error} when a read returns offsetOutOfRange or makes no progress.
 */
export function readAll(log: PartitionLog): RecordView[] {
  const out: RecordView[] = [];
  let at = log.logStartOffset;
  const end = log.logEndOffset;
  for (let guard = 0; at < end; guard++) {
    if (guard > end + 1) throw new Error(`readAll made no progress at offset "${at}"`);
    const r = log.read(at, READ_BYTES_MAX);
    if (r.type !== "ok") throw new Error(`readAll: offset "${at}" is out of range`);
    if (r.nextOffset <= at) throw new Error(`readAll: read at "${at}" made no progress`);
    for (const frame of iterateBatches(r.bytes)) {
      for (const rec of decodeBatch(frame.bytes).records) {
        if (rec.offset >= at) {
          out.push({ offset: rec.offset, value: dec.decode(rec.value ?? new Uint8Array()) });
        }
      }
    }
    at = r.nextOffset;
  }
  return out;
}

/** Decodes the records of one read result's bytes. */
export function recordsOf(bytes: Uint8Array): RecordView[] {
  const out: RecordView[] = [];
  for (const frame of iterateBatches(bytes)) {
    for (const rec of decodeBatch(frame.bytes).records) {
      out.push({ offset: rec.offset, value: dec.decode(rec.value ?? new Uint8Array()) });
    }
  }
  return out;
}

/** The stdout lines of a child process, read with a bound on count and on time. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => boolean,
  deadlineMs: number,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  try {
    // Bounded by the deadline: each read is raced against the time left.
    while (performance.now() < deadlineMs) {
      const left = deadlineMs - performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(1, left));
      });
      const next = await Promise.race([reader.read(), timeout]);
      clearTimeout(timer);
      if (next === "timeout" || next.done) return;
      pending += next.value;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!onLine(line)) return;
      }
    }
  } finally {
    // Cancelling releases the pipe; a killed child's stream may already be closed.
    await reader.cancel().catch(() => undefined);
  }
}

/** Sends SIGKILL to the child's PID; a child that already exited cannot be signalled. */
export function killChild(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch (err) {
    // Deno throws TypeError for an exited child; its exit status then tells what happened.
    if (!(err instanceof TypeError)) throw err;
  }
}
