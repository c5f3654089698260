/** Tests of the produce progress line: silent for small inputs, at most once a second. */
import { strictEqual } from "node:assert/strict";
import { PROGRESS_RECORDS_MIN, ProgressMeter } from "./progress_meter.ts";

Deno.test("ProgressMeter stays silent below the record threshold", () => {
  const m = new ProgressMeter(0);
  m.add(PROGRESS_RECORDS_MIN - 1, 100);
  strictEqual(m.poll(5_000), null);
});

Deno.test("ProgressMeter prints once per interval with the rate", () => {
  const m = new ProgressMeter(0);
  m.add(20_000, 2_000_000);
  strictEqual(m.poll(500), null);
  strictEqual(m.poll(2_000), "20,000 records, 2.0 MB, 10,000 records/s, 1.0 MB/s, 2.0 s");
  strictEqual(m.poll(2_500), null);
});
