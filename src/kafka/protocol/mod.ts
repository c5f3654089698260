/**
 * Pyralog's Kafka wire codec: every API Pyralog speaks is described once as schema data
 * transcribed from Kafka's message definitions (`apis/`), and one interpreter encodes and
 * decodes all of them, non-flexible and flexible (KIP-482) alike. It does no I/O; the
 * broker's connection loop reads size-prefixed frames and hands them here.
 *
 * Decoders are bounded by the frame and throw only `FrameDecodeError`; record batches stay
 * raw bytes (views into the frame). Decoded bodies hold every field of every version (a
 * field the version lacks takes its schema default, as in Kafka's generated classes);
 * int64 fields are `bigint`, uuids 32 lowercase hex digits. Encoders take the fields of the
 * version at hand, fill missing optional ones with defaults and ignore fields the version
 * lacks. `*Chunks` encoders reference large payloads instead of copying them.
 *
 * @example
 * ```ts
 * import { decodeRequestFrame, encodeRequest } from "./mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const frame = encodeRequest("Metadata", 1, { correlationId: 7, clientId: "doc" }, {
 *   topics: [{ name: "orders" }],
 * });
 * const req = decodeRequestFrame(frame.subarray(4)); // strip the int32 size prefix
 * if (req.type !== "request" || req.api !== "Metadata") throw new Error("unexpected");
 * equal(req.header.correlationId, 7);
 * equal(req.body.topics?.[0]?.name, "orders");
 * ```
 * @module
 */
export {
  API_NAMES,
  API_REGISTRY,
  apiKeyOf,
  type ApiName,
  apiNameOf,
  type RequestInput,
  type RequestOf,
  type ResponseInput,
  type ResponseOf,
} from "./api_registry.ts";
export {
  type ApiVersionRange,
  type DecodedRequest,
  type DecodedResponse,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeRequestChunks,
  encodeResponse,
  encodeResponseChunks,
  FRAME_SIZE_PREFIX_BYTES,
  isVersionSupported,
  type RequestFrame,
  type RequestHeaderInput,
  UNSUPPORTED_VERSION,
  type UnsupportedRequest,
} from "./frame_codec.ts";
export { type RequestHeader, responseHeaderVersion } from "./request_header.ts";
export { ERROR_CODES, type ErrorName } from "./error_codes.ts";
export {
  ADVERTISED_API_KEYS,
  SUPPORTED_VERSIONS,
  type SupportedVersion,
} from "./supported_versions.ts";
export { ByteReader } from "./byte_reader.ts";
export { ByteWriter } from "./byte_writer.ts";
export { messageCodec, type Struct, type VersionCodec } from "./message_codec.ts";
export type {
  ApiSpec,
  FieldSpec,
  MessageInput,
  MessageSpec,
  MessageValue,
  PrimitiveType,
} from "./message_spec.ts";
