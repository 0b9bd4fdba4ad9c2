#!/usr/bin/python3
"""confluent-kafka (librdkafka) consumer group member.

Consumer.subscribe to TOPIC in GROUP, with autocommit off: for each batch
from consume(), print one line per record ("R<TAB>partition<TAB>offset<TAB>
key<TAB>value", see common.record_line), then commit the batch's offsets
synchronously (commit(offsets=..., asynchronous=False)). Each assignment
is printed too ("A<TAB>partitions"). With --count N it exits after N
records, failing on any error; without, it runs until SIGTERM, when it
closes the consumer (leaving the group), and only reports commit errors,
which rebalances cause.

compat/group_test.go runs it with --count after the round trip;
compat/group_churn_test.go runs four without, killing and restarting them.

Usage: /usr/bin/python3 confluent_group.py BOOTSTRAP TOPIC GROUP [--count N] [--session-timeout-ms MS]
"""

import signal
import sys

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

import common


def run(args):
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    def on_error(err):
        print(f"confluent-kafka group: error event: {err}", file=sys.stderr, flush=True)

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "client.id": "samsa-compat-confluent-group",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": args.session_timeout_ms,
            "heartbeat.interval.ms": min(1000, args.session_timeout_ms // 3),
            "max.poll.interval.ms": max(10000, args.session_timeout_ms),
            "fetch.wait.max.ms": 100,
            "error_cb": on_error,
        }
    )
    consumer.subscribe(
        [args.topic], on_assign=lambda c, tps: common.emit([common.assignment_line(tp.partition for tp in tps)])
    )
    processed = 0
    while not stopping and (args.count is None or processed < args.count):
        want = 500 if args.count is None else min(500, args.count - processed)
        lines, ends = [], {}
        for m in consumer.consume(num_messages=want, timeout=0.2):
            if m.error() is not None:
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(m.error())
            lines.append(common.record_line(m.partition(), m.offset(), m.key(), m.value()))
            ends[m.partition()] = m.offset() + 1
        common.emit(lines)
        processed += len(lines)
        if not ends:
            continue
        try:
            consumer.commit(offsets=[TopicPartition(args.topic, p, o) for p, o in ends.items()], asynchronous=False)
        except KafkaException as e:
            if args.count is not None:
                raise
            print(f"confluent-kafka group: commit failed: {e}", file=sys.stderr, flush=True)
    consumer.close()
    print(f"confluent-kafka group {args.group}: processed {processed} records", file=sys.stderr)


if __name__ == "__main__":
    a = common.parse_group_args("confluent-kafka")
    common.main("confluent-kafka", a.group, lambda: run(a), what="group")
