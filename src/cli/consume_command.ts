/**
 * `pyralog consume TOPIC`: prints records from a topic, from the beginning, an offset, a
 * timestamp or the end (the default), alone or as a member of a consumer group (`--group`,
 * which resumes from the group's committed offsets and commits as it goes). Output is one
 * value per line, a kcat-style `--format` template, or `--json` lines.
 *
 * It stops after `--count` records, at the end of every partition with `--exit-at-end`, on
 * SIGINT/SIGTERM, or when stdout's reader goes away; a group member then commits its
 * positions and leaves the group. Every wait is bounded by Fetch's maxWaitMs, so a signal is
 * noticed within that time.
 */
import {
  EARLIEST_TIMESTAMP,
  fetchedRecords,
  GroupConsumer,
  isRetriable,
  type KafkaClient,
  KafkaError,
  LATEST_TIMESTAMP,
} from "../kafka/client/mod.ts";
import { UsageError } from "./cli_error.ts";
import { COMMON_USAGE, intFlag, parseFlags, withClient } from "./cli_flags.ts";
import {
  compileTemplate,
  DEFAULT_TEMPLATE,
  type OutputRecord,
  recordJson,
} from "./record_template.ts";
import type { StdoutWriter } from "./stdout_writer.ts";

/** Usage of `pyralog consume`. */
export const CONSUME_USAGE = `Usage: pyralog consume TOPIC [flags]

Prints records, one value per line by default, until interrupted.

Flags:
      --from-beginning        start at the earliest offset
  -o, --offset OFFSET         start at N, "beginning" or "end" (default end)
      --timestamp MS          start at the first record at or after MS (ms since the epoch)
  -g, --group GROUP           consume as a member of GROUP: resume from its committed offsets
                              (the start flags apply where nothing is committed) and commit
  -c, --count N               exit after N records
  -e, --exit-at-end           exit when every partition is read to its end
  -p, --partition P           only partition P (repeatable; not with --group)
  -f, --format TEMPLATE       kcat-style template: %t topic, %p partition, %o offset, %k key,
                              %s value, %T timestamp, %h headers, %K/%S key/value length,
                              \\n \\t escapes (default "${DEFAULT_TEMPLATE}")
${COMMON_USAGE}`;

const CONSUME_FLAGS = {
  "from-beginning": { type: "boolean" },
  offset: { type: "string", short: "o" },
  timestamp: { type: "string" },
  group: { type: "string", short: "g" },
  count: { type: "string", short: "c" },
  "exit-at-end": { type: "boolean", short: "e" },
  partition: { type: "string", short: "p", multiple: true },
  format: { type: "string", short: "f" },
} as const;

/** Longest a Fetch waits for data, so signals and --exit-at-end are noticed promptly. */
const FETCH_MAX_WAIT_MS = 500;
/** Wait before fetching again after a retriable partition error. */
const RETRY_BACKOFF_MS = 100;
/** How often a group member commits while consuming. */
const COMMIT_INTERVAL_MS = 1_000;

/** Where to start a partition that has no committed offset. */
type StartAt =
  | { readonly type: "offset"; readonly offset: number }
  | { readonly type: "timestamp"; readonly timestamp: bigint };

interface ConsumeSettings {
  readonly topic: string;
  readonly start: StartAt;
  readonly group: string | null;
  readonly count: number | null;
  readonly exitAtEnd: boolean;
  readonly partitions: number[] | null;
  readonly format: (r: OutputRecord) => string;
}

/** Runs `pyralog consume ...`; resolves with the exit code. */
export async function runConsumeCommand(args: string[], out: StdoutWriter): Promise<number> {
  const { values, positionals } = parseFlags(args, CONSUME_FLAGS);
  if (values.help) {
    await out.write(`${CONSUME_USAGE}\n`);
    return 0;
  }
  const [topic, ...extra] = positionals;
  if (topic === undefined) throw new UsageError("consume needs a topic name");
  if (extra.length > 0) throw new UsageError(`consume takes one topic, got "${extra.join(" ")}"`);
  if (values.group !== undefined && values.partition !== undefined) {
    throw new UsageError("--partition and --group exclude each other: the group assigns");
  }
  let format: (r: OutputRecord) => string;
  try {
    format = values.json ? recordJson : compileTemplate(values.format ?? DEFAULT_TEMPLATE);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`invalid --format: ${err.message}`);
    throw err;
  }
  const settings: ConsumeSettings = {
    topic,
    start: parseStart(values),
    group: values.group ?? null,
    count: values.count === undefined ? null : intFlag("count", values.count, 1, 2 ** 53 - 1),
    exitAtEnd: values["exit-at-end"] === true,
    partitions: values.partition?.map((p) => intFlag("partition", p, 0, 0x7fffffff)) ?? null,
    format,
  };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await withClient(values, (client) => consume(client, settings, out, stop.signal));
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    await out.flush();
  }
  return 0;
}

function parseStart(
  values: { "from-beginning"?: boolean; offset?: string; timestamp?: string },
): StartAt {
  const given = [values["from-beginning"], values.offset, values.timestamp].filter((v) =>
    v !== undefined && v !== false
  );
  if (given.length > 1) {
    throw new UsageError("give only one of --from-beginning, --offset and --timestamp");
  }
  if (values["from-beginning"]) return { type: "timestamp", timestamp: EARLIEST_TIMESTAMP };
  if (values.timestamp !== undefined) {
    const ms = intFlag("timestamp", values.timestamp, 0, Number.MAX_SAFE_INTEGER);
    return { type: "timestamp", timestamp: BigInt(ms) };
  }
  const o = values.offset ?? "end";
  if (o === "beginning" || o === "earliest" || o === "start") {
    return { type: "timestamp", timestamp: EARLIEST_TIMESTAMP };
  }
  if (o === "end" || o === "latest") return { type: "timestamp", timestamp: LATEST_TIMESTAMP };
  return { type: "offset", offset: intFlag("offset", o, 0, Number.MAX_SAFE_INTEGER) };
}

/** Resolves start offsets of `partitions` per `start`. */
async function startOffsets(
  client: KafkaClient,
  topic: string,
  partitions: readonly number[],
  start: StartAt,
): Promise<Map<number, number>> {
  if (start.type === "offset") return new Map(partitions.map((p) => [p, start.offset]));
  if (partitions.length === 0) return new Map();
  const found = await client.listOffsets(topic, partitions, start.timestamp);
  const out = new Map<number, number>();
  let latest: Map<number, number> | null = null;
  for (const r of found) {
    if (r.errorCode !== 0) {
      throw new KafkaError(
        `Cannot find the start offset of "${topic}-${r.partition}"`,
        r.errorCode,
      );
    }
    if (r.offset >= 0) {
      out.set(r.partition, r.offset);
      continue;
    }
    // No record at or after the timestamp: start at the end, as Kafka's offsetsForTimes users do.
    latest ??= new Map(
      (await client.listOffsets(topic, partitions, LATEST_TIMESTAMP)).map((x) => [
        x.partition,
        x.offset,
      ]),
    );
    out.set(r.partition, latest.get(r.partition) ?? 0);
  }
  return out;
}

async function consume(
  client: KafkaClient,
  s: ConsumeSettings,
  out: StdoutWriter,
  signal: AbortSignal,
): Promise<void> {
  const info = await client.topic(s.topic);
  const all = info.partitions.map((p) => p.partition);
  for (const p of s.partitions ?? []) {
    if (!all.includes(p)) {
      throw new UsageError(
        `invalid --partition ${p}: topic "${s.topic}" has ${all.length} partitions`,
      );
    }
  }
  const member = s.group === null
    ? null
    : await GroupConsumer.join(client, { groupId: s.group, topics: [s.topic] });
  try {
    const loop = new ConsumeLoop(client, s, out, member);
    await loop.position(s.partitions ?? all);
    await loop.run(signal);
  } finally {
    await member?.leave();
  }
}

/** The fetch loop: positions per partition, counts, commits. */
class ConsumeLoop {
  readonly #client: KafkaClient;
  readonly #s: ConsumeSettings;
  readonly #out: StdoutWriter;
  readonly #member: GroupConsumer | null;
  #positions = new Map<number, number>();
  readonly #highWatermarks = new Map<number, number>();
  #printed = 0;
  #lastCommitMs = 0;
  #committed = new Map<number, number>();

  constructor(client: KafkaClient, s: ConsumeSettings, out: StdoutWriter, m: GroupConsumer | null) {
    this.#client = client;
    this.#s = s;
    this.#out = out;
    this.#member = m;
  }

  /**
   * Sets start positions: for a group member its assigned partitions at their committed
   * offsets (`partitions` is ignored), else `partitions` per the start flags.
   */
  async position(partitions: readonly number[]): Promise<void> {
    if (this.#member === null) {
      this.#positions = await startOffsets(this.#client, this.#s.topic, partitions, this.#s.start);
      return;
    }
    const assigned = [...(this.#member.assignment.get(this.#s.topic) ?? [])];
    const committed = new Map(
      (await this.#member.committed()).filter((c) => c.topic === this.#s.topic && c.offset >= 0)
        .map((c) => [c.partition, c.offset]),
    );
    const fresh = await startOffsets(
      this.#client,
      this.#s.topic,
      assigned.filter((p) => !committed.has(p)),
      this.#s.start,
    );
    this.#positions = new Map(assigned.map((p) => [p, committed.get(p) ?? fresh.get(p) ?? 0]));
    this.#committed = new Map(committed);
    this.#highWatermarks.clear();
  }

  async run(signal: AbortSignal): Promise<void> {
    // Bounded by the stop conditions; each turn waits at most FETCH_MAX_WAIT_MS.
    while (!signal.aborted && !this.#done()) {
      if (this.#member?.needsRejoin) {
        await this.#commit(true);
        await this.#member.rejoin();
        await this.position([]);
        continue;
      }
      if (this.#positions.size === 0) {
        // A member without partitions idles until a rebalance gives it some.
        await new Promise((r) => setTimeout(r, FETCH_MAX_WAIT_MS));
        continue;
      }
      await this.#fetchOnce();
      await this.#out.flush();
      await this.#commit(false);
    }
    await this.#out.flush();
    await this.#commit(true);
  }

  #done(): boolean {
    if (this.#out.isClosed) return true;
    if (this.#s.count !== null && this.#printed >= this.#s.count) return true;
    if (!this.#s.exitAtEnd || this.#positions.size === 0) return false;
    return [...this.#positions].every(([p, pos]) => {
      const hw = this.#highWatermarks.get(p);
      return hw !== undefined && pos >= hw;
    });
  }

  async #fetchOnce(): Promise<void> {
    const results = await this.#client.fetch(
      [...this.#positions].map(([partition, offset]) => ({
        topic: this.#s.topic,
        partition,
        offset,
      })),
      { maxWaitMs: FETCH_MAX_WAIT_MS },
    );
    for (const r of results) {
      if (r.errorCode !== 0) {
        if (isRetriable(r.errorCode)) {
          // A leader moving or not yet elected: wait a little, then route by fresh metadata.
          await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
          await this.#client.metadata([this.#s.topic]);
          continue;
        }
        throw new KafkaError(
          `Cannot fetch "${r.topic}-${r.partition}" at offset ${this.#positions.get(r.partition)}`,
          r.errorCode,
        );
      }
      this.#highWatermarks.set(r.partition, r.highWatermark);
      if (r.records !== null) await this.#print(r.partition, r.records);
      if (this.#s.count !== null && this.#printed >= this.#s.count) return;
    }
  }

  async #print(partition: number, bytes: Uint8Array): Promise<void> {
    const left = this.#s.count === null ? Number.POSITIVE_INFINITY : this.#s.count - this.#printed;
    const { records, nextOffset } = fetchedRecords(
      bytes,
      this.#positions.get(partition) ?? 0,
      left,
    );
    for (const rec of records) {
      await this.#out.write(this.#s.format({ topic: this.#s.topic, partition, ...rec }));
    }
    this.#printed += records.length;
    this.#positions.set(partition, nextOffset);
  }

  async #commit(force: boolean): Promise<void> {
    if (this.#member === null) return;
    const now = performance.now();
    if (!force && now - this.#lastCommitMs < COMMIT_INTERVAL_MS) return;
    this.#lastCommitMs = now;
    const changed = [...this.#positions].filter(([p, pos]) => this.#committed.get(p) !== pos);
    if (changed.length === 0) return;
    await this.#member.commit(
      changed.map(([partition, offset]) => ({ topic: this.#s.topic, partition, offset })),
    );
    for (const [p, pos] of changed) this.#committed.set(p, pos);
  }
}
