/**
 * Whole-frame behaviour: header versions (request v1/v2, response v0/v1, ApiVersions'
 * always-v0 response header), unsupported keys and versions, the UNSUPPORTED_VERSION
 * fallback answer, the supported-versions table, and frame round trips for every API.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { API_NAMES, API_REGISTRY, type ApiName } from "./api_registry.ts";
import { ByteReader } from "./byte_reader.ts";
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
  UNSUPPORTED_VERSION,
} from "./frame_codec.ts";
import { parseVersionRange } from "./message_spec.ts";
import { ADVERTISED_API_KEYS, SUPPORTED_VERSIONS } from "./supported_versions.ts";
import { sampleValue, versionsOf } from "./_sample_value.ts";

/** Strips and checks the int32 size prefix. */
function payload(frame: Uint8Array): Uint8Array {
  const size = new DataView(frame.buffer, frame.byteOffset).getInt32(0);
  equal(size, frame.length - 4);
  return frame.subarray(4);
}

Deno.test("encodeRequest/decodeRequestFrame round-trip every API and version", () => {
  let n = 0;
  for (const api of API_NAMES) {
    const spec = API_REGISTRY[api].request;
    for (const v of versionsOf(spec)) {
      const body = sampleValue(spec, v, { mode: "exact" });
      // The typed API takes RequestInput<N>; samples are built from the schema at runtime.
      const frame = encodeRequest(
        api,
        v,
        { correlationId: 1000 + v, clientId: "c-é" },
        body as never,
      );
      const req = decodeRequestFrame(payload(frame));
      equal(req.type, "request");
      if (req.type !== "request") continue;
      equal(req.api, api);
      deepStrictEqual(req.header, {
        apiKey: spec.apiKey,
        apiVersion: v,
        correlationId: 1000 + v,
        clientId: "c-é",
      });
      deepStrictEqual(req.body, body, `${api} v${v}`);
      n++;
    }
  }
  ok(n > 150);
});

Deno.test("encodeResponse/decodeResponseFrame round-trip every API and version", () => {
  for (const api of API_NAMES) {
    const spec = API_REGISTRY[api].response;
    for (const v of versionsOf(spec)) {
      const body = sampleValue(spec, v, { mode: "exact" });
      const frame = encodeResponse(api, v, 77, body as never);
      const res = decodeResponseFrame(api, v, payload(frame));
      equal(res.correlationId, 77);
      deepStrictEqual(res.body, body, `${api} v${v}`);
    }
  }
});

Deno.test("encodeRequest writes header v1 for non-flexible and v2 for flexible versions", () => {
  const v1 = payload(encodeRequest("Heartbeat", 3, { correlationId: 5, clientId: null }, {
    groupId: "g",
    generationId: 1,
    memberId: "m",
  }));
  // key 12, version 3, correlation 5, client id null (int16 -1), then the body.
  deepStrictEqual([...v1.subarray(0, 10)], [0, 12, 0, 3, 0, 0, 0, 5, 0xff, 0xff]);
  const v2 = payload(encodeRequest("Heartbeat", 4, { correlationId: 5, clientId: "k" }, {
    groupId: "g",
    generationId: 1,
    memberId: "m",
  }));
  // Client id stays a non-compact STRING in header v2, then an empty tag section.
  deepStrictEqual([...v2.subarray(0, 12)], [0, 12, 0, 4, 0, 0, 0, 5, 0, 1, 0x6b, 0]);
  // Body starts with a COMPACT_STRING "g".
  deepStrictEqual([...v2.subarray(12, 14)], [2, 0x67]);
});

Deno.test("encodeResponse uses header v1 for flexible versions but v0 for ApiVersions", () => {
  const hb = payload(encodeResponse("Heartbeat", 4, 9, { errorCode: 0 }));
  // correlation id, empty header tags, then throttle (int32) error (int16) body tags.
  deepStrictEqual([...hb], [0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
  const av = payload(encodeResponse("ApiVersions", 3, 9, {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
  }));
  // No header tag byte: the body's error code follows the correlation id directly.
  deepStrictEqual([...av.subarray(0, 8)], [0, 0, 0, 9, 0, 0, 2, 0]);
  equal(decodeResponseFrame("ApiVersions", 3, av).body.apiKeys[0]?.maxVersion, 4);
});

Deno.test("decodeRequestFrame reports unknown APIs and versions with their header", () => {
  const unknownKey = new Uint8Array([0, 99, 0, 0, 0, 0, 0, 4, 0, 1, 0x78]);
  deepStrictEqual(decodeRequestFrame(unknownKey), {
    type: "unsupported",
    reason: "unknown_api",
    header: { apiKey: 99, apiVersion: 0, correlationId: 4, clientId: "x" },
  });
  // An ApiVersions v9 request (flexible header with tags and a body we cannot know).
  const future = new Uint8Array([0, 18, 0, 9, 0, 0, 1, 0, 0xff, 0xff, 0, 5, 1, 2]);
  const res = decodeRequestFrame(future);
  equal(res.type, "unsupported");
  if (res.type === "unsupported") {
    equal(res.reason, "unsupported_version");
    equal(res.header.correlationId, 256);
  }
});

Deno.test("encodeApiVersionsFallback answers in v0 format with error 35 and the ranges", () => {
  const frame = payload(encodeApiVersionsFallback(12, ADVERTISED_API_KEYS));
  const r = new ByteReader(frame);
  equal(r.int32(), 12); // header v0: no tag byte
  equal(r.int16(), UNSUPPORTED_VERSION);
  equal(r.int32(), SUPPORTED_VERSIONS.length); // v0 ARRAY: int32 count, not compact
  const res = decodeResponseFrame("ApiVersions", 0, frame);
  deepStrictEqual(res.body.apiKeys.find((k) => k.apiKey === 18), {
    apiKey: 18,
    minVersion: 0,
    maxVersion: 4,
  });
});

Deno.test("SUPPORTED_VERSIONS matches the schemas' validVersions", () => {
  const listed = new Set<ApiName>();
  for (const row of SUPPORTED_VERSIONS) {
    listed.add(row.api);
    for (const spec of [API_REGISTRY[row.api].request, API_REGISTRY[row.api].response]) {
      equal(spec.apiKey, row.apiKey, row.api);
      deepStrictEqual(parseVersionRange(spec.validVersions), {
        min: row.minVersion,
        max: row.maxVersion,
      }, spec.name);
    }
  }
  equal(listed.size, API_NAMES.length);
});

Deno.test("SUPPORTED_VERSIONS covers the versions real clients need", () => {
  const range = (api: ApiName) => SUPPORTED_VERSIONS.find((r) => r.api === api);
  // KAFKA-CLIENTS.md 2.2/2.4: Produce advertised from 0; maxima of librdkafka 2.x, Java 3.9,
  // KafkaJS 2.2.4 (capped to what Kafka 3.9 defines).
  equal(range("Produce")?.minVersion, 0);
  const needs: [ApiName, number][] = [
    ["Produce", 11],
    ["Fetch", 17],
    ["ListOffsets", 9],
    ["Metadata", 12],
    ["OffsetCommit", 9],
    ["OffsetFetch", 9],
    ["FindCoordinator", 6],
    ["JoinGroup", 9],
    ["Heartbeat", 4],
    ["LeaveGroup", 5],
    ["SyncGroup", 5],
    ["DescribeGroups", 5],
    ["ListGroups", 5],
    ["ApiVersions", 4],
    ["CreateTopics", 7],
    ["DeleteTopics", 6],
    ["InitProducerId", 5],
    ["OffsetForLeaderEpoch", 4],
    ["DescribeConfigs", 4],
    ["DescribeCluster", 1],
  ];
  for (const [api, max] of needs) ok((range(api)?.maxVersion ?? -1) >= max, api);
});

Deno.test("encodeResponseChunks gives the same bytes as encodeResponse without copying records", () => {
  const big = new Uint8Array(10_000).fill(9);
  const small = new Uint8Array(100).fill(3);
  for (const version of [4, 11, 12, 13, 16]) {
    const body = {
      throttleTimeMs: 1,
      errorCode: 0,
      sessionId: 5,
      responses: [{
        topic: "t",
        topicId: "ab".repeat(16),
        partitions: [0, 1, 2].map((p) => ({
          partitionIndex: p,
          errorCode: 0,
          highWatermark: 10n,
          abortedTransactions: null,
          records: p === 1 ? small : big,
        })),
      }],
    };
    const whole = encodeResponse("Fetch", version, 3, body);
    const chunks = encodeResponseChunks("Fetch", version, 3, body);
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      joined.set(c, at);
      at += c.length;
    }
    deepStrictEqual(joined, whole, `Fetch v${version}`);
    equal(chunks.filter((c) => c === big).length, 2, "big records are referenced, not copied");
  }
});

Deno.test("encodeRequestChunks gives the same bytes as encodeRequest without copying records", () => {
  const records = new Uint8Array(5000).fill(4);
  for (const version of [0, 3, 9, 11]) {
    const body = {
      transactionalId: null,
      acks: 1,
      timeoutMs: 100,
      topicData: [{
        name: "t",
        partitionData: [{ index: 0, records }, { index: 1, records: null }],
      }],
    };
    const header = { correlationId: 8, clientId: "c" };
    const chunks = encodeRequestChunks("Produce", version, header, body);
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      joined.set(c, at);
      at += c.length;
    }
    deepStrictEqual(joined, encodeRequest("Produce", version, header, body), `Produce v${version}`);
    ok(chunks.includes(records));
  }
});
