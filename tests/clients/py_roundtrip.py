"""Produce then consume records with a Python Kafka client and print what was read as JSON.

Usage: py_roundtrip.py CLIENT BOOTSTRAP TOPIC CODEC COUNT [idempotent]
CLIENT is "confluent" (confluent-kafka, librdkafka) or "kafka-python" (kafka-python 2.0.2).
Records are key "k<i>", value "v<i>-<codec>" plus PAD (so that every codec shrinks the
batch: librdkafka sends a batch uncompressed when compressing does not pay) and one header ("h", "<i>"); the consumer reads
from the beginning until COUNT records arrived or a bounded time passed. Output: one JSON
object {"produced": N, "records": [[key, value, [[hk, hv]...], offset]...]} on stdout.
"""
import json
import sys
import time

DEADLINE_S = 30.0
PAD = "." * 100


def confluent(bootstrap, topic, codec, count, idempotent):
    from confluent_kafka import Consumer, Producer

    conf = {"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 5}
    if idempotent:
        conf["enable.idempotence"] = True
    p = Producer(conf)
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    for i in range(count):
        p.produce(topic, key=f"k{i}", value=f"v{i}-{codec}{PAD}", headers=[("h", str(i))],
                  on_delivery=on_delivery)
    left = p.flush(DEADLINE_S)
    if left or errors:
        raise SystemExit(f"produce failed: {left} undelivered, errors {errors[:3]}")
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{topic}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "api.version.request": True})
    from confluent_kafka import TopicPartition
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    end = time.time() + DEADLINE_S
    while len(out) < count and time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise SystemExit(f"consume failed: {m.error()}")
        hs = [[k, v.decode()] for k, v in (m.headers() or [])]
        out.append([m.key().decode(), m.value().decode(), hs, m.offset()])
    c.close()
    return out


def kafka_python(bootstrap, topic, codec, count, _idempotent):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    p = KafkaProducer(bootstrap_servers=bootstrap,
                      compression_type=None if codec == "none" else codec, linger_ms=5)
    futures = [p.send(topic, key=f"k{i}".encode(), value=f"v{i}-{codec}{PAD}".encode(),
                      headers=[("h", str(i).encode())]) for i in range(count)]
    for f in futures:
        f.get(timeout=DEADLINE_S)
    p.close()
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      auto_offset_reset="earliest", consumer_timeout_ms=int(DEADLINE_S * 1000))
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek(tp, 0)
    out = []
    end = time.time() + DEADLINE_S
    while len(out) < count and time.time() < end:
        for batch in c.poll(timeout_ms=500).values():
            for m in batch:
                hs = [[k, v.decode()] for k, v in (m.headers or [])]
                out.append([m.key.decode(), m.value.decode(), hs, m.offset])
    c.close()
    return out


def main():
    client, bootstrap, topic, codec, count = sys.argv[1:6]
    idempotent = len(sys.argv) > 6 and sys.argv[6] == "idempotent"
    run = confluent if client == "confluent" else kafka_python
    records = run(bootstrap, topic, codec, int(count), idempotent)
    print(json.dumps({"produced": int(count), "records": records}))


if __name__ == "__main__":
    main()
