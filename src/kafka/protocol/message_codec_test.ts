/**
 * Round trips of every API, request and response, at every implemented version, built
 * from the schemas themselves (see _sample_value.ts), plus byte-exact spot checks written
 * by hand from the protocol guide so the interpreter is checked against the spec and not
 * only against itself.
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { AssertionError } from "../../util/mod.ts";
import { API_NAMES, API_REGISTRY } from "./api_registry.ts";
import { ByteReader } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";
import { messageCodec } from "./message_codec.ts";
import type { MessageSpec } from "./message_spec.ts";
import { sampleValue, versionsOf } from "./_sample_value.ts";

function encode(spec: MessageSpec, version: number, value: Record<string, unknown>): Uint8Array {
  const w = new ByteWriter();
  messageCodec(spec, version).encode(w, value);
  return w.finish();
}

function decodeAll(spec: MessageSpec, version: number, bytes: Uint8Array): unknown {
  const r = new ByteReader(bytes);
  const v = messageCodec(spec, version).decode(r);
  equal(r.remaining, 0, `${spec.name} v${version}: body not fully consumed`);
  return v;
}

for (const api of API_NAMES) {
  for (const kind of ["request", "response"] as const) {
    const spec = API_REGISTRY[api][kind];
    Deno.test(`messageCodec round-trips ${spec.name} at every version`, () => {
      for (const v of versionsOf(spec)) {
        const exact = sampleValue(spec, v, { mode: "exact" });
        const bytes = encode(spec, v, exact);
        deepStrictEqual(decodeAll(spec, v, bytes), exact, `${spec.name} v${v}`);
        const withNulls = sampleValue(spec, v, { mode: "exact", nulls: true });
        deepStrictEqual(
          decodeAll(spec, v, encode(spec, v, withNulls)),
          withNulls,
          `${spec.name} v${v} with nulls`,
        );
      }
    });
    Deno.test(`messageCodec does not encode ${spec.name} fields absent in a version`, () => {
      for (const v of versionsOf(spec)) {
        const full = sampleValue(spec, v, { mode: "full" });
        const exact = sampleValue(spec, v, { mode: "exact" });
        deepStrictEqual(encode(spec, v, full), encode(spec, v, exact), `${spec.name} v${v}`);
      }
    });
  }
}

Deno.test("messageCodec encodes ApiVersions v3 request as the protocol guide lays it out", () => {
  const spec = API_REGISTRY.ApiVersions.request;
  const bytes = encode(spec, 3, { clientSoftwareName: "ab", clientSoftwareVersion: "1" });
  // COMPACT_STRING "ab" = varint 3 + 2 bytes; "1" = varint 2 + 1 byte; empty tag section.
  deepStrictEqual([...bytes], [3, 0x61, 0x62, 2, 0x31, 0]);
  deepStrictEqual(encode(spec, 2, { clientSoftwareName: "ab" }).length, 0);
});

Deno.test("messageCodec encodes Metadata v0 and v9 topic lists per encoding", () => {
  const spec = API_REGISTRY.Metadata.request;
  // v0: ARRAY int32 count, STRING int16 length.
  deepStrictEqual([...encode(spec, 0, { topics: [{ name: "t" }] })], [0, 0, 0, 1, 0, 1, 0x74]);
  // v1: null array = all topics (int32 -1) followed by nothing else in v1-v3.
  deepStrictEqual([...encode(spec, 1, { topics: null })], [0xff, 0xff, 0xff, 0xff]);
  // v9 (flexible): compact array (N+1), compact string, struct tags, then the booleans
  // AllowAutoTopicCreation (v4+), IncludeTopicAuthorizedOperations (v8+), cluster ops (8-10).
  deepStrictEqual(
    [...encode(spec, 9, { topics: [{ name: "t" }], allowAutoTopicCreation: true })],
    [2, 2, 0x74, 0, 1, 0, 0, 0],
  );
  // v11 dropped IncludeClusterAuthorizedOperations; v10 added the topic id before the name.
  equal(encode(spec, 11, { topics: [] }).length, 1 + 1 + 1 + 1);
});

Deno.test("messageCodec writes tagged fields only when they differ from the default", () => {
  const spec = API_REGISTRY.Fetch.response;
  const base = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{
      topicId: "0".repeat(32),
      partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 5n, records: null }],
    }],
  };
  const plain = encode(spec, 13, base);
  const withLeader = encode(spec, 13, {
    ...base,
    responses: [{
      topicId: "0".repeat(32),
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 5n,
        records: null,
        currentLeader: { leaderId: 2, leaderEpoch: 7 },
      }],
    }],
  });
  // One tagged field: tag 1 (1 byte) + size (1 byte) + two int32 + its struct's empty tags.
  equal(withLeader.length - plain.length, 1 + 1 + 8 + 1);
  // A default-valued tagged struct is not sent at all.
  const withDefault = encode(spec, 13, {
    ...base,
    responses: [{
      topicId: "0".repeat(32),
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 5n,
        records: null,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
      }],
    }],
  });
  deepStrictEqual(withDefault, plain);
});

Deno.test("messageCodec skips unknown tagged fields and reads known ones", () => {
  const spec = API_REGISTRY.ApiVersions.response;
  const w = new ByteWriter();
  w.int16(0); // errorCode
  w.uvarint(1); // apiKeys: empty compact array
  w.int32(0); // throttleTimeMs
  w.uvarint(2); // two tagged fields
  w.uvarint(1); // tag 1: finalizedFeaturesEpoch
  w.uvarint(8);
  w.int64(42n);
  w.uvarint(9); // unknown tag 9, 3 bytes
  w.uvarint(3);
  w.raw(new Uint8Array([1, 2, 3]));
  const v = decodeAll(spec, 3, w.finish()) as Record<string, unknown>;
  equal(v.finalizedFeaturesEpoch, 42n);
  equal(v.zkMigrationReady, false);
});

Deno.test("messageCodec refuses null where the version does not allow it", () => {
  const spec = API_REGISTRY.Metadata.request;
  throws(() => encode(spec, 0, { topics: null }), AssertionError);
  throws(() => encode(spec, 9, { topics: [{ name: null }] }), AssertionError);
  encode(spec, 10, { topics: [{ name: null, topicId: "1".repeat(32) }] });
});

Deno.test("messageCodec refuses a version outside validVersions", () => {
  throws(() => messageCodec(API_REGISTRY.Produce.request, 12), AssertionError);
});

Deno.test("messageCodec decodes records as views into the frame (no copy)", () => {
  const spec = API_REGISTRY.Produce.request;
  const records = new Uint8Array(1000).fill(7);
  for (const v of [3, 9]) {
    const bytes = encode(spec, v, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records }] }],
    });
    const out = decodeAll(spec, v, bytes) as {
      topicData: { partitionData: { records: Uint8Array }[] }[];
    };
    const got = out.topicData[0]?.partitionData[0]?.records;
    equal(got?.buffer, bytes.buffer);
    deepStrictEqual(got, records);
  }
});
