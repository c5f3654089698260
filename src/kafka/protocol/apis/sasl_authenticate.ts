/**
 * SaslAuthenticate (key 36): SaslAuthenticateRequest.json / ...Response.json, v0-2
 * (KIP-152). v1 SessionLifetimeMs (KIP-368 re-authentication); v2 flexible.
 */
import type { MessageSpec } from "../message_spec.ts";

/** SaslAuthenticateRequest, v0-2. */
export const SASL_AUTHENTICATE_REQUEST = {
  apiKey: 36,
  type: "request",
  name: "SaslAuthenticateRequest",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [{ name: "authBytes", type: "bytes", versions: "0+" }],
} as const satisfies MessageSpec;

/** SaslAuthenticateResponse, v0-2. */
export const SASL_AUTHENTICATE_RESPONSE = {
  apiKey: 36,
  type: "response",
  name: "SaslAuthenticateResponse",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "errorMessage", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "authBytes", type: "bytes", versions: "0+" },
    { name: "sessionLifetimeMs", type: "int64", versions: "1+", default: 0 },
  ],
} as const satisfies MessageSpec;
