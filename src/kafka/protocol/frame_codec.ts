/**
 * Whole frames: header + body for requests and responses, both directions (the broker
 * decodes requests and encodes responses; tests and the future client do the reverse).
 *
 * Framing: on the wire every message is an int32 size followed by that many bytes. The
 * connection loop reads the size, bounds it, and hands the bytes after it here as `frame`;
 * encoders return complete frames including the size prefix, ready to write.
 *
 * Decoding never throws anything but `FrameDecodeError`; a request for an unknown API or
 * version is not an error but an `UnsupportedRequest` value carrying the header, so the
 * broker can answer UNSUPPORTED_VERSION (for ApiVersions, with `encodeApiVersionsFallback`)
 * or close the connection as Kafka does for other APIs. Trailing bytes after a body are
 * ignored, as Kafka's parser does.
 */
import { assert, FrameDecodeError } from "../../util/mod.ts";
import {
  API_REGISTRY,
  apiKeyOf,
  type ApiName,
  apiNameOf,
  type RequestInput,
  type RequestOf,
  type ResponseInput,
  type ResponseOf,
} from "./api_registry.ts";
import { ByteReader } from "./byte_reader.ts";
import { ERROR_CODES } from "./error_codes.ts";
import { ByteWriter } from "./byte_writer.ts";
import { messageCodec, type Struct } from "./message_codec.ts";
import { inRange, parseVersionRange } from "./message_spec.ts";
import {
  API_VERSIONS_KEY,
  readRequestHeader,
  readRequestHeaderPrefix,
  readResponseHeader,
  type RequestHeader,
  responseHeaderVersion,
  writeRequestHeader,
  writeResponseHeader,
} from "./request_header.ts";

/** Kafka error code UNSUPPORTED_VERSION (35). */
export const UNSUPPORTED_VERSION: number = ERROR_CODES.UNSUPPORTED_VERSION;
/**
 * First buffer size for an encoded frame. Most frames are smaller; a larger one grows the
 * buffer by doubling, which for a records blob means one allocation sized to fit it (walking
 * the body to guess the size first cost more than the growth, bench/protocol_bench.ts).
 */
const INITIAL_FRAME_BYTES = 1024;
/** Bytes of the int32 size prefix of every frame. */
export const FRAME_SIZE_PREFIX_BYTES = 4;

/** A request this codec decoded, discriminated by `api`. */
export type DecodedRequest = {
  [N in ApiName]: {
    readonly type: "request";
    readonly api: N;
    readonly header: RequestHeader;
    readonly body: RequestOf<N>;
  };
}[ApiName];

/** A request whose API key or version this codec does not implement; the body is unread. */
export interface UnsupportedRequest {
  readonly type: "unsupported";
  readonly reason: "unknown_api" | "unsupported_version";
  readonly header: RequestHeader;
}

/** What `decodeRequestFrame` returns. */
export type RequestFrame = DecodedRequest | UnsupportedRequest;

/** True when this codec implements `version` of `api`. */
export function isVersionSupported(api: ApiName, version: number): boolean {
  return inRange(parseVersionRange(API_REGISTRY[api].request.validVersions), version);
}

/**
 * Decodes a request frame (the bytes after the int32 size prefix).
 * Byte and records fields are views into `frame`.
 * @throws {FrameDecodeError} when the frame is malformed.
 */
export function decodeRequestFrame(frame: Uint8Array): RequestFrame {
  const r = new ByteReader(frame);
  // Peek at key and version to learn the header version; the header is re-read below.
  r.need(4, "request header");
  const apiKey = ((frame[0] ?? 0) << 24 >> 16) | (frame[1] ?? 0);
  const apiVersion = ((frame[2] ?? 0) << 24 >> 16) | (frame[3] ?? 0);
  const api = apiNameOf(apiKey);
  if (api === undefined || !isVersionSupported(api, apiVersion)) {
    // The v1 prefix (key, version, correlation id, client id) is common to every header
    // version we might not know, so the broker can still answer by correlation id.
    const header = readRequestHeaderPrefix(r);
    return {
      type: "unsupported",
      reason: api === undefined ? "unknown_api" : "unsupported_version",
      header,
    };
  }
  const codec = messageCodec(API_REGISTRY[api].request, apiVersion);
  const header = readRequestHeader(r, codec.flexible);
  const body = codec.decode(r);
  // The schema describes the shape of `body`; the codec builds it field by field from
  // the same schema, so this is the one place the static type is asserted.
  return { type: "request", api, header, body } as unknown as DecodedRequest;
}

/** Header fields a client chooses when encoding a request. */
export interface RequestHeaderInput {
  readonly correlationId: number;
  readonly clientId: string | null;
}

/** Encodes a complete request frame (size prefix, header, body). */
export function encodeRequest<N extends ApiName>(
  api: N,
  version: number,
  header: RequestHeaderInput,
  body: RequestInput<N>,
): Uint8Array {
  const codec = messageCodec(API_REGISTRY[api].request, version);
  const w = new ByteWriter(INITIAL_FRAME_BYTES);
  w.int32(0);
  writeRequestHeader(
    w,
    { apiKey: apiKeyOf(api), apiVersion: version, ...header },
    codec.flexible,
  );
  codec.encode(w, body as unknown as Struct);
  w.patchInt32(0, w.length - FRAME_SIZE_PREFIX_BYTES);
  return w.finish();
}

/**
 * Encodes a complete response frame (size prefix, header, body). The header is v1 for
 * flexible versions except for ApiVersions (always v0, KIP-511).
 */
export function encodeResponse<N extends ApiName>(
  api: N,
  version: number,
  correlationId: number,
  body: ResponseInput<N>,
): Uint8Array {
  const spec = API_REGISTRY[api].response;
  const codec = messageCodec(spec, version);
  const w = new ByteWriter(INITIAL_FRAME_BYTES);
  w.int32(0);
  writeResponseHeader(w, correlationId, responseHeaderVersion(spec.apiKey, codec.flexible));
  codec.encode(w, body as unknown as Struct);
  w.patchInt32(0, w.length - FRAME_SIZE_PREFIX_BYTES);
  return w.finish();
}

/**
 * Encodes a request like `encodeRequest` but as views to write in order, referencing byte
 * payloads of `ZERO_COPY_MIN_BYTES` or more (Produce record batches) instead of copying.
 */
export function encodeRequestChunks<N extends ApiName>(
  api: N,
  version: number,
  header: RequestHeaderInput,
  body: RequestInput<N>,
): Uint8Array[] {
  const codec = messageCodec(API_REGISTRY[api].request, version);
  const w = new ByteWriter(INITIAL_FRAME_BYTES, ZERO_COPY_MIN_BYTES);
  w.int32(0);
  writeRequestHeader(w, { apiKey: apiKeyOf(api), apiVersion: version, ...header }, codec.flexible);
  codec.encode(w, body as unknown as Struct);
  w.patchInt32(0, w.length - FRAME_SIZE_PREFIX_BYTES);
  return w.finishChunks();
}

/** Payloads at least this long are referenced by the `*Chunks` encoders, not copied. */
export const ZERO_COPY_MIN_BYTES = 4096;

/**
 * Encodes a response like `encodeResponse` but returns it as views to write in order,
 * without copying byte payloads of `ZERO_COPY_MIN_BYTES` or more (record batches of Fetch
 * responses): the hot path of consumers. The payloads must stay unchanged until written.
 */
export function encodeResponseChunks<N extends ApiName>(
  api: N,
  version: number,
  correlationId: number,
  body: ResponseInput<N>,
): Uint8Array[] {
  const spec = API_REGISTRY[api].response;
  const codec = messageCodec(spec, version);
  const w = new ByteWriter(INITIAL_FRAME_BYTES, ZERO_COPY_MIN_BYTES);
  w.int32(0);
  writeResponseHeader(w, correlationId, responseHeaderVersion(spec.apiKey, codec.flexible));
  codec.encode(w, body as unknown as Struct);
  w.patchInt32(0, w.length - FRAME_SIZE_PREFIX_BYTES);
  return w.finishChunks();
}

/** A decoded response. */
export interface DecodedResponse<N extends ApiName> {
  readonly correlationId: number;
  readonly body: ResponseOf<N>;
}

/**
 * Decodes a response frame (the bytes after the size prefix) of `api` at `version`; the
 * caller knows both from the request it sent.
 * @throws {FrameDecodeError} when the frame is malformed or `version` is not implemented.
 */
export function decodeResponseFrame<N extends ApiName>(
  api: N,
  version: number,
  frame: Uint8Array,
): DecodedResponse<N> {
  if (!isVersionSupported(api, version)) {
    throw new FrameDecodeError(`Cannot decode ${api} response: version "${version}" unknown`);
  }
  const spec = API_REGISTRY[api].response;
  const codec = messageCodec(spec, version);
  const r = new ByteReader(frame);
  const correlationId = readResponseHeader(r, responseHeaderVersion(spec.apiKey, codec.flexible));
  const body = codec.decode(r) as unknown as ResponseOf<N>;
  return { correlationId, body };
}

/** One advertised version range. */
export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/**
 * Encodes the answer to an ApiVersions request of a version we do not implement: an
 * ApiVersions v0 body (header v0) with error 35 UNSUPPORTED_VERSION and the ranges, so
 * the client retries with a version both sides know (KIP-511; Java takes the listed max for
 * key 18, librdkafka min(sent-1, max), KafkaJS steps down one at a time).
 */
export function encodeApiVersionsFallback(
  correlationId: number,
  apiKeys: readonly ApiVersionRange[],
): Uint8Array {
  assert(
    apiKeys.some((k) => k.apiKey === API_VERSIONS_KEY),
    "the fallback must list ApiVersions' own range",
  );
  return encodeResponse("ApiVersions", 0, correlationId, {
    errorCode: UNSUPPORTED_VERSION,
    apiKeys,
  });
}
