import { ok, strictEqual, throws } from "node:assert/strict";
import { Metrics } from "./metrics.ts";

Deno.test("Metrics renders counters, gauges and histograms in Prometheus text format", () => {
  const m = new Metrics();
  const req = m.counter("pyralog_requests_total", "Requests by API.", ["api"]);
  req.inc(["Produce"]);
  req.inc(["Produce"], 2);
  req.inc(["Fetch"]);
  m.gauge("pyralog_up", "Up.").set([], 1);
  const h = m.histogram("pyralog_latency_seconds", "Latency.", ["api"], [0.001, 0.01]);
  h.observe(["Produce"], 0.0005);
  h.observe(["Produce"], 0.005);
  h.observe(["Produce"], 5);
  const text = m.render();
  ok(
    text.includes(
      '# TYPE pyralog_requests_total counter\npyralog_requests_total{api="Produce"} 3\npyralog_requests_total{api="Fetch"} 1',
    ),
  );
  ok(text.includes("pyralog_up 1"));
  ok(text.includes('pyralog_latency_seconds_bucket{api="Produce",le="0.001"} 1'));
  ok(text.includes('pyralog_latency_seconds_bucket{api="Produce",le="0.01"} 2'));
  ok(text.includes('pyralog_latency_seconds_bucket{api="Produce",le="+Inf"} 3'));
  ok(text.includes('pyralog_latency_seconds_count{api="Produce"} 3'));
  strictEqual(req.value(["Produce"]), 3);
});

Deno.test("Metrics escapes label values and refuses bad names and misuse", () => {
  const m = new Metrics();
  m.counter("c_total", "C.", ["topic"]).inc(['a"b\\c\nd']);
  ok(m.render().includes('c_total{topic="a\\"b\\\\c\\nd"} 1'));
  throws(() => m.counter("bad-name", "x"), RangeError);
  throws(() => m.counter("x_total", "x", ["__reserved"]), RangeError);
  throws(() => m.gauge("c_total", "again as gauge"), RangeError);
  throws(() => m.counter("c_total", "C.", ["topic"]).inc(["a"], -1), RangeError);
  throws(() => m.counter("c_total", "C.", ["topic"]).inc([]), RangeError);
});

Deno.test("Gauge.collect reads values at render time", () => {
  const m = new Metrics();
  let n = 1;
  m.gauge("g", "G.", ["k"]).collect((set) => set(["x"], n));
  ok(m.render().includes('g{k="x"} 1'));
  n = 5;
  ok(m.render().includes('g{k="x"} 5'));
});
