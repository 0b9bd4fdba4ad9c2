#!/usr/bin/env bash
# Starts a three-node Samsa cluster on this machine: every node is a broker
# and a voter of the metadata quorum. Kafka listeners on 127.0.0.1:9092,
# 9093 and 9094; controller listeners on 9192-9194; data and logs under
# ./data-cluster/node-N (not under ./data, where a single node would take
# node-N for a partition's log). Topics, __consumer_offsets and
# __transaction_state get 3 replicas, min.insync.replicas 2. Ctrl-C stops
# all three. NODES and DATA override the defaults; SAMSA is the binary
# (built from this checkout when unset).
set -euo pipefail
NODES=${NODES:-3}
DATA=${DATA:-./data-cluster}
if [[ -z "${SAMSA:-}" ]]; then
	SAMSA=$(mktemp -d)/samsa
	go build -o "$SAMSA" ./cmd/samsa
fi
voters=""
for i in $(seq 1 "$NODES"); do
	voters+="${voters:+,}$i@127.0.0.1:$((9191 + i))"
done
pids=()
stop() {
	echo "stopping the cluster"
	kill "${pids[@]}" 2>/dev/null || true
	wait
}
trap stop INT TERM EXIT
for i in $(seq 1 "$NODES"); do
	dir="$DATA/node-$i"
	mkdir -p "$dir"
	"$SAMSA" server \
		--override node.id="$i" \
		--override log.dirs="$dir" \
		--override listeners="PLAINTEXT://127.0.0.1:$((9091 + i)),CONTROLLER://127.0.0.1:$((9191 + i))" \
		--override controller.quorum.voters="$voters" \
		--override metrics.listen="127.0.0.1:$((9643 + i))" \
		--override default.replication.factor=3 \
		--override min.insync.replicas=2 \
		--override offsets.topic.replication.factor=3 \
		--override transaction.state.log.replication.factor=3 \
		--override transaction.state.log.min.isr=2 \
		>"$dir/server.log" 2>&1 &
	pids+=($!)
done
bootstrap=$(seq -s, -f "127.0.0.1:%g" 9092 $((9091 + NODES)))
echo "samsa cluster of $NODES nodes: --brokers $bootstrap (logs in $DATA/node-*/server.log)"
wait -n "${pids[@]}" || true
echo "a node exited; see its server.log"
