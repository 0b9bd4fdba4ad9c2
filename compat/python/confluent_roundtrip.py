#!/usr/bin/python3
"""confluent-kafka (librdkafka) round trip against a Kafka-compatible broker.

AdminClient.create_topics, then metadata (list_topics), a Producer with
compression.type producing keyed records with headers and explicit
timestamps to chosen partitions, a Consumer reading them back by assign()
(no subscribe: librdkafka insists on a group.id even so), and the offsets:
get_watermark_offsets (earliest/latest) and offsets_for_times.

confluent-kafka 1.7 has no AdminClient.list_offsets (added in 2.3).

Usage: /usr/bin/python3 confluent_roundtrip.py BOOTSTRAP TOPIC CODEC [-n N]
Run it with Debian's /usr/bin/python3, where python3-confluent-kafka is.
"""

import time

from confluent_kafka import (
    OFFSET_BEGINNING,
    TIMESTAMP_CREATE_TIME,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

import common
from common import PARTITIONS, Mismatch, expect

TIMEOUT = 10.0


def run(args):
    errors = []

    def on_error(err):  # librdkafka's error events: any is a failure here
        errors.append(err)

    def check_errors(stage):
        if errors:
            raise Mismatch(f"librdkafka reported errors during {stage}: {errors}")

    base = {"bootstrap.servers": args.bootstrap, "error_cb": on_error}

    admin = AdminClient(dict(base))
    for topic, fut in admin.create_topics(
        [NewTopic(args.topic, num_partitions=PARTITIONS, replication_factor=1)],
        operation_timeout=TIMEOUT,
        request_timeout=TIMEOUT,
    ).items():
        fut.result()
    md = admin.list_topics(topic=args.topic, timeout=TIMEOUT)
    t = md.topics.get(args.topic)
    if t is None or t.error is not None:
        raise Mismatch(f"metadata for {args.topic}: {t and t.error}")
    expect("metadata partitions", sorted(t.partitions), list(range(PARTITIONS)))
    for p in t.partitions.values():
        if p.leader not in md.brokers:
            raise Mismatch(f"metadata: partition {p.id} leader {p.leader} is not a broker in {list(md.brokers)}")
    check_errors("create_topics and metadata")

    recs = common.records(args.n, args.codec)
    failed = []

    def delivered(err, msg):
        if err is not None:
            failed.append(err)

    producer = Producer(
        dict(base, **{"compression.type": args.codec, "acks": "all", "linger.ms": 5, "enable.idempotence": False})
    )
    for r in recs:
        producer.produce(
            args.topic,
            key=r.key,
            value=r.value,
            partition=r.partition,
            timestamp=r.timestamp,
            headers=r.headers,
            on_delivery=delivered,
        )
    left = producer.flush(TIMEOUT)
    if left or failed:
        raise Mismatch(f"produce: {left} records undelivered, errors {failed[:3]}")
    check_errors("produce")

    consumer = Consumer(
        dict(
            base,
            **{
                "group.id": "samsa-compat-unused",  # required by librdkafka; assign() joins no group
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "error",
                "fetch.wait.max.ms": 100,
            },
        )
    )
    want = common.by_partition(recs)
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    got = {p: [] for p in range(PARTITIONS)}
    at_end = set()
    deadline = time.monotonic() + TIMEOUT
    while len(at_end) < PARTITIONS:
        if time.monotonic() > deadline:
            raise Mismatch(f"consume: timed out; read {[len(v) for v in got.values()]} per partition")
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            raise KafkaException(msg.error())
        ts_type, ts = msg.timestamp()
        if ts_type != TIMESTAMP_CREATE_TIME:
            raise Mismatch(f"partition {msg.partition()} offset {msg.offset()}: timestamp type {ts_type}, want CreateTime")
        got[msg.partition()].append((msg.offset(), msg.key(), msg.value(), msg.headers() or [], ts))
    for p in range(PARTITIONS):
        common.check_partition(p, want[p], got[p])
    check_errors("consume")
    consumer.close()

    # A consumer with nothing assigned for the offset queries: on the one
    # that fetches they would wait behind its long-polling Fetch, since a
    # connection answers requests in order.
    offsets = Consumer(dict(base, **{"group.id": "samsa-compat-unused"}))
    for p in range(PARTITIONS):
        lo, hi = offsets.get_watermark_offsets(TopicPartition(args.topic, p), timeout=TIMEOUT)
        expect(f"partition {p} earliest/latest (get_watermark_offsets)", (lo, hi), (0, len(want[p])))
        # One query a call: a ListOffsets request names each partition once.
        for ts, off, what in common.time_queries(want[p]):
            (tp,) = offsets.offsets_for_times([TopicPartition(args.topic, p, ts)], timeout=TIMEOUT)
            if tp.error is not None:
                raise KafkaException(tp.error)
            expect(f"partition {p} offsets_for_times for {what} ({ts})", tp.offset, -1 if off is None else off)
    check_errors("offsets")
    offsets.close()
    print(f"confluent-kafka roundtrip ({args.codec}): ok, {args.n} records in {PARTITIONS} partitions")


if __name__ == "__main__":
    a = common.parse_args("confluent-kafka")
    common.main("confluent-kafka", a.codec, lambda: run(a))
