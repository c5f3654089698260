/**
 * InitProducerId (key 22): gives an idempotent producer a fresh, never reused producer id at
 * epoch 0 (KIP-98). An existing id and epoch sent for a bump (v3+, KIP-360) is answered with a
 * new id too, which the producer accepts the same way. Transactional producers
 * (a non-null transactional id) are refused: transactions are not built yet.
 */
import type { Handler } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";

/** The InitProducerId handler. */
export const handleInitProducerId: Handler<"InitProducerId"> = (req, ctx) => {
  if (req.transactionalId !== null) {
    ctx.broker.log(
      "warn",
      `Refusing transactional producer "${req.transactionalId}": transactions are not supported`,
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
      producerId: -1n,
      producerEpoch: -1,
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    producerId: ctx.broker.producerIds.allocate(),
    producerEpoch: 0,
  };
};
