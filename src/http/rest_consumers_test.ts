/**
 * REST Proxy v2 consumer instances in process (`app.request`): the instance lifecycle and
 * its refusals, subscribed fetching with auto commit, manual assignment with explicit
 * commits (offset + 1, as the REST Proxy), seeks, long polls woken by a produce, two
 * instances of one group splitting a topic, pattern subscriptions and idle expiry. The
 * group service has no initial rebalance delay here, so joins complete at once.
 */
import { type TestApp, withTestApp } from "./_test_app.ts";
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { V2_MEDIA_TYPE } from "./rest_proxy.ts";

type App = TestApp;
const JSON_V2 = "application/vnd.kafka.json.v2+json";
const BINARY_V2 = "application/vnd.kafka.binary.v2+json";

const withApp = withTestApp;

const send = (app: App, method: string, path: string, body?: unknown, headers = {}) =>
  app.request(path, {
    method,
    headers: { "content-type": V2_MEDIA_TYPE, ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function expectError(res: Response, status: number, code: number): Promise<void> {
  const body = await res.json();
  strictEqual(res.status, status, JSON.stringify(body));
  strictEqual(body.error_code, code, JSON.stringify(body));
  strictEqual(typeof body.message, "string");
}

async function produce(app: App, topic: string, records: unknown[]): Promise<void> {
  const res = await send(app, "POST", `/topics/${topic}`, { records }, { "content-type": JSON_V2 });
  strictEqual(res.status, 200, await res.clone().text());
  await res.body?.cancel();
}

interface Rec {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
}

async function records(app: App, base: string, query = "timeout=2000", accept = JSON_V2) {
  const res = await app.request(`${base}/records?${query}`, { headers: { accept } });
  strictEqual(res.status, 200, await res.clone().text());
  strictEqual(res.headers.get("content-type"), accept);
  return await res.json() as Rec[];
}

Deno.test("REST consumers: create, subscribe, fetch with auto commit, unsubscribe, delete", async () => {
  await withApp(async (app, store, groups) => {
    store.createTopic("t", 2);
    const created = await send(app, "POST", "/consumers/g", {
      name: "a",
      format: "json",
      "auto.offset.reset": "earliest",
    }, { host: "proxy.example:8082" });
    strictEqual(created.status, 200);
    strictEqual(created.headers.get("content-type"), V2_MEDIA_TYPE);
    deepStrictEqual(await created.json(), {
      instance_id: "a",
      base_uri: "http://proxy.example:8082/consumers/g/instances/a",
    });
    await expectError(await send(app, "POST", "/consumers/g", { name: "a" }), 409, 40902);
    // Every field has a default: no body at all makes a binary instance with a generated name.
    const bare = await app.request("/consumers/g", { method: "POST" });
    strictEqual(bare.status, 200);
    ok(/^rest-consumer-/.test((await bare.json()).instance_id));
    const base = "/consumers/g/instances/a";
    strictEqual((await send(app, "POST", `${base}/subscription`, { topics: ["t"] })).status, 204);
    deepStrictEqual(await (await send(app, "GET", `${base}/subscription`)).json(), {
      topics: ["t"],
    });
    await produce(app, "t", [
      { key: "k", value: { n: 1 }, partition: 0 },
      { value: [1, 2], partition: 1 },
      { value: "s", partition: 1 },
    ]);
    const got = await records(app, base);
    deepStrictEqual(got.sort((x, y) => x.partition - y.partition || x.offset - y.offset), [
      { topic: "t", key: "k", value: { n: 1 }, partition: 0, offset: 0 },
      { topic: "t", key: null, value: [1, 2], partition: 1, offset: 0 },
      { topic: "t", key: null, value: "s", partition: 1, offset: 1 },
    ]);
    deepStrictEqual(await (await send(app, "GET", `${base}/assignments`)).json(), {
      partitions: [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }],
    });
    // Auto commit: the positions after the returned records (the next offsets to read).
    deepStrictEqual(await (await send(app, "GET", `${base}/offsets`)).json(), {
      offsets: [
        { topic: "t", partition: 0, offset: 1, metadata: "" },
        { topic: "t", partition: 1, offset: 2, metadata: "" },
      ],
    });
    deepStrictEqual(await records(app, base, "timeout=0"), []);
    await expectError(
      await app.request(`${base}/records`, { headers: { accept: BINARY_V2 } }),
      406,
      40601,
    );
    // Unsubscribing with auto commit commits the positions, seeks included (Kafka's close).
    const seek = await send(app, "POST", `${base}/positions/beginning`, {
      partitions: [{ topic: "t", partition: 1 }],
    });
    strictEqual(seek.status, 204);
    strictEqual((await send(app, "DELETE", `${base}/subscription`)).status, 204);
    deepStrictEqual(await (await send(app, "GET", `${base}/subscription`)).json(), { topics: [] });
    deepStrictEqual(
      groups.fetchOffsets("g", null)[0]?.partitions.map((p) => [p.partition, p.committed?.offset]),
      [[0, 1], [1, 0]],
    );
    await expectError(await app.request(`${base}/records`), 409, 40903);
    strictEqual((await send(app, "DELETE", base)).status, 204);
    await expectError(await send(app, "DELETE", base), 404, 40403);
  });
});

Deno.test("REST consumers: a new instance resumes from the offsets a deleted one committed", async () => {
  await withApp(async (app, store, groups) => {
    store.createTopic("t", 1);
    await produce(app, "t", [{ value: 1 }, { value: 2 }, { value: 3 }]);
    const make = async (name: string) => {
      const res = await send(app, "POST", "/consumers/g", {
        name,
        format: "json",
        "auto.offset.reset": "earliest",
        "auto.commit.enable": "false",
      });
      strictEqual(res.status, 200);
      await res.body?.cancel();
      const sub = await send(app, "POST", `/consumers/g/instances/${name}/subscription`, {
        topics: ["t"],
      });
      strictEqual(sub.status, 204);
    };
    await make("first");
    const first = await records(app, "/consumers/g/instances/first");
    deepStrictEqual(first.map((r) => r.value), [1, 2, 3]);
    // Commit the first record only: the REST Proxy commits the given offset + 1.
    const committed = await send(app, "POST", "/consumers/g/instances/first/offsets", {
      offsets: [{ topic: "t", partition: 0, offset: 0 }],
    });
    strictEqual(committed.status, 200);
    strictEqual(groups.fetchOffsets("g", null)[0]?.partitions[0]?.committed?.offset, 1);
    strictEqual((await send(app, "DELETE", "/consumers/g/instances/first")).status, 204);
    strictEqual(groups.coordinator.describe("g").state, "Empty", "the instance left the group");
    await make("second");
    const second = await records(app, "/consumers/g/instances/second");
    deepStrictEqual(second.map((r) => r.value), [2, 3]);
    // An empty commit body commits every fetched position.
    const all = await app.request("/consumers/g/instances/second/offsets", { method: "POST" });
    strictEqual(all.status, 200);
    strictEqual(groups.fetchOffsets("g", null)[0]?.partitions[0]?.committed?.offset, 3);
  });
});

Deno.test("REST consumers: manual assignment, binary format, seeks and a woken long poll", async () => {
  await withApp(async (app, store, groups) => {
    store.createTopic("m", 2);
    await produce(app, "m", [{ key: "a", value: "x", partition: 1 }, { value: 7, partition: 1 }]);
    const res = await send(app, "POST", "/consumers/mg", {
      name: "b",
      format: "binary",
      "auto.offset.reset": "latest",
      "auto.commit.enable": "false",
    });
    strictEqual(res.status, 200);
    await res.body?.cancel();
    const base = "/consumers/mg/instances/b";
    strictEqual(
      (await send(app, "POST", `${base}/assignments`, {
        partitions: [{ topic: "m", partition: 1 }],
      }))
        .status,
      204,
    );
    deepStrictEqual(await (await send(app, "GET", `${base}/assignments`)).json(), {
      partitions: [{ topic: "m", partition: 1 }],
    });
    await expectError(
      await send(app, "POST", `${base}/subscription`, { topics: ["m"] }),
      409,
      40903,
    );
    // latest: nothing yet; then a produce wakes the long poll well before its timeout.
    deepStrictEqual(await records(app, base, "timeout=0", BINARY_V2), []);
    const started = Date.now();
    const polling = records(app, base, "timeout=20000", BINARY_V2);
    await produce(app, "m", [{ value: "late", partition: 1 }]);
    const late = await polling;
    ok(Date.now() - started < 10_000, "woken by the produce");
    deepStrictEqual(late, [{
      topic: "m",
      key: null,
      value: btoa('"late"'),
      partition: 1,
      offset: 2,
    }]);
    strictEqual(
      (await send(app, "POST", `${base}/positions/beginning`, {
        partitions: [{ topic: "m", partition: 1 }],
      })).status,
      204,
    );
    const again = await records(app, base, "timeout=2000", BINARY_V2);
    deepStrictEqual(again.map((r) => [r.offset, r.key]), [[0, btoa('"a"')], [1, null], [2, null]]);
    strictEqual(
      (await send(app, "POST", `${base}/positions`, {
        offsets: [{ topic: "m", partition: 1, offset: 1 }],
      })).status,
      204,
    );
    deepStrictEqual((await records(app, base, "timeout=2000", BINARY_V2)).map((r) => r.offset), [
      1,
      2,
    ]);
    strictEqual(
      (await send(app, "POST", `${base}/positions/end`, {
        partitions: [{ topic: "m", partition: 1 }],
      })).status,
      204,
    );
    deepStrictEqual(await records(app, base, "timeout=0", BINARY_V2), []);
    // Manual assignment commits as a "simple" consumer (no generation).
    strictEqual(
      (await send(app, "POST", `${base}/offsets`, {
        offsets: [{ topic: "m", partition: 1, offset: 1, metadata: "meta" }],
      })).status,
      200,
    );
    deepStrictEqual(await (await send(app, "GET", `${base}/offsets`)).json(), {
      offsets: [{ topic: "m", partition: 1, offset: 2, metadata: "meta" }],
    });
    strictEqual(groups.coordinator.describe("mg").members.length, 0, "no group membership");
    // Seeking a partition that is not assigned is an illegal state.
    await expectError(
      await send(app, "POST", `${base}/positions`, {
        offsets: [{ topic: "m", partition: 0, offset: 0 }],
      }),
      409,
      40903,
    );
  });
});

Deno.test("REST consumers: two instances of one group split a topic, each record once", async () => {
  await withApp(async (app, store) => {
    store.createTopic("four", 4);
    for (const name of ["x", "y"]) {
      const res = await send(app, "POST", "/consumers/pair", {
        name,
        format: "json",
        "auto.offset.reset": "earliest",
      });
      await res.body?.cancel();
      const sub = await send(app, "POST", `/consumers/pair/instances/${name}/subscription`, {
        topics: ["four"],
      });
      strictEqual(sub.status, 204);
    }
    await produce(
      app,
      "four",
      Array.from({ length: 40 }, (_, i) => ({ value: i, partition: i % 4 })),
    );
    const seen = new Map<string, Rec[]>([["x", []], ["y", []]]);
    const assigned = async (name: string) =>
      (await (await send(app, "GET", `/consumers/pair/instances/${name}/assignments`)).json())
        .partitions as Array<{ partition: number }>;
    // Bounded: poll both (concurrently, as two clients would) until all 40 arrived and the
    // group is split two and two.
    for (let i = 0; i < 40; i++) {
      const [x, y] = await Promise.all([
        records(app, "/consumers/pair/instances/x", "timeout=300"),
        records(app, "/consumers/pair/instances/y", "timeout=300"),
      ]);
      seen.get("x")?.push(...x);
      seen.get("y")?.push(...y);
      const total = (seen.get("x")?.length ?? 0) + (seen.get("y")?.length ?? 0);
      if (total >= 40 && (await assigned("x")).length === 2 && (await assigned("y")).length === 2) {
        break;
      }
    }
    const all = [...(seen.get("x") ?? []), ...(seen.get("y") ?? [])];
    deepStrictEqual(all.map((r) => r.value).sort((a, b) => Number(a) - Number(b)), [
      ...Array(40).keys(),
    ]);
    const xs = (await assigned("x")).map((p) => p.partition);
    const ys = (await assigned("y")).map((p) => p.partition);
    strictEqual(xs.length, 2);
    deepStrictEqual([...xs, ...ys].sort(), [0, 1, 2, 3]);
  });
});

Deno.test("REST consumers: pattern subscriptions, idle expiry, and refusals", async () => {
  await withApp(async (app, store, groups) => {
    store.createTopic("pat-a", 1);
    store.createTopic("pat-b", 1);
    store.createTopic("other", 1);
    const res = await send(app, "POST", "/consumers/pg", {
      name: "p",
      format: "json",
      "consumer.instance.timeout.ms": 100,
    });
    await res.body?.cancel();
    const base = "/consumers/pg/instances/p";
    strictEqual(
      (await send(app, "POST", `${base}/subscription`, { topic_pattern: "pat-.*" })).status,
      204,
    );
    deepStrictEqual(await (await send(app, "GET", `${base}/subscription`)).json(), {
      topics: ["pat-a", "pat-b"],
    });
    await records(app, base, "timeout=0");
    strictEqual(groups.coordinator.describe("pg").members.length, 1);
    // Bounded: once idle past its timeout, another consumer request closes it.
    for (let i = 0; i < 50 && groups.coordinator.describe("pg").members.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const probe = await send(app, "POST", "/consumers/other-group", { format: "json" });
      await probe.body?.cancel();
    }
    await expectError(await send(app, "GET", `${base}/subscription`), 404, 40403);
    strictEqual(groups.coordinator.describe("pg").members.length, 0, "it left the group");

    const cases: Array<[Response | Promise<Response>, number, number]> = [
      [send(app, "POST", "/consumers/g", { format: "avro" }), 422, 42204],
      [send(app, "POST", "/consumers/g", { format: "xml" }), 422, 42204],
      [send(app, "POST", "/consumers/g", { "auto.offset.reset": "none" }), 422, 42204],
      [send(app, "POST", "/consumers/g", { "auto.commit.enable": "yes" }), 422, 42204],
      [send(app, "POST", "/consumers/g", { name: "bad/name" }), 422, 42204],
      [
        send(app, "POST", "/consumers/g/instances/nope/subscription", { topics: ["t"] }),
        404,
        40403,
      ],
      [send(app, "GET", "/consumers/g/instances/nope/records"), 404, 40403],
      [send(app, "POST", "/consumers/g/instances/nope/offsets", { offsets: [] }), 404, 40403],
      [send(app, "GET", "/consumers/g/instances/nope/offsets"), 404, 40403],
      [send(app, "POST", "/consumers/g/instances/nope/positions/end", {}), 404, 40403],
      [send(app, "GET", "/consumers/g/instances/nope/assignments"), 404, 40403],
    ];
    for (const [p, s, code] of cases) await expectError(await p, s, code);
    const made = await send(app, "POST", "/consumers/g", { name: "q", format: "json" });
    await made.body?.cancel();
    const q = "/consumers/g/instances/q";
    const more: Array<[Response | Promise<Response>, number, number]> = [
      [send(app, "POST", `${q}/subscription`, { topics: [] }), 422, 42201],
      [send(app, "POST", `${q}/subscription`, { topic_pattern: "(" }), 422, 42201],
      [
        send(app, "POST", `${q}/assignments`, { partitions: [{ topic: "zz", partition: 0 }] }),
        404,
        40401,
      ],
      [
        send(app, "POST", `${q}/assignments`, { partitions: [{ topic: "other", partition: 5 }] }),
        404,
        40402,
      ],
      [
        send(app, "POST", `${q}/offsets`, { offsets: [{ topic: "other", partition: 0 }] }),
        422,
        42201,
      ],
      [app.request(`${q}/records?timeout=abc`), 400, 40002],
    ];
    for (const [p, s, code] of more) await expectError(await p, s, code);
  });
});
