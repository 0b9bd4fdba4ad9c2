#!/usr/bin/env bash
# Measures the limits every Samsa benchmark is reported against
# (shared/BENCHMARKING.md): loopback TCP, sequential write and fdatasync
# latency of the data disk, and CRC-32C and memcpy speed of one core.
# Installs iperf3 and fio from Debian's packages if they are missing.
# Usage: scripts/machine-limits.sh [DATA_DIR]   (default: a temp dir under .)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d ./.limits-XXXXXX)}
trap 'rm -rf "$dir"' EXIT

need=()
command -v fio >/dev/null || need+=(fio)
command -v iperf3 >/dev/null || need+=(iperf3)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null
fi

echo "## Machine limits ($(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB)"
echo
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "kernel: $(uname -r), data dir filesystem: $(df -T "$dir" | awk 'NR==2{print $2}')"

iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
sleep 0.5
bw=$(iperf3 -c 127.0.0.1 -p 5299 -t 5 -J | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e9, 2))')
echo "loopback TCP, one stream (iperf3 -t 5): ${bw} GB/s"

seq=$(fio --name=seq --rw=write --bs=1m --size=2g --end_fsync=1 --directory="$dir" --output-format=json | python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["write"]; print(round(j["bw_bytes"]/1e6))')
echo "sequential write, 1 MiB blocks, 2 GiB + fsync (fio): ${seq} MB/s"
rm -f "$dir"/seq*

fio --name=wal --rw=write --bs=4k --size=64m --fdatasync=1 --directory="$dir" --output-format=json | python3 -c '
import json,sys
j=json.load(sys.stdin)["jobs"][0]["sync"]["lat_ns"]["percentile"]
p=lambda k: j[k]/1e6
print("fdatasync latency after 4 KiB writes (fio): p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms" % (p("50.000000"), p("99.000000"), p("99.900000")))'
rm -f "$dir"/wal*

# One core's CRC-32C (Castagnoli, what every RecordBatch carries) and
# memcpy speed over 1 MiB buffers, from the record package's benchmarks.
go test -run '^$' -bench '^Benchmark(CRC32C|Memcpy)$' -benchtime 1s -cpu 1 ./internal/record/ | awk '
/^BenchmarkCRC32C/ {printf "CRC-32C, one core (Go, 1 MiB): %.1f GB/s\n", $(NF-1)/1000}
/^BenchmarkMemcpy/ {printf "memcpy, one core (Go, 1 MiB): %.1f GB/s\n", $(NF-1)/1000}'
