/**
 * Golden frames captured from real clients (tests/fixtures/kafka/, see its README): the
 * codec must decode exactly what kcat/librdkafka 2.0.2, kafka-python 2.0.2, kafkajs 2.2.4 and
 * @platformatic/kafka 2.12.1 send, and
 * re-encoding the decoded request must give back the client's bytes.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { type DecodedRequest, decodeRequestFrame, encodeRequest } from "./frame_codec.ts";

const FIXTURES = new URL("../../../tests/fixtures/kafka/", import.meta.url);

async function load(name: string): Promise<{ bytes: Uint8Array; req: DecodedRequest }> {
  const bytes = await Deno.readFile(new URL(name, FIXTURES));
  const res = decodeRequestFrame(bytes.subarray(4));
  if (res.type !== "request") throw new Error(`${name}: unsupported ${JSON.stringify(res)}`);
  return { bytes, req: res };
}

/** Re-encodes a decoded request and compares with the captured bytes. */
function reencodes(bytes: Uint8Array, req: DecodedRequest): void {
  const again = encodeRequest(req.api, req.header.apiVersion, req.header, req.body as never);
  deepStrictEqual(again, bytes);
}

Deno.test("golden: librdkafka 2.0.2 ApiVersions v3 (flexible, header v2)", async () => {
  for (const name of ["kcat_1_ApiVersions_v3.bin", "kcat_fallback_1_ApiVersions_v3.bin"]) {
    const { bytes, req } = await load(name);
    equal(req.api, "ApiVersions");
    deepStrictEqual(req.header, {
      apiKey: 18,
      apiVersion: 3,
      correlationId: 1,
      clientId: "pyralog-golden",
    });
    deepStrictEqual(req.body, {
      clientSoftwareName: "librdkafka",
      clientSoftwareVersion: "2.0.2",
    });
    reencodes(bytes, req);
  }
});

Deno.test("golden: librdkafka 2.0.2 steps down to ApiVersions v0 after error 35", async () => {
  const { bytes, req } = await load("kcat_fallback_2_ApiVersions_v0.bin");
  equal(req.api, "ApiVersions");
  equal(req.header.apiVersion, 0);
  deepStrictEqual(req.body, { clientSoftwareName: "", clientSoftwareVersion: "" });
  reencodes(bytes, req);
});

Deno.test("golden: librdkafka 2.0.2 Metadata v4 after our ApiVersions answer", async () => {
  const { bytes, req } = await load("kcat_2_Metadata_v4.bin");
  if (req.api !== "Metadata") throw new Error(`unexpected ${req.api}`);
  equal(req.header.apiVersion, 4);
  deepStrictEqual(req.body.topics, [{ topicId: "0".repeat(32), name: "golden" }]);
  equal(req.body.allowAutoTopicCreation, true);
  reencodes(bytes, req);
});

Deno.test("golden: kafkajs 2.2.4 ApiVersions v2 (non-flexible, header v1)", async () => {
  const { bytes, req } = await load("kafkajs_1_ApiVersions_v2.bin");
  deepStrictEqual(req.header, {
    apiKey: 18,
    apiVersion: 2,
    correlationId: 0,
    clientId: "pyralog-golden",
  });
  equal(bytes.length, 4 + 24); // header only: v0-2 requests have an empty body
  reencodes(bytes, req);
});

Deno.test("golden: kafkajs 2.2.4 Metadata v6", async () => {
  const { bytes, req } = await load("kafkajs_2_Metadata_v6.bin");
  if (req.api !== "Metadata") throw new Error(`unexpected ${req.api}`);
  equal(req.header.apiVersion, 6);
  deepStrictEqual(req.body.topics?.map((t) => t.name), ["golden"]);
  equal(req.body.allowAutoTopicCreation, false);
  reencodes(bytes, req);
});

Deno.test("golden: kafka-python 2.0.2 ApiVersions v0 then Metadata v0 (all topics)", async () => {
  const first = await load("kafka_python_1_ApiVersions_v0.bin");
  deepStrictEqual(first.req.header, {
    apiKey: 18,
    apiVersion: 0,
    correlationId: 1,
    clientId: "pyralog-golden",
  });
  reencodes(first.bytes, first.req);
  const { bytes, req } = await load("kafka_python_2_Metadata_v0.bin");
  if (req.api !== "Metadata") throw new Error(`unexpected ${req.api}`);
  equal(req.header.apiVersion, 0);
  deepStrictEqual(req.body.topics, []);
  // Absent before v4: auto-creation defaults to true, as Kafka's schema says.
  equal(req.body.allowAutoTopicCreation, true);
  reencodes(bytes, req);
});

Deno.test("golden: @platformatic/kafka 2.12.1 ApiVersions v3 and flexible Metadata v12", async () => {
  const first = await load("platformatic_1_ApiVersions_v3.bin");
  deepStrictEqual(first.req.body, {
    clientSoftwareName: "platformatic-kafka",
    clientSoftwareVersion: "2.12.1",
  });
  reencodes(first.bytes, first.req);
  const { bytes, req } = await load("platformatic_2_Metadata_v12.bin");
  if (req.api !== "Metadata") throw new Error(`unexpected ${req.api}`);
  deepStrictEqual(req.header, {
    apiKey: 3,
    apiVersion: 12,
    correlationId: 2,
    clientId: "pyralog-golden",
  });
  deepStrictEqual(req.body, {
    topics: [{ topicId: "0".repeat(32), name: "golden" }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  reencodes(bytes, req);
});
