/** The admin handlers: topics, partitions, configs, records deletion, cluster, producers. */
import type { HandlerTable } from "../broker_context.ts";

/** Handlers of the admin APIs. */
export const ADMIN_HANDLERS: HandlerTable = {};
