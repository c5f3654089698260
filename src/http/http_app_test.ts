import { type TestApp, withTestApp } from "./_test_app.ts";
import { partitionForKey } from "../util/mod.ts";
import { HTTP_BODY_BYTES_MAX } from "./http_app.ts";
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";

type App = TestApp;

const withApp = withTestApp;

const post = (app: App, path: string, body: unknown, raw?: string) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: raw ?? JSON.stringify(body),
  });

async function json(res: Response): Promise<Record<string, unknown>> {
  return await res.json() as Record<string, unknown>;
}

Deno.test("HTTP topics: create, describe, list, alter configs, delete, and clear errors", async () => {
  await withApp(async (app) => {
    const created = await post(app, "/v1/topics", {
      name: "t1",
      partitions: 3,
      configs: { "retention.ms": "1000" },
    });
    strictEqual(created.status, 201);
    const desc = await json(created);
    strictEqual((desc.partitions as unknown[]).length, 3);
    deepStrictEqual((desc.partitions as Array<Record<string, unknown>>)[0], {
      partition: 0,
      leader: 0,
      leader_epoch: 0,
      replicas: [0],
      in_sync_replicas: [0],
      offline_replicas: [],
      log_start_offset: 0,
      log_end_offset: 0,
      high_watermark: 0,
    });
    const dup = await post(app, "/v1/topics", { name: "t1" });
    strictEqual(dup.status, 409);
    strictEqual((await json(dup)).error_code, 40901);
    strictEqual((await post(app, "/v1/topics", { name: "bad/name" })).status, 400);
    strictEqual((await post(app, "/v1/topics", { name: "t2", replication_factor: 3 })).status, 400);
    const badCfg = await post(app, "/v1/topics", {
      name: "t3",
      configs: { "retention.ms": "soon" },
    });
    strictEqual(badCfg.status, 422);
    ok(String((await json(badCfg)).message).includes("retention.ms"));
    const list = await json(await app.request("/v1/topics"));
    deepStrictEqual((list.topics as Array<{ name: string }>).map((t) => t.name), ["t1"]);
    const patched = await app.request("/v1/topics/t1/configs", {
      method: "PATCH",
      body: JSON.stringify({ configs: { "retention.ms": null, "segment.bytes": "1048576" } }),
    });
    strictEqual(patched.status, 200);
    deepStrictEqual((await json(patched)).configs, { "segment.bytes": "1048576" });
    strictEqual((await app.request("/v1/topics/t1", { method: "DELETE" })).status, 204);
    const gone = await app.request("/v1/topics/t1");
    strictEqual(gone.status, 404);
    strictEqual((await json(gone)).error_code, 40401);
  });
});

Deno.test("HTTP produce and read: keys, headers, encodings, offsets and high watermark", async () => {
  await withApp(async (app) => {
    await post(app, "/v1/topics", { name: "r", partitions: 4 });
    const res = await post(app, "/v1/topics/r/records", {
      records: [
        { key: "user-1", value: { n: 1 }, headers: { h: "x" } },
        { key: "user-1", value: "plain text" },
        { value: null, partition: 2, timestamp: 1234 },
      ],
    });
    strictEqual(res.status, 200);
    const offsets = (await json(res)).offsets as Array<{ partition: number; offset: number }>;
    const p = partitionForKey(new TextEncoder().encode("user-1"), 4);
    deepStrictEqual(offsets, [{ partition: p, offset: 0 }, { partition: p, offset: 1 }, {
      partition: 2,
      offset: 0,
    }]);
    const read = await json(await app.request(`/v1/topics/r/partitions/${p}/records?offset=0`));
    const recs = read.records as Array<Record<string, unknown>>;
    deepStrictEqual(recs.map((r) => [r.offset, r.key, r.value]), [[0, "user-1", '{"n":1}'], [
      1,
      "user-1",
      "plain text",
    ]]);
    deepStrictEqual(recs[0]?.headers, { h: "x" });
    deepStrictEqual([read.next_offset, read.high_watermark, read.log_start_offset], [2, 2, 0]);
    const asJson = await json(
      await app.request(
        `/v1/topics/r/partitions/${p}/records?offset=0&encoding=json&max_records=1`,
      ),
    );
    deepStrictEqual((asJson.records as Array<Record<string, unknown>>).map((r) => r.value), [{
      n: 1,
    }]);
    strictEqual(asJson.next_offset, 1);
    const p2 = await json(await app.request(`/v1/topics/r/partitions/2/records`));
    deepStrictEqual(
      (p2.records as Array<Record<string, unknown>>).map((r) => [r.value, r.timestamp]),
      [[null, 1234]],
    );
    // Binary values travel as base64 both ways; non-UTF-8 bytes are flagged on read.
    const bin = await post(app, "/v1/topics/bin/records", {
      encoding: "base64",
      records: [{ value: "/wABAg==" }],
    });
    strictEqual(bin.status, 200);
    const back = await json(await app.request(`/v1/topics/bin/partitions/0/records`));
    deepStrictEqual(
      (back.records as Array<Record<string, unknown>>).map((r) => [r.value, r.encoding]),
      [["/wABAg==", "base64"]],
    );
  });
});

Deno.test("HTTP refuses bad input with JSON errors, never a 500", async () => {
  await withApp(async (app) => {
    await post(app, "/v1/topics", { name: "e", partitions: 1 });
    const cases: Array<[Response | Promise<Response>, number, number]> = [
      [post(app, "/v1/topics/e/records", null, "{not json"), 400, 40001],
      [post(app, "/v1/topics/e/records", { records: "x" }), 400, 40002],
      [post(app, "/v1/topics/e/records", { records: [] }), 400, 40002],
      [post(app, "/v1/topics/e/records", { records: [{ key: "k" }] }), 400, 40002],
      [post(app, "/v1/topics/e/records", { records: [{ value: "v", partition: 9 }] }), 400, 40002],
      [post(app, "/v1/topics/e/records", { records: [{ value: 1, partition: -1 }] }), 400, 40002],
      [
        post(app, "/v1/topics/e/records", { encoding: "base64", records: [{ value: "***" }] }),
        400,
        40002,
      ],
      [
        post(app, "/v1/topics/e/records", { encoding: "rot13", records: [{ value: "v" }] }),
        400,
        40002,
      ],
      [
        post(app, "/v1/topics/e/records", {
          records: Array.from({ length: 10_001 }, () => ({ value: 1 })),
        }),
        413,
        41301,
      ],
      [
        post(
          app,
          "/v1/topics/e/records",
          null,
          `{"records":[{"value":"${"x".repeat(HTTP_BODY_BYTES_MAX)}"}]}`,
        ),
        413,
        41301,
      ],
      [post(app, "/v1/topics/e/records?acks=2", { records: [{ value: 1 }] }), 400, 40002],
      [app.request("/v1/topics/e/partitions/0/records?offset=5"), 416, 41601],
      [app.request("/v1/topics/e/partitions/0/records?offset=-1"), 400, 40002],
      [app.request("/v1/topics/e/partitions/0/records?max_records=abc"), 400, 40002],
      [app.request("/v1/topics/e/partitions/7/records"), 404, 40402],
      [app.request("/v1/topics/e/partitions/x/records"), 404, 40402],
      [app.request("/v1/topics/nope/partitions/0/records"), 404, 40401],
      [app.request("/v1/nowhere"), 404, 40400],
    ];
    for (const [p, status, code] of cases) {
      const res = await p;
      const body = await json(res);
      strictEqual(res.status, status, JSON.stringify(body));
      strictEqual(body.error_code, code, JSON.stringify(body));
      ok(typeof body.message === "string" && body.message.length > 0);
    }
  });
});

Deno.test("HTTP long poll returns as soon as a record arrives", async () => {
  await withApp(async (app) => {
    await post(app, "/v1/topics", { name: "lp" });
    const waiting = app.request("/v1/topics/lp/partitions/0/records?offset=0&wait_ms=20000");
    const produced = await post(app, "/v1/topics/lp/records", { records: [{ value: "late" }] });
    strictEqual(produced.status, 200);
    const read = await json(await waiting);
    deepStrictEqual((read.records as Array<Record<string, unknown>>).map((r) => r.value), ["late"]);
  });
});

Deno.test("HTTP SSE delivers records produced after the stream opened and resumes by Last-Event-ID", async () => {
  await withApp(async (app) => {
    await post(app, "/v1/topics", { name: "s" });
    await post(app, "/v1/topics/s/records", { records: [{ value: "a" }] });
    const controller = new AbortController();
    const res = await app.request("/v1/topics/s/partitions/0/stream?offset=0", {
      signal: controller.signal,
    });
    strictEqual(res.status, 200);
    ok(res.headers.get("content-type")?.startsWith("text/event-stream"));
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    const until = async (pred: () => boolean) => {
      for (let i = 0; i < 100 && !pred(); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    };
    await until(() => text.includes('"value":"a"'));
    await post(app, "/v1/topics/s/records", { records: [{ value: "b" }, { value: "c" }] });
    await until(() => text.includes('"value":"c"'));
    ok(/id: 0\n/.test(text) && /id: 2\n/.test(text), text);
    ok(text.includes("event: record"));
    controller.abort();
    await reader.cancel().catch(() => {/* already closed by the abort */});
    const resumed = await app.request("/v1/topics/s/partitions/0/stream", {
      headers: { "last-event-id": "1" },
    });
    const r2 = (resumed.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream())
      .getReader();
    const { value } = await r2.read();
    ok(value?.includes('"value":"c"') && !value.includes('"value":"b"'), value);
    await r2.cancel();
  });
});

Deno.test("HTTP /metrics is Prometheus text with request counts", async () => {
  await withApp(async (app) => {
    await app.request("/healthz");
    const text = await (await app.request("/metrics")).text();
    ok(text.includes('pyralog_http_requests_total{route="/healthz",status="200"} 1'), text);
    ok(text.includes("# TYPE pyralog_http_request_duration_seconds histogram"));
  });
});

Deno.test("HTTP groups: list, describe with committed offsets and lag, unknown group 404", async () => {
  await withApp(async (app, _store, groups) => {
    await post(app, "/v1/topics/g-t/records", {
      records: [{ value: 1 }, { value: 2 }, { value: 3 }],
    });
    const out = await groups.commitOffsets({
      groupId: "billing",
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [{
        name: "g-t",
        partitions: [{
          partition: 0,
          offset: 1,
          leaderEpoch: -1,
          metadata: "m",
          commitTimestampMs: -1,
        }],
      }],
    });
    deepStrictEqual(out.map((o) => o.error), [null]);
    const list = await json(await app.request("/v1/groups"));
    deepStrictEqual((list.groups as Array<{ group_id: string }>).map((g) => g.group_id), [
      "billing",
    ]);
    const desc = await json(await app.request("/v1/groups/billing"));
    deepStrictEqual(desc.offsets, [
      { topic: "g-t", partition: 0, committed_offset: 1, metadata: "m", high_watermark: 3, lag: 2 },
    ]);
    strictEqual(desc.total_lag, 2);
    deepStrictEqual(desc.members, []);
    const missing = await app.request("/v1/groups/nobody");
    strictEqual(missing.status, 404);
    strictEqual((await json(missing)).error_code, 40404);
  });
});

Deno.test("HTTP topic delete also removes the topic's committed offsets", async () => {
  await withApp(async (app, _store, groups) => {
    await post(app, "/v1/topics/doomed/records", { records: [{ value: 1 }] });
    await groups.commitOffsets({
      groupId: "g",
      generationId: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [{
        name: "doomed",
        partitions: [{
          partition: 0,
          offset: 1,
          leaderEpoch: -1,
          metadata: null,
          commitTimestampMs: -1,
        }],
      }],
    });
    strictEqual((await json(await app.request("/v1/groups/g"))).total_lag, 0);
    strictEqual((await app.request("/v1/topics/doomed", { method: "DELETE" })).status, 204);
    deepStrictEqual(groups.fetchOffsets("g", null), []);
    await post(app, "/v1/topics/doomed/records", { records: [{ value: 2 }] });
    deepStrictEqual(
      groups.fetchOffsets("g", [{ name: "doomed", partitions: [0] }])[0]?.partitions[0]?.committed,
      undefined,
    );
  });
});

Deno.test("HTTP refuses appends to internal topics, as Kafka does", async () => {
  await withApp(async (app, _store, groups) => {
    groups.ensureOffsetsTopic();
    const res = await post(app, "/v1/topics/__consumer_offsets/records", {
      records: [{ value: "forged", partition: 0 }],
    });
    strictEqual(res.status, 403);
    strictEqual((await json(res)).error_code, 40301);
  });
});

Deno.test("HTTP acks=all honours min.insync.replicas; acks=1 does not need it", async () => {
  await withApp(async (app) => {
    await post(app, "/v1/topics", { name: "isr", configs: { "min.insync.replicas": "2" } });
    const all = await post(app, "/v1/topics/isr/records?acks=all", { records: [{ value: 1 }] });
    strictEqual(all.status, 503);
    strictEqual((await json(all)).error_code, 50302);
    const one = await post(app, "/v1/topics/isr/records?acks=1", { records: [{ value: 1 }] });
    strictEqual(one.status, 200);
  });
});
