/** The consumer-group handlers: FindCoordinator, the classic rebalance protocol and offsets. */
import type { HandlerTable } from "../broker_context.ts";

/** Handlers of the group APIs. */
export const GROUP_HANDLERS: HandlerTable = {};
