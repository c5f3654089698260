/**
 * AlterConfigs (key 33), v0-2 (KIP-133): replace semantics. For a topic, the given entries
 * become its whole set of configs; every config left out returns to its default (Kafka's
 * documented behaviour for this legacy API, which IncrementalAlterConfigs superseded). The
 * set is validated as a whole (INVALID_CONFIG); a key given twice or a null value is
 * INVALID_REQUEST; `validateOnly` checks without changing anything. Broker resources cannot
 * be altered yet (INVALID_REQUEST with a message).
 */
import type { Handler } from "../broker_context.ts";
import { alterResources } from "./_alter_topic_configs.ts";

/** The AlterConfigs handler. */
export const handleAlterConfigs: Handler<"AlterConfigs"> = async (req, ctx) => ({
  throttleTimeMs: 0,
  responses: await alterResources(
    req.resources,
    (r) => ({ mode: "replace", entries: r.configs }),
    req.validateOnly,
    ctx.broker,
  ),
});
