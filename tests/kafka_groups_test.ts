/**
 * Consumer groups end to end with real clients against a real `main.ts serve` process:
 * kafkajs 2.2.4 consumer groups that grow and shrink (every partition owned by exactly one
 * member after each rebalance, every message consumed exactly once in total), committed
 * offsets that survive a broker restart, kafkajs admin (describeGroups, listGroups,
 * fetchOffsets, deleteGroups), and confluent-kafka-python (librdkafka) and kafka-python 2.0.2
 * group consumers run as subprocesses, and an @platformatic/kafka member on recent versions.
 *
 * Bounds: every wait polls with a deadline, every external command has a timeout, every
 * process is stopped by PID in `finally`; ports are 0 and data dirs are temporary. No sleep
 * is used as synchronisation: the tests poll the broker's own view (DescribeGroups).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { AssignerProtocol, type Consumer, Kafka, logLevel } from "kafkajs";
import { TopicStore } from "../src/storage/mod.ts";
import { type PyralogProcess, startPyralog } from "./helpers/pyralog_process.ts";

const PYTHON = "/usr/bin/python3";
const PY_GROUP = new URL("./clients/py_group.py", import.meta.url).pathname;
const WAIT_LIMIT_MS = 45_000;
const POLL_MS = 100;
const COMMAND_TIMEOUT_MS = 90_000;
const dec = new TextDecoder();

/** Creates topics in a fresh data dir before the node starts (no admin API needed). */
async function dataDirWith(topics: Record<string, number>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pyralog-groups-" });
  const store = TopicStore.open(dir, { background: false });
  for (const [name, partitions] of Object.entries(topics)) store.createTopic(name, partitions);
  await store.close();
  return dir;
}

/** Polls `probe` until it returns a value (not undefined), within the wait limit. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  let last: unknown = null;
  // Bounded by the deadline.
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err; // the broker may be mid-rebalance: probe again
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

function kafkaFor(node: PyralogProcess, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [node.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

/** Member id -> assigned partitions of `topic`, once the group is Stable with `size` members. */
async function stableAssignment(
  kafka: Kafka,
  groupId: string,
  topic: string,
  size: number,
): Promise<Map<string, number[]>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await until(`group "${groupId}" stable with ${size} members`, async () => {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      if (!g || g.state !== "Stable" || g.members.length !== size) return undefined;
      const out = new Map<string, number[]>();
      for (const m of g.members) {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        out.set(m.memberId, a?.assignment[topic] ?? []);
      }
      return out;
    });
  } finally {
    await admin.disconnect();
  }
}

/** Asserts that every partition 0..n-1 has exactly one owner. */
function assertExclusive(assignment: Map<string, number[]>, partitions: number): void {
  const owners = new Map<number, number>();
  for (const parts of assignment.values()) {
    for (const p of parts) owners.set(p, (owners.get(p) ?? 0) + 1);
  }
  for (let p = 0; p < partitions; p++) {
    strictEqual(owners.get(p), 1, `partition ${p} owners: ${owners.get(p) ?? 0}`);
  }
  strictEqual(owners.size, partitions, "no partition outside the topic is assigned");
}

Deno.test("kafkajs: a group of three shares six partitions exactly once across joins and leaves", async () => {
  const topic = "orders";
  const groupId = "orders-readers";
  const dataDir = await dataDirWith({ [topic]: 6 });
  const node = await startPyralog({ dataDir });
  const kafka = kafkaFor(node, "groups-test");
  const producer = kafka.producer();
  const consumers = new Map<string, Consumer>();
  const seen = new Map<string, number>();
  let produced = 0;
  const startConsumer = async (name: string) => {
    const c = kafka.consumer({
      groupId,
      sessionTimeout: 30_000, // long: a loaded machine must not expire a member mid-test
      rebalanceTimeout: 30_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 200,
    });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: ({ message }) => {
        const v = dec.decode(message.value ?? new Uint8Array(0));
        seen.set(v, (seen.get(v) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    consumers.set(name, c);
  };
  const produceRound = async (round: string, count: number) => {
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        partition: i % 6,
        value: `${round}-${i}`,
      })),
    });
    produced += count;
    await until(`${produced} messages consumed`, () => {
      let total = 0;
      for (const n of seen.values()) total += n;
      return Promise.resolve(total >= produced ? true : undefined);
    });
  };
  try {
    await producer.connect();
    for (const name of ["a", "b", "c"]) await startConsumer(name);
    assertExclusive(await stableAssignment(kafka, groupId, topic, 3), 6);
    await produceRound("r1", 120);

    // One member leaves (LeaveGroup): the other two take over its partitions.
    await consumers.get("c")?.disconnect();
    consumers.delete("c");
    assertExclusive(await stableAssignment(kafka, groupId, topic, 2), 6);
    await produceRound("r2", 120);

    // A new member joins: three owners again.
    await startConsumer("d");
    assertExclusive(await stableAssignment(kafka, groupId, topic, 3), 6);
    await produceRound("r3", 120);

    // Down to one member: it owns everything.
    for (const name of ["a", "b"]) {
      await consumers.get(name)?.disconnect();
      consumers.delete(name);
    }
    const solo = await stableAssignment(kafka, groupId, topic, 1);
    assertExclusive(solo, 6);
    await produceRound("r4", 60);

    strictEqual(seen.size, produced, "every produced message was consumed");
    for (const [v, n] of seen) strictEqual(n, 1, `message "${v}" consumed ${n} times`);
  } finally {
    for (const c of consumers.values()) await c.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await node.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("kafkajs: messages produced while members join and leave are all consumed", async () => {
  const topic = "flow";
  const groupId = "flow-readers";
  const dataDir = await dataDirWith({ [topic]: 6 });
  const node = await startPyralog({ dataDir });
  const kafka = kafkaFor(node, "flow-test");
  const producer = kafka.producer();
  const consumers = new Map<string, Consumer>();
  const seen = new Map<string, number>();
  const start = async (name: string) => {
    const c = kafka.consumer({
      groupId,
      sessionTimeout: 30_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 100,
    });
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      eachMessage: ({ message }) => {
        const v = dec.decode(message.value ?? new Uint8Array(0));
        seen.set(v, (seen.get(v) ?? 0) + 1);
        return Promise.resolve();
      },
    });
    consumers.set(name, c);
  };
  const stop = async (name: string) => {
    await consumers.get(name)?.disconnect();
    consumers.delete(name);
  };
  // Each round produces without waiting for consumption, then changes the membership, so
  // rebalances happen while partitions have unread messages.
  const changes: Array<() => Promise<void>> = [
    () => start("c"),
    () => stop("a"),
    () => start("d"),
    () => stop("b"),
    () => start("e"),
  ];
  const perRound = 60;
  try {
    await producer.connect();
    await start("a");
    await start("b");
    for (const [round, change] of changes.entries()) {
      await producer.send({
        topic,
        messages: Array.from({ length: perRound }, (_, i) => ({
          partition: i % 6,
          value: `f${round}-${i}`,
        })),
      });
      await change();
    }
    const total = perRound * changes.length;
    await until(
      `${total} distinct messages`,
      () => Promise.resolve(seen.size >= total ? true : undefined),
    );
    strictEqual(seen.size, total, "nothing but what was produced");
    assertExclusive(await stableAssignment(kafka, groupId, topic, 3), 6);
    // Delivery is at least once across rebalances; redeliveries stay the exception.
    let deliveries = 0;
    for (const n of seen.values()) deliveries += n;
    ok(deliveries < total * 2, `${deliveries} deliveries for ${total} messages`);
  } finally {
    for (const c of consumers.values()) await c.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await node.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("kafkajs: committed offsets survive a broker restart", async () => {
  const topic = "resume";
  const groupId = "resume-group";
  const dataDir = await dataDirWith({ [topic]: 2 });
  let node: PyralogProcess | null = await startPyralog({ dataDir });
  const consumeAll = async (n: PyralogProcess, expected: number): Promise<string[]> => {
    const kafka = kafkaFor(n, "resume-test");
    const c = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 200,
    });
    const got: string[] = [];
    await c.connect();
    try {
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({
        eachMessage: ({ message }) => {
          got.push(dec.decode(message.value ?? new Uint8Array(0)));
          return Promise.resolve();
        },
      });
      await until(
        `${expected} messages`,
        () => Promise.resolve(got.length >= expected ? true : undefined),
      );
    } finally {
      await c.disconnect(); // commits what was consumed, then leaves the group
    }
    return got;
  };
  const produce = async (n: PyralogProcess, from: number, count: number) => {
    const p = kafkaFor(n, "resume-producer").producer();
    await p.connect();
    await p.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        partition: (from + i) % 2,
        value: `m${from + i}`,
      })),
    });
    await p.disconnect();
  };
  try {
    await produce(node, 0, 10);
    deepStrictEqual(
      (await consumeAll(node, 10)).sort(),
      Array.from({ length: 10 }, (_, i) => `m${i}`).sort(),
    );
    strictEqual(await node.stop(), 0);
    node = null;

    node = await startPyralog({ dataDir });
    const admin = kafkaFor(node, "resume-admin").admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      const parts = offsets[0]?.partitions.map((p) => [p.partition, p.offset]).sort();
      deepStrictEqual(parts, [[0, "5"], [1, "5"]]);
    } finally {
      await admin.disconnect();
    }
    await produce(node, 10, 4);
    const after = await consumeAll(node, 4);
    deepStrictEqual(after.sort(), ["m10", "m11", "m12", "m13"]);
  } finally {
    await node?.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("kafkajs admin: listGroups, describeGroups, fetchOffsets and deleteGroups", async () => {
  const topic = "admin-topic";
  const groupId = "admin-group";
  const dataDir = await dataDirWith({ [topic]: 3 });
  const node = await startPyralog({ dataDir });
  const kafka = kafkaFor(node, "admin-test");
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
  });
  let consumed = 0;
  let consumerRunning = false;
  try {
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    await producer.send({
      topic,
      messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, value: `a${i}` })),
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: () => {
        consumed++;
        return Promise.resolve();
      },
    });
    consumerRunning = true;
    await until("9 messages", () => Promise.resolve(consumed >= 9 ? true : undefined));

    const listed = await admin.listGroups();
    deepStrictEqual(
      listed.groups.filter((g) => g.groupId === groupId),
      [{ groupId, protocolType: "consumer" }],
    );
    const described = await until("a Stable group", async () => {
      const g = (await admin.describeGroups([groupId])).groups[0];
      return g?.state === "Stable" ? g : undefined;
    });
    strictEqual(described.protocolType, "consumer");
    strictEqual(described.members.length, 1);
    strictEqual(described.members[0]?.clientId, "admin-test");
    ok(described.protocol.length > 0, "the selected assignor is reported");

    // A group with a live member cannot be deleted.
    const refused = await admin.deleteGroups([groupId]).then(
      () => null,
      (err: { groups?: Array<{ error?: { type?: string } }> }) => err,
    );
    strictEqual(refused?.groups?.[0]?.error?.type, "NON_EMPTY_GROUP");

    await consumer.disconnect(); // commits and leaves
    consumerRunning = false;
    await until("an Empty group", async () => {
      const g = (await admin.describeGroups([groupId])).groups[0];
      return g?.state === "Empty" ? true : undefined;
    });
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    deepStrictEqual(
      offsets[0]?.partitions.map((p) => [p.partition, p.offset]).sort(),
      [[0, "3"], [1, "3"], [2, "3"]],
    );

    const deleted = await admin.deleteGroups([groupId]);
    strictEqual(deleted[0]?.errorCode, 0);
    const after = await admin.fetchOffsets({ groupId, topics: [topic] });
    deepStrictEqual(after[0]?.partitions.map((p) => p.offset), ["-1", "-1", "-1"]);
    strictEqual((await admin.describeGroups([groupId])).groups[0]?.state, "Dead");
    const missing = await admin.deleteGroups(["no-such-group"]).then(
      () => null,
      (err: { groups?: Array<{ error?: { type?: string } }> }) => err,
    );
    strictEqual(missing?.groups?.[0]?.error?.type, "GROUP_ID_NOT_FOUND");
  } finally {
    if (consumerRunning) await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await node.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

/** Runs py_group.py with a time bound; returns its parsed output. */
async function pyGroup(
  client: string,
  node: PyralogProcess,
  topic: string,
  group: string,
  count: number,
): Promise<{ values: string[]; committed: Record<string, number>; assignments?: number[][] }> {
  const child = new Deno.Command(PYTHON, {
    args: [PY_GROUP, client, node.bootstrap, topic, group, String(count)],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
  }).spawn();
  const out = await child.output();
  const stderr = dec.decode(out.stderr);
  strictEqual(out.code, 0, `${client} group consumer failed: ${stderr}`);
  return JSON.parse(dec.decode(out.stdout));
}

for (const client of ["confluent", "kafka-python"]) {
  Deno.test(`${client}: a group consumer subscribes, consumes, commits and resumes`, async () => {
    const topic = "py-topic";
    const groupId = `py-${client}`;
    const dataDir = await dataDirWith({ [topic]: 3 });
    const node = await startPyralog({ dataDir });
    const kafka = kafkaFor(node, "py-test");
    const producer = kafka.producer();
    try {
      await producer.connect();
      const send = (from: number, count: number) =>
        producer.send({
          topic,
          messages: Array.from({ length: count }, (_, i) => ({
            partition: (from + i) % 3,
            value: `p${from + i}`,
          })),
        });
      await send(0, 12);
      const first = await pyGroup(client, node, topic, groupId, 12);
      deepStrictEqual(
        [...first.values].sort(),
        Array.from({ length: 12 }, (_, i) => `p${i}`).sort(),
      );
      deepStrictEqual(first.committed, { "0": 4, "1": 4, "2": 4 });

      // A second run of the same group starts from the committed offsets.
      await send(12, 3);
      const second = await pyGroup(client, node, topic, groupId, 3);
      deepStrictEqual([...second.values].sort(), ["p12", "p13", "p14"]);
      deepStrictEqual(second.committed, { "0": 5, "1": 5, "2": 5 });
    } finally {
      await producer.disconnect().catch(() => {});
      await node.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("confluent: two librdkafka members of one group split the partitions and read each record once", async () => {
  const topic = "pair-topic";
  const dataDir = await dataDirWith({ [topic]: 4 });
  const node = await startPyralog({ dataDir });
  const producer = kafkaFor(node, "pair-test").producer();
  try {
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: `q${i}` })),
    });
    const r = await pyGroup("confluent-pair", node, topic, "pair-group", 40);
    const [one, two] = r.assignments ?? [];
    ok(
      one && one.length > 0 && two && two.length > 0,
      `both members own partitions: ${JSON.stringify(r.assignments)}`,
    );
    deepStrictEqual([...one, ...two].sort(), [0, 1, 2, 3], "each partition has one owner");
    deepStrictEqual([...r.values].sort(), Array.from({ length: 40 }, (_, i) => `q${i}`).sort());
    deepStrictEqual(r.committed, { "0": 10, "1": 10, "2": 10, "3": 10 });
  } finally {
    await producer.disconnect().catch(() => {});
    await node.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

/**
 * A consumer-group member written with @platformatic/kafka 2.12.1, which speaks only recent
 * versions (FindCoordinator v6 batched keys, JoinGroup v9, SyncGroup v5, OffsetCommit and
 * OffsetFetch v9). It runs as `deno eval --no-lock` in a scratch directory, as
 * scripts/capture_kafka_hot_path.ts does, so the repository's lock file is untouched.
 */
const PLATFORMATIC_GROUP = `
import { Consumer, stringDeserializers } from "npm:@platformatic/kafka@2.12.1";
const [bootstrap, topic, groupId, countText] = Deno.args;
const count = Number(countText);
const consumer = new Consumer({
  groupId, clientId: "platformatic-group", bootstrapBrokers: [bootstrap],
  deserializers: stringDeserializers, sessionTimeout: 10000, heartbeatInterval: 500, retries: 5,
});
const values = [];
const stream = await consumer.consume({ topics: [topic], mode: "committed", fallbackMode: "earliest", autocommit: false, maxWaitTime: 200 });
const timer = setTimeout(() => stream.close(), 45000);
for await (const m of stream) {
  values.push(m.value);
  await m.commit();
  if (values.length >= count) break;
}
clearTimeout(timer);
const offsets = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1, 2] }] });
const committed = {};
for (const [, list] of offsets) list.forEach((o, p) => { committed[String(p)] = Number(o); });
await stream.close();
await consumer.close(true);
console.log(JSON.stringify({ values, committed }));
`;

Deno.test("@platformatic/kafka: a group consumer on recent versions consumes, commits and resumes", async () => {
  const topic = "pt";
  const dataDir = await dataDirWith({ [topic]: 3 });
  const scratch = await Deno.makeTempDir({ prefix: "pyralog-platformatic-" });
  const node = await startPyralog({ dataDir });
  const producer = kafkaFor(node, "platformatic-test").producer();
  const consume = async (count: number) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-lock", PLATFORMATIC_GROUP, node.bootstrap, topic, "pg", String(count)],
      cwd: scratch,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    }).output();
    strictEqual(out.code, 0, `@platformatic/kafka consumer failed: ${dec.decode(out.stderr)}`);
    return JSON.parse(dec.decode(out.stdout)) as {
      values: string[];
      committed: Record<string, number>;
    };
  };
  try {
    await producer.connect();
    const send = (from: number, count: number) =>
      producer.send({
        topic,
        messages: Array.from({ length: count }, (_, i) => ({
          partition: (from + i) % 3,
          value: `w${from + i}`,
        })),
      });
    await send(0, 9);
    const first = await consume(9);
    deepStrictEqual([...first.values].sort(), Array.from({ length: 9 }, (_, i) => `w${i}`).sort());
    deepStrictEqual(first.committed, { "0": 3, "1": 3, "2": 3 });
    await send(9, 3);
    const second = await consume(3);
    deepStrictEqual([...second.values].sort(), ["w10", "w11", "w9"]);
    deepStrictEqual(second.committed, { "0": 4, "1": 4, "2": 4 });
  } finally {
    await producer.disconnect().catch(() => {});
    await node.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
});
