/**
 * Tests of the transport frame codec: round trips of each kind, and refusal of truncated,
 * padded, non-UTF-8 and lying input with `FrameDecodeError` only (a small seeded fuzz).
 */
import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { createPrng, FrameDecodeError, nodeId } from "../../util/mod.ts";
import {
  decodeFrame,
  encodeGroupId,
  encodeHeartbeats,
  encodeHello,
  encodeMessage,
  FrameKind,
  LENGTH_BYTES,
} from "./transport_frame.ts";

const enc = new TextEncoder();
const body = (frame: Uint8Array) => {
  const len = new DataView(frame.buffer).getInt32(0);
  strictEqual(len, frame.length - LENGTH_BYTES, "length counts kind + body");
  return frame.subarray(LENGTH_BYTES);
};

Deno.test("decodeFrame: round trips hello, message and heartbeats", () => {
  deepStrictEqual(decodeFrame(body(encodeHello(1, nodeId(7), "clusterÅ"))), {
    type: "hello",
    protocolVersion: 1,
    nodeId: nodeId(7),
    clusterId: "clusterÅ",
  });
  const gid = encodeGroupId("orders-3");
  ok(gid !== null);
  const m = decodeFrame(body(encodeMessage(gid, enc.encode("payload"))));
  deepStrictEqual(m, { type: "message", groupId: "orders-3", payload: enc.encode("payload") });
  const beats = [
    { groupId: enc.encode("a-0"), payload: enc.encode("x") },
    { groupId: enc.encode("b-1"), payload: new Uint8Array(0) },
  ];
  const h = encodeHeartbeats(beats);
  strictEqual(h[LENGTH_BYTES], FrameKind.heartbeats);
  deepStrictEqual(decodeFrame(body(h)), {
    type: "heartbeats",
    beats: [
      { groupId: "a-0", payload: enc.encode("x") },
      { groupId: "b-1", payload: new Uint8Array(0) },
    ],
  });
  strictEqual(encodeGroupId("g".repeat(1025)), null);
});

Deno.test("decodeFrame: refuses malformed input with FrameDecodeError", () => {
  const hello = body(encodeHello(1, nodeId(1), "c"));
  throws(() => decodeFrame(hello.subarray(0, hello.length - 1)), FrameDecodeError);
  throws(() => decodeFrame(new Uint8Array([...hello, 0])), FrameDecodeError);
  throws(
    () => decodeFrame(new Uint8Array([FrameKind.message, 0, 2, 0xff, 0xfe])),
    FrameDecodeError,
  );
  throws(
    () => decodeFrame(new Uint8Array([FrameKind.heartbeats, 0x7f, 0, 0, 0])),
    FrameDecodeError,
  );
  throws(
    () => decodeFrame(new Uint8Array([FrameKind.heartbeats, 0xff, 0, 0, 0])),
    FrameDecodeError,
  );
  throws(() => decodeFrame(new Uint8Array([42])), FrameDecodeError);
  throws(
    () => decodeFrame(new Uint8Array([FrameKind.hello, 0, 1, 0x80, 0, 0, 0, 0, 0])),
    FrameDecodeError,
  );
});

Deno.test("decodeFrame: random mutations fail only with FrameDecodeError", () => {
  const prng = createPrng(1234);
  const gid = encodeGroupId("t-1");
  ok(gid !== null);
  const seeds = [
    body(encodeHello(1, nodeId(3), "cluster")),
    body(encodeMessage(gid, enc.encode("hello world"))),
    body(
      encodeHeartbeats([{ groupId: gid, payload: enc.encode("hb") }, {
        groupId: gid,
        payload: enc.encode("x"),
      }]),
    ),
  ];
  for (let i = 0; i < 3000; i++) {
    const src = seeds[i % seeds.length];
    ok(src !== undefined);
    const b = src.slice(0, prng.int(1, src.length));
    for (let k = prng.int(0, 3); k > 0; k--) b[prng.int(0, b.length - 1)] = prng.int(0, 255);
    try {
      decodeFrame(b);
    } catch (err) {
      ok(err instanceof FrameDecodeError, `unexpected ${err}`);
    }
  }
});
