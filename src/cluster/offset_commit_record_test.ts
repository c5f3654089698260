/**
 * Offset records of `__consumer_offsets`: round trips, byte layouts as Kafka's
 * OffsetCommitKey/OffsetCommitValue define them, older value versions, and malformed input
 * that decodes to null instead of throwing.
 */
import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
} from "./offset_commit_record.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

Deno.test("encodeOffsetKey writes key version 1: group, topic, partition", () => {
  const key = encodeOffsetKey({ groupId: "g", topic: "t", partition: 7 });
  strictEqual(hex(key), "0001" + "000167" + "000174" + "00000007");
  deepStrictEqual(decodeOffsetKey(key), { groupId: "g", topic: "t", partition: 7 });
});

Deno.test("encodeOffsetValue writes value version 3: offset, epoch, metadata, timestamp", () => {
  const v = { offset: 42, leaderEpoch: 3, metadata: "m", commitTimestampMs: 1_700_000_000_000 };
  const bytesOut = encodeOffsetValue(v);
  strictEqual(
    hex(bytesOut),
    "0003" + "000000000000002a" + "00000003" + "00016d" + "0000018bcfe56800",
  );
  deepStrictEqual(decodeOffsetValue(bytesOut), v);
});

Deno.test("decodeOffsetValue reads versions 0 and 1 (no epoch; v1 has an expire time)", () => {
  const v0 = bytes("0000" + "0000000000000005" + "0000" + "0000000000000009");
  deepStrictEqual(decodeOffsetValue(v0), {
    offset: 5,
    leaderEpoch: -1,
    metadata: "",
    commitTimestampMs: 9,
  });
  const v1 = bytes("0001" + "0000000000000005" + "0000" + "0000000000000009" + "00000000000000ff");
  deepStrictEqual(decodeOffsetValue(v1)?.offset, 5);
  strictEqual(decodeOffsetValue(v1.subarray(0, v1.length - 1)), null, "v1 without expire time");
});

Deno.test("decodeOffsetKey skips group metadata records and malformed keys", () => {
  strictEqual(decodeOffsetKey(bytes("0002" + "000167")), null, "key v2 is group metadata");
  strictEqual(decodeOffsetKey(bytes("0001" + "0005" + "67")), null, "string runs past the end");
  strictEqual(decodeOffsetKey(bytes("0001" + "000167" + "000174" + "0000")), null, "short int32");
  strictEqual(decodeOffsetKey(bytes("00")), null);
  strictEqual(decodeOffsetKey(bytes("0001" + "0001ff" + "000174" + "00000000")), null, "not UTF-8");
});

Deno.test("decodeOffsetValue refuses unknown versions, truncation and unsafe integers", () => {
  strictEqual(decodeOffsetValue(bytes("0009")), null);
  strictEqual(decodeOffsetValue(bytes("0003" + "00000000")), null);
  const huge = bytes("0003" + "7fffffffffffffff" + "00000000" + "0000" + "0000000000000000");
  strictEqual(decodeOffsetValue(huge), null);
});

Deno.test("encodeOffsetValue refuses metadata longer than a Kafka string", () => {
  throws(
    () =>
      encodeOffsetValue({
        offset: 0,
        leaderEpoch: -1,
        metadata: "x".repeat(40_000),
        commitTimestampMs: 0,
      }),
    RangeError,
  );
});
