/**
 * The settings of `pyralog serve`, from (lowest to highest precedence) defaults, a JSON config
 * file (`--config`), `PYRALOG_<NAME>` environment variables and command-line flags, as
 * DESIGN.md's interface contract lists them. Pure: the caller passes argv and env in.
 */
import { parseArgs } from "node:util";
import type { FsyncPolicy } from "../storage/mod.ts";

/** Resolved settings of one node. */
export interface ServeConfig {
  dataDir: string;
  nodeId: number;
  kafkaListen: HostPort;
  httpListen: HostPort;
  rpcListen: HostPort;
  advertise: string | null;
  /** The other nodes of the initial cluster (empty: a single node). */
  peers: PeerSpec[];
  /** This node's rack, for rack-aware placement (cluster mode). */
  rack: string | null;
  /** Replication factor of auto-created topics and of -1 in CreateTopics (cluster mode). */
  defaultReplicationFactor: number;
  /** Least election timeout of partition Raft groups (randomized up to twice this). */
  electionTimeoutMs: number;
  /** Metadata records after which the controller writes a snapshot (cluster mode). */
  metadataSnapshotRecords: number;
  fsync: FsyncPolicy;
  writeCaching: boolean;
  logLevel: LogLevel;
  /** Create a topic on first produce or metadata request (Kafka's auto.create.topics.enable). */
  autoCreateTopics: boolean;
  /** Partitions of auto-created topics (Kafka's num.partitions). */
  defaultPartitions: number;
}

/** A peer of the initial cluster. */
export interface PeerSpec {
  id: number;
  host: string;
  port: number;
}

/** A listen address. */
export interface HostPort {
  host: string;
  port: number;
}

/** How much the node logs. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const FLAGS = {
  "data-dir": { type: "string" },
  "node-id": { type: "string" },
  "kafka-listen": { type: "string" },
  "http-listen": { type: "string" },
  "rpc-listen": { type: "string" },
  "advertise": { type: "string" },
  "peers": { type: "string" },
  "rack": { type: "string" },
  "default-replication-factor": { type: "string" },
  "election-timeout-ms": { type: "string" },
  "metadata-snapshot-records": { type: "string" },
  "fsync": { type: "string" },
  "write-caching": { type: "boolean" },
  "log-level": { type: "string" },
  "auto-create-topics": { type: "string" },
  "default-partitions": { type: "string" },
  "config": { type: "string" },
  "help": { type: "boolean", short: "h" },
} as const;

/** The usage text of `serve`. */
export const SERVE_USAGE = `Usage: pyralog serve [flags]

  --data-dir DIR            where data lives (default ./data)
  --node-id N               this node's id (default 0)
  --kafka-listen HOST:PORT  Kafka protocol listener (default 127.0.0.1:9092)
  --http-listen HOST:PORT   HTTP listener (default 127.0.0.1:8080)
  --rpc-listen HOST:PORT    cluster RPC listener (default 127.0.0.1:9093)
  --advertise HOST          host clients should connect to
  --peers ID@HOST:PORT,...  the other nodes of the initial cluster, by id and RPC
                            address (absent: single node)
  --rack NAME               this node's rack: replicas of a partition go to different racks
  --default-replication-factor N  replicas of auto-created topics (default 3, capped
                            by the live nodes; cluster mode)
  --election-timeout-ms N   partition leader election timeout, randomized in [N, 2N)
                            (default 300; cluster mode)
  --metadata-snapshot-records N  snapshot the metadata log every N records and
                            compact it (default 10000; cluster mode)
  --fsync always|interval|never   durability of appends (default always)
  --write-caching           acknowledge before fsync (replication quorum holds it)
  --log-level debug|info|warn|error (default info)
  --auto-create-topics true|false  create topics on first use (default true)
  --default-partitions N    partitions of auto-created topics (default 1)
  --config FILE             JSON file with any of the above (keys as flag names)

Every flag can also be set as PYRALOG_<NAME>, e.g. PYRALOG_DATA_DIR=/var/lib/pyralog.`;

/** A flag or value that cannot be used; the message says which and why. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Resolves serve settings.
 * @throws {ConfigError} for an unknown flag or an invalid value.
 */
export function resolveServeConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): ServeConfig | "help" {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError(`Cannot parse flags: ${(err as Error).message}`);
  }
  if (parsed.values.help) return "help";
  const fromFile: Record<string, unknown> = {};
  const configPath = parsed.values.config ?? env.PYRALOG_CONFIG;
  if (configPath) {
    let text: string;
    try {
      text = readFile(configPath);
    } catch (err) {
      throw new ConfigError(`Cannot read config file "${configPath}": ${(err as Error).message}`);
    }
    try {
      Object.assign(fromFile, JSON.parse(text));
    } catch (err) {
      throw new ConfigError(`Cannot parse config file "${configPath}": ${(err as Error).message}`);
    }
    for (const k of Object.keys(fromFile)) {
      if (!(k in FLAGS) || k === "config" || k === "help") {
        throw new ConfigError(`Unknown key "${k}" in config file "${configPath}"`);
      }
    }
  }
  const pick = (name: keyof typeof FLAGS): string | boolean | undefined => {
    const flag = (parsed.values as Record<string, string | boolean | undefined>)[name];
    if (flag !== undefined) return flag;
    const e = env[`PYRALOG_${name.toUpperCase().replaceAll("-", "_")}`];
    if (e !== undefined) return e;
    const f = fromFile[name];
    return typeof f === "number" ? String(f) : (f as string | boolean | undefined);
  };
  const str = (name: keyof typeof FLAGS, dflt: string): string => {
    const v = pick(name);
    return v === undefined || typeof v === "boolean" ? dflt : v;
  };
  const nodeIdText = str("node-id", "0");
  const nodeId = Number(nodeIdText);
  if (!/^\d+$/.test(nodeIdText) || !Number.isSafeInteger(nodeId) || nodeId > 0x7fffffff) {
    throw new ConfigError(`Invalid --node-id "${nodeIdText}": must be a non-negative integer`);
  }
  const fsync = str("fsync", "always");
  if (fsync !== "always" && fsync !== "interval" && fsync !== "never") {
    throw new ConfigError(`Invalid --fsync "${fsync}": must be always, interval or never`);
  }
  const logLevel = str("log-level", "info");
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError(`Invalid --log-level "${logLevel}": must be debug, info, warn or error`);
  }
  const autoCreate = str("auto-create-topics", "true");
  if (autoCreate !== "true" && autoCreate !== "false") {
    throw new ConfigError(`Invalid --auto-create-topics "${autoCreate}": must be true or false`);
  }
  const partitionsText = str("default-partitions", "1");
  const defaultPartitions = Number(partitionsText);
  if (!/^\d+$/.test(partitionsText) || defaultPartitions < 1 || defaultPartitions > 10_000) {
    throw new ConfigError(`Invalid --default-partitions "${partitionsText}": must be 1 to 10000`);
  }
  const wc = pick("write-caching");
  const advertise = pick("advertise"), peers = pick("peers"), rack = pick("rack");
  const rfText = str("default-replication-factor", "3");
  const defaultReplicationFactor = Number(rfText);
  if (!/^\d+$/.test(rfText) || defaultReplicationFactor < 1 || defaultReplicationFactor > 16) {
    throw new ConfigError(
      `Invalid --default-replication-factor "${rfText}": must be 1 to 16`,
    );
  }
  const etText = str("election-timeout-ms", "300");
  const electionTimeoutMs = Number(etText);
  if (!/^\d+$/.test(etText) || electionTimeoutMs < 50 || electionTimeoutMs > 60_000) {
    throw new ConfigError(`Invalid --election-timeout-ms "${etText}": must be 50 to 60000`);
  }
  const msText = str("metadata-snapshot-records", "10000");
  const metadataSnapshotRecords = Number(msText);
  if (
    !/^\d+$/.test(msText) || metadataSnapshotRecords < 10 || metadataSnapshotRecords > 10_000_000
  ) {
    throw new ConfigError(
      `Invalid --metadata-snapshot-records "${msText}": must be 10 to 10000000`,
    );
  }
  if (rack === "" || (typeof rack === "string" && !/^[A-Za-z0-9._:-]{1,255}$/.test(rack))) {
    throw new ConfigError(`Invalid --rack "${rack}": use 1-255 of A-Z a-z 0-9 . _ : -`);
  }
  return {
    dataDir: str("data-dir", "./data"),
    nodeId,
    kafkaListen: parseHostPort("kafka-listen", str("kafka-listen", "127.0.0.1:9092")),
    httpListen: parseHostPort("http-listen", str("http-listen", "127.0.0.1:8080")),
    rpcListen: parseHostPort("rpc-listen", str("rpc-listen", "127.0.0.1:9093")),
    advertise: typeof advertise === "string" ? advertise : null,
    peers: typeof peers === "string" ? parsePeers(peers, nodeId) : [],
    rack: typeof rack === "string" ? rack : null,
    defaultReplicationFactor,
    electionTimeoutMs,
    metadataSnapshotRecords,
    fsync,
    writeCaching: wc === true || wc === "true" || wc === "1",
    logLevel: logLevel as LogLevel,
    autoCreateTopics: autoCreate === "true",
    defaultPartitions,
  };
}

/**
 * Parses `--peers` ("2@10.0.0.2:9093,3@10.0.0.3:9093"): distinct ids other than this node's.
 * @throws {ConfigError} when malformed.
 */
export function parsePeers(text: string, self: number): PeerSpec[] {
  const out: PeerSpec[] = [];
  for (const part of text.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    const at = part.indexOf("@");
    const idText = part.slice(0, at);
    const id = Number(idText);
    if (at <= 0 || !/^\d+$/.test(idText) || id > 0x7fffffff) {
      throw new ConfigError(`Invalid --peers entry "${part}": expected ID@HOST:PORT`);
    }
    if (id === self) {
      throw new ConfigError(`Invalid --peers entry "${part}": it is this node (--node-id ${self})`);
    }
    if (out.some((p) => p.id === id)) {
      throw new ConfigError(`Invalid --peers: node ${id} is listed twice`);
    }
    const addr = parseHostPort("peers", part.slice(at + 1));
    if (addr.port === 0) {
      throw new ConfigError(`Invalid --peers entry "${part}": a peer needs a real port`);
    }
    out.push({ id, ...addr });
  }
  return out;
}

/**
 * Parses "HOST:PORT" (IPv6 as "[::1]:PORT"); port 0 asks the OS for a free port.
 * @throws {ConfigError} when malformed.
 */
export function parseHostPort(flag: string, text: string): HostPort {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(`Invalid --${flag} "${text}": expected HOST:PORT`);
  }
  const host = (m[1] as string).replace(/^\[|\]$/g, "");
  return { host, port };
}
