/**
 * Test helper private to src/http: an HTTP app over a fresh temporary data directory with
 * real services (topic store, log service, group service without a rebalance delay), torn
 * down afterwards: the shutdown signal stops streams and consumer instances, then the group
 * service and the store close.
 */
import { GroupService, LogService } from "../cluster/mod.ts";
import { Metrics } from "../metrics/mod.ts";
import { TopicStore } from "../storage/mod.ts";
import { withTempDir } from "../testing/temp_dir.ts";
import { systemClock } from "../util/mod.ts";
import { createHttpApp } from "./http_app.ts";

/** The app under test. */
export type TestApp = ReturnType<typeof createHttpApp>;

/** Runs `fn` with an app, its store and its group service. */
export async function withTestApp(
  fn: (app: TestApp, store: TopicStore, groups: GroupService) => Promise<void>,
  fsync: "always" | "never" = "never",
): Promise<void> {
  await withTempDir(async (dir) => {
    const store = TopicStore.open(dir, { logDefaults: { fsync }, background: false });
    const logs = new LogService(store, {
      autoCreateTopics: true,
      defaultPartitions: 1,
      clock: systemClock,
    });
    const groups = new GroupService(store, {
      clock: systemClock,
      background: false,
      initialRebalanceDelayMs: 0,
      log: () => {},
    });
    const shutdown = new AbortController();
    const app = createHttpApp({
      logs,
      store,
      groups,
      metrics: new Metrics(),
      nodeId: 0,
      clusterId: "test-cluster",
      version: "test",
      startedMs: Date.now(),
      kafka: { host: "127.0.0.1", port: 9092 },
      shutdown: shutdown.signal,
    });
    try {
      await fn(app, store, groups);
    } finally {
      shutdown.abort(); // ends SSE streams, long polls and consumer instances' timers
      groups.close();
      await store.close();
    }
  });
}
