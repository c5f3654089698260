/**
 * InitProducerId (key 22): InitProducerIdRequest.json / InitProducerIdResponse.json, v0-5.
 * v1 same as v0; v2 flexible; v3 ProducerId/ProducerEpoch to bump an existing producer's
 * epoch (KIP-360); v4 same as v3 (PRODUCER_FENCED); v5 same as v4 (KIP-890). A null
 * TransactionalId asks for an idempotent (non-transactional) producer id.
 */
import type { MessageSpec } from "../message_spec.ts";

/** InitProducerIdRequest, v0-5. */
export const INIT_PRODUCER_ID_REQUEST = {
  apiKey: 22,
  type: "request",
  name: "InitProducerIdRequest",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "transactionalId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
    { name: "producerId", type: "int64", versions: "3+", default: -1 },
    { name: "producerEpoch", type: "int16", versions: "3+", default: -1 },
  ],
} as const satisfies MessageSpec;

/** InitProducerIdResponse, v0-5. */
export const INIT_PRODUCER_ID_RESPONSE = {
  apiKey: 22,
  type: "response",
  name: "InitProducerIdResponse",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "producerId", type: "int64", versions: "0+", default: -1 },
    { name: "producerEpoch", type: "int16", versions: "0+" },
  ],
} as const satisfies MessageSpec;
