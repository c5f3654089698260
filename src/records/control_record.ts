/**
 * Control records of transactional batches (KIP-98): a control batch (attribute bit 5) holds
 * records whose key is `version int16 | type int16` (type 0 = ABORT, 1 = COMMIT; Kafka's
 * ControlRecordType) and, for transaction markers, whose value is the EndTxnMarker
 * `version int16 | coordinatorEpoch int32`. Both encodings are big-endian and version 0.
 *
 * Invariants: decoders throw `FrameDecodeError` only and accept longer keys and values (later
 * versions may append fields, as Java's ControlRecordType.parse does for the key).
 */
import { FrameDecodeError } from "../util/mod.ts";
import { buildBatch } from "./record_batch.ts";

/** Control record types (Kafka ControlRecordType ids). */
export const ControlRecordType = { abort: 0, commit: 1 } as const;
/** A control record type name. */
export type ControlRecordTypeName = keyof typeof ControlRecordType;

const CONTROL_KEY_BYTES = 4;
const END_TXN_MARKER_BYTES = 6;
const CONTROL_VERSION = 0;

/** A decoded control record key. `type` is "unknown" for ids this version does not know. */
export interface ControlRecordKey {
  version: number;
  typeId: number;
  type: ControlRecordTypeName | "unknown";
}

/** Encodes a control record key (version 0). */
export function encodeControlRecordKey(type: ControlRecordTypeName): Uint8Array {
  const out = new Uint8Array(CONTROL_KEY_BYTES);
  const dv = new DataView(out.buffer);
  dv.setInt16(0, CONTROL_VERSION);
  dv.setInt16(2, ControlRecordType[type]);
  return out;
}

/**
 * Decodes a control record key.
 * @throws {FrameDecodeError} when the key is null or shorter than 4 bytes.
 */
export function decodeControlRecordKey(key: Uint8Array | null): ControlRecordKey {
  if (key === null || key.length < CONTROL_KEY_BYTES) {
    throw new FrameDecodeError(
      `Cannot decode control record key: ${key === null ? "null" : `${key.length} bytes`}`,
    );
  }
  const dv = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const typeId = dv.getInt16(2);
  const type = typeId === ControlRecordType.abort
    ? "abort"
    : typeId === ControlRecordType.commit
    ? "commit"
    : "unknown";
  return { version: dv.getInt16(0), typeId, type };
}

/** Encodes an EndTxnMarker value (version 0). */
export function encodeEndTxnMarker(coordinatorEpoch: number): Uint8Array {
  const out = new Uint8Array(END_TXN_MARKER_BYTES);
  const dv = new DataView(out.buffer);
  dv.setInt16(0, CONTROL_VERSION);
  dv.setInt32(2, coordinatorEpoch);
  return out;
}

/**
 * Decodes an EndTxnMarker value.
 * @throws {FrameDecodeError} when the value is null or shorter than 6 bytes.
 */
export function decodeEndTxnMarker(
  value: Uint8Array | null,
): { version: number; coordinatorEpoch: number } {
  if (value === null || value.length < END_TXN_MARKER_BYTES) {
    throw new FrameDecodeError("Cannot decode end transaction marker: value too short");
  }
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return { version: dv.getInt16(0), coordinatorEpoch: dv.getInt32(2) };
}

/** Options of `buildEndTxnMarkerBatch`. */
export interface EndTxnMarkerOptions {
  type: ControlRecordTypeName;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestampMs: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}

/**
 * Builds the one-record control batch a transaction coordinator writes to end a transaction
 * (transactional and control bits set, uncompressed, baseSequence -1, as Kafka writes it).
 * @throws {RangeError} when a field is out of its wire range.
 */
export function buildEndTxnMarkerBatch(opts: EndTxnMarkerOptions): Uint8Array {
  return buildBatch({
    records: [{
      key: encodeControlRecordKey(opts.type),
      value: encodeEndTxnMarker(opts.coordinatorEpoch),
      timestampMs: opts.timestampMs,
    }],
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    isTransactional: true,
    isControl: true,
    ...(opts.baseOffset === undefined ? {} : { baseOffset: opts.baseOffset }),
    ...(opts.partitionLeaderEpoch === undefined
      ? {}
      : { partitionLeaderEpoch: opts.partitionLeaderEpoch }),
  });
}
