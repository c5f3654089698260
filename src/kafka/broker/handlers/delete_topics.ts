/**
 * DeleteTopics (key 20), v0-6 (KIP-4): deletes each topic and its data and forgets its
 * cached producer state. v0-5 name topics; v6 names them or gives only their id (KIP-516):
 * an unknown name is UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID, both given
 * INVALID_REQUEST. v5+ carry an error message. Pyralog's internal topics (__consumer_offsets,
 * __transaction_state, __cluster_metadata) are refused with INVALID_REQUEST: their data is
 * the node's own state (group offsets, cluster metadata), and deleting __consumer_offsets
 * under a running group coordinator would lose every committed offset. A topic named twice is refused in both entries.
 * Deletions run one after another, so the request's size bounds the work.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { adminErrorCode, adminOf, duplicatesOf } from "./_admin_common.ts";
import { wireUuid, ZERO_UUID } from "./_common.ts";

interface Target {
  name: string | null;
  topicId: string;
}

/** The DeleteTopics handler. */
export const handleDeleteTopics: Handler<"DeleteTopics"> = async (req, ctx) => {
  const admin = adminOf(ctx.broker);
  const targets: Target[] = ctx.version >= 6
    ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
    : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const dup = duplicatesOf(targets.map((t) => t.name ?? `id:${t.topicId}`));
  const responses = [];
  for (const t of targets) {
    const answer = (
      name: string | null,
      topicId: string,
      errorCode: number,
      errorMessage: string | null,
    ) => ({
      name,
      topicId,
      errorCode,
      errorMessage,
    });
    if (dup.has(t.name ?? `id:${t.topicId}`)) {
      responses.push(
        answer(t.name, t.topicId, ErrorCode.INVALID_REQUEST, "Topic named more than once"),
      );
      continue;
    }
    let name = t.name;
    if (t.topicId !== ZERO_UUID) {
      if (name !== null) {
        responses.push(
          answer(
            name,
            t.topicId,
            ErrorCode.INVALID_REQUEST,
            "Give a topic name or an id, not both",
          ),
        );
        continue;
      }
      const info = admin.topicById(t.topicId);
      if (!info) {
        responses.push(
          answer(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID, `Unknown topic id "${t.topicId}"`),
        );
        continue;
      }
      name = info.name;
    }
    if (name === null) {
      responses.push(
        answer(null, t.topicId, ErrorCode.INVALID_REQUEST, "Give a topic name or an id"),
      );
      continue;
    }
    const r = await admin.deleteTopic(name);
    if (r.type === "error") {
      responses.push(answer(name, t.topicId, adminErrorCode(r.kind), r.message));
      continue;
    }
    ctx.broker.log("info", `Deleted topic "${name}"`);
    responses.push(answer(name, wireUuid(r.id), ErrorCode.NONE, null));
  }
  return { throttleTimeMs: 0, responses };
};
