/**
 * `pyralog cluster info | health`: what a broker says about its cluster. `info` shows the
 * cluster id, the controller, the brokers and the number of topics (Metadata, and
 * DescribeCluster where the broker has it); `health` exits 0 when the broker answers
 * ApiVersions (on connect) and Metadata, and reports leaderless partitions.
 */
import type { KafkaClient } from "../kafka/client/mod.ts";
import { UsageError } from "./cli_error.ts";
import { COMMON_USAGE, parseFlags, withClient } from "./cli_flags.ts";
import type { StdoutWriter } from "./stdout_writer.ts";
import { formatKeyValues, formatSection, formatTable } from "./text_table.ts";

/** Usage of `pyralog cluster`. */
export const CLUSTER_USAGE = `Usage: pyralog cluster <subcommand> [flags]

Subcommands:
  info     cluster id, controller, brokers and topic count
  health   exit 0 when the broker answers ApiVersions and Metadata, 1 otherwise

${COMMON_USAGE}`;

/** Runs `pyralog cluster ...`; resolves with the exit code. */
export async function runClusterCommand(args: string[], out: StdoutWriter): Promise<number> {
  const { values, positionals } = parseFlags(args, {});
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    await out.write(`${CLUSTER_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (rest.length > 0) throw new UsageError(`cluster ${sub} takes no arguments`);
  const json = values.json === true;
  if (sub === "info") {
    const info = await withClient(values, clusterInfo);
    if (json) await out.write(`${JSON.stringify(info)}\n`);
    else {
      await out.write(formatSection("cluster"));
      await out.write(formatKeyValues([
        ["id", info.clusterId],
        ["controller", info.controllerId],
        ["topics", info.topics],
      ]));
      await out.write(`\n${formatSection("brokers")}`);
      await out.write(formatTable(
        ["id", "host", "port", "rack"],
        info.brokers.map((b) => [
          `${b.nodeId}${b.nodeId === info.controllerId ? "*" : ""}`,
          b.host,
          b.port,
          b.rack,
        ]),
      ));
    }
    return 0;
  }
  if (sub === "health") {
    const h = await withClient(values, async (c) => {
      const md = await c.metadata(null);
      const leaderless = md.topics.flatMap((t) => t.partitions).filter((p) => p.leader < 0).length;
      return {
        healthy: true,
        address: c.address,
        brokers: md.brokers.length,
        controllerId: md.controllerId,
        leaderlessPartitions: leaderless,
      };
    });
    await out.write(
      json
        ? `${JSON.stringify(h)}\n`
        : `Healthy: ${h.address} answers; ${h.brokers} broker${
          h.brokers === 1 ? "" : "s"
        }, controller ${h.controllerId}, ${h.leaderlessPartitions} leaderless partitions\n`,
    );
    return 0;
  }
  throw new UsageError(`unknown subcommand "cluster ${sub}" (see: pyralog cluster --help)`);
}

async function clusterInfo(c: KafkaClient) {
  const md = await c.metadata(null);
  const described = await c.describeCluster();
  return {
    clusterId: described?.clusterId ?? md.clusterId,
    controllerId: described?.controllerId ?? md.controllerId,
    brokers: [...md.brokers].sort((a, b) => a.nodeId - b.nodeId),
    topics: md.topics.filter((t) => t.errorCode === 0 && !t.isInternal).length,
  };
}
