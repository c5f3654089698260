/**
 * Interoperability with a real client: batches built by `buildBatch` (every codec, producer
 * fields, transactional, control and LogAppendTime batches) are read back by kafka-python
 * 2.0.2's DefaultRecordBatch, the reader its consumer uses, and must verify and decode to the
 * same records. Needs /usr/bin/python3 with Debian's python3-kafka, python3-snappy,
 * python3-lz4 and python3-zstandard; without them the test fails (it never passes silently).
 */
import { deepStrictEqual, fail, strictEqual } from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { CompressionName } from "./batch_header.ts";
import { encodeControlRecordKey, encodeEndTxnMarker } from "./control_record.ts";
import { buildBatch, type BuildBatchOptions, decodeBatch } from "./record_batch.ts";

const PYTHON = "/usr/bin/python3";
const APT_PACKAGES = "python3-kafka python3-snappy python3-lz4 python3-zstandard";
const T0 = 1_700_000_000_000;
const enc = new TextEncoder();

/** Reads each batch file named in argv with kafka-python and prints what it decoded. */
const READER = `
import base64, json, sys
from kafka.record.default_records import DefaultRecordBatch
from kafka.codec import has_snappy, has_lz4, has_zstd
assert has_snappy() and has_lz4() and has_zstd(), "kafka-python lacks a codec library"
b64 = lambda b: None if b is None else base64.b64encode(bytes(b)).decode()
out = []
for path in sys.argv[1:]:
    batch = DefaultRecordBatch(open(path, "rb").read())
    h = batch._header_data
    out.append({
        "crcValid": batch.validate_crc(),
        "compression": batch.compression_type,
        "isTransactional": bool(batch.is_transactional),
        "isControl": bool(batch.is_control_batch),
        "timestampType": batch.timestamp_type,
        "producerId": str(h[9]), "producerEpoch": h[10], "baseSequence": h[11],
        "records": [
            {"offset": r.offset, "timestampMs": r.timestamp, "key": b64(r.key),
             "value": b64(r.value), "headers": [[k, b64(v)] for k, v in r.headers]}
            for r in batch
        ],
    })
print(json.dumps(out))
`;

/** One batch as the READER script prints it. */
interface PythonBatch {
  crcValid: boolean;
  compression: number;
  isTransactional: boolean;
  isControl: boolean;
  timestampType: number;
  producerId: string;
  producerEpoch: number;
  baseSequence: number;
  records: Array<{
    offset: number;
    timestampMs: number;
    key: string | null;
    value: string | null;
    headers: Array<[string, string | null]>;
  }>;
}

const b64 = (b: Uint8Array | null | undefined) =>
  b === null || b === undefined ? null : Buffer.from(b).toString("base64");

function cases(): Array<[string, BuildBatchOptions]> {
  const records = Array.from({ length: 30 }, (_, i) => ({
    key: i % 5 === 0 ? null : enc.encode(`k${i}`),
    value: i % 6 === 1 ? null : enc.encode(`interop value ${i} `.repeat(1 + (i % 4))),
    headers: i % 2 === 0
      ? []
      : [{ key: "hé", value: enc.encode(`${i}`) }, { key: "n", value: null }],
    timestampMs: T0 + i * 10,
  }));
  const codecs: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
  return [
    ...codecs.map((
      c,
    ): [string, BuildBatchOptions] => [c, { records, compression: c, baseOffset: 100 }]),
    ["transactional", {
      records,
      compression: "zstd",
      producerId: 987654321n,
      producerEpoch: 3,
      baseSequence: 17,
      isTransactional: true,
    }],
    ["control", {
      records: [{
        key: encodeControlRecordKey("commit"),
        value: encodeEndTxnMarker(5),
        timestampMs: T0,
      }],
      producerId: 1n,
      producerEpoch: 0,
      isTransactional: true,
      isControl: true,
    }],
    ["log append time", { records, compression: "lz4", logAppendTimeMs: T0 + 99_999 }],
  ];
}

Deno.test("kafka-python reads batches built by buildBatch", async () => {
  let available = false;
  try {
    available = Deno.statSync(PYTHON).isFile;
  } catch (err: unknown) {
    // Only "not found" means absent; anything else is a real failure.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  if (!available) fail(`${PYTHON} is missing: install it with apt-get install -y ${APT_PACKAGES}`);

  const dir = await Deno.makeTempDir({ prefix: "pyralog_interop_" });
  try {
    const all = cases();
    const paths = all.map(([name, opts], i) => {
      const path = `${dir}/${i}.bin`;
      Deno.writeFileSync(path, buildBatch(opts));
      return [name, path, opts] as const;
    });
    const run = await new Deno.Command(PYTHON, {
      args: ["-c", READER, ...paths.map(([, p]) => p)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!run.success) {
      fail(
        `kafka-python could not read our batches (needs apt-get install -y ${APT_PACKAGES}):\n` +
          new TextDecoder().decode(run.stderr),
      );
    }
    const got: PythonBatch[] = JSON.parse(new TextDecoder().decode(run.stdout));
    paths.forEach(([name, path, opts], i) => {
      const ours = decodeBatch(Deno.readFileSync(path));
      const theirs = got[i];
      if (theirs === undefined) return fail(`${name}: kafka-python printed no batch`);
      strictEqual(theirs.crcValid, true, `${name}: CRC`);
      strictEqual(
        theirs.compression,
        ["none", "gzip", "snappy", "lz4", "zstd"].indexOf(ours.compression),
      );
      strictEqual(theirs.isTransactional, opts.isTransactional === true, `${name}: transactional`);
      strictEqual(theirs.isControl, opts.isControl === true, `${name}: control`);
      strictEqual(theirs.timestampType, opts.logAppendTimeMs === undefined ? 0 : 1, name);
      strictEqual(theirs.producerId, String(opts.producerId ?? -1n), name);
      strictEqual(theirs.producerEpoch, opts.producerEpoch ?? -1, name);
      strictEqual(theirs.baseSequence, opts.baseSequence ?? -1, name);
      deepStrictEqual(
        theirs.records,
        ours.records.map((r) => ({
          offset: r.offset,
          timestampMs: r.timestampMs,
          key: b64(r.key),
          value: b64(r.value),
          headers: r.headers.map((h) => [h.key, b64(h.value)]),
        })),
        name,
      );
      // And what we decoded is what we were asked to write.
      deepStrictEqual(ours.records.map((r) => b64(r.value)), opts.records.map((r) => b64(r.value)));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
