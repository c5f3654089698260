/**
 * CreateTopics (key 19), v0-7 (KIP-4): creates each topic, or with `validateOnly` (v1+) only
 * checks it. numPartitions and replicationFactor -1 take the broker defaults (KIP-464). Only
 * the Java client refuses -1 before v4, on its side; Kafka's broker accepts it at every
 * version and kafkajs (v0-3) relies on that, so this broker does too. On this single node a
 * replication factor above 1 is INVALID_REPLICATION_FACTOR and a manual assignment may only
 * name this node (INVALID_REPLICA_ASSIGNMENT otherwise). Configs are validated as a whole
 * (INVALID_CONFIG, with a message from v1). v5+ answers the partition count, replication
 * factor and every effective config with its source (KIP-525); v7 the topic id (KIP-516).
 * A topic named twice in one request is refused in both entries (INVALID_REQUEST), as Kafka
 * does.
 */
import { ConfigSource, effectiveTopicConfigs } from "../../../cluster/mod.ts";
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf, duplicatesOf } from "./_admin_common.ts";
import { wireUuid, ZERO_UUID } from "./_common.ts";

/** The CreateTopics handler. */
export const handleCreateTopics: Handler<"CreateTopics"> = async (req, ctx) => {
  const admin = adminOf(ctx.broker);
  const validateOnly = ctx.version >= 1 && req.validateOnly;
  const dup = duplicatesOf(req.topics.map((t) => t.name));
  // One at a time, in request order (the controller serializes them anyway).
  const topics = [];
  for (const t of req.topics) {
    topics.push(
      await (async () => {
        const failed = (errorCode: number, errorMessage: string) => ({
          name: t.name,
          topicId: ZERO_UUID,
          errorCode,
          errorMessage,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        });
        if (dup.has(t.name)) {
          return failed(ErrorCode.INVALID_REQUEST, `Topic "${t.name}" is named more than once`);
        }
        const r = await admin.createTopic(t, validateOnly);
        if (r.type === "error") return failed(adminErrorCode(r.kind), r.message);
        if (!validateOnly) {
          ctx.broker.log("info", `Created topic "${t.name}" with ${r.partitions} partitions`);
        }
        return {
          name: t.name,
          topicId: r.id === null ? ZERO_UUID : wireUuid(r.id),
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          numPartitions: r.partitions,
          replicationFactor: r.replicationFactor,
          configs: effectiveTopicConfigs(r.configs).map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            configSource: c.source === "topic"
              ? ConfigSource.DYNAMIC_TOPIC_CONFIG
              : ConfigSource.DEFAULT_CONFIG,
            isSensitive: false,
          })),
        };
      })(),
    );
  }
  return { throttleTimeMs: 0, topics };
};
