#!/usr/bin/python3
"""kafka-python round trip against a Kafka-compatible broker.

KafkaAdminClient.create_topics, then a KafkaProducer with compression_type
producing keyed records with headers and explicit timestamps to chosen
partitions, a KafkaConsumer reading them back by assign() (group_id=None: no
group, no coordinator), and the offsets: beginning_offsets, end_offsets,
offsets_for_times.

No api_version is given, as most users give none: kafka-python then guesses
the broker's version from its ApiVersions answer and picks request versions
and the record format from that guess. The guess is printed, and a guess
below 2.1 fails here: headers need 0.11 (record batch v2) and zstd needs 2.1.

Usage: /usr/bin/python3 kafka_python_roundtrip.py BOOTSTRAP TOPIC CODEC [-n N]
Run it with Debian's /usr/bin/python3, where python3-kafka is.
"""

import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

import common
from common import PARTITIONS, Mismatch, expect

TIMEOUT = 10.0
MIN_VERSION = (2, 1, 0)


def run(args):
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap, request_timeout_ms=int(TIMEOUT * 1000))
    guessed = admin.config["api_version"]
    print(f"kafka-python {__import__('kafka').__version__} guessed broker version {guessed} from ApiVersions")
    if tuple(guessed) < MIN_VERSION:
        raise Mismatch(
            f"kafka-python guessed broker version {guessed} from the ApiVersions answer; "
            f"{MIN_VERSION} or later is needed for record batch v2 (headers) and zstd"
        )
    res = admin.create_topics(
        [NewTopic(args.topic, num_partitions=PARTITIONS, replication_factor=1)], timeout_ms=int(TIMEOUT * 1000)
    )
    for topic, code, message in res.topic_errors:
        if code != 0:
            raise Mismatch(f"create_topics {topic}: error {code} {message}")
    admin.close()

    recs = common.records(args.n, args.codec)
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap,
        compression_type=None if args.codec == "none" else args.codec,
        acks="all",
        linger_ms=5,
        request_timeout_ms=int(TIMEOUT * 1000),
    )
    futures = [
        producer.send(
            args.topic,
            key=r.key,
            value=r.value,
            partition=r.partition,
            timestamp_ms=r.timestamp,
            headers=r.headers,
        )
        for r in recs
    ]
    producer.flush(timeout=TIMEOUT)
    for r, f in zip(recs, futures):
        md = f.get(timeout=TIMEOUT)
        expect(f"record {r.i} produced at", (md.partition, md.offset), (r.partition, r.offset))
    producer.close(timeout=TIMEOUT)

    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        request_timeout_ms=int(TIMEOUT * 1000) + 1000,  # must exceed the session timeout
    )
    tps = [TopicPartition(args.topic, p) for p in range(PARTITIONS)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    want = common.by_partition(recs)
    got = {p: [] for p in range(PARTITIONS)}
    deadline = time.monotonic() + TIMEOUT
    while sum(len(v) for v in got.values()) < args.n:
        if time.monotonic() > deadline:
            raise Mismatch(f"consume: timed out; read {[len(v) for v in got.values()]} per partition")
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                if m.timestamp_type != 0:
                    raise Mismatch(f"partition {tp.partition} offset {m.offset}: timestamp type {m.timestamp_type}, want 0 (CreateTime)")
                got[tp.partition].append((m.offset, m.key, m.value, m.headers, m.timestamp))
    for p in range(PARTITIONS):
        common.check_partition(p, want[p], got[p])

    begin = consumer.beginning_offsets(tps)
    end = consumer.end_offsets(tps)
    for tp in tps:
        expect(f"partition {tp.partition} beginning_offsets", begin[tp], 0)
        expect(f"partition {tp.partition} end_offsets", end[tp], len(want[tp.partition]))
        for ts, off, what in common.time_queries(want[tp.partition]):
            found = consumer.offsets_for_times({tp: ts})[tp]
            got_off = None if found is None else found.offset
            expect(f"partition {tp.partition} offsets_for_times for {what} ({ts})", got_off, off)
            if found is not None:
                w = want[tp.partition][off]
                expect(f"partition {tp.partition} offsets_for_times for {what}: timestamp", found.timestamp, w.timestamp)
    consumer.close()
    print(f"kafka-python roundtrip ({args.codec}): ok, {args.n} records in {PARTITIONS} partitions")


if __name__ == "__main__":
    a = common.parse_args("kafka-python")
    common.main("kafka-python", a.codec, lambda: run(a))
