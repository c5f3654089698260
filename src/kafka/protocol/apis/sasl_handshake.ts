/**
 * SaslHandshake (key 17): SaslHandshakeRequest.json / SaslHandshakeResponse.json, v0-1;
 * never flexible. v0: raw SASL tokens follow without Kafka framing; v1: tokens travel in
 * SaslAuthenticate (KIP-152). Kept at v1 (KAFKA-9577, see KAFKA-CLIENTS.md).
 */
import type { MessageSpec } from "../message_spec.ts";

/** SaslHandshakeRequest, v0-1. */
export const SASL_HANDSHAKE_REQUEST = {
  apiKey: 17,
  type: "request",
  name: "SaslHandshakeRequest",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [{ name: "mechanism", type: "string", versions: "0+" }],
} as const satisfies MessageSpec;

/** SaslHandshakeResponse, v0-1. */
export const SASL_HANDSHAKE_RESPONSE = {
  apiKey: 17,
  type: "response",
  name: "SaslHandshakeResponse",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "mechanisms", type: "[]string", versions: "0+" },
  ],
} as const satisfies MessageSpec;
