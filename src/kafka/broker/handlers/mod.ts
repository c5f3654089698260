/**
 * Every Kafka API handler this broker serves, one table. An API is advertised in ApiVersions
 * only when it has a handler here.
 */
import type { HandlerTable } from "../broker_context.ts";
import { ADMIN_HANDLERS } from "./admin.ts";
import { apiVersionsHandler } from "./api_versions.ts";
import { CORE_HANDLERS } from "./core.ts";
import { GROUP_HANDLERS } from "./groups.ts";

/** All handlers, ApiVersions included. */
export const HANDLERS: HandlerTable = {
  ...CORE_HANDLERS,
  ...ADMIN_HANDLERS,
  ...GROUP_HANDLERS,
  ApiVersions: apiVersionsHandler(() => HANDLERS),
};
