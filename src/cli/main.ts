/**
 * The command-line entry: `pyralog serve | topic | produce | consume | cluster ...`. The
 * composition root: it may import any layer. Commands other than `serve` come with issue #4.
 */
import { startNode } from "./serve.ts";
import { ConfigError, resolveServeConfig, SERVE_USAGE } from "./serve_config.ts";

const USAGE = `Usage: pyralog <command> [flags]

Commands:
  serve     run a node (see: pyralog serve --help)

Not built yet (issue #4): topic, produce, consume, group, cluster.`;

/** Runs the CLI with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "serve") {
    console.error(`pyralog: unknown or unbuilt command "${command}"\n\n${USAGE}`);
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
