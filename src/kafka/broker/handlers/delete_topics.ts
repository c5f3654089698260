/**
 * DeleteTopics (key 20), v0-6 (KIP-4): deletes each topic and its data and forgets its
 * cached producer state. v0-5 name topics; v6 names them or gives only their id (KIP-516):
 * an unknown name is UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID, both given
 * INVALID_REQUEST. v5+ carry an error message. Pyralog's internal topics (__consumer_offsets,
 * __transaction_state, __cluster_metadata) are refused with INVALID_REQUEST: their data is
 * the node's own state (group offsets, cluster metadata), and deleting __consumer_offsets
 * under a running group coordinator would lose every committed offset. A topic named twice
 * is refused in both entries, as Kafka does.
 */
import type { AdminService } from "../../../cluster/mod.ts";
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf, duplicatesOf } from "./_admin_common.ts";
import { wireUuid, ZERO_UUID } from "./_common.ts";

interface Target {
  name: string | null;
  topicId: string;
}

/** A target resolved to a topic name, or the error that answers it. */
type Resolved = { type: "ok"; name: string } | { type: "error"; code: number; message: string };

/** The DeleteTopics handler. */
export const handleDeleteTopics: Handler<"DeleteTopics"> = async (req, ctx) => {
  const admin = adminOf(ctx.broker);
  const targets: Target[] = ctx.version >= 6
    ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
    : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const keyOf = (t: Target) => t.name ?? `id:${t.topicId}`;
  const dup = duplicatesOf(targets.map(keyOf));
  const responses = [];
  // One deletion at a time: the request's size bounds the work.
  for (const t of targets) {
    const resolved: Resolved = dup.has(keyOf(t))
      ? { type: "error", code: ErrorCode.INVALID_REQUEST, message: "Topic named more than once" }
      : resolve(t, admin);
    if (resolved.type === "error") {
      responses.push({
        name: t.name,
        topicId: t.topicId,
        errorCode: resolved.code,
        errorMessage: resolved.message,
      });
      continue;
    }
    const name = resolved.name;
    const r = await admin.deleteTopic(name);
    if (r.type === "error") {
      responses.push({
        name,
        topicId: t.topicId,
        errorCode: adminErrorCode(r.kind),
        errorMessage: r.message,
      });
      continue;
    }
    ctx.broker.log("info", `Deleted topic "${name}"`);
    responses.push({
      name,
      topicId: wireUuid(r.id),
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    });
  }
  return { throttleTimeMs: 0, responses };
};

/** v6 names a topic by name (id all zeros) or by id (name null), never both. */
function resolve(t: Target, admin: AdminService): Resolved {
  if (t.topicId === ZERO_UUID) {
    return t.name === null
      ? { type: "error", code: ErrorCode.INVALID_REQUEST, message: "Give a topic name or an id" }
      : { type: "ok", name: t.name };
  }
  if (t.name !== null) {
    return {
      type: "error",
      code: ErrorCode.INVALID_REQUEST,
      message: "Give a topic name or an id, not both",
    };
  }
  const info = admin.topicById(t.topicId);
  if (!info) {
    return {
      type: "error",
      code: ErrorCode.UNKNOWN_TOPIC_ID,
      message: `Unknown topic id "${t.topicId}"`,
    };
  }
  return { type: "ok", name: info.name };
}
