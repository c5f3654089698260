"""Consume a topic as a member of a consumer group with a Python Kafka client, commit, print JSON.

Usage: py_group.py CLIENT BOOTSTRAP TOPIC GROUP COUNT
CLIENT is "confluent" (confluent-kafka, librdkafka), "confluent-pair" (two librdkafka
consumers of one group in this process, polled in turn) or "kafka-python" (kafka-python 2.0.2).
The consumer subscribes (group management: FindCoordinator, JoinGroup, SyncGroup, Heartbeat),
reads from the committed offset (or the beginning) until COUNT records arrived or a bounded
time passed, commits synchronously, reads its committed offsets back and leaves the group.
Output: one JSON object {"values": [...], "committed": {"<partition>": offset}} on stdout;
"confluent-pair" adds "assignments": [[partitions of member 1], [partitions of member 2]] as
they were once both members had partitions and every record was read.
"""
import json
import sys
import time

DEADLINE_S = 45.0


def confluent(bootstrap, topic, group, count):
    from confluent_kafka import Consumer, TopicPartition

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 10000, "heartbeat.interval.ms": 500})
    c.subscribe([topic])
    values = []
    end = time.time() + DEADLINE_S
    while len(values) < count and time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise SystemExit(f"consume failed: {m.error()}")
        values.append(m.value().decode())
    c.commit(asynchronous=False)
    parts = [TopicPartition(topic, tp.partition) for tp in c.assignment()]
    committed = {str(tp.partition): tp.offset for tp in c.committed(parts, timeout=10)}
    c.close()
    return values, committed


def confluent_pair(bootstrap, topic, group, count):
    from confluent_kafka import Consumer, TopicPartition

    def make():
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                      "auto.offset.reset": "earliest", "enable.auto.commit": False,
                      "session.timeout.ms": 10000, "heartbeat.interval.ms": 300})
        c.subscribe([topic])
        return c

    members = [make(), make()]
    values = []
    end = time.time() + DEADLINE_S
    # Both members must own partitions (one rebalance completed with two members) and every
    # record must have been read; each poll also serves that member's rebalance callbacks.
    while time.time() < end:
        for c in members:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                raise SystemExit(f"consume failed: {m.error()}")
            values.append(m.value().decode())
            c.commit(message=m, asynchronous=False)
        if len(values) >= count and all(c.assignment() for c in members):
            break
    assignments = [sorted(tp.partition for tp in c.assignment()) for c in members]
    parts = [TopicPartition(topic, p) for a in assignments for p in a]
    committed = {str(tp.partition): tp.offset for tp in members[0].committed(parts, timeout=10)}
    for c in members:
        c.close()
    return values, committed, assignments


def kafka_python(bootstrap, topic, group, count):
    from kafka import KafkaConsumer

    c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      session_timeout_ms=10000, heartbeat_interval_ms=500)
    values = []
    end = time.time() + DEADLINE_S
    while len(values) < count and time.time() < end:
        for records in c.poll(timeout_ms=500).values():
            values.extend(r.value.decode() for r in records)
    c.commit()
    committed = {str(tp.partition): c.committed(tp) for tp in c.assignment()}
    c.close()
    return values, committed


def main():
    client, bootstrap, topic, group, count = sys.argv[1:6]
    if client == "confluent-pair":
        values, committed, assignments = confluent_pair(bootstrap, topic, group, int(count))
        print(json.dumps({"values": values, "committed": committed, "assignments": assignments}))
        return
    run = confluent if client == "confluent" else kafka_python
    values, committed = run(bootstrap, topic, group, int(count))
    print(json.dumps({"values": values, "committed": committed}))


if __name__ == "__main__":
    main()
