/**
 * The command-line entry: `pyralog serve | topic | produce | consume | group | cluster`. The
 * composition root: it may import any layer. Client commands talk to any Kafka-compatible
 * broker (`--brokers`); each failure is one line on stderr, exit code 1 (2 for wrong usage).
 */
import { FrameDecodeError, TransportError } from "../util/mod.ts";
import { KafkaError } from "../kafka/client/mod.ts";
import { UsageError } from "./cli_error.ts";
import { runClusterCommand } from "./cluster_command.ts";
import { runConsumeCommand } from "./consume_command.ts";
import { runGroupCommand } from "./group_command.ts";
import { runProduceCommand } from "./produce_command.ts";
import { startNode } from "./serve.ts";
import { ConfigError, resolveServeConfig, SERVE_USAGE } from "./serve_config.ts";
import { StdoutWriter } from "./stdout_writer.ts";
import { runTopicCommand } from "./topic_command.ts";

const USAGE = `Usage: pyralog <command> [flags]

Commands:
  serve                                   run a node (see: pyralog serve --help)
  topic create|list|describe|delete|alter-config
                                          manage topics
  produce TOPIC                           produce lines of stdin (or --file) as records
  consume TOPIC                           print records (--from-beginning, --group, --count)
  group list|describe|delete              consumer groups, their offsets and lag
  cluster info|health                     brokers, controller, health

Client commands take --brokers HOST:PORT[,...] (default 127.0.0.1:9092) and --json.
Run "pyralog <command> --help" for a command's flags.`;

/** A client command: parses its args, writes to `out`, resolves with the exit code. */
type Command = (args: string[], out: StdoutWriter) => Promise<number>;

const CLIENT_COMMANDS: Readonly<Record<string, Command>> = {
  topic: runTopicCommand,
  produce: runProduceCommand,
  consume: runConsumeCommand,
  group: runGroupCommand,
  cluster: runClusterCommand,
};

/** Runs a client command, mapping its failures to one line on stderr and an exit code. */
async function runClientCommand(name: string, command: Command, args: string[]): Promise<number> {
  const out = new StdoutWriter();
  try {
    const code = await command(args, out);
    await out.flush();
    return code;
  } catch (err) {
    await out.flush().catch(() => {/* stdout is gone too: the error line matters more */});
    if (err instanceof UsageError) {
      console.error(`pyralog ${name}: ${err.message} (see: pyralog ${name} --help)`);
      return 2;
    }
    if (
      err instanceof TransportError || err instanceof KafkaError ||
      err instanceof FrameDecodeError || err instanceof RangeError
    ) {
      console.error(`pyralog: ${err.message}`);
      return 1;
    }
    // A bug: still one line, with the stack on request.
    const e = err instanceof Error ? err : new Error(String(err));
    console.error(`pyralog: Unexpected error: ${e.message}`);
    if (Deno.env.get("PYRALOG_DEBUG")) console.error(e.stack);
    return 1;
  }
}

/** Runs the CLI with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const client = CLIENT_COMMANDS[command];
  if (client !== undefined) return await runClientCommand(command, client, rest);
  if (command !== "serve") {
    console.error(`pyralog: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = resolveServeConfig(rest, Deno.env.toObject(), (p) => Deno.readTextFileSync(p));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`pyralog serve: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (config === "help") {
    console.log(SERVE_USAGE);
    return 0;
  }
  let node;
  try {
    node = startNode(config);
  } catch (err) {
    console.error(`pyralog serve: Cannot start: ${(err as Error).message}`);
    return 1;
  }
  const stop = () => {
    node.shutdown().catch((err) => {
      console.error(`pyralog serve: Shutdown failed: ${(err as Error).message}`);
      Deno.exit(1);
    });
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await node.finished;
  return 0;
}
