/** Group metadata records: round trips, Kafka's byte layout, old versions, malformed input. */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  decodeGroupKey,
  decodeGroupValue,
  encodeGroupKey,
  encodeGroupValue,
  type GroupSnapshot,
} from "./group_metadata_record.ts";
import { decodeOffsetKey } from "./offset_commit_record.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

const SNAPSHOT: GroupSnapshot = {
  protocolType: "consumer",
  generationId: 4,
  protocolName: "range",
  leaderId: "m1",
  stateTimestampMs: 1_700_000_000_000,
  members: [{
    memberId: "m1",
    groupInstanceId: "i1",
    clientId: "c",
    clientHost: "/h",
    rebalanceTimeoutMs: 30_000,
    sessionTimeoutMs: 10_000,
    subscription: new Uint8Array([1, 2]),
    assignment: new Uint8Array([3]),
  }],
};

Deno.test("encodeGroupKey writes key version 2 and is not an offset key", () => {
  const key = encodeGroupKey("g");
  strictEqual(hex(key), "0002" + "000167");
  strictEqual(decodeGroupKey(key), "g");
  strictEqual(decodeOffsetKey(key), null);
  strictEqual(decodeGroupKey(bytes("0001000167000174" + "00000000")), null, "an offset key");
});

Deno.test("encodeGroupValue round-trips a snapshot (value v3), empty groups too", () => {
  deepStrictEqual(decodeGroupValue(encodeGroupValue(SNAPSHOT)), SNAPSHOT);
  const empty = { ...SNAPSHOT, protocolName: null, leaderId: null, members: [] };
  deepStrictEqual(decodeGroupValue(encodeGroupValue(empty)), empty);
  strictEqual(
    hex(encodeGroupValue(empty)).slice(0, 4 + 4 + 16 + 8 + 4 + 4),
    "0003" + "0008" + hex(new TextEncoder().encode("consumer")) + "00000004" + "ffff" + "ffff",
  );
});

Deno.test("decodeGroupValue reads v0 (no rebalance timeout, state time or instance id)", () => {
  const v0 = bytes(
    "0000" + "0008" + hex(new TextEncoder().encode("consumer")) + "00000001" + "0001" + "72" +
      "0002" + "6d31" + "00000001" + "0002" + "6d31" + "0001" + "63" + "0000" +
      "00002710" + "00000000" + "00000000",
  );
  deepStrictEqual(decodeGroupValue(v0), {
    protocolType: "consumer",
    generationId: 1,
    protocolName: "r",
    leaderId: "m1",
    stateTimestampMs: -1,
    members: [{
      memberId: "m1",
      groupInstanceId: null,
      clientId: "c",
      clientHost: "",
      rebalanceTimeoutMs: 10_000,
      sessionTimeoutMs: 10_000,
      subscription: new Uint8Array(0),
      assignment: new Uint8Array(0),
    }],
  });
});

Deno.test("decodeGroupValue refuses malformed values", () => {
  const good = encodeGroupValue(SNAPSHOT);
  for (let cut = 0; cut < good.length; cut++) {
    strictEqual(decodeGroupValue(good.subarray(0, cut)), null, `cut at ${cut}`);
  }
  strictEqual(decodeGroupValue(bytes("0009")), null);
  const huge = bytes(
    "0003" + "0000" + "00000001" + "ffff" + "ffff" + "0000000000000000" + "7fffffff",
  );
  strictEqual(decodeGroupValue(huge), null, "a member count past the bound");
});
