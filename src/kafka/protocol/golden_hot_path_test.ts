/**
 * Golden frames of the requests clients send after bootstrap (captured by
 * scripts/capture_kafka_hot_path.ts; tests/fixtures/kafka/README.md lists them): Produce
 * from librdkafka 2.0.2 (v7), kafkajs 2.2.4 (v7) and @platformatic/kafka 2.12.1 (v11,
 * flexible); ListOffsets v2 and Fetch v11 from librdkafka; Fetch v17 with a topic id from
 * @platformatic/kafka; FindCoordinator and JoinGroup from kafkajs (v2, v5) and
 * @platformatic/kafka (v6 batched keys, v9). Each must decode to what the client meant,
 * keep its records as a view into the frame, and re-encode to the same bytes.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { type DecodedRequest, decodeRequestFrame, encodeRequest } from "./frame_codec.ts";

const FIXTURES = new URL("../../../tests/fixtures/kafka/", import.meta.url);
const TOPIC_ID = "6f1c2a9e4b7d4e0f9a3b5c7d9e1f2a3b";

async function load(name: string): Promise<{ bytes: Uint8Array; req: DecodedRequest }> {
  const bytes = await Deno.readFile(new URL(name, FIXTURES));
  const res = decodeRequestFrame(bytes.subarray(4));
  if (res.type !== "request") throw new Error(`${name}: unsupported ${JSON.stringify(res)}`);
  deepStrictEqual(
    encodeRequest(res.api, res.header.apiVersion, res.header, res.body as never),
    bytes,
    `${name} re-encodes to the client's bytes`,
  );
  return { bytes, req: res };
}

/** RecordBatch v2 framing (protocol guide "Record Batch"): magic at 16, length at 8. */
function checkBatch(records: Uint8Array | null, frame: Uint8Array): void {
  if (records === null) throw new Error("records missing");
  equal(records.buffer, frame.buffer, "records are a view into the frame");
  equal(records[16], 2, "magic 2");
  const batchLength = new DataView(records.buffer, records.byteOffset).getInt32(8);
  equal(batchLength, records.length - 12, "batchLength covers the rest of the batch");
}

Deno.test("golden: Produce from librdkafka, kafkajs (v7) and @platformatic/kafka (v11)", async () => {
  const cases: [string, number, number][] = [
    ["kcat_produce_1_Produce_v7.bin", 7, -1],
    ["kafkajs_produce_1_Produce_v7.bin", 7, -1],
    ["platformatic_produce_1_Produce_v11.bin", 11, 1],
  ];
  for (const [name, version, acks] of cases) {
    const { bytes, req } = await load(name);
    if (req.api !== "Produce") throw new Error(`${name}: ${req.api}`);
    equal(req.header.apiVersion, version);
    equal(req.body.acks, acks);
    equal(req.body.transactionalId, null);
    const topic = req.body.topicData[0];
    equal(topic?.name, "golden");
    equal(topic?.partitionData[0]?.index, 0);
    checkBatch(topic?.partitionData[0]?.records ?? null, bytes);
  }
});

Deno.test("golden: librdkafka ListOffsets v2 (earliest) then Fetch v11", async () => {
  const lo = await load("kcat_consume_1_ListOffsets_v2.bin");
  if (lo.req.api !== "ListOffsets") throw new Error(lo.req.api);
  equal(lo.req.body.replicaId, -1);
  equal(lo.req.body.isolationLevel, 1); // read_committed, librdkafka's default
  equal(lo.req.body.topics[0]?.partitions[0]?.timestamp, -2n); // EARLIEST
  const fetch = await load("kcat_consume_2_Fetch_v11.bin");
  if (fetch.req.api !== "Fetch") throw new Error(fetch.req.api);
  const b = fetch.req.body;
  equal(b.replicaId, -1);
  equal(b.sessionEpoch, -1); // no fetch session (KIP-227 full fetch, sessionless)
  equal(b.topics[0]?.topic, "golden");
  equal(b.topics[0]?.partitions[0]?.fetchOffset, 0n);
  equal(b.rackId, "");
});

Deno.test("golden: @platformatic/kafka Fetch v17 by topic id, flexible", async () => {
  const { req } = await load("platformatic_fetch_1_Fetch_v17.bin");
  if (req.api !== "Fetch") throw new Error(req.api);
  equal(req.header.apiVersion, 17);
  const t = req.body.topics[0];
  equal(t?.topicId, TOPIC_ID);
  equal(t?.topic, ""); // absent from v13: default
  equal(t?.partitions[0]?.partitionMaxBytes, 1048576);
  // v15+: no ReplicaId on the wire; the tagged ReplicaState was not sent either.
  deepStrictEqual(req.body.replicaState, { replicaId: -1, replicaEpoch: -1n });
});

Deno.test("golden: FindCoordinator and JoinGroup from kafkajs and @platformatic/kafka", async () => {
  const fc2 = await load("kafkajs_group_1_FindCoordinator_v2.bin");
  if (fc2.req.api !== "FindCoordinator") throw new Error(fc2.req.api);
  equal(fc2.req.body.key, "golden-group");
  const fc6 = await load("platformatic_group_1_FindCoordinator_v6.bin");
  if (fc6.req.api !== "FindCoordinator") throw new Error(fc6.req.api);
  deepStrictEqual(fc6.req.body.coordinatorKeys, ["golden-group"]); // v4+ batches keys
  for (
    const [name, version] of [["kafkajs_group_2_JoinGroup_v5.bin", 5], [
      "platformatic_group_2_JoinGroup_v9.bin",
      9,
    ]] as const
  ) {
    const { req } = await load(name);
    if (req.api !== "JoinGroup") throw new Error(req.api);
    equal(req.header.apiVersion, version);
    equal(req.body.groupId, "golden-group");
    equal(req.body.memberId, ""); // first join: the broker assigns one (KIP-394)
    equal(req.body.protocolType, "consumer");
    ok(req.body.protocols.length > 0);
    ok(req.body.rebalanceTimeoutMs > 0);
  }
});
