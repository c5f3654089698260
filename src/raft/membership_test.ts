/** Tests of flexible-quorum validation and single-server membership changes. */
import assert from "node:assert/strict";
import { nodeId } from "../util/mod.ts";
import {
  applyConfigChange,
  majority,
  type Membership,
  quorumsOf,
  validateMembership,
} from "./membership.ts";

const ids = (...xs: number[]) => xs.map(nodeId);

Deno.test("quorumsOf defaults to majorities, including the read-index confirmation", () => {
  for (const n of [1, 2, 3, 4, 5, 7]) {
    const q = quorumsOf({
      voters: ids(...Array.from({ length: n }, (_, i) => i + 1)),
      learners: [],
    });
    assert.equal(q.w, majority(n));
    assert.equal(q.e, majority(n));
    // Not N - E + 1 (= N/2 for even N): a majority also meets the previous configuration's
    // election quorums while a single-server change is in flight (sim seed 1051461).
    assert.equal(q.confirm, majority(n));
  }
});

Deno.test("quorumsOf confirms reads with N - E + 1 voters under custom quorums", () => {
  const voters = ids(1, 2, 3, 4, 5);
  assert.equal(
    quorumsOf({ voters, learners: [], replicationQuorum: 4, electionQuorum: 3 }).confirm,
    3,
  );
  assert.equal(
    quorumsOf({ voters, learners: [], replicationQuorum: 1, electionQuorum: 5 }).confirm,
    1,
  );
});

Deno.test("validateMembership accepts W + E > N edge cases: W=1 E=N and W=N E=1", () => {
  const voters = ids(1, 2, 3, 4, 5);
  assert.equal(
    validateMembership({ voters, learners: [], replicationQuorum: 1, electionQuorum: 5 }),
    undefined,
  );
  assert.equal(
    validateMembership({ voters, learners: [], replicationQuorum: 5, electionQuorum: 1 }),
    undefined,
  );
});

Deno.test("validateMembership refuses W + E <= N, out-of-range sizes and duplicates", () => {
  const voters = ids(1, 2, 3, 4);
  assert.match(
    validateMembership({ voters, learners: [], replicationQuorum: 2, electionQuorum: 2 }) ?? "",
    /W \+ E must exceed N/,
  );
  assert.match(validateMembership({ voters, learners: [], replicationQuorum: 0 }) ?? "", /outside/);
  assert.match(validateMembership({ voters, learners: [], electionQuorum: 5 }) ?? "", /outside/);
  assert.match(validateMembership({ voters: ids(1, 1), learners: [] }) ?? "", /twice/);
  assert.match(validateMembership({ voters: ids(1), learners: ids(1) }) ?? "", /twice/);
  assert.match(validateMembership({ voters: [], learners: [] }) ?? "", /no voters/);
  assert.throws(
    () => quorumsOf({ voters, learners: [], replicationQuorum: 1, electionQuorum: 3 }),
    RangeError,
  );
});

Deno.test("applyConfigChange adds, promotes and removes one server at a time", () => {
  let m: Membership = { voters: ids(1, 2, 3), learners: [] };
  const step = (r: ReturnType<typeof applyConfigChange>): Membership => {
    assert.ok(r.ok, r.ok ? "" : r.reason);
    return r.membership;
  };
  m = step(applyConfigChange(m, { type: "addLearner", node: nodeId(4) }));
  assert.deepEqual(m.learners, ids(4));
  m = step(applyConfigChange(m, { type: "promote", node: nodeId(4) }));
  assert.deepEqual(m.voters, ids(1, 2, 3, 4));
  assert.deepEqual(m.learners, []);
  m = step(applyConfigChange(m, { type: "remove", node: nodeId(1) }));
  assert.deepEqual(m.voters, ids(2, 3, 4));
  assert.equal(applyConfigChange(m, { type: "promote", node: nodeId(9) }).ok, false);
  assert.equal(applyConfigChange(m, { type: "addLearner", node: nodeId(2) }).ok, false);
  const single = { voters: ids(1), learners: [] };
  assert.equal(applyConfigChange(single, { type: "remove", node: nodeId(1) }).ok, false);
});

Deno.test("applyConfigChange refuses voter changes under custom quorums but allows learners", () => {
  const m: Membership = {
    voters: ids(1, 2, 3),
    learners: ids(4),
    replicationQuorum: 3,
    electionQuorum: 1,
  };
  const promote = applyConfigChange(m, { type: "promote", node: nodeId(4) });
  assert.equal(promote.ok, false);
  assert.match(promote.ok ? "" : promote.reason, /majority quorums/);
  assert.equal(applyConfigChange(m, { type: "remove", node: nodeId(1) }).ok, false);
  assert.equal(applyConfigChange(m, { type: "addLearner", node: nodeId(5) }).ok, true);
  assert.equal(applyConfigChange(m, { type: "remove", node: nodeId(4) }).ok, true);
});
