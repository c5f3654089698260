/** The data-path handlers: Metadata, Produce, Fetch, ListOffsets, InitProducerId. */
import type { HandlerTable } from "../broker_context.ts";
import { handleFetch } from "./fetch.ts";
import { handleInitProducerId } from "./init_producer_id.ts";
import { handleListOffsets } from "./list_offsets.ts";
import { handleMetadata } from "./metadata.ts";
import { handleProduce } from "./produce.ts";

/** Handlers of the data path. */
export const CORE_HANDLERS: HandlerTable = {
  Metadata: handleMetadata,
  Produce: handleProduce,
  Fetch: handleFetch,
  ListOffsets: handleListOffsets,
  InitProducerId: handleInitProducerId,
};
