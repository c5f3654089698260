/** The topic config catalog and the IncrementalAlterConfigs / AlterConfigs change rules. */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { TOPIC_CONFIG_DEFAULTS, validateTopicConfigs } from "../storage/mod.ts";
import {
  applyConfigChanges,
  ConfigOperation,
  ConfigType,
  effectiveTopicConfigs,
  isKnownTopicConfig,
  replaceConfigs,
  TOPIC_CONFIG_CATALOG,
} from "./topic_config_catalog.ts";

const { SET, DELETE, APPEND, SUBTRACT } = ConfigOperation;

Deno.test("TOPIC_CONFIG_CATALOG defaults are storage's defaults and pass its validation", () => {
  for (const [key, spec] of Object.entries(TOPIC_CONFIG_CATALOG)) {
    if (spec.defaultValue === null) continue;
    strictEqual(spec.defaultValue, TOPIC_CONFIG_DEFAULTS[key], key);
    validateTopicConfigs({ [key]: spec.defaultValue });
  }
  for (const key of Object.keys(TOPIC_CONFIG_DEFAULTS)) ok(isKnownTopicConfig(key), key);
  // Every catalog key is a key storage accepts (an unknown one would throw "unknown config").
  for (const key of Object.keys(TOPIC_CONFIG_CATALOG)) {
    try {
      validateTopicConfigs({ [key]: "1" });
    } catch (e) {
      ok(!String(e).includes("unknown config"), key);
    }
  }
  ok(!isKnownTopicConfig("constructor"));
});

Deno.test("effectiveTopicConfigs reports set values as topic, the rest as default", () => {
  const list = effectiveTopicConfigs({ "retention.ms": "1", "flush.ms": "5" });
  const byName = new Map(list.map((c) => [c.name, c]));
  strictEqual(byName.get("retention.ms")?.source, "topic");
  strictEqual(byName.get("segment.bytes")?.source, "default");
  strictEqual(byName.get("flush.ms")?.value, "5");
  ok(!byName.has("flush.messages"));
  deepStrictEqual(list.map((c) => c.name), [...list.map((c) => c.name)].sort());
});

Deno.test("applyConfigChanges applies SET and DELETE", () => {
  deepStrictEqual(
    applyConfigChanges({ "retention.ms": "1", "segment.ms": "2" }, [
      { name: "retention.ms", operation: SET, value: "9" },
      { name: "segment.ms", operation: DELETE, value: null },
      { name: "flush.ms", operation: DELETE, value: null },
    ]),
    { type: "ok", configs: { "retention.ms": "9" } },
  );
});

Deno.test("applyConfigChanges appends to and subtracts from the effective list value", () => {
  deepStrictEqual(
    applyConfigChanges({}, [{ name: "cleanup.policy", operation: APPEND, value: "compact" }]),
    { type: "ok", configs: { "cleanup.policy": "delete,compact" } },
  );
  deepStrictEqual(
    applyConfigChanges({ "cleanup.policy": "delete,compact" }, [
      { name: "cleanup.policy", operation: SUBTRACT, value: "delete" },
    ]),
    { type: "ok", configs: { "cleanup.policy": "compact" } },
  );
  deepStrictEqual(
    applyConfigChanges({}, [{ name: "cleanup.policy", operation: APPEND, value: "delete" }]),
    { type: "ok", configs: { "cleanup.policy": "delete" } },
  );
});

Deno.test("applyConfigChanges refuses what Kafka refuses", () => {
  const kind = (r: ReturnType<typeof applyConfigChanges>) => (r.type === "error" ? r.kind : "ok");
  strictEqual(
    kind(applyConfigChanges({}, [{ name: "retention.ms", operation: APPEND, value: "1" }])),
    "invalid_config",
  );
  strictEqual(
    kind(applyConfigChanges({}, [{ name: "retention.ms", operation: SUBTRACT, value: "1" }])),
    "invalid_config",
  );
  strictEqual(
    kind(applyConfigChanges({}, [{ name: "x.y", operation: SET, value: "1" }])),
    "invalid_config",
  );
  strictEqual(
    kind(applyConfigChanges({}, [{ name: "retention.ms", operation: SET, value: null }])),
    "invalid_request",
  );
  strictEqual(
    kind(applyConfigChanges({}, [{ name: "retention.ms", operation: 7, value: "1" }])),
    "invalid_request",
  );
  strictEqual(
    kind(applyConfigChanges({}, [
      { name: "retention.ms", operation: SET, value: "1" },
      { name: "retention.ms", operation: DELETE, value: null },
    ])),
    "invalid_request",
  );
});

Deno.test("replaceConfigs builds the whole new set and refuses duplicates and nulls", () => {
  deepStrictEqual(replaceConfigs([{ name: "retention.ms", value: "1" }]), {
    type: "ok",
    configs: { "retention.ms": "1" },
  });
  deepStrictEqual(replaceConfigs([]), { type: "ok", configs: {} });
  strictEqual(replaceConfigs([{ name: "a", value: null }]).type, "error");
  strictEqual(replaceConfigs([{ name: "a", value: "1" }, { name: "a", value: "2" }]).type, "error");
});

Deno.test("TOPIC_CONFIG_CATALOG knows replication.quorum as an INT without a default", () => {
  const s = TOPIC_CONFIG_CATALOG["replication.quorum"];
  ok(s !== undefined);
  strictEqual(s.type, ConfigType.INT);
  strictEqual(s.defaultValue, null, "unset means a majority");
  ok(!effectiveTopicConfigs({}).some((c) => c.name === "replication.quorum"));
  deepStrictEqual(
    effectiveTopicConfigs({ "replication.quorum": "2" }).find((c) =>
      c.name === "replication.quorum"
    )
      ?.source,
    "topic",
  );
  deepStrictEqual(
    applyConfigChanges({}, [{ name: "replication.quorum", operation: SET, value: "2" }]),
    { type: "ok", configs: { "replication.quorum": "2" } },
  );
});
