/** `replicationQuorumOf` and `replicationQuorumProblem`: majorities unset, E = N - W + 1 set. */
import assert from "node:assert/strict";
import {
  REPLICATION_QUORUM_CONFIG,
  replicationQuorumOf,
  replicationQuorumProblem,
} from "./replication_quorum.ts";

Deno.test("replicationQuorumOf is a majority for both quorums when unset", () => {
  assert.deepEqual(replicationQuorumOf({}, 1), { w: 1, e: 1, isMajority: true });
  assert.deepEqual(replicationQuorumOf({}, 3), { w: 2, e: 2, isMajority: true });
  assert.deepEqual(replicationQuorumOf({ "retention.ms": "1" }, 4), {
    w: 3,
    e: 3,
    isMajority: true,
  });
});

Deno.test("replicationQuorumOf derives E = N - W + 1 from a set W, so W + E > N", () => {
  for (let n = 1; n <= 7; n++) {
    for (let w = 1; w <= n; w++) {
      const q = replicationQuorumOf({ [REPLICATION_QUORUM_CONFIG]: String(w) }, n);
      assert.deepEqual(q, { w, e: n - w + 1, isMajority: false });
      assert.ok(q.w + q.e > n && q.e >= 1 && q.e <= n);
    }
  }
});

Deno.test("replicationQuorumOf throws RangeError on a config that does not fit", () => {
  assert.throws(() => replicationQuorumOf({ "replication.quorum": "4" }, 3), RangeError);
  assert.throws(() => replicationQuorumOf({ "replication.quorum": "0" }, 3), RangeError);
  assert.throws(() => replicationQuorumOf({ "replication.quorum": "x" }, 3), RangeError);
  assert.throws(() => replicationQuorumOf({}, 0), RangeError);
});

Deno.test("replicationQuorumProblem names the value and the replication factor", () => {
  assert.equal(replicationQuorumProblem({}, 3), undefined);
  assert.equal(replicationQuorumProblem({ "replication.quorum": "3" }, 3), undefined);
  assert.equal(
    replicationQuorumProblem({ "replication.quorum": "4" }, 3),
    'replication.quorum "4" exceeds the replication factor "3"',
  );
  assert.match(replicationQuorumProblem({ "replication.quorum": "-1" }, 3) ?? "", /integer >= 1/);
  assert.match(replicationQuorumProblem({ "replication.quorum": "1.5" }, 3) ?? "", /integer/);
});
