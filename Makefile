# make test: everything CI runs (.ci/run calls it and nothing else).
# make fuzz: each fuzz target for FUZZTIME (default 1m).
# make bench: in-process benchmarks of the log (see docs/BENCHMARKS.md).

GO ?= go
FUZZTIME ?= 1m

.PHONY: test vet unit fuzz bench

test: vet unit

vet:
	$(GO) vet ./...

unit:
	$(GO) test ./...

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/log/ ./internal/record/
