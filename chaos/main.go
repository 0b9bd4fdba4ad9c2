// Command chaos is Samsa's fault suite: a cluster of real `samsa server`
// processes, node-to-node links through fault-injecting proxies, idempotent
// acks=all producers running through seeded faults (kill -9 of a leader,
// of the active controller or of any node; SIGSTOP; a leader cut off from
// the other nodes; a rolling restart), and a checker that reads everything
// back and reports lost, duplicated, reordered or moved acknowledged
// records and the produce unavailability around each fault.
//
//	go run ./chaos -seed 7 -cycles 20 -report docs/RELIABILITY.md
//
// It exits 1 on any anomaly or problem with the run, 2 when it cannot run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/samsa-io/samsa/internal/gitrev"
)

const topic = "chaos"

type config struct {
	seed       uint64
	cycles     int           // faults to inject; 0: until duration
	duration   time.Duration // limit on the fault phase; 0: none
	report     string        // the Markdown page to rewrite, if any
	bin        string        // the samsa binary; built when empty
	workDir    string        // data and logs; a temporary directory when empty
	keep       bool          // keep workDir even when the run passes
	nodes      int
	partitions int32
	producers  int
	rate       int         // records/s over all producers
	kinds      []faultKind // the faults to choose from; empty: every kind
	warmup     time.Duration
	timing     timing
	log        io.Writer
}

func parseFlags(args []string) (config, error) {
	cfg := config{nodes: 3, log: os.Stderr}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.Uint64Var(&cfg.seed, "seed", 0, "seed of the fault schedule (0: from the clock)")
	fs.IntVar(&cfg.cycles, "cycles", 20, "faults to inject (0: until -duration ends)")
	fs.DurationVar(&cfg.duration, "duration", 0, "stop injecting after this long even if -cycles are not done (0: no limit)")
	fs.StringVar(&cfg.report, "report", "", "rewrite this Markdown page with the results (docs/RELIABILITY.md)")
	fs.StringVar(&cfg.bin, "samsa", "", "the samsa binary (default: go build ./cmd/samsa)")
	fs.StringVar(&cfg.workDir, "workdir", "", "directory for the nodes' data and logs (default: a temporary one, kept if the run fails)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work directory when the run passes")
	parts := fs.Int("partitions", 6, "partitions of the topic")
	fs.IntVar(&cfg.producers, "producers", 2, "producer clients")
	fs.IntVar(&cfg.rate, "rate", 300, "records per second over all producers")
	short := fs.Bool("short", false, "shorter faults and settle periods")
	only := fs.String("only", "", fmt.Sprintf("comma-separated fault kinds to choose from (default: every kind: %v)", faultKinds))
	err := fs.Parse(args)
	if err == nil {
		cfg.kinds, err = parseKinds(*only)
	}
	if err != nil {
		return cfg, err
	}
	if cfg.cycles == 0 && cfg.duration == 0 {
		return cfg, fmt.Errorf("give -cycles or -duration")
	}
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano() % 1_000_000)
	}
	cfg.partitions, cfg.timing, cfg.warmup = int32(*parts), fullTiming, 5*time.Second
	if *short {
		cfg.timing, cfg.warmup = shortTiming, 3*time.Second
	}
	return cfg, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ri, h, r, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	ri.Command = "go run ./chaos " + strings.Join(os.Args[1:], " ")
	printText(os.Stdout, ri, h, r)
	if cfg.report != "" {
		if err := writeMarkdown(cfg.report, ri, h, r); err != nil {
			fmt.Fprintln(os.Stderr, "chaos:", err)
			os.Exit(2)
		}
		fmt.Printf("wrote %s\n", cfg.report)
	}
	if ri.failed(r) {
		os.Exit(1)
	}
}

// run is the whole suite; the error is for when it could not run at all.
func run(ctx context.Context, cfg config) (runInfo, History, Result, error) {
	ri := runInfo{Seed: cfg.seed, Cycles: cfg.cycles, Duration: cfg.duration, Nodes: cfg.nodes,
		Producers: cfg.producers, Rate: cfg.rate, Partitions: cfg.partitions, Timing: cfg.timing,
		Machine: machine(), GoVersion: runtime.Version(), Commit: gitrev.Describe(), Started: time.Now()}
	logf := func(format string, args ...any) {
		fmt.Fprintf(cfg.log, "%s chaos: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	dir, cleanup, err := workDir(cfg)
	if err != nil {
		return ri, History{}, Result{}, err
	}
	bin := cfg.bin
	if bin == "" {
		logf("building samsa")
		if bin, err = buildSamsa(dir); err != nil {
			return ri, History{}, Result{}, err
		}
	}
	h, err := exercise(ctx, cfg, bin, dir, &ri, logf)
	if err != nil {
		ri.Problems = append(ri.Problems, err.Error())
	}
	ri.Elapsed = time.Since(ri.Started)
	r := check(h)
	if ri.failed(r) {
		logf("keeping the nodes' data and logs in %s", dir)
	} else {
		cleanup()
	}
	return ri, h.History, r, nil
}

// workDir returns the run's directory and how to remove it (a no-op for a
// directory the user gave or asked to keep).
func workDir(cfg config) (string, func(), error) {
	if cfg.workDir != "" {
		return cfg.workDir, func() {}, os.MkdirAll(cfg.workDir, 0o755)
	}
	dir, err := os.MkdirTemp("", "samsa-chaos-")
	if err != nil || cfg.keep {
		return dir, func() {}, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
