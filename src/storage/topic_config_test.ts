/** Topic config validation: the cluster's `replication.quorum` key is checked, then ignored. */
import assert from "node:assert/strict";
import { InvalidConfigError, logConfigFor, validateTopicConfigs } from "./topic_config.ts";

Deno.test("validateTopicConfigs accepts replication.quorum as an integer >= 1", () => {
  for (const v of ["1", "3", "256"]) validateTopicConfigs({ "replication.quorum": v });
  for (const v of ["0", "-1", "1.5", "two", ""]) {
    assert.throws(
      () => validateTopicConfigs({ "replication.quorum": v }),
      InvalidConfigError,
      `"${v}"`,
    );
  }
});

Deno.test("logConfigFor ignores replication.quorum (it sizes Raft quorums, not the log)", () => {
  assert.deepEqual(logConfigFor({ "replication.quorum": "2" }), logConfigFor({}));
});
