/**
 * Which version of each API the client sends: the highest version both the client and the
 * broker support (Kafka's `NetworkClient` does the same with the ApiVersions answer). The
 * client's ranges are the versions whose request bodies this folder fills in correctly; an
 * API the broker does not advertise, or whose ranges do not overlap, has no version and a
 * call to it fails with one clear line. Pure: no I/O.
 */
import type { ApiName, ApiVersionRange } from "../protocol/mod.ts";
import { apiKeyOf } from "../protocol/mod.ts";

/** A version range. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/**
 * The client's range per API. Minimums: Produce and Fetch need RecordBatch v2 (Produce 3,
 * Fetch 4); ListOffsets v1 drops the v0 offset array. Maximums: Fetch 12 and DeleteTopics 5
 * address topics by name (13+ and 6 by id); OffsetFetch 7 and FindCoordinator 3 predate the
 * batched forms (v8, v4); OffsetCommit 8 is the last classic-group-only version.
 */
export const CLIENT_VERSIONS: Readonly<Partial<Record<ApiName, VersionRange>>> = {
  Produce: { min: 3, max: 11 },
  Fetch: { min: 4, max: 12 },
  ListOffsets: { min: 1, max: 9 },
  Metadata: { min: 1, max: 12 },
  OffsetCommit: { min: 2, max: 8 },
  OffsetFetch: { min: 2, max: 7 },
  FindCoordinator: { min: 1, max: 3 },
  JoinGroup: { min: 1, max: 9 },
  Heartbeat: { min: 0, max: 4 },
  LeaveGroup: { min: 0, max: 5 },
  SyncGroup: { min: 0, max: 5 },
  DescribeGroups: { min: 0, max: 5 },
  ListGroups: { min: 0, max: 5 },
  ApiVersions: { min: 0, max: 3 },
  CreateTopics: { min: 1, max: 7 },
  DeleteTopics: { min: 0, max: 5 },
  DescribeConfigs: { min: 1, max: 4 },
  IncrementalAlterConfigs: { min: 0, max: 1 },
  CreatePartitions: { min: 0, max: 3 },
  DeleteGroups: { min: 0, max: 2 },
  DescribeCluster: { min: 0, max: 1 },
};

/** The negotiated version per API, from a broker's ApiVersions answer. */
export class ApiVersionTable {
  readonly #versions = new Map<ApiName, number>();
  readonly #broker = new Map<number, ApiVersionRange>();

  /** Builds the table from the broker's advertised `apiKeys`. */
  constructor(brokerRanges: readonly ApiVersionRange[]) {
    for (const r of brokerRanges) this.#broker.set(r.apiKey, r);
    for (const [api, mine] of Object.entries(CLIENT_VERSIONS) as [ApiName, VersionRange][]) {
      const theirs = this.#broker.get(apiKeyOf(api));
      if (theirs === undefined) continue;
      const version = Math.min(mine.max, theirs.maxVersion);
      if (version >= Math.max(mine.min, theirs.minVersion)) this.#versions.set(api, version);
    }
  }

  /** The version to send for `api`, or undefined when there is none both sides support. */
  versionOf(api: ApiName): number | undefined {
    return this.#versions.get(api);
  }

  /** The broker's advertised range for `api`, if any. */
  brokerRange(api: ApiName): ApiVersionRange | undefined {
    return this.#broker.get(apiKeyOf(api));
  }
}
