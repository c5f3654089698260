/**
 * Request and response headers (protocol guide "Headers"; RequestHeader.json and
 * ResponseHeader.json).
 *
 * - Request header v1: ApiKey int16, ApiVersion int16, CorrelationId int32, ClientId
 *   nullable string with an int16 length. v2 (flexible request versions, KIP-482) appends a
 *   tagged-field section; ClientId keeps its non-compact encoding for compatibility. (v0,
 *   without ClientId, is only used by ControlledShutdown v0, which we do not speak.)
 * - Response header v0: CorrelationId int32. v1 (flexible response versions) appends a
 *   tagged-field section, except for ApiVersions, whose response header is always v0 so a
 *   client that does not yet know the broker's versions can parse it (KIP-511; Kafka's
 *   generator hard-codes key 18).
 */
import type { ByteReader } from "./byte_reader.ts";
import type { ByteWriter } from "./byte_writer.ts";

/** API key of ApiVersions, whose response header is always v0. */
export const API_VERSIONS_KEY = 18;

/** A decoded request header (v1 or v2). */
export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
}

/**
 * Reads the header fields shared by v1 and v2 (everything but v2's tagged fields).
 * @throws {FrameDecodeError} when the frame is too short or ClientId is malformed.
 */
export function readRequestHeaderPrefix(r: ByteReader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.string(true);
  return { apiKey, apiVersion, correlationId, clientId };
}

/**
 * Reads a request header: v2 when `flexible`, else v1. Tagged fields (none are defined
 * yet) are skipped.
 * @throws {FrameDecodeError} when the header is malformed.
 */
export function readRequestHeader(r: ByteReader, flexible: boolean): RequestHeader {
  const header = readRequestHeaderPrefix(r);
  if (flexible) skipTaggedFields(r);
  return header;
}

/** Writes a request header: v2 when `flexible`, else v1. */
export function writeRequestHeader(w: ByteWriter, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  w.string(h.clientId);
  if (flexible) w.uvarint(0);
}

/** Response header version for a response of `apiKey` whose body is `flexible`. */
export function responseHeaderVersion(apiKey: number, flexible: boolean): 0 | 1 {
  return flexible && apiKey !== API_VERSIONS_KEY ? 1 : 0;
}

/** Writes a response header of `version` (0 or 1). */
export function writeResponseHeader(w: ByteWriter, correlationId: number, version: 0 | 1): void {
  w.int32(correlationId);
  if (version === 1) w.uvarint(0);
}

/**
 * Reads a response header of `version` and returns its correlation id.
 * @throws {FrameDecodeError} when the header is malformed.
 */
export function readResponseHeader(r: ByteReader, version: 0 | 1): number {
  const correlationId = r.int32();
  if (version === 1) skipTaggedFields(r);
  return correlationId;
}

/** Skips a tagged-field section whose fields are all unknown to us. */
function skipTaggedFields(r: ByteReader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint(); // tag
    r.skip(r.uvarint(), "header tagged field");
  }
}
