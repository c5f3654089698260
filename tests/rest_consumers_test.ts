/**
 * REST Proxy v2 consumer instances against a real `main.ts serve` process: two instances of
 * one group split a 4-partition topic (two partitions each, every record read once, each
 * from its own partitions); an instance shares a group and its partitions with a kcat
 * (librdkafka) balanced consumer ("range") and with a kafkajs 2.2.4 consumer (whose only
 * assignor is "RoundRobinAssigner"); offsets an instance commits (offset + 1, as the REST Proxy) are
 * where a new instance resumes after the first is deleted, and `GET .../offsets` with a body
 * (sent by curl, as REST Proxy users do) reports them.
 *
 * The node keeps Kafka's 3 s initial rebalance delay, so each new group takes a few seconds
 * to form. Every wait is a bounded poll; every process is stopped by its PID in `finally`.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { type RunningCli, spawnProgram } from "./clients/cli_runner.ts";
import { startPyralog } from "./helpers/pyralog_process.ts";

const V2 = "application/vnd.kafka.v2+json";
const JSON_V2 = "application/vnd.kafka.json.v2+json";
/** Polls of a condition before a step gives up (each waits up to POLL_MS). */
const POLLS_MAX = 60;
const POLL_MS = 500;

interface Rec {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
}

/** A small REST Proxy client over fetch. */
function restClient(base: string) {
  const call = async (method: string, path: string, body?: unknown, ct = V2) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": ct, accept: JSON_V2 },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : JSON.parse(text) };
  };
  return {
    call,
    async createTopic(name: string, partitions: number) {
      const r = await call("POST", "/v1/topics", { name, partitions }, "application/json");
      strictEqual(r.status, 201, JSON.stringify(r.body));
    },
    async produce(topic: string, records: unknown[]) {
      const r = await call("POST", `/topics/${topic}`, { records }, JSON_V2);
      strictEqual(r.status, 200, JSON.stringify(r.body));
    },
    /** Creates a JSON instance subscribed to `topics`; returns its path. */
    async consumer(group: string, name: string, topics: string[], extra = {}) {
      const r = await call("POST", `/consumers/${group}`, {
        name,
        format: "json",
        "auto.offset.reset": "earliest",
        ...extra,
      });
      strictEqual(r.status, 200, JSON.stringify(r.body));
      strictEqual(r.body.base_uri, `${base}/consumers/${group}/instances/${name}`);
      const path = `/consumers/${group}/instances/${name}`;
      const s = await call("POST", `${path}/subscription`, { topics });
      strictEqual(s.status, 204, JSON.stringify(s.body));
      return path;
    },
    async records(path: string): Promise<Rec[]> {
      const r = await call("GET", `${path}/records?timeout=${POLL_MS}`);
      strictEqual(r.status, 200, JSON.stringify(r.body));
      return r.body as Rec[];
    },
    async partitions(path: string): Promise<number[]> {
      const r = await call("GET", `${path}/assignments`);
      return (r.body.partitions as Array<{ partition: number }>).map((p) => p.partition).sort();
    },
  };
}

/** The members of `group` once it is Stable with `n` members holding 2/n partitions each. */
async function members(rest: ReturnType<typeof restClient>, group: string, n: number) {
  // Bounded: describe until `n` members each hold their share.
  for (let i = 0; i < POLLS_MAX * 2; i++) {
    const d = (await rest.call("GET", `/v1/groups/${group}`)).body;
    const held = (d?.members ?? []) as Array<
      { client_id: string; assignments: Array<{ partitions: number[] }> | null }
    >;
    const sizes = held.map((m) =>
      (m.assignments ?? []).reduce((s, a) => s + a.partitions.length, 0)
    );
    if (d?.state === "Stable" && held.length === n && sizes.every((s) => s === 2 / n)) {
      return held;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`group "${group}" never had ${n} members holding partitions`);
}

Deno.test("REST Proxy consumer instances are real group members (with each other, kcat and kafkajs)", async (t) => {
  const node = await startPyralog({ args: ["--fsync", "never"] });
  const base = `http://127.0.0.1:${node.httpPort}`;
  const rest = restClient(base);
  try {
    await t.step("two instances of one group split four partitions", async () => {
      await rest.createTopic("split4", 4);
      const x = await rest.consumer("pair", "x", ["split4"]);
      const y = await rest.consumer("pair", "y", ["split4"]);
      const seen = new Map<string, Rec[]>([[x, []], [y, []]]);
      const poll = async () => {
        const [a, b] = await Promise.all([rest.records(x), rest.records(y)]);
        seen.get(x)?.push(...a);
        seen.get(y)?.push(...b);
      };
      // Bounded: poll both (the group forms after its initial delay) until split 2 and 2.
      let split = false;
      for (let i = 0; i < POLLS_MAX && !split; i++) {
        await poll();
        split = (await rest.partitions(x)).length === 2 && (await rest.partitions(y)).length === 2;
      }
      ok(split, "the group never split the topic");
      await rest.produce(
        "split4",
        Array.from({ length: 40 }, (_, i) => ({ value: i, partition: i % 4 })),
      );
      const total = () => (seen.get(x)?.length ?? 0) + (seen.get(y)?.length ?? 0);
      for (let i = 0; i < POLLS_MAX && total() < 40; i++) await poll();
      const all = [...(seen.get(x) ?? []), ...(seen.get(y) ?? [])];
      deepStrictEqual(all.map((r) => Number(r.value)).sort((a, b) => a - b), [...Array(40).keys()]);
      const px = await rest.partitions(x);
      const py = await rest.partitions(y);
      deepStrictEqual([...px, ...py].sort(), [0, 1, 2, 3]);
      ok(seen.get(x)?.every((r) => px.includes(r.partition)), "x read only its partitions");
      ok(seen.get(y)?.every((r) => py.includes(r.partition)), "y read only its partitions");
      const desc = (await rest.call("GET", "/v1/groups/pair")).body;
      strictEqual(desc.members.length, 2, JSON.stringify(desc));
      strictEqual((await rest.call("DELETE", x)).status, 204);
      strictEqual((await rest.call("DELETE", y)).status, 204);
    });

    await t.step("an instance and a kcat balanced consumer share a group", async () => {
      await rest.createTopic("mixed2", 2);
      let kcat: RunningCli | null = null;
      try {
        kcat = spawnProgram("kcat", [
          "-b",
          node.bootstrap,
          "-G",
          "mixed",
          "mixed2",
          "-X",
          "auto.offset.reset=earliest",
          "-u",
          "-q",
          "-f",
          "%p %s\\n",
        ]);
        await members(rest, "mixed", 1);
        const mine = await rest.consumer("mixed", "rest", ["mixed2"]);
        const held = await members(rest, "mixed", 2);
        strictEqual(held.filter((m) => m.client_id === "rest").length, 1, JSON.stringify(held));
        const [p] = await rest.partitions(mine);
        ok(p === 0 || p === 1, `REST partition ${p}`);
        await rest.produce(
          "mixed2",
          ["a", "b", "c", "d", "e", "f"].map((v, i) => ({ value: v, partition: i % 2 })),
        );
        const got: Rec[] = [];
        for (let i = 0; i < POLLS_MAX && got.length < 3; i++) got.push(...await rest.records(mine));
        deepStrictEqual(got.map((r) => r.partition), [p, p, p]);
        const lines = (s: string) => s.split("\n").filter((l) => l !== "");
        ok(await kcat.waitFor((s) => lines(s).length === 3), kcat.stdout());
        ok(lines(kcat.stdout()).every((l) => !l.startsWith(`${p} `)), kcat.stdout());
        // JSON values are stored as JSON text, so kcat prints them quoted.
        deepStrictEqual(
          [
            ...got.map((r) => r.value),
            ...lines(kcat.stdout()).map((l) => JSON.parse(l.split(" ")[1] ?? "null")),
          ].sort(),
          ["a", "b", "c", "d", "e", "f"],
        );
        strictEqual((await rest.call("DELETE", mine)).status, 204);
      } finally {
        await kcat?.stop();
      }
    });

    await t.step("an instance and a kafkajs consumer (round robin) share a group", async () => {
      await rest.createTopic("kjs2", 2);
      const kafka = new Kafka({
        clientId: "kafkajs",
        brokers: [node.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
      });
      const seen: Array<[number, string]> = [];
      let consumer: Consumer | null = null;
      try {
        consumer = kafka.consumer({
          groupId: "kjs",
          sessionTimeout: 30_000,
          heartbeatInterval: 500,
          maxWaitTimeInMs: 200,
        });
        await consumer.connect();
        await consumer.subscribe({ topic: "kjs2", fromBeginning: true });
        await consumer.run({
          eachMessage: ({ partition, message }) => {
            seen.push([partition, new TextDecoder().decode(message.value ?? new Uint8Array())]);
            return Promise.resolve();
          },
        });
        await members(rest, "kjs", 1);
        const mine = await rest.consumer("kjs", "rest", ["kjs2"]);
        const held = await members(rest, "kjs", 2);
        const desc = (await rest.call("GET", "/v1/groups/kjs")).body;
        strictEqual(desc.protocol, "RoundRobinAssigner", JSON.stringify(desc));
        strictEqual(held.filter((m) => m.client_id === "rest").length, 1, JSON.stringify(held));
        const [p] = await rest.partitions(mine);
        await rest.produce("kjs2", [1, 2, 3, 4].map((v, i) => ({ value: v, partition: i % 2 })));
        const got: Rec[] = [];
        for (let i = 0; i < POLLS_MAX && got.length < 2; i++) got.push(...await rest.records(mine));
        deepStrictEqual(got.map((r) => r.partition), [p, p]);
        for (let i = 0; i < POLLS_MAX && seen.length < 2; i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        ok(seen.every(([q]) => q !== p), JSON.stringify(seen));
        deepStrictEqual(
          [...got.map((r) => Number(r.value)), ...seen.map(([, v]) => Number(v))].sort(),
          [1, 2, 3, 4],
        );
        strictEqual((await rest.call("DELETE", mine)).status, 204);
      } finally {
        await consumer?.disconnect();
      }
    });

    await t.step("a new instance resumes from the offsets a deleted one committed", async () => {
      await rest.createTopic("resume1", 1);
      await rest.produce("resume1", [1, 2, 3, 4, 5].map((value) => ({ value })));
      const first = await rest.consumer("resume", "r1", ["resume1"], {
        "auto.commit.enable": "false",
      });
      const got: Rec[] = [];
      for (let i = 0; i < POLLS_MAX && got.length < 5; i++) got.push(...await rest.records(first));
      deepStrictEqual(got.map((r) => r.value), [1, 2, 3, 4, 5]);
      // The REST Proxy commits the given (last consumed) offset + 1.
      const c = await rest.call("POST", `${first}/offsets`, {
        offsets: [{ topic: "resume1", partition: 0, offset: 2 }],
      });
      strictEqual(c.status, 200, JSON.stringify(c.body));
      // GET with a body, as REST Proxy clients send it (fetch cannot, curl can).
      const out = await new Deno.Command("curl", {
        args: [
          "-s",
          "--max-time",
          "10",
          "-X",
          "GET",
          "-H",
          `content-type: ${V2}`,
          "-d",
          JSON.stringify({ partitions: [{ topic: "resume1", partition: 0 }] }),
          `${base}${first}/offsets`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
      deepStrictEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
        offsets: [{ topic: "resume1", partition: 0, offset: 3, metadata: "" }],
      });
      strictEqual((await rest.call("DELETE", first)).status, 204);
      const second = await rest.consumer("resume", "r2", ["resume1"]);
      const rest2: Rec[] = [];
      for (let i = 0; i < POLLS_MAX && rest2.length < 2; i++) {
        rest2.push(...await rest.records(second));
      }
      deepStrictEqual(rest2.map((r) => [r.offset, r.value]), [[3, 4], [4, 5]]);
      strictEqual((await rest.call("DELETE", second)).status, 204);
    });
  } finally {
    await node.stop();
  }
});
