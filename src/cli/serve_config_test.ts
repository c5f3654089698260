import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { ConfigError, parseHostPort, resolveServeConfig } from "./serve_config.ts";

const noFile = (p: string): string => {
  throw new Error(`no file ${p}`);
};

Deno.test("resolveServeConfig has the documented defaults", () => {
  const c = resolveServeConfig([], {}, noFile);
  if (c === "help") throw new Error("unexpected help");
  strictEqual(c.dataDir, "./data");
  deepStrictEqual(c.kafkaListen, { host: "127.0.0.1", port: 9092 });
  deepStrictEqual(c.httpListen, { host: "127.0.0.1", port: 8080 });
  deepStrictEqual(c.rpcListen, { host: "127.0.0.1", port: 9093 });
  strictEqual(c.fsync, "always");
  strictEqual(c.writeCaching, false);
  strictEqual(c.autoCreateTopics, true);
  strictEqual(c.defaultPartitions, 1);
  strictEqual(c.metadataSnapshotRecords, 10_000);
});

Deno.test("resolveServeConfig reads the metadata snapshot interval", () => {
  const c = resolveServeConfig(["--metadata-snapshot-records", "500"], {}, noFile);
  if (c === "help") throw new Error("unexpected help");
  strictEqual(c.metadataSnapshotRecords, 500);
  throws(
    () => resolveServeConfig(["--metadata-snapshot-records", "5"], {}, noFile),
    /Invalid --metadata-snapshot-records "5"/,
  );
});

Deno.test("resolveServeConfig reads topic auto-creation settings", () => {
  const c = resolveServeConfig(["--auto-create-topics", "false"], {
    PYRALOG_DEFAULT_PARTITIONS: "6",
  }, noFile);
  if (c === "help") throw new Error("unexpected help");
  deepStrictEqual([c.autoCreateTopics, c.defaultPartitions], [false, 6]);
  throws(
    () => resolveServeConfig(["--auto-create-topics", "maybe"], {}, noFile),
    /Invalid --auto-create-topics/,
  );
  throws(
    () => resolveServeConfig(["--default-partitions", "0"], {}, noFile),
    /Invalid --default-partitions/,
  );
});

Deno.test("resolveServeConfig precedence is flag, then env, then config file", () => {
  const file = JSON.stringify({ "data-dir": "/file", "fsync": "never", "node-id": 3 });
  const env = {
    PYRALOG_CONFIG: "/c.json",
    PYRALOG_FSYNC: "interval",
    PYRALOG_WRITE_CACHING: "true",
  };
  const c = resolveServeConfig(["--data-dir", "/flag"], env, () => file);
  if (c === "help") throw new Error("unexpected help");
  deepStrictEqual([c.dataDir, c.fsync, c.nodeId, c.writeCaching], ["/flag", "interval", 3, true]);
});

Deno.test("resolveServeConfig refuses unknown flags and bad values with clear errors", () => {
  throws(() => resolveServeConfig(["--nope"], {}, noFile), ConfigError);
  throws(
    () => resolveServeConfig(["--fsync", "sometimes"], {}, noFile),
    /Invalid --fsync "sometimes"/,
  );
  throws(() => resolveServeConfig(["--node-id=-1"], {}, noFile), /Invalid --node-id/);
  throws(
    () => resolveServeConfig(["--config", "/x"], {}, () => "{bad"),
    /Cannot parse config file/,
  );
  throws(
    () => resolveServeConfig(["--config", "/x"], {}, () => '{"colour":1}'),
    /Unknown key "colour"/,
  );
  throws(() => parseHostPort("http-listen", "localhost"), /expected HOST:PORT/);
  throws(() => parseHostPort("http-listen", "h:70000"), ConfigError);
  deepStrictEqual(parseHostPort("x", "[::1]:0"), { host: "::1", port: 0 });
});
