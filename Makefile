# make test: everything CI runs (.ci/run calls it and nothing else); first
# installs the external Kafka clients the compat/ suite runs (make deps).
# make fuzz: each fuzz target for FUZZTIME (default 1m).
# make bench: machine limits, then Samsa beside kfake (docs/BENCHMARKS.md).
# make cluster: three nodes on this machine. make chaos: the fault suite
# against three nodes (docs/RELIABILITY.md).

GO ?= go
FUZZTIME ?= 1m
BENCHFLAGS ?=

.PHONY: test deps vet unit race chaos-short fuzz bench bench-inprocess limits cluster

test: deps vet unit race chaos-short

# kcat, confluent-kafka, kafka-python (Debian) and kafkajs (npm) for compat/;
# a fast no-op, without network, when they are already installed.
deps:
	scripts/install-test-deps.sh

vet:
	$(GO) vet ./...

unit:
	$(GO) test ./...

# The concurrent code again under the race detector (short mode: fewer seeds).
race:
	$(GO) test -race -short ./internal/...

# Two faults of each kind against three samsa server processes (about 80 s);
# make chaos runs the full suite.
chaos-short:
	SAMSA_CHAOS=1 $(GO) test -count=1 -run '^TestChaosShort$$' ./chaos/

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg; \
		done; \
	done

# The machine's limits first (installs fio and iperf3 if missing), then the
# same workloads alternately against Samsa (a `samsa server` process) and
# kfake; rewrites the broker section of docs/BENCHMARKS.md and
# docs/bench-latency.svg (about 10 minutes; not part of make test).
# BENCHFLAGS passes flags to the harness (go run ./bench -h).
bench:
	$(GO) run ./bench $(BENCHFLAGS)

# The in-process log and record benchmarks (the page's in-process section).
bench-inprocess: limits
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/log/ ./internal/record/

limits:
	scripts/machine-limits.sh

# A three-node cluster on this machine (Kafka on 127.0.0.1:9092-9094, data
# under ./data-cluster/node-N); Ctrl-C stops it.
cluster:
	scripts/cluster.sh

# make chaos: the fault suite (chaos/): three samsa server processes with
# every node-to-node link behind a fault-injecting proxy, idempotent
# producers through CYCLES seeded faults (SEED, 0: from the clock; DURATION
# caps the fault phase, 0: none; CYCLES=0 runs until DURATION); checks every
# acknowledged record, rewrites docs/RELIABILITY.md, fails on any anomaly.
# About 5 minutes for 20 cycles; not part of make test.
SEED ?= 0
CYCLES ?= 20
DURATION ?= 0
.PHONY: chaos
chaos:
	$(GO) run ./chaos -seed $(SEED) -cycles $(CYCLES) -duration $(DURATION) -report docs/RELIABILITY.md
