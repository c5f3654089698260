#!/usr/bin/python3
"""Writes RecordBatch v2 fixtures produced by a real Kafka client, kafka-python 2.0.2.

kafka-python's DefaultRecordBatchBuilder is the code its producer uses to build the batches
it sends in Produce requests; it needs no broker. For every fixture this script writes
tests/fixtures/records/<name>.bin (the batch bytes exactly as the client built them) and one
expected.json listing the records each batch must decode to. It also writes two bare codec
frames (python-lz4 with linked blocks and checksums, python-snappy raw) of a generated text.

Run from the repository root (Debian bookworm packages):
    apt-get install -y python3-kafka python3-snappy python3-lz4 python3-zstandard
    /usr/bin/python3 scripts/capture_record_fixtures.py

gzip output embeds the current time, so a re-run gives different but equivalent bytes.
"""

import base64
import json
import os

import lz4.frame
import snappy
import kafka
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

OUT = os.path.join("tests", "fixtures", "records")
T0 = 1_700_000_000_000
CODEC_PLAIN_COUNT = 5000
BIG_COUNT = 800
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def b64(b):
    return None if b is None else base64.b64encode(bytes(b)).decode("ascii")


def sample_records(n):
    """Compressible records (kafka-python sends a batch uncompressed if it does not shrink)
    with null keys, null values, empty values, unicode header keys and null header values."""
    records = []
    for i in range(n):
        key = None if i % 4 == 0 else ("key-%d" % i).encode()
        if i % 7 == 3:
            value = None
        elif i % 11 == 5:
            value = b""
        else:
            value = ("value %d " % i).encode() * (1 + i % 5)
        headers = [] if i % 3 == 0 else [("trace-\u00fc", ("h%d" % i).encode()), ("empty", None)]
        records.append((i, T0 + i * 3 - (0 if i % 2 == 0 else 1000), key, value, headers))
    return records


def build(name, codec, records, transactional=False, producer_id=-1, producer_epoch=-1,
          base_sequence=-1, pattern=None):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=CODECS[codec], is_transactional=transactional,
        producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence,
        batch_size=16 * 1024 * 1024)
    for offset, ts, key, value, headers in records:
        assert builder.append(offset, timestamp=ts, key=key, value=value, headers=headers)
    data = bytes(builder.build())
    # Check with kafka-python's own reader that the batch is what we claim.
    batch = DefaultRecordBatch(bytearray(data))
    assert batch.validate_crc()
    assert batch.compression_type == CODECS[codec], (name, batch.compression_type)
    decoded = list(batch)
    assert len(decoded) == len(records)
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(data)
    return {
        "file": name + ".bin",
        "source": "kafka-python %s DefaultRecordBatchBuilder" % kafka.__version__,
        "compression": codec,
        "isTransactional": transactional,
        "producerId": str(producer_id),
        "producerEpoch": producer_epoch,
        "baseSequence": base_sequence,
        "baseOffset": 0,
        # Large fixtures name the pattern that generates their records instead of listing them.
        "recordsPattern": pattern,
        "records": None if pattern is not None else [
            {
                "offset": offset,
                "timestampMs": ts,
                "key": b64(key),
                "value": b64(value),
                "headers": [[k, b64(v)] for k, v in headers],
            }
            for offset, ts, key, value, headers in records
        ],
    }


def codec_frames():
    """Bare codec frames from the C libraries behind python-lz4 and python-snappy."""
    # ~110 KB: more than one 64 KiB block. The test regenerates it from this same pattern.
    plain = b"".join(b"frame payload %06d; " % i for i in range(CODEC_PLAIN_COUNT))
    # Linked 64 KiB blocks, block and content checksums, content size: every optional part.
    compressor = lz4.frame.LZ4FrameCompressor(
        block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=True, content_checksum=True,
        block_checksum=True)
    frame = compressor.begin(len(plain)) + compressor.compress(plain) + compressor.flush()
    assert lz4.frame.decompress(frame) == plain
    with open(os.path.join(OUT, "codec_lz4_linked_checksums.lz4"), "wb") as f:
        f.write(frame)
    raw = snappy.compress(plain)
    assert snappy.uncompress(raw) == plain
    with open(os.path.join(OUT, "codec_snappy_raw.snappy"), "wb") as f:
        f.write(raw)


def main():
    os.makedirs(OUT, exist_ok=True)
    fixtures = []
    for codec in CODECS:
        fixtures.append(build("kafka_python_%s" % codec, codec, sample_records(60)))
    fixtures.append(build(
        "kafka_python_transactional_lz4", "lz4", sample_records(10), transactional=True,
        producer_id=123456789012, producer_epoch=7, base_sequence=42))
    fixtures.append(build(
        "kafka_python_idempotent_none", "none", sample_records(3), producer_id=5000,
        producer_epoch=0, base_sequence=0))
    # Large enough for several xerial snappy chunks (32 KiB) and several lz4 blocks (64 KiB).
    big = [(i, T0 + i, None, b"big record %d " % i * 20, []) for i in range(BIG_COUNT)]
    pattern = {"count": BIG_COUNT, "timestampBaseMs": T0, "value": "big record {i} ", "repeat": 20}
    fixtures.append(build("kafka_python_big_snappy", "snappy", big, pattern=pattern))
    fixtures.append(build("kafka_python_big_lz4", "lz4", big, pattern=pattern))
    codec_frames()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"batches": fixtures}, f, indent=1)
        f.write("\n")
    print("wrote %d batch fixtures to %s" % (len(fixtures), OUT))


if __name__ == "__main__":
    main()
