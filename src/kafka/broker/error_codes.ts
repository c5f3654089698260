/**
 * The Kafka error codes the broker answers with: the protocol layer's one table, under the
 * name the handlers use. Every expected failure maps to exactly one of these in one place
 * (STYLE.md principle 3; the mappings live in handlers/_common.ts and its siblings).
 */
import { ERROR_CODES } from "../protocol/mod.ts";

/** Kafka error codes by name. */
export const ErrorCode = ERROR_CODES;

/** A Kafka error code value. */
export type ErrorCodeValue = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];
