/**
 * `pyralog produce TOPIC`: one record per input line (stdin or `--file`), optionally split
 * into key and value at `--key-separator`, with `--header`s, to `--partition` or by Kafka's
 * partitioner (murmur2 of the key; keyless records stick to one partition per batch, as
 * Kafka's sticky partitioner does). Records are batched per partition and sent with a
 * bounded number of Produce requests in flight, so large inputs go at broker speed.
 *
 * A progress line with the rate goes to stderr once a second past 10,000 records when
 * stderr is a terminal or `--progress` is given. `--json` prints a summary on stdout.
 */
import {
  buildBatch,
  type CompressionName,
  type RecordHeader,
  type RecordInput,
} from "../records/mod.ts";
import { type KafkaClient, KafkaError } from "../kafka/client/mod.ts";
import { partitionForKey } from "../util/mod.ts";
import { UsageError } from "./cli_error.ts";
import { COMMON_USAGE, intFlag, keyValueFlags, parseFlags, withClient } from "./cli_flags.ts";
import { LineSplitter, splitKey } from "./line_splitter.ts";
import { ProgressMeter } from "./progress_meter.ts";
import type { StdoutWriter } from "./stdout_writer.ts";

/** Usage of `pyralog produce`. */
export const PRODUCE_USAGE = `Usage: pyralog produce TOPIC [flags] < lines

Produces one record per line of stdin (or --file); the topic is created if the broker
auto-creates topics.

Flags:
      --file PATH            read lines from PATH instead of stdin
  -K, --key-separator SEP    split each line into KEY SEP VALUE (no SEP in a line: no key)
  -H, --header KEY=VALUE     add a header to every record, repeatable
  -a, --acks 0|1|all         acknowledgements to wait for (default all)
  -p, --partition N          produce to partition N (default: by key, else sticky)
  -z, --compression CODEC    none, gzip, snappy, lz4 or zstd (default none)
      --progress             print progress on stderr even when it is not a terminal
${COMMON_USAGE}`;

const PRODUCE_FLAGS = {
  file: { type: "string" },
  "key-separator": { type: "string", short: "K" },
  header: { type: "string", short: "H", multiple: true },
  acks: { type: "string", short: "a" },
  partition: { type: "string", short: "p" },
  compression: { type: "string", short: "z" },
  progress: { type: "boolean" },
} as const;

/** Records per partition batch before it is sent. */
const BATCH_RECORDS_MAX = 10_000;
/**
 * Estimated bytes of one partition's batch before everything buffered is sent: well under
 * Kafka's default max.message.bytes (1 MiB), which bounds a whole batch.
 */
const BATCH_BYTES_MAX = 512 * 1024;
/** Per-record overhead in a batch, estimated high (length, deltas, key/value lengths). */
const RECORD_OVERHEAD_BYTES = 24;
/** Produce requests awaiting an answer at once. */
const IN_FLIGHT_MAX = 4;
const COMPRESSIONS: readonly CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];

interface ProduceSettings {
  readonly topic: string;
  readonly acks: number;
  readonly partition: number | null;
  readonly separator: Uint8Array | null;
  readonly headers: RecordHeader[];
  readonly compression: CompressionName;
  readonly progress: boolean;
  /** Someone types the lines: send each as it comes instead of filling batches. */
  readonly interactive: boolean;
}

/** Runs `pyralog produce ...`; resolves with the exit code. */
export async function runProduceCommand(args: string[], out: StdoutWriter): Promise<number> {
  const { values, positionals } = parseFlags(args, PRODUCE_FLAGS);
  if (values.help) {
    await out.write(`${PRODUCE_USAGE}\n`);
    return 0;
  }
  const [topic, ...extra] = positionals;
  if (topic === undefined) throw new UsageError("produce needs a topic name");
  if (extra.length > 0) throw new UsageError(`produce takes one topic, got "${extra.join(" ")}"`);
  const encoder = new TextEncoder();
  const compression = (values.compression ?? "none") as CompressionName;
  if (!COMPRESSIONS.includes(compression)) {
    throw new UsageError(
      `invalid --compression "${values.compression}": expected ${COMPRESSIONS.join(", ")}`,
    );
  }
  const settings: ProduceSettings = {
    topic,
    acks: parseAcks(values.acks ?? "all"),
    partition: values.partition === undefined
      ? null
      : intFlag("partition", values.partition, 0, 0x7fffffff),
    separator: values["key-separator"] === undefined
      ? null
      : encoder.encode(unescape(values["key-separator"])),
    headers: Object.entries(keyValueFlags("header", values.header ?? [])).map(([key, v]) => ({
      key,
      value: encoder.encode(v),
    })),
    compression,
    progress: values.progress === true || Deno.stderr.isTerminal(),
    interactive: values.file === undefined && Deno.stdin.isTerminal(),
  };
  const input = await openInput(values.file);
  const summary = await withClient(values, (client) => produceLines(client, input, settings));
  if (values.json) await out.write(`${JSON.stringify({ topic, ...summary })}\n`);
  return 0;
}

function parseAcks(v: string): number {
  if (v === "all" || v === "-1") return -1;
  if (v === "0" || v === "1") return Number(v);
  throw new UsageError(`invalid --acks "${v}": expected 0, 1 or all`);
}

/** "\t" and "\n" in a separator as the characters, as kcat's -K accepts them. */
function unescape(s: string): string {
  return s.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
}

async function openInput(path: string | undefined): Promise<ReadableStream<Uint8Array>> {
  if (path === undefined) return Deno.stdin.readable;
  try {
    return (await Deno.open(path, { read: true })).readable;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new UsageError(`Cannot open "${path}": no such file`);
    }
    throw new UsageError(`Cannot open "${path}": ${(err as Error).message}`);
  }
}

/** What was produced. */
interface ProduceSummary {
  records: number;
  bytes: number;
  durationMs: number;
}

async function produceLines(
  client: KafkaClient,
  input: ReadableStream<Uint8Array>,
  s: ProduceSettings,
): Promise<ProduceSummary> {
  const info = await client.topic(s.topic, true);
  const partitions = info.partitions.length;
  if (s.partition !== null && s.partition >= partitions) {
    throw new UsageError(
      `invalid --partition ${s.partition}: topic "${s.topic}" has ${partitions} partitions`,
    );
  }
  const startMs = performance.now();
  const meter = new ProgressMeter(startMs);
  const sender = new BatchSender(client, s);
  const splitter = new LineSplitter();
  const pending = new Map<number, RecordInput[]>();
  const pendingBytes = new Map<number, number>();
  const headerBytes = s.headers.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0) + 4, 0);
  let sticky = 0;
  const flush = async () => {
    await sender.send(pending);
    pending.clear();
    pendingBytes.clear();
    sticky = (sticky + 1) % partitions;
  };
  const add = async (line: Uint8Array, nowMs: number) => {
    const { key, value } = splitKey(line, s.separator);
    const p = s.partition ?? (key === null ? sticky : partitionForKey(key, partitions));
    const list = pending.get(p) ?? [];
    list.push({ key, value, headers: s.headers, timestampMs: nowMs });
    pending.set(p, list);
    const bytes = (pendingBytes.get(p) ?? 0) + line.length + RECORD_OVERHEAD_BYTES + headerBytes;
    pendingBytes.set(p, bytes);
    meter.add(1, line.length);
    if (list.length >= BATCH_RECORDS_MAX || bytes >= BATCH_BYTES_MAX) await flush();
  };
  // Bounded by the input: every chunk is consumed once.
  for await (const chunk of input) {
    const nowMs = Date.now();
    for (const line of splitter.push(chunk)) await add(line, nowMs);
    if (s.interactive) await flush();
    const line = s.progress ? meter.poll(performance.now()) : null;
    if (line !== null) printProgress(line);
  }
  const last = splitter.end();
  if (last !== null) await add(last, Date.now());
  await flush();
  await sender.drain();
  const endMs = performance.now();
  if (s.progress && meter.records > 0) printProgress(meter.summary(endMs), true);
  return {
    records: meter.records,
    bytes: meter.bytes,
    durationMs: Math.round(endMs - startMs),
  };
}

const encoder = new TextEncoder();

function printProgress(line: string, final = false): void {
  // On a terminal the line is rewritten in place; in a log each update is a line.
  const text = Deno.stderr.isTerminal() ? `\r\x1b[K${line}${final ? "\n" : ""}` : `${line}\n`;
  Deno.stderr.writeSync(encoder.encode(text));
}

/** Sends batches with at most `IN_FLIGHT_MAX` Produce calls outstanding. */
class BatchSender {
  readonly #client: KafkaClient;
  readonly #s: ProduceSettings;
  readonly #inFlight: Promise<void>[] = [];

  constructor(client: KafkaClient, s: ProduceSettings) {
    this.#client = client;
    this.#s = s;
  }

  async send(pending: ReadonlyMap<number, RecordInput[]>): Promise<void> {
    if (pending.size === 0) return;
    const batches = [...pending].map(([partition, records]) => ({
      partition,
      records: buildBatch({ records, compression: this.#s.compression }),
    }));
    const call = this.#client.produce(this.#s.topic, batches, this.#s.acks).then((results) => {
      for (const r of results) {
        if (r.errorCode !== 0) {
          throw new KafkaError(
            `Cannot produce to "${this.#s.topic}-${r.partition}"`,
            r.errorCode,
            r.errorMessage,
          );
        }
      }
    });
    // Mark as handled now; the error is rethrown when the call is awaited below.
    call.catch(() => {/* awaited in order by send/drain */});
    this.#inFlight.push(call);
    if (this.#inFlight.length >= IN_FLIGHT_MAX) await this.#inFlight.shift();
  }

  async drain(): Promise<void> {
    // Bounded by IN_FLIGHT_MAX entries.
    while (this.#inFlight.length > 0) await this.#inFlight.shift();
  }
}
