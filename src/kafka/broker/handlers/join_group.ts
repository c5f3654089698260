/**
 * JoinGroup (key 11): a member joins or rejoins a classic group and waits until the
 * rebalance completes (bounded by the rebalance timeout; aborted when the connection
 * closes). v4+ new members first get MEMBER_ID_REQUIRED with their id (KIP-394); v5+ carry
 * group.instance.id (KIP-345 static membership); v7+ answer the protocol type (KIP-559).
 * v0 has no rebalance timeout: the session timeout stands in for it, as in Kafka.
 */
import type { Handler } from "../broker_context.ts";
import { groupErrorCode } from "./_group_errors.ts";

/** Version from which a member without an id must fetch one first (KIP-394). */
const MEMBER_ID_REQUIRED_VERSION = 4;

/** The JoinGroup handler. */
export const handleJoinGroup: Handler<"JoinGroup"> = async (req, ctx) => {
  const outcome = await ctx.broker.groups.join({
    groupId: req.groupId,
    memberId: req.memberId,
    groupInstanceId: ctx.version >= 5 ? req.groupInstanceId : null,
    clientId: ctx.header.clientId ?? "",
    clientHost: "",
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: ctx.version >= 1 ? req.rebalanceTimeoutMs : -1,
    protocolType: req.protocolType,
    protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
    requireKnownMemberId: ctx.version >= MEMBER_ID_REQUIRED_VERSION,
  }, ctx.signal);
  if (outcome.type === "error") {
    return {
      throttleTimeMs: 0,
      errorCode: groupErrorCode(outcome.error),
      generationId: -1,
      protocolType: null,
      // Nullable from v7; before that an empty string stands for "none".
      protocolName: ctx.version >= 7 ? null : "",
      leader: "",
      skipAssignment: false,
      memberId: outcome.memberId,
      members: [],
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode: groupErrorCode(null),
    generationId: outcome.generationId,
    protocolType: outcome.protocolType,
    protocolName: outcome.protocolName ?? (ctx.version >= 7 ? null : ""),
    leader: outcome.leaderId,
    skipAssignment: false,
    memberId: outcome.memberId,
    members: outcome.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata,
    })),
  };
};
