#!/usr/bin/env bash
# kcat round trip against a Kafka-compatible broker: metadata (-L), produce
# keyed records with headers to each of the topic's two partitions (-P -K -H
# -z), read them back by partition (-C -o beginning -e), check every field,
# then the offsets (-Q: earliest, latest, by timestamp).
#
# kcat has no admin API: the topic must exist with exactly 2 partitions
# (compat/kcat_test.go creates it with kadm). kcat cannot set a record's
# timestamp, so timestamps are checked to lie within the produce run.
#
# Usage: roundtrip.sh BOOTSTRAP TOPIC CODEC [N]
#   CODEC: none, gzip, snappy, lz4 or zstd; N: records in all (default 50).
# Exits non-zero with a message saying what did not match.
set -euo pipefail

bootstrap=${1:?usage: roundtrip.sh BOOTSTRAP TOPIC CODEC [N]}
topic=${2:?usage: roundtrip.sh BOOTSTRAP TOPIC CODEC [N]}
codec=${3:?usage: roundtrip.sh BOOTSTRAP TOPIC CODEC [N]}
n=${4:-50}
partitions=2

fail() { echo "kcat roundtrip ($codec): $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
kc() { kcat -b "$bootstrap" -m 10 "$@"; }

case $codec in none | gzip | snappy | lz4 | zstd) ;; *) fail "unknown codec $codec" ;; esac
[ $((n % partitions)) -eq 0 ] || fail "N=$n must be a multiple of $partitions"
per=$((n / partitions))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Metadata: the topic, its two partitions, each with a leader among the brokers.
kc -L -t "$topic" >"$work/meta" 2>&1 || fail "kcat -L: $(cat "$work/meta")"
grep -q "topic \"$topic\" with $partitions partitions:" "$work/meta" ||
	fail "kcat -L does not show $topic with $partitions partitions:
$(cat "$work/meta")"
for p in $(seq 0 $((partitions - 1))); do
	grep -Eq "^ +partition $p, leader [0-9]+, replicas: [0-9]" "$work/meta" ||
		fail "kcat -L shows no leader for partition $p:
$(cat "$work/meta")"
done

# The records of partition p are i = p, p+2, ...: key-i, a compressible
# value, and per-run headers (kcat's -H applies to every record of a run).
expected() { # partition -> "offset<TAB>key<TAB>value<TAB>headers" lines
	local p=$1 i off=0
	for ((i = p; i < n; i += partitions)); do
		printf '%d\tkey-%04d\tvalue-%04d-%s-%s\th-codec=%s,h-partition=%d\n' \
			"$off" "$i" "$i" "$codec" "$(printf 'abcdefgh%.0s' {1..8})" "$codec" "$p"
		off=$((off + 1))
	done
}

zflag=()
[ "$codec" = none ] || zflag=(-z "$codec")
before=$(now_ms)
for p in $(seq 0 $((partitions - 1))); do
	expected "$p" | cut -f2,3 | tr '\t' : >"$work/in.$p"
	kc -P -t "$topic" -p "$p" -K: "${zflag[@]}" -H "h-codec=$codec" -H "h-partition=$p" \
		-q -X acks=all -X linger.ms=5 <"$work/in.$p" 2>"$work/perr" ||
		fail "kcat -P to partition $p: $(cat "$work/perr")"
	[ ! -s "$work/perr" ] || fail "kcat -P to partition $p reported: $(cat "$work/perr")"
done
after=$(now_ms)

for p in $(seq 0 $((partitions - 1))); do
	kc -C -t "$topic" -p "$p" -o beginning -e -q -f '%o\t%k\t%s\t%h\t%T\n' \
		>"$work/out.$p" 2>"$work/cerr" || fail "kcat -C partition $p: $(cat "$work/cerr")"
	got=$(wc -l <"$work/out.$p")
	[ "$got" -eq "$per" ] || fail "partition $p: read $got records, want $per"
	# Everything but the timestamp, in order.
	if ! diff <(expected "$p") <(cut -f1-4 "$work/out.$p") >"$work/diff"; then
		fail "partition $p: records differ (< want, > got):
$(head -20 "$work/diff")"
	fi
	# Timestamps: set by librdkafka at produce time, so within the run and
	# never decreasing along the partition.
	awk -F'\t' -v lo="$before" -v hi="$after" -v p="$p" '
		$5 < lo || $5 > hi { printf "partition %d offset %d: timestamp %s outside the produce run [%d, %d]\n", p, $1, $5, lo, hi; bad = 1 }
		NR > 1 && $5 < prev { printf "partition %d offset %d: timestamp %s before the previous %s\n", p, $1, $5, prev; bad = 1 }
		{ prev = $5 }
		END { exit bad }' "$work/out.$p" >"$work/tserr" || fail "$(cat "$work/tserr")"
done

# Offsets (-Q sends ListOffsets): -2 earliest, -1 latest, a timestamp finds
# the first offset whose timestamp is at least it, or -1 past the last one.
query() { # partition timestamp -> offset
	local out
	out=$(kc -Q -t "$topic:$1:$2" 2>&1) || fail "kcat -Q -t $topic:$1:$2: $out"
	[[ $out =~ ^$topic\ \[$1\]\ offset\ (-?[0-9]+)$ ]] ||
		fail "kcat -Q -t $topic:$1:$2: unexpected output: $out"
	echo "${BASH_REMATCH[1]}"
}
want_offset() { # partition timestamp what want
	local got
	got=$(query "$1" "$2")
	[ "$got" -eq "$4" ] || fail "partition $1: offset for $3 (timestamp $2) is $got, want $4"
}
for p in $(seq 0 $((partitions - 1))); do
	want_offset "$p" -2 earliest 0
	want_offset "$p" -1 latest "$per"
	want_offset "$p" 0 "timestamp 0" 0
	want_offset "$p" $((after + 3600000)) "a time after every record" -1
	# The record in the middle: the first offset with its timestamp (records
	# produced in the same millisecond share it).
	k=$((per / 2))
	ts=$(awk -F'\t' -v k="$k" '$1 == k { print $5 }' "$work/out.$p")
	first=$(awk -F'\t' -v ts="$ts" '$5 >= ts { print $1; exit }' "$work/out.$p")
	want_offset "$p" "$ts" "offset $k's timestamp" "$first"
done

echo "kcat roundtrip ($codec): ok, $n records in $partitions partitions"
