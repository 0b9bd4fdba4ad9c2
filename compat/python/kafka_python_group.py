#!/usr/bin/python3
"""kafka-python consumer group member.

KafkaConsumer(group_id=GROUP, enable_auto_commit=False) subscribed to TOPIC:
for each poll(), print one line per record ("R<TAB>partition<TAB>offset<TAB>
key<TAB>value", see common.record_line), then commit() synchronously what
was consumed. Each assignment is printed too ("A<TAB>partitions"). Exits
after --count records, failing on any error.

compat/group_test.go runs it after the round trip.

Usage: /usr/bin/python3 kafka_python_group.py BOOTSTRAP TOPIC GROUP --count N
"""

import sys

from kafka import ConsumerRebalanceListener, KafkaConsumer

import common


class Printer(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        common.emit([common.assignment_line(tp.partition for tp in assigned)])


def run(args):
    if args.count is None:
        raise ValueError("kafka_python_group.py needs --count")
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        client_id="samsa-compat-kafka-python-group",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=args.session_timeout_ms,
        heartbeat_interval_ms=min(1000, args.session_timeout_ms // 3),
        fetch_max_wait_ms=100,
        request_timeout_ms=args.session_timeout_ms + 5000,  # must exceed the session timeout
    )
    consumer.subscribe([args.topic], listener=Printer())
    processed = 0
    while processed < args.count:
        polled = consumer.poll(timeout_ms=200, max_records=args.count - processed)
        lines = [common.record_line(tp.partition, m.offset, m.key, m.value) for tp, ms in polled.items() for m in ms]
        common.emit(lines)
        processed += len(lines)
        if lines:
            consumer.commit()
    consumer.close(autocommit=False)
    print(f"kafka-python group {args.group}: processed {processed} records", file=sys.stderr)


if __name__ == "__main__":
    a = common.parse_group_args("kafka-python")
    common.main("kafka-python", a.group, lambda: run(a), what="group")
