/**
 * Flag parsing shared by the client commands: `parseArgs` from node:util with the common
 * flags (`--brokers`, `--json`, `--help`, `--client-id`) merged in, Node's verbose parse
 * errors turned into one short `UsageError` line, checked numeric flags, and connecting a
 * client to `--brokers` (else `$PYRALOG_BROKERS`, else 127.0.0.1:9092).
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import {
  CONNECT_TIMEOUT_MS,
  DEFAULT_BROKER,
  KafkaClient,
  parseBrokerList,
  REQUEST_TIMEOUT_MS,
} from "../kafka/client/mod.ts";
import { UsageError } from "./cli_error.ts";

/** Flags every client command takes. */
export const COMMON_FLAGS = {
  brokers: { type: "string", short: "b" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "client-id": { type: "string" },
  "timeout-ms": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Usage text of the common flags. */
export const COMMON_USAGE = `Common flags:
  -b, --brokers HOST:PORT[,...]  brokers to bootstrap from (default $PYRALOG_BROKERS or ${DEFAULT_BROKER})
      --json                     machine-readable output
      --client-id ID             client id sent to the broker (default "pyralog-cli")
      --timeout-ms MS            bound on connecting and on each request (default 30000)
  -h, --help                     this help`;

/**
 * Parses `args` with `options` plus the common flags.
 * @throws {UsageError} on an unknown flag or a missing value.
 */
export function parseFlags<O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_FLAGS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const unknown = /Unknown option '([^']+)'/.exec(err.message);
    if (unknown) throw new UsageError(`unknown flag "${unknown[1]}"`);
    const missing = /Option '(-\S+, )?(--[^ ']+)[^']*' argument missing/.exec(err.message);
    if (missing) throw new UsageError(`flag "${missing[2]}" needs a value`);
    throw new UsageError(err.message.split(". ")[0] ?? err.message);
  }
}

/**
 * An integer flag value within [min, max].
 * @throws {UsageError} naming the flag when it is not one.
 */
export function intFlag(name: string, value: string, min: number, max: number): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `invalid --${name} "${value}": expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/**
 * Parses "k=v" flag values into a record.
 * @throws {UsageError} on an entry without "=".
 */
export function keyValueFlags(name: string, values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid --${name} "${v}": expected KEY=VALUE`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** The flags that say how to reach the cluster. */
export interface ClientFlags {
  readonly brokers?: string | undefined;
  readonly "client-id"?: string | undefined;
  readonly "timeout-ms"?: string | undefined;
}

/**
 * Connects a client to the brokers the flags name.
 * @throws {UsageError} on a malformed address; the client's errors when none answers.
 */
export async function connectClient(values: ClientFlags): Promise<KafkaClient> {
  const text = values.brokers ?? Deno.env.get("PYRALOG_BROKERS") ?? DEFAULT_BROKER;
  let brokers;
  try {
    brokers = parseBrokerList(text);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
  const timeoutMs = values["timeout-ms"] === undefined
    ? REQUEST_TIMEOUT_MS
    : intFlag("timeout-ms", values["timeout-ms"], 1, 3_600_000);
  return await KafkaClient.connect({
    brokers,
    clientId: values["client-id"] ?? "pyralog-cli",
    connectTimeoutMs: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
    requestTimeoutMs: timeoutMs,
  });
}

/** Runs `fn` with a connected client and closes it afterwards. */
export async function withClient<T>(
  values: ClientFlags,
  fn: (client: KafkaClient) => Promise<T>,
): Promise<T> {
  const client = await connectClient(values);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
