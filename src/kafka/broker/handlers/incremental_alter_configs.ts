/**
 * IncrementalAlterConfigs (key 44), v0-1 (KIP-339): per topic, a list of operations on single
 * keys: SET (0), DELETE (1, back to the default), APPEND (2) and SUBTRACT (3) on list
 * configs (cleanup.policy); APPEND or SUBTRACT on any other config is INVALID_CONFIG, an
 * unknown operation or a key given twice INVALID_REQUEST. The result is validated as a whole
 * before it is stored; `validateOnly` checks without changing anything. Broker resources
 * cannot be altered yet (INVALID_REQUEST with a message).
 */
import type { Handler } from "../broker_context.ts";
import { alterResources, incrementalChanges } from "./_alter_topic_configs.ts";

/** The IncrementalAlterConfigs handler. */
export const handleIncrementalAlterConfigs: Handler<"IncrementalAlterConfigs"> = async (
  req,
  ctx,
) => ({
  throttleTimeMs: 0,
  responses: await alterResources(
    req.resources,
    (r) => ({ mode: "incremental", changes: incrementalChanges(r.configs) }),
    req.validateOnly,
    ctx.broker,
  ),
});
