/**
 * Records of the cluster metadata log (`__cluster_metadata`, issue #6), carried as Kafka
 * RecordBatch v2 values like every other log (DESIGN.md "One log format everywhere"). The
 * types follow KRaft's metadata records (KIP-631: RegisterBrokerRecord, FenceBrokerRecord,
 * UnfenceBrokerRecord, TopicRecord, PartitionRecord, ConfigRecord, RemoveTopicRecord) in a
 * compact encoding of our own. One record is one Kafka record with a null key and the value:
 *
 *   value      = int8 type | int8 version (0) | body
 *   string     = uint16 length | UTF-8          (nullable: length 0xffff = null)
 *   ids        = uint16 count | int32 each       (node ids)
 *   uuid       = 16 bytes                        (a topic id, KIP-516)
 *
 *   1 registerBroker  int32 broker | int64 brokerEpoch | string incarnation | nullable rack
 *                     | uint16 count, then per endpoint: string name | string host | uint16 port
 *   2 unfenceBroker   int32 broker | int64 brokerEpoch
 *   3 fenceBroker     int32 broker | int64 brokerEpoch
 *   4 brokerHeartbeat int32 broker | int64 brokerEpoch | int64 timeMs (the controller's clock)
 *   5 topic           string name | uuid id
 *   6 partition       uuid topic | int32 partition | ids replicas | ids isr
 *                     | int32 leader (-1: none) | int32 leaderEpoch
 *                     (the whole state of the partition: creation and every change)
 *   7 config          int8 resource (2 topic, 4 broker: Kafka's ConfigResource types)
 *                     | string resource name | string name | nullable string value (null: delete)
 *   8 removeTopic     uuid id
 *   9 snapshot        (no body) the whole state follows in the same batch: applying it
 *                     clears the image first (KIP-630's snapshot, kept in the log itself)
 *
 * Unlike KRaft, a broker's epoch is chosen by the controller and written in the record (not the
 * record's offset), so a snapshot of the image replays to the same epochs.
 *
 * Decoding is bounded: every length is checked against the bytes left and a named maximum
 * before anything is allocated, trailing bytes are refused, and malformed input only ever throws
 * `FrameDecodeError`. A version this code does not know is malformed too: a node must not apply
 * a record it cannot read (it stops, and an upgraded binary replays the log).
 */
import { buildBatch, decodeBatch } from "../../records/mod.ts";
import { FrameDecodeError, type NodeId, nodeId } from "../../util/mod.ts";
import { BinaryReader, BinaryWriter, type Endpoint } from "./_binary.ts";

/** The internal topic whose single partition is the metadata log. */
export const METADATA_TOPIC = "__cluster_metadata";
/** The version written (and the only one read) of every record type. */
export const METADATA_RECORD_VERSION = 0;
/** Most records one metadata batch carries (a createTopics is one batch, atomically). */
export const METADATA_RECORDS_PER_BATCH_MAX = 20_000;
/** Most bytes of one string field. */
export const METADATA_STRING_BYTES_MAX = 32_767;
/** Most node ids in a replica or ISR list. */
export const REPLICAS_MAX = 256;
/** Most endpoints of one broker. */
export const ENDPOINTS_MAX = 16;
/** The `leader` of a partition without one (Kafka's -1). */
export const NO_LEADER = -1;

/** Kafka's ConfigResource types used here. */
export type ConfigResourceType = "topic" | "broker";

/** A listener of a broker: Kafka, HTTP, cluster RPC. */
export type BrokerEndpoint = Endpoint;

/** One metadata record (see the file comment for the layout of each). */
export type MetadataRecord =
  | {
    readonly type: "registerBroker";
    readonly brokerId: NodeId;
    readonly brokerEpoch: number;
    /** A value the broker process draws at start: a new one means a restarted process. */
    readonly incarnation: string;
    readonly rack: string | undefined;
    readonly endpoints: readonly BrokerEndpoint[];
  }
  | { readonly type: "unfenceBroker"; readonly brokerId: NodeId; readonly brokerEpoch: number }
  | { readonly type: "fenceBroker"; readonly brokerId: NodeId; readonly brokerEpoch: number }
  | {
    readonly type: "brokerHeartbeat";
    readonly brokerId: NodeId;
    readonly brokerEpoch: number;
    readonly timeMs: number;
  }
  | { readonly type: "topic"; readonly name: string; readonly topicId: string }
  | {
    readonly type: "partition";
    readonly topicId: string;
    readonly partition: number;
    readonly replicas: readonly NodeId[];
    readonly isr: readonly NodeId[];
    /** The leader, or undefined when no in-sync replica is alive. */
    readonly leader: NodeId | undefined;
    /** Bumped on every leader change (Kafka's leader epoch, KIP-101). */
    readonly leaderEpoch: number;
  }
  | {
    readonly type: "config";
    readonly resourceType: ConfigResourceType;
    readonly resourceName: string;
    readonly name: string;
    /** The new value, or null to remove the setting. */
    readonly value: string | null;
  }
  | { readonly type: "removeTopic"; readonly topicId: string }
  /**
   * The start of a snapshot: the rest of its batch is `MetadataImage.toRecords()`. Applying it
   * clears the image, so the batch rebuilds the state whatever the image held before.
   */
  | { readonly type: "snapshot" };

/** A record with its offset in the metadata log. */
export interface OffsetMetadataRecord {
  readonly offset: number;
  readonly record: MetadataRecord;
}

const TYPE_IDS = {
  registerBroker: 1,
  unfenceBroker: 2,
  fenceBroker: 3,
  brokerHeartbeat: 4,
  topic: 5,
  partition: 6,
  config: 7,
  removeTopic: 8,
  snapshot: 9,
} as const;
const RESOURCE_IDS: Record<ConfigResourceType, number> = { topic: 2, broker: 4 };
const UUID_BYTES = 16;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `id` is a lower-case UUID text (the form topic ids take here). */
export function isTopicId(id: string): boolean {
  return UUID_PATTERN.test(id);
}

/**
 * Encodes one record as a record value.
 * @throws {RangeError} when a field is out of its range (a bug in the caller).
 */
export function encodeMetadataRecord(record: MetadataRecord): Uint8Array {
  const w = new Writer();
  w.int8(TYPE_IDS[record.type]);
  w.int8(METADATA_RECORD_VERSION);
  switch (record.type) {
    case "registerBroker":
      w.int32(record.brokerId);
      w.int64(record.brokerEpoch);
      w.string(record.incarnation);
      w.string(record.rack ?? null);
      w.endpoints(record.endpoints, ENDPOINTS_MAX);
      break;
    case "unfenceBroker":
    case "fenceBroker":
      w.int32(record.brokerId);
      w.int64(record.brokerEpoch);
      break;
    case "brokerHeartbeat":
      w.int32(record.brokerId);
      w.int64(record.brokerEpoch);
      w.int64(record.timeMs);
      break;
    case "topic":
      w.string(record.name);
      w.uuid(record.topicId);
      break;
    case "partition":
      w.uuid(record.topicId);
      w.int32(record.partition);
      w.nodeIds(record.replicas);
      w.nodeIds(record.isr);
      w.int32(record.leader ?? NO_LEADER);
      w.int32(record.leaderEpoch);
      break;
    case "config":
      w.int8(RESOURCE_IDS[record.resourceType]);
      w.string(record.resourceName);
      w.string(record.name);
      w.string(record.value);
      break;
    case "removeTopic":
      w.uuid(record.topicId);
      break;
    case "snapshot":
      break;
  }
  return w.finish();
}

/**
 * Decodes one record value.
 * @throws {FrameDecodeError} on malformed bytes, an unknown type or version, or trailing bytes.
 */
export function decodeMetadataRecord(bytes: Uint8Array): MetadataRecord {
  const r = new Reader(bytes);
  const typeId = r.int8();
  const version = r.int8();
  if (version !== METADATA_RECORD_VERSION) {
    throw malformed(`record type "${typeId}" has unknown version "${version}"`);
  }
  const record = decodeBody(r, typeId);
  if (r.remaining !== 0) throw malformed(`${r.remaining} trailing bytes`);
  return record;
}

function decodeBody(r: Reader, typeId: number): MetadataRecord {
  switch (typeId) {
    case TYPE_IDS.registerBroker: {
      const brokerId = r.nodeId();
      const brokerEpoch = r.int64();
      const incarnation = r.string();
      const rack = r.nullableString() ?? undefined;
      const endpoints = r.endpoints(ENDPOINTS_MAX);
      return { type: "registerBroker", brokerId, brokerEpoch, incarnation, rack, endpoints };
    }
    case TYPE_IDS.unfenceBroker:
      return { type: "unfenceBroker", brokerId: r.nodeId(), brokerEpoch: r.int64() };
    case TYPE_IDS.fenceBroker:
      return { type: "fenceBroker", brokerId: r.nodeId(), brokerEpoch: r.int64() };
    case TYPE_IDS.brokerHeartbeat:
      return {
        type: "brokerHeartbeat",
        brokerId: r.nodeId(),
        brokerEpoch: r.int64(),
        timeMs: r.int64(),
      };
    case TYPE_IDS.topic:
      return { type: "topic", name: r.string(), topicId: r.uuid() };
    case TYPE_IDS.partition: {
      const topicId = r.uuid();
      const partition = r.int32();
      if (partition < 0) throw malformed(`negative partition "${partition}"`);
      const replicas = r.nodeIds();
      const isr = r.nodeIds();
      const leaderRaw = r.int32();
      if (leaderRaw < NO_LEADER) throw malformed(`invalid leader "${leaderRaw}"`);
      const leader = leaderRaw === NO_LEADER ? undefined : nodeId(leaderRaw);
      const leaderEpoch = r.int32();
      if (leaderEpoch < 0) throw malformed(`negative leader epoch "${leaderEpoch}"`);
      return { type: "partition", topicId, partition, replicas, isr, leader, leaderEpoch };
    }
    case TYPE_IDS.config: {
      const rid = r.int8();
      const resourceType = rid === RESOURCE_IDS.topic
        ? "topic"
        : rid === RESOURCE_IDS.broker
        ? "broker"
        : undefined;
      if (resourceType === undefined) throw malformed(`unknown config resource "${rid}"`);
      const resourceName = r.string();
      const name = r.string();
      const value = r.nullableString();
      return { type: "config", resourceType, resourceName, name, value };
    }
    case TYPE_IDS.removeTopic:
      return { type: "removeTopic", topicId: r.uuid() };
    case TYPE_IDS.snapshot:
      return { type: "snapshot" };
    default:
      throw malformed(`unknown record type "${typeId}"`);
  }
}

/**
 * Builds the batch carrying `records` (base offset 0: the Raft runtime stamps the real one).
 * @throws {RangeError} when there are no records or more than `METADATA_RECORDS_PER_BATCH_MAX`.
 */
export function encodeMetadataBatch(records: readonly MetadataRecord[]): Uint8Array {
  if (records.length === 0 || records.length > METADATA_RECORDS_PER_BATCH_MAX) {
    throw new RangeError(
      `Cannot build metadata batch: "${records.length}" records is not in [1, ${METADATA_RECORDS_PER_BATCH_MAX}]`,
    );
  }
  // Timestamps are 0 so that a batch is a function of its records (replay determinism).
  return buildBatch({
    records: records.map((r) => ({ value: encodeMetadataRecord(r), timestampMs: 0 })),
    baseTimestampMs: 0,
  });
}

/**
 * Decodes the records of one stored metadata batch with their offsets.
 * @throws {FrameDecodeError} on a malformed batch or record, or too many records.
 */
export function decodeMetadataBatch(bytes: Uint8Array): OffsetMetadataRecord[] {
  const batch = decodeBatch(bytes);
  if (batch.records.length > METADATA_RECORDS_PER_BATCH_MAX) {
    throw malformed(`batch of ${batch.records.length} records`);
  }
  return batch.records.map((rec) => {
    if (rec.value === null) throw malformed(`record at offset "${rec.offset}" has no value`);
    return { offset: rec.offset, record: decodeMetadataRecord(rec.value) };
  });
}

function malformed(detail: string): FrameDecodeError {
  return new FrameDecodeError(`Cannot decode metadata record: ${detail}`);
}

/** The metadata record writer: the shared binary writer plus node id lists and UUIDs. */
class Writer extends BinaryWriter {
  constructor() {
    super("metadata record", METADATA_STRING_BYTES_MAX);
  }
  nodeIds(ids: readonly NodeId[]): void {
    this.ids(ids, REPLICAS_MAX, "node ids");
  }
  uuid(id: string): void {
    if (!isTopicId(id)) throw new RangeError(`Cannot encode topic id "${id}": not a UUID`);
    const hex = id.replaceAll("-", "");
    const b = new Uint8Array(UUID_BYTES);
    for (let i = 0; i < UUID_BYTES; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    this.bytes(b);
  }
}

/** The metadata record reader: the shared binary reader plus node id lists and UUIDs. */
class Reader extends BinaryReader {
  constructor(bytes: Uint8Array) {
    super(bytes, "metadata record", METADATA_STRING_BYTES_MAX);
  }
  nodeIds(): NodeId[] {
    return this.ids(REPLICAS_MAX, "node ids");
  }
  uuid(): string {
    const hex = [...this.bytes(UUID_BYTES)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
      hex.slice(20)
    }`;
  }
}
