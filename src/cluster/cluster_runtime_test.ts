/**
 * The cluster runtime's start-up guards: a data directory of a single node is refused (its
 * topics would be dropped), a new one is marked a cluster member's before anything is
 * mirrored into it, and every node derives the same cluster id from the initial voters.
 */
import assert from "node:assert/strict";
import { TopicStore } from "../storage/mod.ts";
import { withTempDir } from "../testing/temp_dir.ts";
import { nodeId, StorageError } from "../util/mod.ts";
import { ClusterRuntime, deriveClusterId } from "./cluster_runtime.ts";

function runtimeOn(dir: string, store: TopicStore): ClusterRuntime {
  return new ClusterRuntime({
    nodeId: nodeId(1),
    dataDir: dir,
    rpcListen: { host: "127.0.0.1", port: 0 },
    peers: new Map([[nodeId(2), { hostname: "127.0.0.1", port: 1 }]]),
    writeCaching: false,
    store,
    defaultPartitions: 1,
    defaultReplicationFactor: 3,
    log: () => {},
  });
}

Deno.test("ClusterRuntime refuses a data directory with a single node's topics (they would be dropped)", async () => {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    store.createTopic("legacy", 1);
    try {
      assert.throws(
        () => runtimeOn(dir, store),
        (e: unknown) =>
          e instanceof StorageError && e.code === "invalid_argument" &&
          /single-node Pyralog \("legacy"\); use an empty data directory/.test(e.message),
      );
    } finally {
      await store.close();
    }
  });
});

Deno.test("ClusterRuntime starts on an empty data directory; every node derives one cluster id", async () => {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    const runtime = runtimeOn(dir, store);
    try {
      assert.equal(runtime.clusterId, deriveClusterId([nodeId(2), nodeId(1)]));
      assert.equal(runtime.clusterId.length, 22);
      assert.notEqual(runtime.clusterId, deriveClusterId([nodeId(1), nodeId(3)]));
      assert.equal(runtime.isReady, false, "not ready before it joined");
      assert.equal(runtime.logOf("t", 0), "absent", "no replica before it joined");
    } finally {
      await runtime.close();
      await store.close();
    }
  });
});

Deno.test("ClusterRuntime marks a new data directory as a cluster member's at once", async () => {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { background: false });
    const first = runtimeOn(dir, store);
    await first.close();
    // A topic mirrored before a crash must not make the next start look like single-node data.
    store.createTopic("mirrored", 1);
    const again = runtimeOn(dir, store);
    await again.close();
    await store.close();
  });
});
