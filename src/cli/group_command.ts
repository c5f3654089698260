/**
 * `pyralog group list | describe GROUP | delete GROUP...`: consumer groups over the Kafka
 * protocol (ListGroups on every broker, DescribeGroups and OffsetFetch at the coordinator,
 * ListOffsets for the log end). `describe` shows members, their assignments (decoded from
 * the "consumer" embedded protocol) and per partition the committed offset, the log end and
 * the lag, as `kafka-consumer-groups --describe` and `rpk group describe` do.
 */
import {
  type CommittedOffset,
  decodeAssignment,
  errorName,
  type GroupDescription,
  type KafkaClient,
  KafkaError,
  LATEST_TIMESTAMP,
} from "../kafka/client/mod.ts";
import { ERROR_CODES } from "../kafka/protocol/mod.ts";
import { UsageError } from "./cli_error.ts";
import { COMMON_USAGE, parseFlags, withClient } from "./cli_flags.ts";
import type { StdoutWriter } from "./stdout_writer.ts";
import { formatKeyValues, formatTable } from "./text_table.ts";

/** Usage of `pyralog group`. */
export const GROUP_USAGE = `Usage: pyralog group <subcommand> [flags]

Subcommands:
  list                 list consumer groups
  describe GROUP       members, assignments, committed offsets and lag per partition
  delete GROUP...      delete groups (they must have no members)

${COMMON_USAGE}`;

/** Runs `pyralog group ...`; resolves with the exit code. */
export async function runGroupCommand(args: string[], out: StdoutWriter): Promise<number> {
  const { values, positionals } = parseFlags(args, {});
  const [sub, ...names] = positionals;
  if (values.help || sub === undefined) {
    await out.write(`${GROUP_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const json = values.json === true;
  switch (sub) {
    case "list": {
      const groups = await withClient(values, (c) => c.listGroups());
      await out.write(
        json ? `${JSON.stringify(groups)}\n` : formatTable(
          ["group", "state", "protocol-type", "coordinator"],
          groups.map((g) => [g.groupId, g.state, g.protocolType, g.coordinator]),
        ),
      );
      return 0;
    }
    case "describe": {
      const [group, ...rest] = names;
      if (group === undefined || rest.length > 0) {
        throw new UsageError("group describe takes one group name");
      }
      const report = await withClient(values, (c) => describeGroup(c, group));
      await out.write(json ? `${JSON.stringify(report)}\n` : formatReport(report));
      return 0;
    }
    case "delete": {
      if (names.length === 0) throw new UsageError("group delete needs a group name");
      const results = await withClient(values, (c) => c.deleteGroups(names));
      const rows = results.map((r) => ({
        group: r.name,
        error: r.errorCode === 0 ? null : errorName(r.errorCode),
      }));
      await out.write(
        json
          ? `${JSON.stringify(rows)}\n`
          : formatTable(["group", "status"], rows.map((r) => [r.group, r.error ?? "OK"])),
      );
      return results.every((r) => r.errorCode === 0) ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown subcommand "group ${sub}" (see: pyralog group --help)`);
  }
}

/** What `group describe` reports. */
interface GroupReport {
  group: string;
  coordinator: number;
  state: string;
  protocolType: string;
  protocol: string;
  members: Array<{
    memberId: string;
    clientId: string;
    clientHost: string;
    assignment: Record<string, number[]>;
  }>;
  offsets: Array<{
    topic: string;
    partition: number;
    committedOffset: number | null;
    logEndOffset: number | null;
    lag: number | null;
    memberId: string | null;
  }>;
  totalLag: number;
}

async function describeGroup(client: KafkaClient, group: string): Promise<GroupReport> {
  const d: GroupDescription = await client.describeGroup(group);
  if (d.errorCode !== 0) throw new KafkaError(`Cannot describe group "${group}"`, d.errorCode);
  const committed: CommittedOffset[] = (await client.fetchCommittedOffsets(group, null))
    .filter((c) => c.errorCode === 0);
  if (d.state === "Dead" && d.members.length === 0 && committed.length === 0) {
    throw new KafkaError(
      `Cannot describe group "${group}"`,
      ERROR_CODES.GROUP_ID_NOT_FOUND,
      "no such group",
    );
  }
  const owner = new Map<string, string>();
  const members = d.members.map((m) => {
    const assignment: Record<string, number[]> = {};
    if (d.protocolType === "consumer" && m.assignment.length > 0) {
      for (const [t, parts] of decodeAssignment(m.assignment).partitions) {
        assignment[t] = [...parts];
        for (const p of parts) owner.set(`${t}\u0000${p}`, m.memberId);
      }
    }
    return { memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, assignment };
  });
  // Every partition that has a committed offset or an owner.
  const byTopic = new Map<string, Set<number>>();
  const note = (t: string, p: number) => byTopic.set(t, (byTopic.get(t) ?? new Set()).add(p));
  for (const c of committed) note(c.topic, c.partition);
  for (const key of owner.keys()) {
    const [t = "", p = "0"] = key.split("\u0000");
    note(t, Number(p));
  }
  const ends = new Map<string, number>();
  for (const [topic, parts] of byTopic) {
    for (const o of await client.listOffsets(topic, [...parts], LATEST_TIMESTAMP)) {
      if (o.errorCode === 0) ends.set(`${topic}\u0000${o.partition}`, o.offset);
    }
  }
  const offsets = [...byTopic].flatMap(([topic, parts]) =>
    [...parts].sort((a, b) => a - b).map((partition) => {
      const key = `${topic}\u0000${partition}`;
      const c = committed.find((x) => x.topic === topic && x.partition === partition);
      const committedOffset = c !== undefined && c.offset >= 0 ? c.offset : null;
      const logEndOffset = ends.get(key) ?? null;
      const lag = committedOffset !== null && logEndOffset !== null
        ? Math.max(0, logEndOffset - committedOffset)
        : null;
      return {
        topic,
        partition,
        committedOffset,
        logEndOffset,
        lag,
        memberId: owner.get(key) ?? null,
      };
    })
  ).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return {
    group,
    coordinator: d.coordinator.nodeId,
    state: d.state,
    protocolType: d.protocolType,
    protocol: d.protocol,
    members,
    offsets,
    totalLag: offsets.reduce((n, o) => n + (o.lag ?? 0), 0),
  };
}

function formatReport(r: GroupReport): string {
  const clientOf = new Map(r.members.map((m) => [m.memberId, m]));
  return formatKeyValues([
    ["group", r.group],
    ["coordinator", r.coordinator],
    ["state", r.state],
    ["protocol", r.protocol === "" ? null : r.protocol],
    ["members", r.members.length],
    ["total-lag", r.totalLag],
  ]) + "\n" + formatTable(
    [
      "topic",
      "partition",
      "current-offset",
      "log-end-offset",
      "lag",
      "member-id",
      "client-id",
      "host",
    ],
    r.offsets.map((o) => {
      const m = o.memberId === null ? undefined : clientOf.get(o.memberId);
      return [
        o.topic,
        o.partition,
        o.committedOffset,
        o.logEndOffset,
        o.lag,
        o.memberId,
        m?.clientId,
        m?.clientHost,
      ];
    }),
  );
}
