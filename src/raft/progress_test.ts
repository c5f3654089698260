/** Tests of Progress, a leader's view of one follower. */
import assert from "node:assert/strict";
import { offset } from "../util/mod.ts";
import { Progress } from "./progress.ts";

Deno.test("Progress probes one append at a time and never below match", () => {
  const pr = new Progress(offset(10), offset(10), 4);
  pr.becomeProbe(offset(5)); // a hint may point below match; probing there would loop
  assert.equal(pr.next, 10);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(offset(12));
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.acknowledge(offset(10), offset(10)), false, "no progress");
  assert.equal(pr.isPaused(), false);
});

Deno.test("Progress pipelines up to maxInflight appends in replicate state", () => {
  const pr = new Progress(offset(0), offset(0), 2);
  assert.equal(pr.acknowledge(offset(3), offset(3)), true);
  pr.becomeReplicate();
  pr.sentEntries(offset(5));
  pr.sentEntries(offset(7));
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.next, 7);
  assert.equal(pr.acknowledge(offset(5), offset(5)), true);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(offset(9));
  pr.freeOneSlot(); // a heartbeat answer frees a slot lost to a dropped append
  assert.equal(pr.inflightCount(), 1);
});

Deno.test("Progress tracks durable separately and lowers both after a follower lost writes", () => {
  const pr = new Progress(offset(0), offset(0), 8);
  pr.acknowledge(offset(20), offset(12));
  assert.equal(pr.match, 20);
  assert.equal(pr.durable, 12);
  assert.equal(pr.acknowledge(offset(20), offset(20)), true, "durable grew");
  pr.lostAfter(offset(15));
  assert.equal(pr.match, 15);
  assert.equal(pr.durable, 15);
});
