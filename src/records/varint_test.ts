import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { FrameDecodeError } from "../util/mod.ts";
import {
  readVarint,
  readVarlong,
  unzigzag32,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
  zigzag32,
} from "./varint.ts";

const cursor = (bytes: Uint8Array) => ({ bytes, pos: 0, end: bytes.length });

Deno.test("zigzag32 maps 0,-1,1,-2 to 0,1,2,3 and back", () => {
  deepStrictEqual([0, -1, 1, -2, 2147483647, -2147483648].map(zigzag32), [
    0,
    1,
    2,
    3,
    4294967294,
    4294967295,
  ]);
  for (const n of [0, -1, 1, -2, 300, -300, 2147483647, -2147483648]) {
    strictEqual(unzigzag32(zigzag32(n)), n);
  }
});

Deno.test("writeVarint matches the protobuf encodings of known values", () => {
  const enc = (n: number) => {
    const b = new Uint8Array(5);
    return Array.from(b.subarray(0, writeVarint(b, 0, n)));
  };
  deepStrictEqual(enc(0), [0]);
  deepStrictEqual(enc(-1), [1]);
  deepStrictEqual(enc(1), [2]);
  deepStrictEqual(enc(63), [0x7e]);
  deepStrictEqual(enc(64), [0x80, 0x01]);
  deepStrictEqual(enc(-2147483648), [0xff, 0xff, 0xff, 0xff, 0x0f]);
});

Deno.test("varint and varlong round-trip and their sizes match what is written", () => {
  const values = [0, 1, -1, 63, -64, 64, 8191, 8192, -8193, 2 ** 20, 2 ** 31 - 1, -(2 ** 31)];
  for (const n of values) {
    const b = new Uint8Array(10);
    const end = writeVarint(b, 0, n);
    strictEqual(end, varintSize(n), `size of ${n}`);
    const c = cursor(b.subarray(0, end));
    strictEqual(readVarint(c), n);
    strictEqual(c.pos, end);
  }
  const longs = [...values, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 45), 1_700_000_000_000];
  longs.push(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
  for (const n of longs) {
    const b = new Uint8Array(10);
    const end = writeVarlong(b, 0, n);
    strictEqual(end, varlongSize(n), `size of ${n}`);
    strictEqual(readVarlong(cursor(b.subarray(0, end))), n);
  }
});

Deno.test("readVarint and readVarlong reject truncated, overlong and oversized input", () => {
  throws(() => readVarint(cursor(new Uint8Array([0x80]))), FrameDecodeError);
  throws(
    () => readVarint(cursor(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]))),
    FrameDecodeError,
  );
  throws(() => readVarint(cursor(new Uint8Array(6).fill(0x80))), FrameDecodeError);
  throws(() => readVarlong(cursor(new Uint8Array([0x80, 0x80]))), FrameDecodeError);
  throws(() => readVarlong(cursor(new Uint8Array(11).fill(0x80))), FrameDecodeError);
  // 2^60 zigzagged: beyond the safe integer range.
  const big = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
  throws(() => readVarlong(cursor(big)), FrameDecodeError);
  // A cursor never reads past `end` even when bytes follow.
  throws(
    () => readVarint({ bytes: new Uint8Array([0x80, 0x01]), pos: 0, end: 1 }),
    FrameDecodeError,
  );
});
