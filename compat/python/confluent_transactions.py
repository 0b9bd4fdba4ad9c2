#!/usr/bin/python3
"""confluent-kafka (librdkafka) transactions against a Kafka-compatible broker.

A transactional Producer (transactional.id: init_transactions,
begin_transaction, produce, commit_transaction / abort_transaction) commits
a transaction, aborts one, and commits another; then a read_committed
Consumer must see exactly the committed records, and a read_uncommitted one
every record (issue 6, acceptance 3).

Usage: /usr/bin/python3 confluent_transactions.py BOOTSTRAP TOPIC
"""

import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 10.0
PARTITIONS = 2
PER_TXN = 10


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def read_all(bootstrap, topic, isolation):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"py-txn-{isolation}",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "isolation.level": isolation})
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    got, eof = [], set()
    while len(eof) < PARTITIONS:
        m = c.poll(TIMEOUT)
        if m is None:
            fail(f"{isolation}: no message or EOF in {TIMEOUT}s (read {len(got)})")
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
                continue
            fail(f"{isolation}: {m.error()}")
        got.append(m.value().decode())
    c.close()
    return sorted(got)


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for _, fut in admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)],
                                      operation_timeout=TIMEOUT).items():
        fut.result()

    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "py-" + topic})
    p.init_transactions(TIMEOUT)
    committed, everything = [], []
    for name, commit in (("c1", True), ("a1", False), ("c2", True)):
        p.begin_transaction()
        for i in range(PER_TXN):
            v = f"{name}-{i}"
            p.produce(topic, value=v, partition=i % PARTITIONS)
            everything.append(v)
            if commit:
                committed.append(v)
        p.flush(TIMEOUT)
        if commit:
            p.commit_transaction(TIMEOUT)
        else:
            p.abort_transaction(TIMEOUT)
        print(f"{name}: {'committed' if commit else 'aborted'}")

    rc = read_all(bootstrap, topic, "read_committed")
    if rc != sorted(committed):
        fail(f"read_committed read {rc}, want {sorted(committed)}")
    ru = read_all(bootstrap, topic, "read_uncommitted")
    if ru != sorted(everything):
        fail(f"read_uncommitted read {len(ru)} records, want {len(everything)}")
    print(f"ok: read_committed {len(rc)} records, read_uncommitted {len(ru)}")


if __name__ == "__main__":
    main()
