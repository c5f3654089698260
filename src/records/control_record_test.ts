import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { FrameDecodeError } from "../util/mod.ts";
import { ATTR } from "./batch_header.ts";
import {
  buildEndTxnMarkerBatch,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  encodeControlRecordKey,
  encodeEndTxnMarker,
} from "./control_record.ts";
import { buildBatch, decodeBatch } from "./record_batch.ts";

Deno.test("control record keys encode version int16 then type int16 (abort=0, commit=1)", () => {
  deepStrictEqual(Array.from(encodeControlRecordKey("abort")), [0, 0, 0, 0]);
  deepStrictEqual(Array.from(encodeControlRecordKey("commit")), [0, 0, 0, 1]);
  deepStrictEqual(decodeControlRecordKey(encodeControlRecordKey("commit")), {
    version: 0,
    typeId: 1,
    type: "commit",
  });
  strictEqual(decodeControlRecordKey(new Uint8Array([0, 1, 0, 7, 9])).type, "unknown");
  throws(() => decodeControlRecordKey(null), FrameDecodeError);
  throws(() => decodeControlRecordKey(new Uint8Array(3)), FrameDecodeError);
});

Deno.test("end transaction markers encode version int16 then coordinatorEpoch int32", () => {
  deepStrictEqual(Array.from(encodeEndTxnMarker(258)), [0, 0, 0, 0, 1, 2]);
  deepStrictEqual(decodeEndTxnMarker(encodeEndTxnMarker(77)), { version: 0, coordinatorEpoch: 77 });
  throws(() => decodeEndTxnMarker(new Uint8Array(5)), FrameDecodeError);
});

for (const type of ["abort", "commit"] as const) {
  Deno.test(`buildEndTxnMarkerBatch writes a transactional control batch (${type})`, () => {
    const batch = buildEndTxnMarkerBatch({
      type,
      producerId: 4000n,
      producerEpoch: 3,
      coordinatorEpoch: 12,
      timestampMs: 1_700_000_000_000,
      baseOffset: 77,
    });
    const d = decodeBatch(batch);
    strictEqual(d.isControl, true);
    strictEqual(d.isTransactional, true);
    strictEqual(d.header.attributes, ATTR.control | ATTR.transactional);
    strictEqual(d.header.producerId, 4000n);
    strictEqual(d.header.producerEpoch, 3);
    strictEqual(d.records.length, 1);
    const r = d.records[0];
    strictEqual(r?.offset, 77);
    strictEqual(decodeControlRecordKey(r?.key ?? null).type, type);
    strictEqual(decodeEndTxnMarker(r?.value ?? null).coordinatorEpoch, 12);
  });
}

Deno.test("a compressed control batch round-trips its control flag", () => {
  const batch = buildBatch({
    records: [{ key: encodeControlRecordKey("abort"), value: encodeEndTxnMarker(0) }],
    isControl: true,
    isTransactional: true,
    producerId: 1n,
    producerEpoch: 0,
    compression: "gzip",
  });
  const d = decodeBatch(batch);
  strictEqual(d.isControl && d.isTransactional && d.compression === "gzip", true);
});
