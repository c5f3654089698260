/**
 * Controller RPC: round trips of every request and result, fuzzed and truncated frames that
 * may only fail with `FrameDecodeError`, and the client and server over a `SimNetwork` on
 * virtual time with a controller over a fake quorum: following `notController`, backing off
 * without a known controller, timing out at the deadline, the local path, and `close()`.
 */
import assert from "node:assert/strict";
import { SimNetwork } from "../../testing/sim_network.ts";
import { createPrng, FrameDecodeError, type NodeId, nodeId } from "../../util/mod.ts";
import { GroupRouter } from "../replication/mod.ts";
import { Controller, type ControllerQuorum, type QuorumProposeResult } from "./controller.ts";
import {
  ControllerClient,
  type ControllerClientResult,
  type ControllerRpcRequest,
  type ControllerRpcResponse,
  ControllerRpcServer,
  decodeControllerRpcFrame,
  encodeControllerRequest,
  encodeControllerResponse,
} from "./controller_rpc.ts";
import { MetadataImage } from "./metadata_image.ts";
import { type MetadataRecord, REPLICAS_MAX } from "./metadata_record.ts";

const TOPIC_ID = "00000000-0000-4000-8000-000000000001";

const REQUESTS: ControllerRpcRequest[] = [
  {
    api: "registerBroker",
    req: {
      brokerId: nodeId(3),
      incarnation: "inc-ü",
      rack: "r1",
      endpoints: [{ name: "kafka", host: "h3", port: 9092 }, { name: "rpc", host: "h3", port: 0 }],
    },
  },
  {
    api: "registerBroker",
    req: { brokerId: nodeId(0), incarnation: "x", rack: undefined, endpoints: [] },
  },
  { api: "brokerHeartbeat", req: { brokerId: nodeId(7), brokerEpoch: 2 ** 40, wantFence: true } },
  { api: "brokerHeartbeat", req: { brokerId: nodeId(7), brokerEpoch: 1, wantFence: false } },
  {
    api: "createTopic",
    req: {
      name: "orders",
      numPartitions: 3,
      replicationFactor: 3,
      configs: { "retention.ms": "1" },
    },
  },
  { api: "createTopic", req: { name: "t", numPartitions: -1, replicationFactor: 0, configs: {} } },
  { api: "deleteTopic", name: "orders" },
  { api: "createPartitions", name: "orders", totalCount: 9 },
  {
    api: "alterConfigs",
    req: {
      resourceType: "topic",
      resourceName: "orders",
      changes: [{ name: "a", value: "1" }, { name: "b", value: null }],
    },
  },
  { api: "alterConfigs", req: { resourceType: "broker", resourceName: "", changes: [] } },
  {
    api: "alterPartition",
    req: {
      brokerId: nodeId(2),
      brokerEpoch: 2 ** 40,
      topicId: TOPIC_ID,
      partition: 7,
      leaderEpoch: 0x7fff_ffff,
      isr: [nodeId(2), nodeId(0), nodeId(5)],
    },
  },
  {
    api: "alterPartition",
    req: {
      brokerId: nodeId(0),
      brokerEpoch: 0,
      topicId: TOPIC_ID,
      partition: 0,
      leaderEpoch: 0,
      isr: [],
    },
  },
];

const RESPONSES: ControllerRpcResponse[] = [
  { api: "registerBroker", result: { type: "ok", brokerEpoch: 12 } },
  { api: "brokerHeartbeat", result: { type: "ok", isFenced: true } },
  { api: "brokerHeartbeat", result: { type: "notController", controllerId: nodeId(2) } },
  { api: "brokerHeartbeat", result: { type: "notController", controllerId: undefined } },
  {
    api: "createTopic",
    result: {
      type: "ok",
      topicId: "00000000-0000-4000-8000-000000000001",
      assignments: [[nodeId(1), nodeId(2)], [nodeId(2), nodeId(3)]],
    },
  },
  { api: "createTopic", result: { type: "error", kind: "topic_exists", message: "it exists" } },
  { api: "deleteTopic", result: { type: "ok", topicId: "t-id" } },
  { api: "createPartitions", result: { type: "ok", assignments: [] } },
  { api: "alterConfigs", result: { type: "ok" } },
  { api: "alterConfigs", result: { type: "error", kind: "refused", message: "" } },
  { api: "alterPartition", result: { type: "ok", leaderEpoch: 12 } },
  { api: "alterPartition", result: { type: "ok", leaderEpoch: 0 } },
  { api: "alterPartition", result: { type: "error", kind: "fenced_broker", message: "fenced" } },
  {
    api: "alterPartition",
    result: { type: "error", kind: "stale_leader_epoch", message: "epoch 3 is behind 4" },
  },
  { api: "alterPartition", result: { type: "notController", controllerId: nodeId(1) } },
];

Deno.test("controller RPC frames: every request and result round-trips", () => {
  REQUESTS.forEach((request, i) => {
    const f = decodeControllerRpcFrame(encodeControllerRequest(i * 1_000_003, request));
    assert.deepEqual(f, { type: "request", requestId: i * 1_000_003, request });
  });
  RESPONSES.forEach((response, i) => {
    const f = decodeControllerRpcFrame(encodeControllerResponse(0xffff_ffff - i, response));
    assert.deepEqual(f, { type: "response", requestId: 0xffff_ffff - i, response });
  });
});

Deno.test("controller RPC frames: encoding refuses fields that do not fit", () => {
  assert.throws(
    () => encodeControllerRequest(0, { api: "createPartitions", name: "x", totalCount: 1.5 }),
    RangeError,
  );
  assert.throws(() => encodeControllerRequest(-1, { api: "deleteTopic", name: "x" }), RangeError);
  const report = {
    brokerId: nodeId(1),
    brokerEpoch: 1,
    topicId: TOPIC_ID,
    partition: 0,
    leaderEpoch: 1,
    isr: [nodeId(1)],
  };
  for (
    const bad of [
      { ...report, topicId: "orders" },
      { ...report, partition: -1 },
      { ...report, leaderEpoch: -1 },
      { ...report, leaderEpoch: 2 ** 31 },
      { ...report, isr: Array.from({ length: REPLICAS_MAX + 1 }, (_, i) => nodeId(i)) },
    ]
  ) {
    assert.throws(
      () => encodeControllerRequest(0, { api: "alterPartition", req: bad }),
      RangeError,
    );
  }
});

Deno.test("controller RPC frames: alterPartition decoding refuses what it could not have encoded", () => {
  const frame = encodeControllerRequest(0, {
    api: "alterPartition",
    req: {
      brokerId: nodeId(1),
      brokerEpoch: 1,
      topicId: TOPIC_ID,
      partition: 0,
      leaderEpoch: 1,
      isr: [nodeId(1)],
    },
  });
  // Body offsets: header 7, broker 4, brokerEpoch 8, topic id 2 + 36, partition 4, epoch 4.
  const at = { topicId: 7 + 4 + 8 + 2, partition: 57, leaderEpoch: 61, isrCount: 65 };
  const patched = (pos: number, put: (dv: DataView) => void) => {
    const f = frame.slice();
    put(new DataView(f.buffer, pos));
    return f;
  };
  assert.deepEqual(decodeControllerRpcFrame(frame).type, "request");
  const bad = [
    patched(at.partition, (dv) => dv.setInt32(0, -1)),
    patched(at.leaderEpoch, (dv) => dv.setInt32(0, -5)),
    patched(at.topicId, (dv) => dv.setUint8(0, "z".charCodeAt(0))),
    patched(at.isrCount, (dv) => dv.setUint16(0, REPLICAS_MAX + 1)),
    patched(at.isrCount, (dv) => dv.setUint16(0, 2)), // claims more ids than the bytes left
    patched(at.isrCount + 2, (dv) => dv.setInt32(0, -3)), // a negative node id
  ];
  for (const f of bad) assert.throws(() => decodeControllerRpcFrame(f), FrameDecodeError);
  const response = encodeControllerResponse(0, {
    api: "alterPartition",
    result: { type: "ok", leaderEpoch: 1 },
  });
  const negative = response.slice();
  new DataView(negative.buffer).setInt32(response.length - 4, -1);
  assert.throws(() => decodeControllerRpcFrame(negative), FrameDecodeError);
});

/** Decodes `bytes`; anything but a `FrameDecodeError` fails the test. */
function decodeOrRefuse(bytes: Uint8Array): void {
  try {
    decodeControllerRpcFrame(bytes);
  } catch (err) {
    if (!(err instanceof FrameDecodeError)) throw err;
  }
}

Deno.test("controller RPC frames: truncated, extended and fuzzed input only fails to decode", () => {
  const frames = [
    ...REQUESTS.map((r, i) => encodeControllerRequest(i, r)),
    ...RESPONSES.map((r, i) => encodeControllerResponse(i, r)),
  ];
  for (const f of frames) {
    for (let n = 0; n < f.length; n++) {
      assert.throws(() => decodeControllerRpcFrame(f.subarray(0, n)), FrameDecodeError);
    }
    const longer = new Uint8Array(f.length + 1);
    longer.set(f);
    assert.throws(() => decodeControllerRpcFrame(longer), FrameDecodeError);
  }
  const prng = createPrng(0x5eed);
  for (let i = 0; i < 20_000; i++) {
    const base = frames[prng.int(0, frames.length - 1)];
    assert(base !== undefined);
    const f = base.slice();
    for (let k = prng.int(1, 4); k > 0; k--) f[prng.int(0, f.length - 1)] = prng.int(0, 255);
    decodeOrRefuse(f);
    const random = new Uint8Array(prng.int(0, 64)).map(() => prng.int(0, 255));
    if (random.length > 0) random[0] = 0; // mostly the right version, to reach the bodies
    decodeOrRefuse(random);
  }
});

class FakeQuorum implements ControllerQuorum {
  readonly image = new MetadataImage();
  constructor(public active: boolean, public leader: NodeId | undefined) {}
  isActive(): boolean {
    return this.active;
  }
  leaderId(): NodeId | undefined {
    return this.leader;
  }
  propose(records: readonly MetadataRecord[]): Promise<QuorumProposeResult> {
    if (!this.active) return Promise.resolve({ type: "notLeader", leader: this.leader });
    const base = this.image.nextOffset;
    records.forEach((r, i) => this.image.apply(r, base + i));
    return Promise.resolve({ type: "ok", lastOffset: base + records.length - 1 });
  }
}

/** Nodes 1..3 on a SimNetwork; node 1's controller is active, the others point to node 1. */
function rig(options: { hint?: NodeId; timeoutMs?: number } = {}) {
  const net = new SimNetwork({ seed: 7 });
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  for (const id of ids) net.addNode(id);
  const clock = () => net.nowMs;
  const quorums = new Map<NodeId, FakeQuorum>();
  const servers = new Map<NodeId, ControllerRpcServer>();
  const clients = new Map<NodeId, ControllerClient>();
  const hint = { id: options.hint };
  for (const id of ids) {
    const quorum = new FakeQuorum(id === 1, nodeId(1));
    const controller = new Controller({ nodeId: id, quorum, prng: createPrng(id) });
    const transport = net.transport(id);
    const server = new ControllerRpcServer({ controller, transport, clock });
    const client = new ControllerClient({
      nodeId: id,
      transport,
      scheduler: net.scheduler,
      clock,
      controllerHint: () => hint.id,
      local: server,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    const router = new GroupRouter(transport);
    router.add(server);
    router.add(client);
    quorums.set(id, quorum);
    servers.set(id, server);
    clients.set(id, client);
  }
  const client = (id: number) => {
    const c = clients.get(nodeId(id));
    assert(c !== undefined);
    return c;
  };
  /** Runs virtual time until `p` settles (at most `maxMs`); returns its value. */
  const run = async <T>(p: Promise<T>, maxMs = 30_000): Promise<T> => {
    let out: { v: T } | undefined;
    p.then((v) => (out = { v }));
    const end = net.nowMs + maxMs;
    for (let i = 0; i < 100_000 && out === undefined && net.nowMs < end; i++) {
      for (let k = 0; k < 20; k++) await Promise.resolve();
      if (out !== undefined) break;
      let n = 0;
      net.runUntil(() => n++ >= 1, end - net.nowMs);
    }
    for (let k = 0; k < 20 && out === undefined; k++) await Promise.resolve();
    assert(out !== undefined, "the call settled");
    return out.v;
  };
  const close = async () => {
    for (const c of clients.values()) c.close();
    for (const s of servers.values()) s.close();
    await net.close();
  };
  return { net, quorums, hint, client, run, close };
}

function ok<T>(r: ControllerClientResult<T>): T {
  assert.equal(r.type, "ok", JSON.stringify(r));
  return r as T;
}

Deno.test("ControllerClient: follows notController from a follower to the controller", async () => {
  const t = rig({ hint: nodeId(2) });
  try {
    const reg = await t.run(
      t.client(3).registerBroker({
        brokerId: nodeId(3),
        incarnation: "a",
        endpoints: [{ name: "kafka", host: "h", port: 1 }],
      }),
    );
    assert.equal(ok(reg).brokerEpoch, 1);
    assert.equal(t.client(3).controllerId, 1);
    const beat = await t.run(t.client(3).brokerHeartbeat({ brokerId: nodeId(3), brokerEpoch: 1 }));
    assert.equal(ok(beat).isFenced, false);
    const stale = await t.run(t.client(3).brokerHeartbeat({ brokerId: nodeId(3), brokerEpoch: 9 }));
    assert.equal(stale.type === "error" && stale.kind, "stale_broker_epoch");
    assert.equal(t.quorums.get(nodeId(1))?.image.broker(nodeId(3))?.fenced, false);
  } finally {
    await t.close();
  }
});

Deno.test("ControllerClient: a call on the controller's own node takes the local path", async () => {
  const t = rig({ hint: nodeId(1) });
  try {
    const r = await t.run(
      t.client(1).alterConfigs({
        resourceType: "broker",
        resourceName: "1",
        changes: [{ name: "x", value: "y" }],
      }),
    );
    ok(r);
    assert.equal(t.net.nowMs, 0, "no network round trip");
  } finally {
    await t.close();
  }
});

Deno.test("ControllerClient: without a known controller it backs off, then times out", async () => {
  const t = rig({ timeoutMs: 1_000 });
  try {
    const r = await t.run(t.client(3).deleteTopic("x"));
    assert.equal(r.type, "unavailable");
    assert.equal(r.type === "unavailable" && r.reason, "timeout");
    assert(t.net.nowMs >= 1_000 && t.net.nowMs < 1_600, `gave up at ${t.net.nowMs}`);
    assert.equal(t.client(3).pendingCalls, 0);
  } finally {
    await t.close();
  }
});

Deno.test("ControllerClient: a crashed controller yields a timeout, then a recovered one answers", async () => {
  const t = rig({ hint: nodeId(1), timeoutMs: 2_000 });
  try {
    t.net.crash(nodeId(1));
    const r = await t.run(t.client(3).deleteTopic("x"));
    assert.equal(r.type === "unavailable" && r.reason, "timeout");
    // Node 2 takes over and the hint (the metadata leader) moves to it.
    const q2 = t.quorums.get(nodeId(2));
    assert(q2 !== undefined);
    q2.active = true;
    q2.leader = nodeId(2);
    t.hint.id = nodeId(2);
    const t2 = await t.run(t.client(3).deleteTopic("x"));
    assert.equal(t2.type === "error" && t2.kind, "unknown_topic");
  } finally {
    await t.close();
  }
});

Deno.test("ControllerClient: close() ends open calls as unavailable", async () => {
  const t = rig({ hint: nodeId(1) });
  try {
    t.net.crash(nodeId(1));
    const p = t.client(3).deleteTopic("x");
    await t.run(Promise.resolve(), 10);
    t.client(3).close();
    const r = await p;
    assert.equal(r.type === "unavailable" && r.reason, "closed");
    const after = await t.client(3).deleteTopic("y");
    assert.equal(after.type === "unavailable" && after.reason, "closed");
  } finally {
    await t.close();
  }
});

Deno.test("ControllerRpcServer: undecodable frames are dropped and counted", async () => {
  const net = new SimNetwork({ seed: 1 });
  net.addNode(nodeId(1));
  const quorum = new FakeQuorum(true, nodeId(1));
  const controller = new Controller({ nodeId: nodeId(1), quorum, prng: createPrng(1) });
  const server = new ControllerRpcServer({
    controller,
    transport: net.transport(nodeId(1)),
    clock: () => net.nowMs,
  });
  server.receive(nodeId(2), new Uint8Array([0, 1, 0]));
  server.receive(nodeId(2), encodeControllerResponse(1, RESPONSES[0] as ControllerRpcResponse));
  assert.equal(server.undecodableFrames, 2);
  const r = await server.handle({ api: "deleteTopic", name: "nope" });
  assert.equal(r.result.type === "error" && r.result.kind, "unknown_topic");
  server.close();
  await net.close();
});

Deno.test("ControllerClient: a partition leader's alterPartition reaches the controller", async () => {
  const t = rig({ hint: nodeId(2) });
  try {
    const ids = [nodeId(1), nodeId(2), nodeId(3)];
    const epochs = new Map<NodeId, number>();
    for (const id of ids) {
      const reg = ok(
        await t.run(
          t.client(id).registerBroker({
            brokerId: id,
            incarnation: `i${id}`,
            endpoints: [{ name: "kafka", host: "h", port: 1 }],
          }),
        ),
      );
      epochs.set(id, reg.brokerEpoch);
      ok(await t.run(t.client(id).brokerHeartbeat({ brokerId: id, brokerEpoch: reg.brokerEpoch })));
    }
    const created = ok(
      await t.run(t.client(2).createTopic({ name: "t", numPartitions: 1, replicationFactor: 3 })),
    );
    const report = {
      brokerId: nodeId(3),
      brokerEpoch: epochs.get(nodeId(3)) as number,
      topicId: created.topicId,
      partition: 0,
      leaderEpoch: 5,
      isr: [nodeId(3), nodeId(1)],
    };
    assert.deepEqual(await t.run(t.client(3).alterPartition(report)), {
      type: "ok",
      leaderEpoch: 5,
    });
    const p = t.quorums.get(nodeId(1))?.image.describeTopic("t")?.partitions[0];
    assert.equal(p?.leader, nodeId(3));
    assert.equal(p?.leaderEpoch, 5);
    const stale = await t.run(t.client(3).alterPartition({ ...report, leaderEpoch: 4 }));
    assert.equal(stale.type === "error" && stale.kind, "stale_leader_epoch");
    // Node 2 may not report for node 3 (the transport authenticates the sender).
    const impostor = await t.run(
      t.client(2).alterPartition({ ...report, leaderEpoch: 6 }),
    );
    assert.equal(impostor.type === "error" && impostor.kind, "invalid_request");
    // A report that cannot be encoded is refused before it is sent.
    const local = await t.client(3).alterPartition({ ...report, topicId: "t" });
    assert.equal(local.type === "error" && local.kind, "invalid_request");
  } finally {
    await t.close();
  }
});

Deno.test("ControllerRpcServer: a node may register and heartbeat only for itself", async () => {
  const t = rig({ hint: nodeId(1) });
  try {
    const r = await t.run(
      t.client(3).registerBroker({
        brokerId: nodeId(2),
        incarnation: "a",
        endpoints: [{ name: "kafka", host: "h", port: 1 }],
      }),
    );
    assert.equal(r.type === "error" && r.kind, "invalid_request");
    assert.equal(t.quorums.get(nodeId(1))?.image.broker(nodeId(2)), undefined);
  } finally {
    await t.close();
  }
});
