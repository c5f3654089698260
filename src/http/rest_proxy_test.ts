import { withTestApp } from "./_test_app.ts";
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { V2_MEDIA_TYPE } from "./rest_proxy.ts";

const withProxy = withTestApp;

const JSON_V2 = "application/vnd.kafka.json.v2+json";
const BINARY_V2 = "application/vnd.kafka.binary.v2+json";

Deno.test("REST Proxy v2: produce JSON and binary records, list and describe topics", async () => {
  await withProxy(async (app) => {
    const res = await app.request("/topics/orders", {
      method: "POST",
      headers: { "content-type": JSON_V2 },
      body: JSON.stringify({
        records: [{ key: "a", value: { qty: 1 } }, { value: "x", partition: 0 }],
      }),
    });
    strictEqual(res.status, 200);
    strictEqual(res.headers.get("content-type"), V2_MEDIA_TYPE);
    deepStrictEqual(await res.json(), {
      key_schema_id: null,
      value_schema_id: null,
      offsets: [
        { partition: 0, offset: 0, error_code: null, error: null },
        { partition: 0, offset: 1, error_code: null, error: null },
      ],
    });
    const bin = await app.request("/topics/orders/partitions/0", {
      method: "POST",
      headers: { "content-type": BINARY_V2 },
      body: JSON.stringify({ records: [{ key: "a2V5", value: "dmFsdWU=" }] }),
    });
    deepStrictEqual((await bin.json()).offsets, [{
      partition: 0,
      offset: 2,
      error_code: null,
      error: null,
    }]);
    // JSON values are stored as their JSON text, as the REST Proxy serialises them.
    const read = await (await app.request("/v1/topics/orders/partitions/0/records")).json();
    deepStrictEqual(read.records.map((r: { key: string; value: string }) => [r.key, r.value]), [
      ['"a"', '{"qty":1}'],
      [null, '"x"'],
      ["key", "value"],
    ]);
    deepStrictEqual(await (await app.request("/topics")).json(), ["orders"]);
    const desc = await (await app.request("/topics/orders")).json();
    deepStrictEqual(desc.partitions, [{
      partition: 0,
      leader: 0,
      replicas: [{ broker: 0, leader: true, in_sync: true }],
    }]);
  });
});

Deno.test("REST Proxy v2: wrong media types, unknown topics and partitions get v2 error bodies", async () => {
  await withProxy(async (app) => {
    const post = (path: string, ct: string, body: unknown) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": ct },
        body: JSON.stringify(body),
      });
    const cases: Array<[Response | Promise<Response>, number, number]> = [
      [post("/topics/t", "application/json", { records: [{ value: 1 }] }), 415, 41501],
      [
        post("/topics/t", "application/vnd.kafka.avro.v2+json", { records: [{ value: 1 }] }),
        415,
        41501,
      ],
      [post("/topics/t", JSON_V2, { records: [] }), 422, 42201],
      [post("/topics/t", BINARY_V2, { records: [{ value: 5 }] }), 422, 42201],
      [post("/topics/t", JSON_V2, { records: [{ value: 1, partition: 3 }] }), 404, 40402],
      [post("/topics/t/partitions/9", JSON_V2, { records: [{ value: 1 }] }), 404, 40402],
      [app.request("/topics/missing"), 404, 40401],
    ];
    for (const [p, status, code] of cases) {
      const res = await p;
      const body = await res.json();
      strictEqual(res.status, status, JSON.stringify(body));
      strictEqual(body.error_code, code, JSON.stringify(body));
    }
  });
});
