import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { createPrng, FrameDecodeError } from "../util/mod.ts";
import type { CompressionName } from "./batch_header.ts";
import { compress, compressionId, compressionName, decompress } from "./compression.ts";
import { lz4Compress, lz4Decompress } from "./lz4.ts";
import { xxhash32 } from "./xxhash32.ts";
import { snappyCompress, snappyCompressXerial, snappyDecompress } from "./snappy.ts";

const CODECS: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const MIB = 1024 * 1024;

function inputs(): Array<[string, Uint8Array]> {
  const prng = createPrng(7);
  const random = Uint8Array.from({ length: 100_000 }, () => prng.nextU32() & 0xff);
  const text = new TextEncoder().encode(
    "the quick brown fox jumps over the lazy dog; ".repeat(5000),
  );
  const mixed = Uint8Array.from(
    { length: 300_000 },
    (_, i) => i % 1000 < 500 ? i % 7 : prng.int(0, 255),
  );
  return [
    ["empty", new Uint8Array(0)],
    ["one byte", new Uint8Array([42])],
    ["13 bytes", new Uint8Array(13).fill(9)],
    ["16 zeros", new Uint8Array(16)],
    ["random 100 KB", random],
    ["text 225 KB", text],
    ["zeros 1 MiB", new Uint8Array(MIB)],
    ["mixed 300 KB", mixed],
  ];
}

for (const codec of CODECS) {
  Deno.test(`compress/decompress round-trip with ${codec}`, () => {
    for (const [name, data] of inputs()) {
      const packed = compress(codec, data);
      deepStrictEqual(decompress(codec, packed), data, `${codec} ${name}`);
    }
  });
}

Deno.test("compressionName and compressionId map the attribute ids", () => {
  deepStrictEqual([0, 1, 2, 3, 4].map(compressionName), CODECS);
  deepStrictEqual(CODECS.map(compressionId), [0, 1, 2, 3, 4]);
  strictEqual(compressionName(5), undefined);
  strictEqual(compressionName(7), undefined);
});

Deno.test("decompress refuses output beyond the limit for every codec (zip bombs)", () => {
  const bomb = new Uint8Array(16 * MIB);
  for (const codec of CODECS) {
    const packed = compress(codec, bomb);
    if (codec !== "none") ok(packed.length < MIB, `${codec} compresses zeros`);
    throws(() => decompress(codec, packed, MIB), /exceeds the limit/, codec);
    strictEqual(decompress(codec, packed, 16 * MIB).length, 16 * MIB);
  }
});

Deno.test("snappy decompression accepts xerial framing and raw blocks alike", () => {
  const data = new TextEncoder().encode("xerial ".repeat(20_000)); // > 32 KiB: several chunks
  const xerial = snappyCompressXerial(data);
  deepStrictEqual(Array.from(xerial.subarray(0, 8)), [0x82, 83, 78, 65, 80, 80, 89, 0]);
  deepStrictEqual(snappyDecompress(xerial, MIB), data);
  const raw = snappyCompress(data);
  ok(raw[0] !== 0x82);
  deepStrictEqual(snappyDecompress(raw, MIB), data);
  deepStrictEqual(snappyDecompress(snappyCompressXerial(new Uint8Array(0)), 10), new Uint8Array(0));
});

Deno.test("snappy rejects preambles that lie about the length", () => {
  const raw = snappyCompress(new Uint8Array(100).fill(1));
  const longer = raw.slice();
  longer[0] = 101; // preamble says 101, elements produce 100
  throws(() => snappyDecompress(longer, MIB), /preamble said 101/);
  const shorter = raw.slice();
  shorter[0] = 99;
  throws(() => snappyDecompress(shorter, MIB), FrameDecodeError);
  // A preamble claiming more than the following bytes could expand to is refused up front.
  throws(() => snappyDecompress(new Uint8Array([0x80, 0x80, 0x10, 0, 1]), 64 * MIB), /cannot come/);
  // A preamble claiming 4 GiB is refused before any allocation.
  throws(() => snappyDecompress(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), MIB), /limit/);
});

Deno.test("lz4 frames carry the KIP-57 header checksum and reject corruption", () => {
  const frame = lz4Compress(new TextEncoder().encode("lz4 ".repeat(100)));
  deepStrictEqual(Array.from(frame.subarray(0, 4)), [0x04, 0x22, 0x4d, 0x18]);
  const badHc = frame.slice();
  badHc[6] = (badHc[6] as number) ^ 0xff;
  throws(() => lz4Decompress(badHc, MIB), /header checksum/);
  const noEnd = frame.subarray(0, frame.length - 4);
  throws(() => lz4Decompress(noEnd, MIB), /end mark/);
  throws(() => lz4Decompress(new Uint8Array([1, 2, 3]), MIB), FrameDecodeError);
  // A content size beyond the limit is refused before decoding; one that lies is caught after.
  const sized = new Uint8Array([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 4, 0, 0, 0, 0, 0]);
  sized[14] = (xxhash32(sized, 0, 4, 14) >>> 8) & 0xff;
  const frameWithSize = new Uint8Array([...sized, 0, 0, 0, 0]);
  throws(() => lz4Decompress(frameWithSize, MIB), /exceeds the limit/);
  throws(() => lz4Decompress(frameWithSize, 64 * MIB), /differs from the 0 bytes/);
});

Deno.test("decompress wraps codec library errors as FrameDecodeError", () => {
  for (const codec of ["gzip", "zstd", "snappy", "lz4"] as const) {
    throws(() => decompress(codec, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3])), FrameDecodeError);
  }
});
