/**
 * `pyralog topic create | list | describe | delete | alter-config`: topic administration
 * over the Kafka protocol (CreateTopics, Metadata, DescribeConfigs, ListOffsets,
 * DeleteTopics, IncrementalAlterConfigs), with rpk-style tables or `--json`. A topic that
 * fails to be created or deleted is reported in its row and makes the exit code 1.
 */
import {
  EARLIEST_TIMESTAMP,
  errorName,
  type ItemResult,
  KafkaClient,
  KafkaError,
  LATEST_TIMESTAMP,
} from "../kafka/client/mod.ts";
import { ERROR_CODES } from "../kafka/protocol/mod.ts";
import { UsageError } from "./cli_error.ts";
import { COMMON_USAGE, intFlag, keyValueFlags, parseFlags, withClient } from "./cli_flags.ts";
import type { StdoutWriter } from "./stdout_writer.ts";
import { formatKeyValues, formatSection, formatTable } from "./text_table.ts";

/** Usage of `pyralog topic`. */
export const TOPIC_USAGE = `Usage: pyralog topic <subcommand> [flags]

Subcommands:
  create NAME... [-p N] [-r R] [-c KEY=VALUE]...   create topics
  list [--internal]                               list topics
  describe NAME                                   partitions, offsets and configs of a topic
  delete NAME...                                  delete topics
  add-partitions NAME... --num N                  add N partitions to each topic
  alter-config NAME [--set KEY=VALUE]... [--delete KEY]...   change topic configs

Flags of create:
  -p, --partitions N           partitions (default: the broker's default)
  -r, --replication-factor R   replicas per partition (default: the broker's default)
  -c, --config KEY=VALUE       topic config, repeatable
      --dry-run                validate only (also for add-partitions)

${COMMON_USAGE}`;

const TOPIC_FLAGS = {
  partitions: { type: "string", short: "p" },
  "replication-factor": { type: "string", short: "r" },
  config: { type: "string", short: "c", multiple: true },
  "dry-run": { type: "boolean" },
  internal: { type: "boolean", short: "i" },
  set: { type: "string", short: "s", multiple: true },
  delete: { type: "string", multiple: true },
  num: { type: "string", short: "n" },
} as const;

/** Runs `pyralog topic ...`; resolves with the exit code. */
export async function runTopicCommand(args: string[], out: StdoutWriter): Promise<number> {
  const { values, positionals } = parseFlags(args, TOPIC_FLAGS);
  const [sub, ...names] = positionals;
  if (values.help || sub === undefined) {
    await out.write(`${TOPIC_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const json = values.json === true;
  switch (sub) {
    case "create": {
      if (names.length === 0) throw new UsageError("topic create needs a topic name");
      const partitions = values.partitions === undefined
        ? -1
        : intFlag("partitions", values.partitions, 1, 1_000_000);
      const rf = values["replication-factor"] === undefined
        ? -1
        : intFlag("replication-factor", values["replication-factor"], 1, 32_767);
      const configs = keyValueFlags("config", values.config ?? []);
      const results = await withClient(values, (c) =>
        c.createTopics(
          names.map((name) => ({ name, partitions, replicationFactor: rf, configs })),
          values["dry-run"] === true,
        ));
      return await printResults(out, results, json);
    }
    case "delete": {
      if (names.length === 0) throw new UsageError("topic delete needs a topic name");
      return await printResults(out, await withClient(values, (c) => c.deleteTopics(names)), json);
    }
    case "add-partitions": {
      if (names.length === 0) throw new UsageError("topic add-partitions needs a topic name");
      if (values.num === undefined) throw new UsageError("topic add-partitions needs --num N");
      const add = intFlag("num", values.num, 1, 1_000_000);
      const results = await withClient(values, async (c) => {
        const md = await c.metadata(names);
        const counts = names.map((name) => {
          const t = md.topics.find((x) => x.name === name);
          return { name, count: (t?.errorCode === 0 ? t.partitions.length : 0) + add };
        });
        return await c.createPartitions(counts, values["dry-run"] === true);
      });
      return await printResults(out, results, json);
    }
    case "list":
      return await withClient(values, (c) => listTopics(c, out, json, values.internal === true));
    case "describe": {
      const name = onlyName(names, "describe");
      return await withClient(values, (c) => describeTopic(c, out, name, json));
    }
    case "alter-config": {
      const name = onlyName(names, "alter-config");
      const set = keyValueFlags("set", values.set ?? []);
      const remove = values.delete ?? [];
      if (Object.keys(set).length === 0 && remove.length === 0) {
        throw new UsageError("topic alter-config needs --set KEY=VALUE or --delete KEY");
      }
      await withClient(values, (c) => c.alterTopicConfigs(name, set, remove));
      await out.write(
        json
          ? `${JSON.stringify({ topic: name, set, deleted: remove })}\n`
          : `Altered configs of topic "${name}"\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown subcommand "topic ${sub}" (see: pyralog topic --help)`);
  }
}

function onlyName(names: string[], sub: string): string {
  const [name, ...rest] = names;
  if (name === undefined) throw new UsageError(`topic ${sub} needs a topic name`);
  if (rest.length > 0) throw new UsageError(`topic ${sub} takes one topic name`);
  return name;
}

/** Prints per-topic outcomes; 1 when any failed. */
async function printResults(
  out: StdoutWriter,
  results: readonly ItemResult[],
  json: boolean,
): Promise<number> {
  const rows = results.map((r) => ({
    topic: r.name,
    error: r.errorCode === 0 ? null : errorName(r.errorCode),
    message: r.errorMessage,
  }));
  if (json) await out.write(`${JSON.stringify(rows)}\n`);
  else {
    await out.write(formatTable(
      ["topic", "status"],
      rows.map((
        r,
      ) => [r.topic, r.error === null ? "OK" : `${r.error}${r.message ? `: ${r.message}` : ""}`]),
    ));
  }
  return results.every((r) => r.errorCode === 0) ? 0 : 1;
}

async function listTopics(
  client: KafkaClient,
  out: StdoutWriter,
  json: boolean,
  internal: boolean,
): Promise<number> {
  const md = await client.metadata(null);
  const topics = md.topics
    .filter((t) => t.errorCode === 0 && (internal || !t.isInternal && !t.name.startsWith("__")))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => ({
      name: t.name,
      id: t.topicId,
      partitions: t.partitions.length,
      replicas: t.partitions[0]?.replicas.length ?? 0,
      internal: t.isInternal,
    }));
  if (json) await out.write(`${JSON.stringify(topics)}\n`);
  else {
    await out.write(
      formatTable(
        ["name", "partitions", "replicas"],
        topics.map((t) => [
          t.name,
          t.partitions,
          t.replicas,
        ]),
      ),
    );
  }
  return 0;
}

async function describeTopic(
  client: KafkaClient,
  out: StdoutWriter,
  name: string,
  json: boolean,
): Promise<number> {
  const md = await client.metadata([name]);
  const t = md.topics.find((x) => x.name === name);
  const code = t?.errorCode ?? ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION;
  if (t === undefined || code !== 0) {
    throw new KafkaError(
      `Cannot describe topic "${name}"`,
      code,
      code === ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION ? "no such topic" : null,
    );
  }
  const ids = t.partitions.map((p) => p.partition);
  const [earliest, latest, configs] = await Promise.all([
    client.listOffsets(name, ids, EARLIEST_TIMESTAMP),
    client.listOffsets(name, ids, LATEST_TIMESTAMP),
    client.describeTopicConfigs(name),
  ]);
  const partitions = t.partitions.map((p) => ({
    partition: p.partition,
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicas: p.replicas,
    isr: p.isr,
    logStartOffset: earliest.find((o) => o.partition === p.partition)?.offset ?? -1,
    highWatermark: latest.find((o) => o.partition === p.partition)?.offset ?? -1,
  }));
  if (json) {
    await out.write(`${
      JSON.stringify({
        name,
        id: t.topicId,
        internal: t.isInternal,
        partitions,
        configs: Object.fromEntries(configs.map((c) => [c.name, c.value])),
      })
    }\n`);
    return 0;
  }
  await out.write(formatSection("summary"));
  await out.write(formatKeyValues([
    ["name", name],
    ["id", t.topicId],
    ["partitions", t.partitions.length],
    ["replicas", t.partitions[0]?.replicas.length ?? 0],
    ["internal", t.isInternal],
  ]));
  await out.write(`\n${formatSection("configs")}`);
  await out.write(formatTable(
    ["key", "value", "source"],
    configs.map((c) => [c.name, c.isSensitive ? "(sensitive)" : c.value, c.source]),
  ));
  await out.write(`\n${formatSection("partitions")}`);
  await out.write(formatTable(
    ["partition", "leader", "epoch", "replicas", "isr", "log-start-offset", "high-watermark"],
    partitions.map((p) => [
      p.partition,
      p.leader,
      p.leaderEpoch,
      p.replicas,
      p.isr,
      p.logStartOffset,
      p.highWatermark,
    ]),
  ));
  return 0;
}
