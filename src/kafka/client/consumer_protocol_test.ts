/** Tests of the consumer embedded protocol: round trips, newer versions, bad input. */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { FrameDecodeError } from "../../util/mod.ts";
import { ByteWriter } from "../protocol/mod.ts";
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from "./consumer_protocol.ts";

Deno.test("encodeSubscription round-trips topics and user data", () => {
  const bytes = encodeSubscription({ topics: ["a", "b"], userData: new Uint8Array([1, 2]) });
  const s = decodeSubscription(bytes);
  deepStrictEqual(s.topics, ["a", "b"]);
  deepStrictEqual(s.userData, new Uint8Array([1, 2]));
});

Deno.test("encodeSubscription writes the version 0 layout byte for byte", () => {
  const bytes = encodeSubscription({ topics: ["t"], userData: null });
  // int16 version 0, int32 count 1, int16 len 1, "t", int32 -1 (null user data)
  deepStrictEqual([...bytes], [0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]);
});

Deno.test("decodeSubscription reads the v0 prefix of a v1 subscription", () => {
  const w = new ByteWriter(64);
  w.int16(1);
  w.int32(1);
  w.string("orders");
  w.bytes(null);
  w.int32(1); // v1 owned partitions: one topic
  w.string("orders");
  w.int32(1);
  w.int32(0);
  deepStrictEqual(decodeSubscription(w.finish()).topics, ["orders"]);
});

Deno.test("encodeAssignment round-trips partitions sorted per topic", () => {
  const bytes = encodeAssignment({
    partitions: new Map([["b", [2, 0]], ["a", [1]]]),
    userData: null,
  });
  const a = decodeAssignment(bytes);
  deepStrictEqual([...a.partitions], [["a", [1]], ["b", [0, 2]]]);
  strictEqual(a.userData, null);
});

Deno.test("decodeAssignment of empty bytes is no partitions", () => {
  strictEqual(decodeAssignment(new Uint8Array(0)).partitions.size, 0);
});

Deno.test("decodeAssignment refuses a count larger than the bytes", () => {
  const w = new ByteWriter(16);
  w.int16(0);
  w.int32(1_000_000);
  throws(() => decodeAssignment(w.finish()), FrameDecodeError);
});

Deno.test("decodeSubscription refuses truncated input", () => {
  const bytes = encodeSubscription({ topics: ["orders"], userData: null });
  throws(() => decodeSubscription(bytes.subarray(0, 9)), FrameDecodeError);
});
