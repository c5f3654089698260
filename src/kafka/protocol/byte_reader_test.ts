/**
 * ByteReader and ByteWriter: every primitive round-trips, and every length field
 * (array, compact array, string, compact string, bytes, compact bytes, varints) that
 * claims more than the frame holds fails with FrameDecodeError before anything is
 * allocated from it.
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { FrameDecodeError } from "../../util/mod.ts";
import { ByteReader } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";

Deno.test("ByteWriter/ByteReader round-trip every primitive", () => {
  const w = new ByteWriter(16);
  w.bool(true);
  w.int8(-5);
  w.int16(-300);
  w.uint16(65000);
  w.int32(-70000);
  w.uint32(4_000_000_000);
  w.int64(-(2n ** 62n));
  w.float64(1.25);
  w.uvarint(0xffffffff);
  w.varint(-2147483648);
  w.varlong(-(2n ** 63n));
  w.uuid("00112233-4455-6677-8899-aabbccddeeff");
  w.string("héllo");
  w.string(null);
  w.compactString("x".repeat(200));
  w.compactString(null);
  w.bytes(new Uint8Array([1, 2]));
  w.bytes(null);
  w.compactBytes(new Uint8Array([3]));
  w.compactBytes(null);
  const r = new ByteReader(w.finish());
  equal(r.bool(), true);
  equal(r.int8(), -5);
  equal(r.int16(), -300);
  equal(r.uint16(), 65000);
  equal(r.int32(), -70000);
  equal(r.uint32(), 4_000_000_000);
  equal(r.int64(), -(2n ** 62n));
  equal(r.float64(), 1.25);
  equal(r.uvarint(), 0xffffffff);
  equal(r.varint(), -2147483648);
  equal(r.varlong(), -(2n ** 63n));
  equal(r.uuid(), "00112233445566778899aabbccddeeff");
  equal(r.string(false), "héllo");
  equal(r.string(true), null);
  equal(r.compactString(false), "x".repeat(200));
  equal(r.compactString(true), null);
  deepStrictEqual(r.bytes(false), new Uint8Array([1, 2]));
  equal(r.bytes(true), null);
  deepStrictEqual(r.compactBytes(false), new Uint8Array([3]));
  equal(r.compactBytes(true), null);
  equal(r.remaining, 0);
});

Deno.test("ByteWriter.uvarint encodes per the protocol guide's examples", () => {
  const w = new ByteWriter();
  w.uvarint(0);
  w.uvarint(127);
  w.uvarint(128);
  w.uvarint(300);
  deepStrictEqual([...w.finish()], [0, 0x7f, 0x80, 0x01, 0xac, 0x02]);
  const z = new ByteWriter();
  z.varint(-1);
  z.varint(1);
  z.varint(-64);
  deepStrictEqual([...z.finish()], [1, 2, 0x7f]); // zig-zag
});

/** Bytes of a frame starting with `head` and then `pad` zero bytes. */
function frame(head: number[], pad = 8): Uint8Array {
  return new Uint8Array([...head, ...new Array<number>(pad).fill(0)]);
}

Deno.test("ByteReader refuses lengths larger than the frame before allocating", () => {
  const cases: [string, Uint8Array, (r: ByteReader) => unknown][] = [
    ["array int32 max", frame([0x7f, 0xff, 0xff, 0xff]), (r) => r.arrayLength(false, 1)],
    ["array of 8-byte elements", frame([0, 0, 0, 2], 8), (r) => r.arrayLength(false, 8)],
    ["array -2", frame([0xff, 0xff, 0xff, 0xfe]), (r) => r.arrayLength(true, 1)],
    ["array null not allowed", frame([0xff, 0xff, 0xff, 0xff]), (r) => r.arrayLength(false, 1)],
    [
      "compact array max",
      frame([0xff, 0xff, 0xff, 0xff, 0x0f]),
      (r) => r.compactArrayLength(false, 1),
    ],
    ["compact array null", frame([0]), (r) => r.compactArrayLength(false, 1)],
    ["string", frame([0x7f, 0xff]), (r) => r.string(false)],
    ["string -2", frame([0xff, 0xfe]), (r) => r.string(true)],
    ["compact string", frame([0xff, 0xff, 0xff, 0xff, 0x0f]), (r) => r.compactString(false)],
    ["bytes", frame([0x7f, 0xff, 0xff, 0xff]), (r) => r.bytes(false)],
    ["bytes -7", frame([0xff, 0xff, 0xff, 0xf9]), (r) => r.bytes(true)],
    ["compact bytes", frame([0x80, 0x80, 0x80, 0x80, 0x08]), (r) => r.compactBytes(true)],
    ["uvarint over 32 bits", frame([0xff, 0xff, 0xff, 0xff, 0x1f]), (r) => r.uvarint()],
    ["uvarint unterminated", new Uint8Array([0x80, 0x80]), (r) => r.uvarint()],
    ["varlong too long", new Uint8Array(11).fill(0x80), (r) => r.varlong()],
    ["int64 short", new Uint8Array(7), (r) => r.int64()],
    ["uuid short", new Uint8Array(15), (r) => r.uuid()],
    ["within beyond end", frame([], 3), (r) => r.within(4, "x", () => 0)],
  ];
  for (const [name, bytes, read] of cases) {
    throws(() => read(new ByteReader(bytes)), FrameDecodeError, name);
  }
});

Deno.test("ByteReader.within narrows the limit and skips to the end", () => {
  const r = new ByteReader(new Uint8Array([0, 0, 0, 1, 9, 9, 5]));
  const v = r.within(6, "tagged", (sub) => {
    const x = sub.int32();
    throws(() => sub.int32(), FrameDecodeError); // only 2 bytes left inside
    return x;
  });
  equal(v, 1);
  equal(r.int8(), 5);
});

Deno.test("ByteWriter references large payloads and patches the size across growth", () => {
  const w = new ByteWriter(16, 8);
  w.int32(0);
  const big = new Uint8Array(8).fill(1);
  w.raw(big); // referenced
  w.raw(new Uint8Array(100).fill(2)); // copied; grows the buffer past the first segment
  w.patchInt32(0, w.length - 4);
  const chunks = w.finishChunks();
  equal(chunks[1], big);
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.length;
  }
  equal(new DataView(joined.buffer).getInt32(0), 108);
  equal(joined.length, 112);
  equal(joined[4], 1);
  equal(joined[12], 2);
});
