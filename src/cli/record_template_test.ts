/** Tests of kcat-style output templates. */
import { strictEqual, throws } from "node:assert/strict";
import { compileTemplate, DEFAULT_TEMPLATE, recordJson } from "./record_template.ts";

const enc = new TextEncoder();
const rec = {
  topic: "t",
  partition: 2,
  offset: 41,
  timestampMs: 1700000000000,
  key: enc.encode("k1"),
  value: enc.encode("héllo"),
  headers: [{ key: "a", value: enc.encode("1") }, { key: "b", value: null }],
};

Deno.test("compileTemplate expands every kcat field and escape", () => {
  const f = compileTemplate("%t|%p|%o|%k|%s|%T|%h|%K|%S|%%\\t\\n");
  strictEqual(f(rec), "t|2|41|k1|héllo|1700000000000|a=1,b=|2|6|%\t\n");
});

Deno.test("compileTemplate: the default is the value per line; null prints empty, length -1", () => {
  strictEqual(compileTemplate(DEFAULT_TEMPLATE)(rec), "héllo\n");
  strictEqual(compileTemplate("[%k][%K]")({ ...rec, key: null }), "[][-1]");
});

Deno.test("compileTemplate refuses an unknown field", () => {
  throws(() => compileTemplate("%z"), /Unknown format field "%z"/);
});

Deno.test("recordJson prints one JSON line with text key, value and headers", () => {
  const o = JSON.parse(recordJson(rec));
  strictEqual(o.value, "héllo");
  strictEqual(o.headers[1].value, null);
  strictEqual(o.offset, 41);
});
