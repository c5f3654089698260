/** Metadata records: round trips of every type, batches with offsets, and fuzzed input. */
import assert from "node:assert/strict";
import { createPrng, FrameDecodeError, nodeId } from "../../util/mod.ts";
import {
  decodeMetadataBatch,
  decodeMetadataRecord,
  encodeMetadataBatch,
  encodeMetadataRecord,
  type MetadataRecord,
} from "./metadata_record.ts";
import { setBaseOffset } from "../../records/mod.ts";

const TOPIC_ID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0";

/** One record of every type (and the optional fields both ways). */
const SAMPLE_RECORDS: MetadataRecord[] = [
  {
    type: "registerBroker",
    brokerId: nodeId(3),
    brokerEpoch: 7,
    incarnation: "b3-1",
    rack: "r1",
    endpoints: [{ name: "kafka", host: "10.0.0.3", port: 9092 }, {
      name: "rpc",
      host: "10.0.0.3",
      port: 9093,
    }],
  },
  {
    type: "registerBroker",
    brokerId: nodeId(4),
    brokerEpoch: 8,
    incarnation: "",
    rack: undefined,
    endpoints: [],
  },
  { type: "unfenceBroker", brokerId: nodeId(3), brokerEpoch: 7 },
  { type: "fenceBroker", brokerId: nodeId(3), brokerEpoch: 7 },
  { type: "brokerHeartbeat", brokerId: nodeId(3), brokerEpoch: 7, timeMs: 1_700_000_000_123 },
  { type: "topic", name: "orders", topicId: TOPIC_ID },
  {
    type: "partition",
    topicId: TOPIC_ID,
    partition: 2,
    replicas: [nodeId(3), nodeId(1), nodeId(2)],
    isr: [nodeId(3), nodeId(1)],
    leader: nodeId(3),
    leaderEpoch: 4,
  },
  {
    type: "partition",
    topicId: TOPIC_ID,
    partition: 0,
    replicas: [nodeId(1)],
    isr: [nodeId(1)],
    leader: undefined,
    leaderEpoch: 0,
  },
  {
    type: "config",
    resourceType: "topic",
    resourceName: "orders",
    name: "retention.ms",
    value: "1",
  },
  { type: "config", resourceType: "broker", resourceName: "", name: "x", value: null },
  { type: "removeTopic", topicId: TOPIC_ID },
];

Deno.test("encodeMetadataRecord round-trips every record type", () => {
  for (const r of SAMPLE_RECORDS) {
    assert.deepEqual(decodeMetadataRecord(encodeMetadataRecord(r)), r);
  }
});

Deno.test("encodeMetadataRecord writes type, version and a compact body", () => {
  const bytes = encodeMetadataRecord({ type: "removeTopic", topicId: TOPIC_ID });
  assert.deepEqual([...bytes.subarray(0, 2)], [8, 0]);
  assert.equal(bytes.length, 2 + 16);
  assert.equal(bytes[2], 0x0f);
});

Deno.test("encodeMetadataRecord refuses out-of-range fields", () => {
  assert.throws(() => encodeMetadataRecord({ type: "removeTopic", topicId: "nope" }), RangeError);
  assert.throws(
    () =>
      encodeMetadataRecord({
        type: "partition",
        topicId: TOPIC_ID,
        partition: 0,
        replicas: Array.from({ length: 300 }, (_, i) => nodeId(i)),
        isr: [],
        leader: undefined,
        leaderEpoch: 0,
      }),
    RangeError,
  );
});

Deno.test("decodeMetadataRecord refuses unknown types and versions and trailing bytes", () => {
  const ok = encodeMetadataRecord({ type: "removeTopic", topicId: TOPIC_ID });
  const badType = ok.slice();
  badType[0] = 99;
  assert.throws(() => decodeMetadataRecord(badType), FrameDecodeError);
  const badVersion = ok.slice();
  badVersion[1] = 1;
  assert.throws(() => decodeMetadataRecord(badVersion), FrameDecodeError);
  const trailing = new Uint8Array(ok.length + 1);
  trailing.set(ok);
  assert.throws(() => decodeMetadataRecord(trailing), FrameDecodeError);
  assert.throws(() => decodeMetadataRecord(new Uint8Array(0)), FrameDecodeError);
});

Deno.test("encodeMetadataBatch carries records with their offsets", () => {
  const batch = encodeMetadataBatch(SAMPLE_RECORDS);
  setBaseOffset(batch, 40);
  const decoded = decodeMetadataBatch(batch);
  assert.deepEqual(decoded.map((d) => d.offset), SAMPLE_RECORDS.map((_, i) => 40 + i));
  assert.deepEqual(decoded.map((d) => d.record), SAMPLE_RECORDS);
  // Deterministic: the same records always give the same bytes.
  const again = encodeMetadataBatch(SAMPLE_RECORDS);
  setBaseOffset(again, 40);
  assert.deepEqual(again, batch);
  assert.throws(() => encodeMetadataBatch([]), RangeError);
});

Deno.test("decodeMetadataRecord on fuzzed input fails only with FrameDecodeError", () => {
  const prng = createPrng(606);
  const seeds = SAMPLE_RECORDS.map(encodeMetadataRecord);
  for (let i = 0; i < 20_000; i++) {
    const base = seeds[i % seeds.length] as Uint8Array;
    let bytes: Uint8Array;
    if (i % 3 === 0) {
      bytes = base.slice(0, prng.int(0, base.length)); // truncation
    } else {
      bytes = base.slice();
      const flips = prng.int(1, 4);
      for (let f = 0; f < flips; f++) bytes[prng.int(0, bytes.length - 1)] = prng.int(0, 255);
      if (i % 7 === 0) bytes = Uint8Array.from({ length: prng.int(0, 64) }, () => prng.int(0, 255));
    }
    try {
      const r = decodeMetadataRecord(bytes);
      // Whatever decodes re-encodes to the same bytes (the encoding is canonical).
      assert.deepEqual(encodeMetadataRecord(r), bytes, `seed 606 case ${i}`);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw new Error(`seed 606 case ${i}: ${err}`);
    }
  }
});

Deno.test("decodeMetadataBatch on fuzzed batches fails only with FrameDecodeError", () => {
  const prng = createPrng(607);
  const base = encodeMetadataBatch(SAMPLE_RECORDS);
  for (let i = 0; i < 2_000; i++) {
    const bytes = base.slice(0, i % 2 === 0 ? base.length : prng.int(0, base.length));
    bytes[prng.int(0, bytes.length - 1)] = prng.int(0, 255);
    try {
      decodeMetadataBatch(bytes);
    } catch (err) {
      if (!(err instanceof FrameDecodeError)) throw new Error(`seed 607 case ${i}: ${err}`);
    }
  }
});
