/**
 * The record-block codecs of Kafka RecordBatch v2, by attribute id: none 0, gzip 1, snappy 2,
 * lz4 3, zstd 4 (protocol guide; KIP-110 for zstd). gzip and zstd come from Deno's `node:zlib`
 * (synchronous variants), snappy and lz4 from this folder's own codecs (snappy.ts, lz4.ts).
 *
 * Invariants: `decompress` never produces more than `outputBytesMax` bytes and never
 * allocates beyond it (zip bombs), and it throws `FrameDecodeError` only, wrapping whatever a
 * codec library throws with `cause`. All functions are synchronous.
 */
import zlib from "node:zlib";
import { FrameDecodeError } from "../util/mod.ts";
import { Compression, type CompressionName } from "./batch_header.ts";
import { lz4Compress, lz4Decompress } from "./lz4.ts";
import { snappyCompress, snappyDecompress } from "./snappy.ts";

/** Default ceiling on one batch's decompressed records: 64 MiB. */
export const DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

const NAMES_BY_ID: ReadonlyArray<CompressionName> = ["none", "gzip", "snappy", "lz4", "zstd"];

/** The codec name for an attribute id, or undefined for an unknown id (5-7). */
export function compressionName(id: number): CompressionName | undefined {
  return NAMES_BY_ID[id];
}

/** The attribute id of a codec name. */
export function compressionId(name: CompressionName): number {
  return Compression[name];
}

/** A Buffer (a Uint8Array subclass) as a plain Uint8Array view over the same memory. */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Compresses a record block with the named codec ("none" returns the input itself). */
export function compress(codec: CompressionName, data: Uint8Array): Uint8Array {
  switch (codec) {
    case "none":
      return data;
    case "gzip":
      return plain(zlib.gzipSync(data));
    case "snappy":
      return snappyCompress(data);
    case "lz4":
      return lz4Compress(data);
    case "zstd":
      return plain(zlib.zstdCompressSync(data));
  }
}

/**
 * Decompresses a record block, refusing output beyond `outputBytesMax` bytes.
 * @throws {FrameDecodeError} when the data is malformed or expands beyond the limit.
 */
export function decompress(
  codec: CompressionName,
  data: Uint8Array,
  outputBytesMax: number = DECOMPRESSED_BYTES_MAX,
): Uint8Array {
  try {
    switch (codec) {
      case "none":
        if (data.length > outputBytesMax) throw tooLarge(codec, outputBytesMax);
        return data;
      case "gzip":
        // maxOutputLength makes zlib stop inflating once the limit is passed.
        return plain(zlib.gunzipSync(data, { maxOutputLength: Math.max(1, outputBytesMax) }));
      case "snappy":
        return snappyDecompress(data, outputBytesMax);
      case "lz4":
        return lz4Decompress(data, outputBytesMax);
      case "zstd":
        return plain(
          zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, outputBytesMax) }),
        );
    }
  } catch (err: unknown) {
    if (err instanceof FrameDecodeError) throw err;
    // zlib reports an exceeded maxOutputLength as a RangeError (ERR_BUFFER_TOO_LARGE).
    if (err instanceof RangeError) throw tooLarge(codec, outputBytesMax, err);
    const detail = err instanceof Error ? err.message : String(err);
    throw new FrameDecodeError(`Cannot decompress ${codec} records: ${detail}`, { cause: err });
  }
}

function tooLarge(codec: CompressionName, max: number, cause?: unknown): FrameDecodeError {
  return new FrameDecodeError(
    `Cannot decompress ${codec} records: output exceeds the limit of ${max} bytes`,
    cause === undefined ? undefined : { cause },
  );
}
