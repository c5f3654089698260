/**
 * The cluster metadata as every node knows it (issue #6): a pure, deterministic state machine
 * that applies the committed records of `__cluster_metadata` in offset order. Every node
 * applies the same log, so every node's image is the same function of the offset it reached
 * (KRaft's MetadataImage, KIP-500/KIP-631), and any node can answer Metadata requests from it.
 *
 * Invariants:
 * - records are applied in strictly increasing offset order (`apply` asserts it);
 * - a record that does not fit the state (a partition of an unknown topic, a fence with a stale
 *   broker epoch) changes nothing and is counted in `skippedRecords`: the outcome is still a
 *   function of the log, so replicas agree. The controller never proposes such records;
 * - the values handed out (brokers, topics, partitions) are frozen and replaced, never edited,
 *   on change: a reader may keep one while the image moves on ("immutable-ish").
 *
 * `toRecords()` writes the state as records that rebuild it: the controller writes them into
 * the log after a `snapshot` record, which clears the image, so the log can be compacted to
 * that batch (KIP-630, the snapshot kept in the log itself). Must not: do I/O, read a clock, or depend on Map insertion
 * order anywhere an answer is produced (queries sort).
 */
import { assert, type NodeId } from "../../util/mod.ts";
import type {
  BrokerEndpoint,
  ConfigResourceType,
  MetadataRecord,
  OffsetMetadataRecord,
} from "./metadata_record.ts";

/** A registered broker. */
export interface BrokerInfo {
  readonly id: NodeId;
  /** Chosen by the controller at each registration; a stale epoch marks an old process. */
  readonly epoch: number;
  readonly incarnation: string;
  readonly rack: string | undefined;
  readonly endpoints: readonly BrokerEndpoint[];
  /** Fenced brokers lead nothing and are left out of new placements. */
  readonly fenced: boolean;
  /** The controller's clock at the last recorded heartbeat (-1: none recorded). */
  readonly lastHeartbeatMs: number;
}

/**
 * The replicas, ISR and leader of one partition: what its `partition` record carries (the
 * record is the partition's whole state, so a snapshot writes this back as one).
 */
export type PartitionInfo = Omit<Extract<MetadataRecord, { type: "partition" }>, "type">;

/** A topic with its partitions in partition order. */
export interface TopicInfo {
  readonly name: string;
  readonly id: string;
  readonly partitions: readonly PartitionInfo[];
}

/** The state the metadata log describes, at offset `nextOffset`. */
export class MetadataImage {
  readonly #brokers = new Map<NodeId, BrokerInfo>();
  readonly #topicIds = new Map<string, string>(); // name -> id
  readonly #topics = new Map<string, TopicInfo>(); // id -> topic
  readonly #configs = new Map<string, Map<string, string>>(); // "type/name" -> configs
  #nextOffset = 0;
  #snapshotOffset = -1;
  #snapshotEnd = 0;
  /** Records that did not fit the state (see the file comment). */
  skippedRecords = 0;

  /** The offset after the last applied record (0: nothing applied). */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /** The offset of the last snapshot record applied (-1: none). */
  get snapshotOffset(): number {
    return this.#snapshotOffset;
  }

  /** The offset after the last snapshot batch applied (0: none). */
  get snapshotEnd(): number {
    return this.#snapshotEnd;
  }

  /** Applies a batch of records in order. */
  applyAll(records: readonly OffsetMetadataRecord[]): void {
    for (const r of records) this.apply(r.record, r.offset);
    if (records[0]?.record.type === "snapshot") this.#snapshotEnd = this.#nextOffset;
  }

  /** Applies one record found at `offset` (greater than every offset applied before). */
  apply(record: MetadataRecord, offset: number): void {
    assert(offset >= this.#nextOffset, `metadata offset ${offset} applied out of order`);
    this.#nextOffset = offset + 1;
    if (record.type === "snapshot") this.#snapshotOffset = offset;
    if (!this.#applyOne(record)) this.skippedRecords++;
  }

  /** Marks offsets up to `end` (exclusive) as applied: control batches carry no records. */
  skipTo(end: number): void {
    if (end > this.#nextOffset) this.#nextOffset = end;
  }

  #applyOne(r: MetadataRecord): boolean {
    switch (r.type) {
      case "registerBroker": {
        const old = this.#brokers.get(r.brokerId);
        if (old !== undefined && r.brokerEpoch <= old.epoch) return false;
        this.#brokers.set(
          r.brokerId,
          freeze({
            id: r.brokerId,
            epoch: r.brokerEpoch,
            incarnation: r.incarnation,
            rack: r.rack,
            endpoints: Object.freeze(r.endpoints.map((e) => freeze({ ...e }))),
            fenced: true, // a new registration serves nothing until its first heartbeat
            lastHeartbeatMs: -1,
          }),
        );
        return true;
      }
      case "unfenceBroker":
      case "fenceBroker":
      case "brokerHeartbeat": {
        const b = this.#brokers.get(r.brokerId);
        if (b === undefined || b.epoch !== r.brokerEpoch) return false;
        const change = r.type === "brokerHeartbeat"
          ? { lastHeartbeatMs: r.timeMs }
          : { fenced: r.type === "fenceBroker" };
        this.#brokers.set(r.brokerId, freeze({ ...b, ...change }));
        return true;
      }
      case "topic":
        if (this.#topicIds.has(r.name) || this.#topics.has(r.topicId)) return false;
        this.#topicIds.set(r.name, r.topicId);
        this.#topics.set(r.topicId, freeze({ name: r.name, id: r.topicId, partitions: [] }));
        return true;
      case "partition":
        return this.#applyPartition(r);
      case "config": {
        const key = configKey(r.resourceType, r.resourceName);
        const configs = this.#configs.get(key) ?? new Map<string, string>();
        if (r.value === null) configs.delete(r.name);
        else configs.set(r.name, r.value);
        if (configs.size === 0) this.#configs.delete(key);
        else this.#configs.set(key, configs);
        return true;
      }
      case "snapshot":
        // The state follows in the same batch: start from nothing.
        this.#brokers.clear();
        this.#topicIds.clear();
        this.#topics.clear();
        this.#configs.clear();
        return true;
      case "removeTopic": {
        const t = this.#topics.get(r.topicId);
        if (t === undefined) return false;
        this.#topics.delete(r.topicId);
        this.#topicIds.delete(t.name);
        this.#configs.delete(configKey("topic", t.name));
        return true;
      }
    }
  }

  #applyPartition(r: Extract<MetadataRecord, { type: "partition" }>): boolean {
    const t = this.#topics.get(r.topicId);
    // Partitions are added in order (no gaps) and only replaced afterwards.
    if (t === undefined || r.partition > t.partitions.length) return false;
    const p: PartitionInfo = freeze({
      topicId: r.topicId,
      partition: r.partition,
      replicas: Object.freeze([...r.replicas]),
      isr: Object.freeze([...r.isr]),
      leader: r.leader,
      leaderEpoch: r.leaderEpoch,
    });
    const partitions = [...t.partitions];
    partitions[r.partition] = p;
    this.#topics.set(r.topicId, freeze({ ...t, partitions: Object.freeze(partitions) }));
    return true;
  }

  // ---------------------------------------------------------------- queries

  /** Every registered broker, by id. */
  brokers(): BrokerInfo[] {
    return [...this.#brokers.values()].sort((a, b) => a.id - b.id);
  }

  /** The broker `id`, if registered. */
  broker(id: NodeId): BrokerInfo | undefined {
    return this.#brokers.get(id);
  }

  /** Registered brokers that are not fenced, by id. */
  unfencedBrokers(): BrokerInfo[] {
    return this.brokers().filter((b) => !b.fenced);
  }

  /** Topic names in order. */
  topicNames(): string[] {
    return [...this.#topicIds.keys()].sort();
  }

  /** The topic `name` with its partitions (Kafka's DescribeTopics / Metadata answer). */
  describeTopic(name: string): TopicInfo | undefined {
    const id = this.#topicIds.get(name);
    return id === undefined ? undefined : this.#topics.get(id);
  }

  /** The topic with id `id`. */
  topicById(id: string): TopicInfo | undefined {
    return this.#topics.get(id);
  }

  /** The partitions `id` leads, by topic name then partition. */
  partitionsLedBy(id: NodeId): PartitionInfo[] {
    return this.#allPartitions().filter((p) => p.leader === id);
  }

  /** Replicas and leaderships per broker (the load placement evens out). */
  brokerLoads(): Map<NodeId, { replicas: number; leaders: number }> {
    const loads = new Map<NodeId, { replicas: number; leaders: number }>();
    for (const p of this.#allPartitions()) {
      for (const id of p.replicas) {
        const l = loads.get(id) ?? { replicas: 0, leaders: 0 };
        l.replicas++;
        if (p.leader === id) l.leaders++;
        loads.set(id, l);
      }
    }
    return loads;
  }

  /** The explicit configs of a resource, sorted by name. */
  configs(type: ConfigResourceType, name: string): Record<string, string> {
    const m = this.#configs.get(configKey(type, name));
    if (m === undefined) return {};
    return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  #allPartitions(): PartitionInfo[] {
    return this.topicNames().flatMap((n) => this.describeTopic(n)?.partitions ?? []);
  }

  // ---------------------------------------------------------------- snapshots

  /** Records that rebuild this state on an empty image (a snapshot, KIP-630). */
  toRecords(): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    for (const b of this.brokers()) {
      out.push({
        type: "registerBroker",
        brokerId: b.id,
        brokerEpoch: b.epoch,
        incarnation: b.incarnation,
        rack: b.rack,
        endpoints: b.endpoints,
      });
      if (!b.fenced) out.push({ type: "unfenceBroker", brokerId: b.id, brokerEpoch: b.epoch });
      if (b.lastHeartbeatMs >= 0) {
        out.push({
          type: "brokerHeartbeat",
          brokerId: b.id,
          brokerEpoch: b.epoch,
          timeMs: b.lastHeartbeatMs,
        });
      }
    }
    for (const name of this.topicNames()) {
      const t = this.describeTopic(name);
      assert(t !== undefined, `topic "${name}" is indexed`);
      out.push({ type: "topic", name, topicId: t.id });
      for (const p of t.partitions) out.push({ type: "partition", ...p });
    }
    for (const key of [...this.#configs.keys()].sort()) {
      const [type, name] = splitConfigKey(key);
      for (const [k, v] of Object.entries(this.configs(type, name))) {
        out.push({ type: "config", resourceType: type, resourceName: name, name: k, value: v });
      }
    }
    return out;
  }

  /** An image rebuilt from `toRecords()` output, positioned at `nextOffset`. */
  static fromRecords(records: readonly MetadataRecord[], nextOffset: number): MetadataImage {
    const image = new MetadataImage();
    for (const r of records) {
      const applied = image.#applyOne(r);
      assert(applied, `snapshot record of type "${r.type}" does not apply`);
    }
    image.#nextOffset = nextOffset;
    return image;
  }
}

function configKey(type: ConfigResourceType, name: string): string {
  return `${type}/${name}`;
}

function splitConfigKey(key: string): [ConfigResourceType, string] {
  const slash = key.indexOf("/");
  const type = key.slice(0, slash);
  assert(type === "topic" || type === "broker", `config key "${key}"`);
  return [type, key.slice(slash + 1)];
}

function freeze<T extends object>(value: T): Readonly<T> {
  return Object.freeze(value);
}
