/**
 * Facts about this node that must survive restarts: the cluster id (reported in Metadata
 * and DescribeCluster) and the producer-id allocator (InitProducerId must never hand out the
 * same id twice, even across a crash).
 */
import fs from "node:fs";
import { writeFileAtomic } from "../storage/mod.ts";
import { assert, StorageError } from "../util/mod.ts";

const IDENTITY_FILE = "cluster.json";
const PRODUCER_IDS_FILE = "producer-ids.json";
/** Producer ids reserved on disk at a time; a crash skips at most this many. */
export const PRODUCER_ID_BLOCK = 1000;

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(fs.readFileSync(path, "utf8"));
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return null;
    throw new StorageError("corrupt", `Cannot read "${path}": ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Returns the cluster id stored in `dataDir`, creating one (22 base64url chars) if absent. */
export function loadClusterId(dataDir: string): string {
  const stored = readJson(`${dataDir}/${IDENTITY_FILE}`);
  if (stored && typeof stored.cluster_id === "string") return stored.cluster_id;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
  writeFileAtomic(
    dataDir,
    IDENTITY_FILE,
    new TextEncoder().encode(JSON.stringify({ cluster_id: id })),
  );
  return id;
}

/** Bits of a cluster-wide producer id left to each node's own counter. */
export const NODE_PRODUCER_ID_BITS = 40n;
/** Largest node id whose producer ids stay within int64 (ids are nodeId << 40 | counter). */
export const NODE_ID_MAX_FOR_PRODUCER_IDS = 2 ** 22;

/**
 * Hands out unique producer ids, reserving them on disk a block at a time. In a cluster
 * (issue #6) each node allocates in its own range, `nodeId << 40` plus its counter, so ids
 * are unique cluster-wide without a round trip to the controller (2^40 ids per node).
 */
export class ProducerIdAllocator {
  readonly #base: bigint;
  readonly #dataDir: string;
  #next: number;
  #reservedUntil: number;

  /** `nodeRange`: 0 on a single node; the node id in a cluster. */
  constructor(dataDir: string, nodeRange = 0) {
    this.#dataDir = dataDir;
    assert(
      Number.isInteger(nodeRange) && nodeRange >= 0 && nodeRange < NODE_ID_MAX_FOR_PRODUCER_IDS,
      `node range ${nodeRange} fits producer ids`,
    );
    this.#base = BigInt(nodeRange) << NODE_PRODUCER_ID_BITS;
    const stored = readJson(`${dataDir}/${PRODUCER_IDS_FILE}`);
    const next = typeof stored?.reserved_until === "number" ? stored.reserved_until : 0;
    this.#next = next;
    this.#reservedUntil = next;
  }

  /** The next unused producer id. */
  allocate(): bigint {
    if (this.#next >= this.#reservedUntil) {
      const until = this.#next + PRODUCER_ID_BLOCK;
      writeFileAtomic(
        this.#dataDir,
        PRODUCER_IDS_FILE,
        new TextEncoder().encode(JSON.stringify({ reserved_until: until })),
      );
      this.#reservedUntil = until;
    }
    return this.#base + BigInt(this.#next++);
  }
}
