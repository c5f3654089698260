/**
 * A Kafka-protocol client: bootstrap from a list of addresses, metadata, produce, fetch,
 * list offsets, the admin calls and the group read calls. Requests for a partition go to its
 * leader over one connection per broker (opened on first use, negotiated, pipelined); admin
 * calls go to the bootstrap connection (any broker forwards or answers them in Pyralog, and
 * Kafka's controller-only calls are answered by any broker since KIP-590).
 *
 * Answers are turned into plain values: int64 offsets become numbers (checked), per-item
 * error codes stay codes where the caller decides (one partition failing is not an
 * exception), and top-level failures become `KafkaError` or `TransportError` with one clear
 * line. Bounds: connections are one per broker of the cluster; retries are counted.
 */
import { int64ToNumber, TransportError } from "../../util/mod.ts";
import type { RequestInput } from "../protocol/mod.ts";
import { ERROR_CODES } from "../protocol/mod.ts";
import { BrokerConnection } from "./broker_connection.ts";
import { checkErrorCode, KafkaError } from "./kafka_error.ts";

/** Default broker address, as Kafka tools assume. */
export const DEFAULT_BROKER = "127.0.0.1:9092";
/** How often a call retries a retriable error (leader moving, topic just created). */
const RETRIES_MAX = 8;
const RETRY_BACKOFF_MS = 100;
/** ListOffsets timestamps with special meaning (ListOffsetsRequest.json). */
export const LATEST_TIMESTAMP = -1n;
/** See `LATEST_TIMESTAMP`. */
export const EARLIEST_TIMESTAMP = -2n;
/** Admin requests' server-side timeout. */
const ADMIN_TIMEOUT_MS = 30_000;
/** IncrementalAlterConfigs operations (KIP-339). */
const CONFIG_SET = 0;
const CONFIG_DELETE = 1;
/** DescribeConfigs resource type of a topic. */
const RESOURCE_TOPIC = 2;
/** FindCoordinator key type of a consumer group (1 would be a transactional id). */
const KEY_TYPE_GROUP = 0;
/** DescribeCluster v1 endpoint type of brokers (KIP-919; 2 would be controllers). */
const ENDPOINT_TYPE_BROKERS = 1;
/** DescribeConfigs v1+ ConfigSource of a default value (KIP-226). */
const CONFIG_SOURCE_DEFAULT = 5;

/** A "host:port" pair. */
export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/** Options of `KafkaClient.connect`. */
export interface ClientOptions {
  /** Bootstrap addresses "host:port"; tried in order. */
  readonly brokers: readonly BrokerAddress[];
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** A broker as Metadata describes it. */
export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/** A partition as Metadata describes it. */
export interface PartitionInfo {
  readonly partition: number;
  readonly errorCode: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offline: readonly number[];
}

/** A topic as Metadata describes it. */
export interface TopicInfo {
  readonly name: string;
  readonly errorCode: number;
  readonly topicId: string;
  readonly isInternal: boolean;
  readonly partitions: readonly PartitionInfo[];
}

/** A Metadata answer. */
export interface ClusterMetadata {
  readonly clusterId: string | null;
  readonly controllerId: number;
  readonly brokers: readonly BrokerInfo[];
  readonly topics: readonly TopicInfo[];
}

/** The outcome of one item of an admin call. */
export interface ItemResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/** A topic to create. */
export interface NewTopic {
  readonly name: string;
  /** -1 = the broker's default. */
  readonly partitions: number;
  /** -1 = the broker's default. */
  readonly replicationFactor: number;
  readonly configs?: Readonly<Record<string, string>>;
}

/** A config entry of DescribeConfigs. */
export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: string;
  readonly isDefault: boolean;
  readonly readOnly: boolean;
  readonly isSensitive: boolean;
}

/** An offset of ListOffsets, or an error for that partition. */
export interface PartitionOffset {
  readonly partition: number;
  readonly errorCode: number;
  /** -1 when no record matches (a timestamp past the last record). */
  readonly offset: number;
  readonly timestampMs: number;
}

/** One partition's data for Produce: a built RecordBatch. */
export interface ProduceBatch {
  readonly partition: number;
  readonly records: Uint8Array;
}

/** One partition's Produce outcome. */
export interface ProduceResult {
  readonly partition: number;
  readonly errorCode: number;
  readonly baseOffset: number;
  readonly errorMessage: string | null;
}

/** Where to fetch one partition from. */
export interface FetchPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Options of `fetch`. */
export interface FetchOptions {
  readonly maxWaitMs: number;
  readonly minBytes?: number;
  readonly maxBytes?: number;
  readonly partitionMaxBytes?: number;
}

/** One partition's Fetch answer; `records` are raw batches (possibly a partial last one). */
export interface FetchResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly records: Uint8Array | null;
}

/** A group as ListGroups describes it. */
export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: string;
  readonly coordinator: number;
}

/** A group member as DescribeGroups describes it. */
export interface GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly metadata: Uint8Array;
  readonly assignment: Uint8Array;
}

/** A group as DescribeGroups describes it. */
export interface GroupDescription {
  readonly groupId: string;
  readonly errorCode: number;
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: readonly GroupMember[];
  readonly coordinator: BrokerInfo;
}

/** A committed offset of OffsetFetch. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1 when nothing is committed. */
  readonly offset: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

/**
 * Parses "host:port[,host:port...]".
 * @throws {RangeError} with one line naming the bad entry.
 */
export function parseBrokerList(text: string): BrokerAddress[] {
  const out: BrokerAddress[] = [];
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(entry);
    const port = Number(m?.[3]);
    const host = m?.[1] ?? m?.[2];
    if (m === null || host === undefined || port < 1 || port > 65535) {
      throw new RangeError(`Invalid broker address "${entry}": expected HOST:PORT`);
    }
    out.push({ host, port });
  }
  if (out.length === 0) throw new RangeError(`Invalid broker list "${text}": no address`);
  return out;
}

/** Waits `ms` (retry backoff). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True for the errors a short wait and fresh metadata may cure. */
export function isRetriable(code: number): boolean {
  return code === ERROR_CODES.LEADER_NOT_AVAILABLE ||
    code === ERROR_CODES.NOT_LEADER_OR_FOLLOWER ||
    code === ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION ||
    code === ERROR_CODES.REQUEST_TIMED_OUT ||
    code === ERROR_CODES.COORDINATOR_LOAD_IN_PROGRESS ||
    code === ERROR_CODES.COORDINATOR_NOT_AVAILABLE ||
    code === ERROR_CODES.NOT_COORDINATOR ||
    code === ERROR_CODES.NOT_ENOUGH_REPLICAS;
}

/** A client connected to a cluster. Call `close` when done. */
export class KafkaClient {
  readonly #bootstrap: BrokerConnection;
  readonly #options: ClientOptions;
  readonly #brokers = new Map<number, BrokerInfo>();
  readonly #connections = new Map<number, Promise<BrokerConnection>>();
  readonly #topics = new Map<string, TopicInfo>();

  private constructor(bootstrap: BrokerConnection, options: ClientOptions) {
    this.#bootstrap = bootstrap;
    this.#options = options;
  }

  /**
   * Connects to the first reachable bootstrap address.
   * @throws {TransportError} naming the address (or the last one) that failed.
   */
  static async connect(options: ClientOptions): Promise<KafkaClient> {
    let last: unknown = new TransportError("Cannot connect: no broker address given");
    for (const b of options.brokers) {
      try {
        return new KafkaClient(await BrokerConnection.connect(connOpts(b, options)), options);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /** The connection to the bootstrap broker. */
  get bootstrap(): BrokerConnection {
    return this.#bootstrap;
  }

  /** Opens a new, dedicated connection (the caller closes it). */
  connectTo(host: string, port: number): Promise<BrokerConnection> {
    return BrokerConnection.connect(connOpts({ host, port }, this.#options));
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const conns = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(conns.map((p) => p.then((c) => c.close(), () => {/* never opened */})));
    await this.#bootstrap.close();
  }

  /**
   * Metadata for `topics` (null = every topic); caches brokers and topics for routing.
   * @throws {TransportError} when the broker cannot be reached.
   */
  async metadata(
    topics: readonly string[] | null,
    allowAutoTopicCreation = false,
  ): Promise<ClusterMetadata> {
    const { body } = await this.#bootstrap.request("Metadata", {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
    });
    const brokers = body.brokers.map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
    }));
    for (const b of brokers) this.#brokers.set(b.nodeId, b);
    const infos: TopicInfo[] = body.topics.map((t) => ({
      name: t.name ?? "",
      errorCode: t.errorCode,
      topicId: t.topicId,
      isInternal: t.isInternal,
      partitions: t.partitions.map((p) => ({
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
        offline: p.offlineReplicas,
      })).sort((a, b) => a.partition - b.partition),
    }));
    for (const t of infos) {
      if (t.errorCode === 0) this.#topics.set(t.name, t);
      else this.#topics.delete(t.name);
    }
    return { clusterId: body.clusterId, controllerId: body.controllerId, brokers, topics: infos };
  }

  /**
   * One topic's metadata with a leader for every partition, waiting (bounded) while the
   * topic is being created or a leader elected.
   * @throws {KafkaError} when the topic does not exist (and is not auto-created).
   */
  async topic(name: string, allowAutoTopicCreation = false): Promise<TopicInfo> {
    let code = 0;
    for (let attempt = 0; attempt <= RETRIES_MAX; attempt++) {
      if (attempt > 0) await sleep(RETRY_BACKOFF_MS * attempt);
      const md = await this.metadata([name], allowAutoTopicCreation);
      const t = md.topics.find((x) => x.name === name);
      code = t?.errorCode ?? ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION;
      if (t !== undefined && code === 0) {
        if (t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) return t;
        code = ERROR_CODES.LEADER_NOT_AVAILABLE;
      }
      if (
        !isRetriable(code) || (code === ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION &&
          !allowAutoTopicCreation)
      ) break;
    }
    throw new KafkaError(
      `Cannot find topic "${name}"`,
      code,
      code === ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION ? "no such topic" : null,
    );
  }

  /** The connection to broker `nodeId`, opened on first use. */
  async connectionTo(nodeId: number): Promise<BrokerConnection> {
    const cached = this.#connections.get(nodeId);
    if (cached !== undefined) {
      const c = await cached.catch(() => null);
      if (c !== null && !c.isClosed) return c;
      this.#connections.delete(nodeId);
    }
    let b = this.#brokers.get(nodeId);
    if (b === undefined) {
      await this.metadata([]);
      b = this.#brokers.get(nodeId);
    }
    if (b === undefined) throw new TransportError(`Cannot connect to broker ${nodeId}: unknown`);
    const opening = this.connectTo(b.host, b.port);
    this.#connections.set(nodeId, opening);
    return await opening;
  }

  async #leaderConnection(topic: string, partition: number): Promise<BrokerConnection> {
    const t = this.#topics.get(topic) ?? await this.topic(topic);
    const p = t.partitions.find((x) => x.partition === partition);
    if (p === undefined || p.leader < 0) {
      throw new KafkaError(
        `Cannot find the leader of "${topic}-${partition}"`,
        p === undefined ? ERROR_CODES.UNKNOWN_TOPIC_OR_PARTITION : ERROR_CODES.LEADER_NOT_AVAILABLE,
      );
    }
    return await this.connectionTo(p.leader);
  }

  /** Groups `items` by the leader of their partition. */
  async #byLeader<T extends { partition: number }>(
    topic: string,
    items: readonly T[],
  ): Promise<Map<BrokerConnection, T[]>> {
    const out = new Map<BrokerConnection, T[]>();
    for (const item of items) {
      const c = await this.#leaderConnection(topic, item.partition);
      const list = out.get(c) ?? [];
      list.push(item);
      out.set(c, list);
    }
    return out;
  }

  /**
   * Produces one batch per partition to their leaders; resolves with each partition's
   * outcome (acks=0: base offset -1, no answer awaited). Retriable errors are retried with
   * fresh metadata, a bounded number of times.
   */
  async produce(
    topic: string,
    batches: readonly ProduceBatch[],
    acks: number,
    timeoutMs = ADMIN_TIMEOUT_MS,
  ): Promise<ProduceResult[]> {
    let todo = batches;
    const done: ProduceResult[] = [];
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt > 0) {
        await sleep(RETRY_BACKOFF_MS * attempt);
        await this.metadata([topic]);
      }
      const results = (await Promise.all(
        [...(await this.#byLeader(topic, todo))].map(([c, list]) =>
          this.#produceTo(c, topic, list, acks, timeoutMs)
        ),
      )).flat();
      const retry = new Set(
        results.filter((r) => isRetriable(r.errorCode) && attempt < RETRIES_MAX).map((r) =>
          r.partition
        ),
      );
      done.push(...results.filter((r) => !retry.has(r.partition)));
      todo = todo.filter((b) => retry.has(b.partition));
    }
    return done.sort((a, b) => a.partition - b.partition);
  }

  async #produceTo(
    c: BrokerConnection,
    topic: string,
    list: readonly ProduceBatch[],
    acks: number,
    timeoutMs: number,
  ): Promise<ProduceResult[]> {
    const body: RequestInput<"Produce"> = {
      transactionalId: null,
      acks,
      timeoutMs,
      topicData: [{
        name: topic,
        partitionData: list.map((b) => ({ index: b.partition, records: b.records })),
      }],
    };
    if (acks === 0) {
      await c.send("Produce", body);
      return list.map((b) => ({
        partition: b.partition,
        errorCode: 0,
        baseOffset: -1,
        errorMessage: null,
      }));
    }
    const { body: res } = await c.request("Produce", body, { timeoutMs: timeoutMs + 5_000 });
    const out: ProduceResult[] = [];
    for (const t of res.responses) {
      for (const p of t.partitionResponses) {
        out.push({
          partition: p.index,
          errorCode: p.errorCode,
          baseOffset: int64ToNumber(p.baseOffset),
          errorMessage: p.errorMessage,
        });
      }
    }
    return out;
  }

  /**
   * Offsets by timestamp (`LATEST_TIMESTAMP`, `EARLIEST_TIMESTAMP` or ms) for partitions
   * of `topic`, asked of their leaders.
   */
  async listOffsets(
    topic: string,
    partitions: readonly number[],
    timestamp: bigint,
  ): Promise<PartitionOffset[]> {
    const groups = await this.#byLeader(topic, partitions.map((partition) => ({ partition })));
    const answers = await Promise.all([...groups].map(async ([c, list]) => {
      const { body } = await c.request("ListOffsets", {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{
          name: topic,
          partitions: list.map((p) => ({
            partitionIndex: p.partition,
            currentLeaderEpoch: -1,
            timestamp,
          })),
        }],
      });
      return body.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          offset: int64ToNumber(p.offset),
          timestampMs: int64ToNumber(p.timestamp),
        }))
      );
    }));
    return answers.flat().sort((a, b) => a.partition - b.partition);
  }

  /** Fetches from each partition's leader, all leaders in parallel (one request each). */
  async fetch(positions: readonly FetchPosition[], o: FetchOptions): Promise<FetchResult[]> {
    const byConn = new Map<BrokerConnection, FetchPosition[]>();
    for (const pos of positions) {
      const c = await this.#leaderConnection(pos.topic, pos.partition);
      byConn.set(c, [...(byConn.get(c) ?? []), pos]);
    }
    const answers = await Promise.all([...byConn].map(([c, list]) => this.#fetchFrom(c, list, o)));
    return answers.flat();
  }

  async #fetchFrom(
    c: BrokerConnection,
    list: readonly FetchPosition[],
    o: FetchOptions,
  ): Promise<FetchResult[]> {
    const topics = new Map<string, FetchPosition[]>();
    for (const p of list) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p]);
    const { body } = await c.request("Fetch", {
      replicaId: -1,
      maxWaitMs: o.maxWaitMs,
      minBytes: o.minBytes ?? 1,
      maxBytes: o.maxBytes ?? 16 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics].map(([topic, parts]) => ({
        topic,
        partitions: parts.map((p) => ({
          partition: p.partition,
          fetchOffset: BigInt(p.offset),
          partitionMaxBytes: o.partitionMaxBytes ?? 4 * 1024 * 1024,
        })),
      })),
      forgottenTopicsData: [],
    }, { timeoutMs: o.maxWaitMs + 30_000 });
    if (body.errorCode !== 0) checkErrorCode(`Cannot fetch from "${c.address}"`, body.errorCode);
    return body.responses.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.topic,
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        highWatermark: int64ToNumber(p.highWatermark),
        logStartOffset: int64ToNumber(p.logStartOffset),
        records: p.records,
      }))
    );
  }

  /** Creates topics; resolves with each topic's outcome. */
  async createTopics(topics: readonly NewTopic[], validateOnly = false): Promise<ItemResult[]> {
    const { body } = await this.#bootstrap.request("CreateTopics", {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: ADMIN_TIMEOUT_MS,
      validateOnly,
    }, { timeoutMs: ADMIN_TIMEOUT_MS + 5_000 });
    return body.topics.map((t) => ({
      name: t.name,
      errorCode: t.errorCode,
      errorMessage: t.errorMessage,
    }));
  }

  /** Deletes topics by name; resolves with each topic's outcome. */
  async deleteTopics(names: readonly string[]): Promise<ItemResult[]> {
    const { body } = await this.#bootstrap.request("DeleteTopics", {
      topicNames: [...names],
      topics: names.map((name) => ({ name })),
      timeoutMs: ADMIN_TIMEOUT_MS,
    }, { timeoutMs: ADMIN_TIMEOUT_MS + 5_000 });
    for (const n of names) this.#topics.delete(n);
    return body.responses.map((r) => ({
      name: r.name ?? "",
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    }));
  }

  /** Grows topics to `count` partitions each; resolves with each topic's outcome. */
  async createPartitions(
    topics: ReadonlyArray<{ name: string; count: number }>,
    validateOnly = false,
  ): Promise<ItemResult[]> {
    const { body } = await this.#bootstrap.request("CreatePartitions", {
      topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: null })),
      timeoutMs: ADMIN_TIMEOUT_MS,
      validateOnly,
    }, { timeoutMs: ADMIN_TIMEOUT_MS + 5_000 });
    for (const t of topics) this.#topics.delete(t.name);
    return body.results.map((r) => ({
      name: r.name,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    }));
  }

  /**
   * A topic's configs.
   * @throws {KafkaError} when the broker refuses (unknown topic).
   */
  async describeTopicConfigs(topic: string): Promise<ConfigEntry[]> {
    const { body } = await this.#bootstrap.request("DescribeConfigs", {
      resources: [{ resourceType: RESOURCE_TOPIC, resourceName: topic, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const r = body.results[0];
    if (r === undefined) {
      throw new TransportError(`Cannot describe configs of "${topic}": no result`);
    }
    checkErrorCode(`Cannot describe configs of topic "${topic}"`, r.errorCode, r.errorMessage);
    return r.configs.map((c) => ({
      name: c.name,
      value: c.value,
      source: configSourceName(c.configSource, c.isDefault),
      isDefault: c.isDefault || c.configSource === CONFIG_SOURCE_DEFAULT,
      readOnly: c.readOnly,
      isSensitive: c.isSensitive,
    })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Sets and deletes topic configs (IncrementalAlterConfigs).
   * @throws {KafkaError} when the broker refuses.
   */
  async alterTopicConfigs(
    topic: string,
    set: Readonly<Record<string, string>>,
    remove: readonly string[],
  ): Promise<void> {
    const { body } = await this.#bootstrap.request("IncrementalAlterConfigs", {
      resources: [{
        resourceType: RESOURCE_TOPIC,
        resourceName: topic,
        configs: [
          ...Object.entries(set).map(([name, value]) => ({
            name,
            configOperation: CONFIG_SET,
            value,
          })),
          ...remove.map((name) => ({ name, configOperation: CONFIG_DELETE, value: null })),
        ],
      }],
      validateOnly: false,
    });
    for (const r of body.responses) {
      checkErrorCode(`Cannot alter configs of topic "${topic}"`, r.errorCode, r.errorMessage);
    }
  }

  /** The coordinator broker of `groupId` (FindCoordinator, retried while it loads). */
  async findCoordinator(groupId: string): Promise<BrokerInfo> {
    let code = 0;
    let message: string | null = null;
    for (let attempt = 0; attempt <= RETRIES_MAX; attempt++) {
      if (attempt > 0) await sleep(RETRY_BACKOFF_MS * attempt);
      const { body } = await this.#bootstrap.request("FindCoordinator", {
        key: groupId,
        keyType: KEY_TYPE_GROUP,
        coordinatorKeys: [groupId],
      });
      code = body.errorCode;
      message = body.errorMessage;
      if (code === 0) {
        const b = { nodeId: body.nodeId, host: body.host, port: body.port, rack: null };
        this.#brokers.set(b.nodeId, { ...b, rack: this.#brokers.get(b.nodeId)?.rack ?? null });
        return b;
      }
      if (!isRetriable(code)) break;
    }
    throw new KafkaError(`Cannot find the coordinator of group "${groupId}"`, code, message);
  }

  /** Every group of every broker. */
  async listGroups(): Promise<GroupListing[]> {
    const md = await this.metadata([]);
    const out: GroupListing[] = [];
    for (const b of md.brokers) {
      const c = await this.connectionTo(b.nodeId);
      const { body } = await c.request("ListGroups", { statesFilter: [], typesFilter: [] });
      checkErrorCode(`Cannot list groups of broker ${b.nodeId}`, body.errorCode);
      for (const g of body.groups) {
        out.push({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState,
          coordinator: b.nodeId,
        });
      }
    }
    return out.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /**
   * A group's state and members, asked of its coordinator.
   * @throws {KafkaError} when the coordinator refuses.
   */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const coordinator = await this.findCoordinator(groupId);
    const c = await this.connectionTo(coordinator.nodeId);
    const { body } = await c.request("DescribeGroups", {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    const g = body.groups[0];
    if (g === undefined) throw new TransportError(`Cannot describe group "${groupId}": no result`);
    return {
      groupId: g.groupId,
      errorCode: g.errorCode,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: m.memberMetadata,
        assignment: m.memberAssignment,
      })),
      coordinator,
    };
  }

  /**
   * A group's committed offsets (every topic when `topics` is null).
   * @throws {KafkaError} when the coordinator refuses.
   */
  async fetchCommittedOffsets(
    groupId: string,
    topics: ReadonlyMap<string, readonly number[]> | null,
    conn?: BrokerConnection,
  ): Promise<CommittedOffset[]> {
    const c = conn ?? await this.connectionTo((await this.findCoordinator(groupId)).nodeId);
    const { body } = await c.request("OffsetFetch", {
      groupId,
      topics: topics === null
        ? null
        : [...topics].map(([name, parts]) => ({ name, partitionIndexes: [...parts] })),
      requireStable: false,
    });
    checkErrorCode(`Cannot fetch offsets of group "${groupId}"`, body.errorCode);
    return body.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: int64ToNumber(p.committedOffset),
        metadata: p.metadata,
        errorCode: p.errorCode,
      }))
    );
  }

  /** Deletes groups; resolves with each group's outcome. */
  async deleteGroups(groupIds: readonly string[]): Promise<ItemResult[]> {
    const out: ItemResult[] = [];
    for (const id of groupIds) {
      const coordinator = await this.findCoordinator(id);
      const c = await this.connectionTo(coordinator.nodeId);
      const { body } = await c.request("DeleteGroups", { groupsNames: [id] });
      for (const r of body.results) {
        out.push({ name: r.groupId, errorCode: r.errorCode, errorMessage: null });
      }
    }
    return out;
  }

  /** DescribeCluster when the broker has it, else null. */
  async describeCluster(): Promise<{ clusterId: string; controllerId: number } | null> {
    if (this.#bootstrap.versions.versionOf("DescribeCluster") === undefined) return null;
    const { body } = await this.#bootstrap.request("DescribeCluster", {
      includeClusterAuthorizedOperations: false,
      endpointType: ENDPOINT_TYPE_BROKERS,
    });
    checkErrorCode("Cannot describe the cluster", body.errorCode, body.errorMessage);
    return { clusterId: body.clusterId, controllerId: body.controllerId };
  }

  /** "host:port" of the bootstrap connection. */
  get address(): string {
    return this.#bootstrap.address;
  }
}

function connOpts(b: BrokerAddress, o: ClientOptions) {
  return {
    host: b.host,
    port: b.port,
    ...(o.clientId === undefined ? {} : { clientId: o.clientId }),
    ...(o.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: o.connectTimeoutMs }),
    ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
  };
}

/** DescribeConfigs v1+ ConfigSource names (KIP-226); v0 only has isDefault. */
function configSourceName(source: number, isDefault: boolean): string {
  switch (source) {
    case 1:
      return "DYNAMIC_TOPIC_CONFIG";
    case 2:
      return "DYNAMIC_BROKER_CONFIG";
    case 3:
      return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case 4:
      return "STATIC_BROKER_CONFIG";
    case 5:
      return "DEFAULT_CONFIG";
    case 6:
      return "DYNAMIC_BROKER_LOGGER_CONFIG";
    default:
      return isDefault ? "DEFAULT_CONFIG" : "UNKNOWN";
  }
}
