"""What the Python round trips produce and expect, shared by both clients.

The same records as every other client in compat/: N keyed records over the
topic's 2 partitions (record i goes to partition i % 2), each with two headers
and an explicit CreateTime timestamp (base + i, base a minute ago), so that
order, keys, values, headers and timestamps can be checked exactly.
"""

import argparse
import sys
import time
import traceback

PARTITIONS = 2
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


class Mismatch(Exception):
    """A difference between what the broker returned and what was sent."""


def parse_args(client):
    p = argparse.ArgumentParser(description=f"{client} round trip against a Kafka-compatible broker")
    p.add_argument("bootstrap", help="host:port")
    p.add_argument("topic", help="topic to create; must not exist")
    p.add_argument("codec", choices=CODECS)
    p.add_argument("-n", type=int, default=50, help="records in all (default 50)")
    a = p.parse_args()
    if a.n % PARTITIONS:
        p.error(f"-n must be a multiple of {PARTITIONS}")
    return a


class Record:
    def __init__(self, i, codec, base_ms):
        self.i = i
        self.partition = i % PARTITIONS
        self.offset = i // PARTITIONS
        self.key = b"key-%04d" % i
        self.value = b"value-%04d-%s-%s" % (i, codec.encode(), b"abcdefgh" * 8)
        self.headers = [("h-index", str(i).encode()), ("h-codec", codec.encode())]
        self.timestamp = base_ms + i


def records(n, codec):
    base_ms = int(time.time() * 1000) - 60_000
    return [Record(i, codec, base_ms) for i in range(n)]


def by_partition(recs):
    out = {p: [] for p in range(PARTITIONS)}
    for r in recs:
        out[r.partition].append(r)
    return out


def check_partition(p, want, got):
    """want: [Record]; got: [(offset, key, value, headers, timestamp)] in read order."""
    if len(got) != len(want):
        raise Mismatch(f"partition {p}: read {len(got)} records, want {len(want)}")
    for w, (offset, key, value, headers, ts) in zip(want, got):
        where = f"partition {p} offset {offset} (record {w.i})"
        if offset != w.offset:
            raise Mismatch(f"{where}: offset, want {w.offset}")
        if key != w.key:
            raise Mismatch(f"{where}: key {key!r}, want {w.key!r}")
        if value != w.value:
            raise Mismatch(f"{where}: value {value!r}, want {w.value!r}")
        if list(headers) != w.headers:
            raise Mismatch(f"{where}: headers {headers!r}, want {w.headers!r}")
        if ts != w.timestamp:
            raise Mismatch(f"{where}: timestamp {ts}, want {w.timestamp}")


def expect(what, got, want):
    if got != want:
        raise Mismatch(f"{what}: got {got!r}, want {want!r}")


def main(client, codec, run, what="roundtrip"):
    try:
        run()
    except Mismatch as e:
        print(f"{client} {what} ({codec}): MISMATCH: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # the client's own errors: say which client and codec
        traceback.print_exc()
        print(f"{client} {what} ({codec}): ERROR: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


def time_queries(want):
    """(timestamp, expected offset or None, what) for one partition's records:
    Kafka answers the first offset whose timestamp is >= the one asked, and
    none (offset -1 on the wire) when every record is older."""
    mid = want[len(want) // 2]
    last = want[-1]
    return [
        (0, 0, "timestamp 0"),
        (mid.timestamp, mid.offset, f"offset {mid.offset}'s timestamp"),
        (mid.timestamp - 1, mid.offset, f"1 ms before offset {mid.offset}'s timestamp"),
        (last.timestamp, last.offset, "the last record's timestamp"),
        (last.timestamp + 1, None, "1 ms after the last record"),
    ]


def parse_group_args(client):
    """Arguments of the group scripts: consume TOPIC as a member of GROUP."""
    p = argparse.ArgumentParser(description=f"{client} consumer group member against a Kafka-compatible broker")
    p.add_argument("bootstrap", help="host:port")
    p.add_argument("topic", help="topic to subscribe to")
    p.add_argument("group", help="consumer group id")
    p.add_argument("--count", type=int, help="exit after processing this many records (default: run until SIGTERM)")
    p.add_argument("--session-timeout-ms", type=int, default=10000)
    return p.parse_args()


def record_line(partition, offset, key, value):
    """The line a group script prints for a record it processed."""
    k = "" if key is None else key.decode()
    v = "" if value is None else value.decode()
    return f"R\t{partition}\t{offset}\t{k}\t{v}\n"


def assignment_line(partitions):
    """The line a group script prints when it is given partitions."""
    return "A\t" + ",".join(str(p) for p in sorted(partitions)) + "\n"


def emit(lines):
    """Prints and flushes: a record is processed once its line is out,
    before its offset is committed, so that a kill loses no line."""
    if lines:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
