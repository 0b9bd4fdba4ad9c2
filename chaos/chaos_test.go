package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The whole suite, short: every fault kind twice against a real cluster
// (about 80 s).
// make test runs it alone (target chaos-short), where the machine is not
// shared with every other package's tests.
func TestChaosShort(t *testing.T) {
	if os.Getenv("SAMSA_CHAOS") != "1" {
		t.Skip("not run here: make test runs it (target chaos-short, SAMSA_CHAOS=1) on its own, " +
			"not beside every other package's tests; make chaos runs the full suite")
	}
	bin, err := buildSamsa(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{seed: 1, cycles: 2 * len(faultKinds), duration: 4 * time.Minute, bin: bin,
		nodes: 3, partitions: 6, producers: 2, rate: 200, warmup: 3 * time.Second,
		timing: shortTiming, log: t.Output()}
	if os.Getenv("SAMSA_CHAOS_KEEP") == "1" {
		cfg.keep = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	ri, h, r, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	printText(&out, ri, h, r)
	t.Log(out.String())
	if len(h.Faults) < len(faultKinds) {
		t.Errorf("only %d of %d fault kinds ran", len(h.Faults), len(faultKinds))
	}
	if ri.failed(r) {
		t.Fatalf("%d anomalies, problems %q", r.Anomalies(), ri.Problems)
	}
}

func TestSchedulerCoversEveryKindFirstThenIsSeeded(t *testing.T) {
	run := func(seed uint64, n int) []faultKind {
		s := newScheduler(seed, nil)
		out := make([]faultKind, n)
		for i := range out {
			out[i] = s.next()
		}
		return out
	}
	a := run(7, 30)
	first := slices.Clone(a[:len(faultKinds)])
	slices.Sort(first)
	want := slices.Clone(faultKinds)
	slices.Sort(want)
	if !slices.Equal(first, want) {
		t.Fatalf("the first %d faults %v are not every kind once", len(faultKinds), a[:len(faultKinds)])
	}
	if !slices.Equal(a, run(7, 30)) {
		t.Fatal("the same seed gave another schedule")
	}
	if slices.Equal(a, run(8, 30)) {
		t.Fatal("seeds 7 and 8 gave the same 30 faults")
	}
	only, err := parseKinds("pause-node, isolate-leader")
	if err != nil {
		t.Fatal(err)
	}
	s := newScheduler(7, only)
	for range 20 {
		if k := s.next(); k != pauseNode && k != isolateLeader {
			t.Fatalf("-only pause-node,isolate-leader scheduled %s", k)
		}
	}
	if _, err := parseKinds("kill-everything"); err == nil {
		t.Fatal("an unknown fault kind was accepted")
	}
}

// The report shows every anomaly the checker found and the verdict.
func TestReportShowsEveryAnomalyAndTheVerdict(t *testing.T) {
	h, reads := cleanRun(2, 3, 30)
	h.Faults = []Fault{{Kind: string(isolateLeader), Target: "node 2 (leader of p1) for 6s", Start: t0,
		Healed: t0.Add(6 * time.Second), Whole: t0.Add(8 * time.Second), End: t0.Add(10 * time.Second), Recovered: true}}
	reads = append(reads[1:], Read{Partition: 2, Offset: 99, Value: []byte("junk")}, reads[5])
	ri := runInfo{Seed: 5, Started: t0, Nodes: 3, Partitions: 3, Producers: 2, Rate: 300, Timing: shortTiming,
		Command: "go run ./chaos -seed 5", Problems: []string{"a problem"}}
	r := Check(h, reads)
	var text strings.Builder
	printText(&text, ri, h, r)
	page := filepath.Join(t.TempDir(), "RELIABILITY.md")
	if err := writeMarkdown(page, ri, h, r); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(page)
	for _, out := range []string{text.String(), string(md)} {
		for _, want := range []string{"isolate-leader", "node 2 (leader of p1)", "acknowledged records lost",
			"duplicates", "records no producer wrote", "FAIL", "a problem", "after 2s"} {
			if !strings.Contains(out, want) {
				t.Errorf("report lacks %q:\n%s", want, out)
			}
		}
	}
}
