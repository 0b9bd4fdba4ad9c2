// Command bench is the harness behind `make bench`: it measures the
// machine's limits (scripts/machine-limits.sh), then runs the same
// workloads alternately against Samsa (a real `samsa server` process) and
// kfake (franz-go's in-memory fake Kafka, bench/cmd/kfake) and writes the
// broker section of docs/BENCHMARKS.md and the chart docs/bench-latency.svg.
//
// The workloads, with samsa perf's functions (internal/cli/perf): produce
// as fast as acknowledged and consume back, 1 KiB and 100 B records;
// broker CPU per MB from /proc; end-to-end latency at 50% of
// the maximum produce rate and at 25%, 50% and 80% of the maximum
// end-to-end rate measured in the same round. Conditions are in
// the generated page; the method is shared/BENCHMARKING.md.
//
//	go run ./bench                    # everything, from the repository root
//	go run ./bench -rounds 1 -produce 3s -e2e 2s -limits=false   # a quick try
//	go run ./bench -head                  # samsa as last committed, not the working tree
//	go run ./bench -render results.json   # rewrite the page from saved results
//	go run ./bench -rounds 1 -limits=false -profile /tmp/prof -doc /tmp/x.md -svg /tmp/x.svg
//	                                      # perf(1) profiles of Samsa's runs
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/samsa-io/samsa/internal/gitrev"
)

// env is where a run keeps its binaries, data and logs.
type env struct {
	plan     plan
	bins     map[string]string
	dataRoot string // Samsa's data directories go here
	tmp      string
	// profileDir, when set, receives perf profiles of Samsa.
	profileDir string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		p          plan
		loads      string
		doLimits   = flag.Bool("limits", true, "measure the machine's limits first (scripts/machine-limits.sh)")
		limitsFrom = flag.String("limits-from", "", "read the limits from this saved output of machine-limits.sh instead")
		doc        = flag.String("doc", "docs/BENCHMARKS.md", "page whose generated section is rewritten")
		svgPath    = flag.String("svg", "docs/bench-latency.svg", "latency chart to write (the page links it by base name)")
		render     = flag.String("render", "", "only rewrite the page and chart from these saved results")
		fromHead   = flag.Bool("head", false, "build samsa from the last commit (git archive HEAD) instead of the working tree")
		profileDir = flag.String("profile", "", "record a perf(1) profile of Samsa during each produce and consume run into this directory (perturbs the numbers: not for the page)")
	)
	flag.IntVar(&p.Rounds, "rounds", 3, "rounds; each runs every workload on Samsa, then on kfake")
	flag.DurationVar(&p.Produce, "produce", 10*time.Second, "length of each produce run (and longest consume run)")
	flag.DurationVar(&p.E2E, "e2e", 6*time.Second, "length of each end-to-end run")
	flag.StringVar(&loads, "loads", "produce:50,e2e:25,e2e:50,e2e:80",
		"end-to-end loads: percent of the round's max 1 KiB produce rate (produce:P) or of its max end-to-end rate (e2e:P)")
	flag.Parse()
	p.RecordSizes = []int{1024, 100}
	var err error
	if p.Points, err = parsePoints(loads); err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root (go run ./bench)")
	}
	if *render != "" {
		raw, err := os.ReadFile(*render)
		if err != nil {
			return err
		}
		var r results
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		return publish(&r, *doc, *svgPath)
	}

	start := time.Now()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "samsa-bench-")
	if err != nil {
		return err
	}
	r := &results{Date: start, Commit: gitrev.Describe(), Go: runtime.Version(), Kgo: moduleVersion("github.com/twmb/franz-go"),
		Kfake: moduleVersion("github.com/twmb/franz-go/pkg/kfake"), Plan: p}
	switch {
	case *limitsFrom != "":
		raw, err := os.ReadFile(*limitsFrom)
		if err != nil {
			return err
		}
		if r.Limits, err = parseLimits(string(raw)); err != nil {
			return err
		}
	case *doLimits:
		if r.Limits, err = measureLimits(); err != nil {
			return err
		}
	}
	e := &env{plan: p, dataRoot: ".", tmp: tmp, profileDir: *profileDir}
	src := "."
	if *fromHead {
		if src, err = exportHead(tmp); err != nil {
			return err
		}
		r.Commit = strings.TrimSuffix(r.Commit, gitrev.Dirty)
	}
	if e.bins, err = build(tmp, src); err != nil {
		return err
	}
	saved := filepath.Join(tmp, "results.json")
	for round := 1; round <= p.Rounds; round++ {
		for _, name := range []string{samsa, kfake} {
			fmt.Printf("== round %d of %d: %s\n", round, p.Rounds, name)
			run, err := runBroker(ctx, e, name, round)
			if err != nil {
				return err
			}
			r.Runs = append(r.Runs, run)
			r.WallTime = time.Since(start)
			if err := save(r, saved); err != nil {
				return err
			}
		}
	}
	r.WallTime = time.Since(start)
	if err := save(r, saved); err != nil {
		return err
	}
	fmt.Printf("results saved in %s (rewrite the page from them with -render)\n", saved)
	if err := publish(r, *doc, *svgPath); err != nil {
		return err
	}
	fmt.Printf("wall time %s\n", time.Since(start).Round(time.Second))
	return nil
}

// parsePoints reads -loads.
func parsePoints(loads string) ([]point, error) {
	var pts []point
	for _, f := range strings.Split(loads, ",") {
		basis, pct, _ := strings.Cut(strings.TrimSpace(f), ":")
		v, err := strconv.Atoi(pct)
		if err != nil || v <= 0 || v > 100 || basis != ofProduce && basis != ofE2E {
			return nil, fmt.Errorf("-loads %q: want produce:PERCENT or e2e:PERCENT, comma separated", loads)
		}
		pts = append(pts, point{Basis: basis, Percent: v})
	}
	return pts, nil
}

// publish writes the page and chart and prints the targets.
func publish(r *results, doc, svgPath string) error {
	if err := os.WriteFile(svgPath, []byte(r.svg()), 0o644); err != nil {
		return err
	}
	if err := writeDoc(doc, r.markdown(filepath.Base(svgPath))); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n\nIssue 4 targets for Samsa:\n", doc, svgPath)
	for _, t := range r.targets() {
		fmt.Printf("  %-75s %s %s: %s\n", t.What, t.Measured, t.Unit, strings.ReplaceAll(t.verdict(), "**", ""))
	}
	return nil
}

func save(r *results, path string) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

// build compiles samsa from the module in src and the kfake server into
// dir.
func build(dir, src string) (map[string]string, error) {
	bins := map[string]string{samsa: filepath.Join(dir, "samsa"), kfake: filepath.Join(dir, "kfake")}
	for name, pkg := range map[string]string{samsa: "./cmd/samsa", kfake: "./bench/cmd/kfake"} {
		cmd := exec.Command("go", "build", "-o", bins[name], pkg)
		if name == samsa {
			cmd.Dir = src
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s in %s: %w", pkg, src, err)
		}
	}
	return bins, nil
}

// exportHead writes the last commit's tree under dir and returns where.
func exportHead(dir string) (string, error) {
	src := filepath.Join(dir, "head")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("sh", "-c", `git archive HEAD | tar -x -C "$0"`, src)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git archive HEAD: %w", err)
	}
	return src, nil
}

// moduleVersion is the version of a module this build uses.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", path).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
