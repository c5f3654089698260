/**
 * ApiVersions (key 18): the ranges of every API this broker serves. The response header is
 * always v0 (KIP-511); the codec takes care of that. An unknown ApiVersions version never
 * reaches here: the connection loop answers it with the v0 fallback.
 */
import type { Handler, HandlerTable } from "../broker_context.ts";
import { ErrorCode } from "../error_codes.ts";
import { advertisedVersions } from "../kafka_server.ts";

/** Builds the ApiVersions handler over the table of served APIs. */
export function apiVersionsHandler(served: () => HandlerTable): Handler<"ApiVersions"> {
  return () => ({
    errorCode: ErrorCode.NONE,
    apiKeys: advertisedVersions(served()),
    throttleTimeMs: 0,
  });
}
