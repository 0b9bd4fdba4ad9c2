package main

// What a run prints and what it writes to docs/RELIABILITY.md: the run's
// parameters and machine, every fault with its unavailability window,
// a summary per fault kind, and every anomaly.

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// runInfo is what was run, beside the history.
type runInfo struct {
	Command            string
	Seed               uint64
	Cycles             int // asked for; 0: until the duration ends
	Duration           time.Duration
	Started            time.Time
	Elapsed            time.Duration
	Nodes, Producers   int
	Rate               int
	Partitions         int32
	Timing             timing
	Sent               int64
	Failures           map[string]int // produce failures by error
	Problems           []string       // the run itself went wrong (flush, read-back, startup)
	Warnings           []string
	Machine, GoVersion string
	Commit             string
}

// failed says whether the run must exit non-zero.
func (ri runInfo) failed(r Result) bool { return r.Anomalies() > 0 || len(ri.Problems) > 0 }

func ms(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }

// faultRows is one row per fault.
func faultRows(ri runInfo, h History, r Result) [][]string {
	rows := [][]string{{"#", "fault", "target", "at", "fault lasted", "whole again", "no acks (all)", "no acks (worst partition)"}}
	for i, f := range h.Faults {
		whole := "after " + ms(f.Whole.Sub(f.Healed))
		if !f.Recovered {
			whole = "NO"
		}
		w := r.Windows[i]
		rows = append(rows, []string{fmt.Sprint(i + 1), f.Kind, f.Target, "+" + ms(f.Start.Sub(ri.Started)),
			ms(f.Healed.Sub(f.Start)), whole, ms(w.Overall), fmt.Sprintf("%s (p%d)", ms(w.WorstPartition), w.Partition)})
	}
	return rows
}

// kindRows summarizes the faults per kind.
func kindRows(h History, r Result) [][]string {
	rows := [][]string{{"fault", "count", "recovered", "max no acks (all)", "max no acks (worst partition)", "mean no acks (worst partition)"}}
	for _, k := range faultKinds {
		var n, ok int
		var maxAll, maxPart, sumPart time.Duration
		for i, f := range h.Faults {
			if f.Kind != string(k) {
				continue
			}
			n++
			if f.Recovered {
				ok++
			}
			maxAll, maxPart = max(maxAll, r.Windows[i].Overall), max(maxPart, r.Windows[i].WorstPartition)
			sumPart += r.Windows[i].WorstPartition
		}
		mean := "-"
		if n > 0 {
			mean = ms(sumPart / time.Duration(n))
		}
		rows = append(rows, []string{string(k), fmt.Sprint(n), fmt.Sprint(ok), ms(maxAll), ms(maxPart), mean})
	}
	return rows
}

// anomalyRows counts each anomaly with up to three examples.
func anomalyRows(r Result) [][]string {
	rows := [][]string{{"anomaly", "count", "examples"}}
	add := func(name string, n int, example func(i int) string) {
		var ex []string
		for i := range min(n, 3) {
			ex = append(ex, example(i))
		}
		rows = append(rows, []string{name, fmt.Sprint(n), strings.Join(ex, "; ")})
	}
	add("acknowledged records lost", len(r.Lost), func(i int) string {
		a := r.Lost[i]
		return fmt.Sprintf("%d/%d acked at p%d offset %d", a.Producer, a.Seq, a.Partition, a.Offset)
	})
	add("acknowledged offsets reading back other data", len(r.Changed), func(i int) string {
		c := r.Changed[i]
		return fmt.Sprintf("%d/%d acked at p%d offset %d: there %s, record at %v", c.Ack.Producer, c.Ack.Seq, c.Ack.Partition, c.Ack.Offset, c.Found, c.At)
	})
	add("duplicates", len(r.Duplicates), func(i int) string {
		d := r.Duplicates[i]
		return fmt.Sprintf("%d/%d at %v", d.ID.Producer, d.ID.Seq, d.At)
	})
	add("order violations (one producer, one partition)", len(r.Reorders), func(i int) string {
		o := r.Reorders[i]
		return fmt.Sprintf("p%d producer %d: seq %d at %d before seq %d at %d", o.Partition, o.Producer, o.FirstSeq, o.FirstOffset, o.SecondSeq, o.SecondOffset)
	})
	add("records no producer wrote", len(r.Garbled), func(i int) string {
		g := r.Garbled[i]
		return fmt.Sprintf("p%d offset %d: %q", g.Partition, g.Offset, g.Value)
	})
	add("faults the cluster did not recover from", len(r.Unrecovered), func(i int) string {
		f := r.Unrecovered[i]
		return fmt.Sprintf("%s %s: %s", f.Kind, f.Target, f.Note)
	})
	return rows
}

// printText writes the human tables.
func printText(w io.Writer, ri runInfo, h History, r Result) {
	fmt.Fprintf(w, "\nseed %d, %d faults in %v; %d records sent, %d acknowledged, %d read back (%d never acknowledged)\n\n",
		ri.Seed, len(h.Faults), ms(ri.Elapsed), ri.Sent, r.Acked, r.ReadBack, r.Unacked)
	for _, rows := range [][][]string{faultRows(ri, h, r), kindRows(h, r), anomalyRows(r)} {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	for _, p := range ri.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	for _, p := range ri.Warnings {
		fmt.Fprintf(w, "warning: %s\n", p)
	}
	for e, n := range ri.Failures {
		fmt.Fprintf(w, "produce failures: %d x %s\n", n, e)
	}
	if ri.failed(r) {
		fmt.Fprintf(w, "FAIL: %d anomalies, %d problems\n", r.Anomalies(), len(ri.Problems))
	} else {
		fmt.Fprintln(w, "PASS: no anomalies")
	}
}

func markdownTable(w io.Writer, rows [][]string) {
	for i, row := range rows {
		esc := make([]string, len(row))
		for j, c := range row {
			esc[j] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
		if i == 0 {
			fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(row)))
		}
	}
	fmt.Fprintln(w)
}

// reliabilityHowTo is the page's fixed part: how to run the suite and
// what its columns mean.
const reliabilityHowTo = "Run it with `make chaos` (`SEED=`, `CYCLES=`, `DURATION=`; about 5 minutes for 20 cycles), " +
	"`go run ./chaos -h` for every option (`-only kill-leader,pause-node` repeats some kinds), or " +
	"`SAMSA_CHAOS=1 go test -run TestChaosShort ./chaos/` for one fault of each kind (about a minute). " +
	"Faults: `kill-leader`, `kill-controller` (the DescribeQuorum leader), `kill-node`: SIGKILL, down 1-6s, restart; " +
	"`pause-node`: SIGSTOP for 1, 2, 5 or 8s (the session timeout is 3s), SIGCONT; " +
	"`isolate-leader`: every link into and out of a partition leader cut for 6-12s, clients still reaching it; " +
	"`rolling-restart`: SIGTERM and start of each node in turn, waiting for the cluster to be whole in between.\n\n" +
	"Anomalies: an acknowledged record that does not read back (lost); an acknowledged partition/offset that reads back another record or " +
	"the record elsewhere; a record read back twice; two records of one producer in one partition in the opposite of their send order; " +
	"a record no producer wrote; a fault after which the cluster was not whole within 90s. Records read back that were never acknowledged are allowed.\n\n" +
	"Producers: franz-go's defaults (acks=all, idempotence, unlimited retries), unlimited UNKNOWN_TOPIC_OR_PARTITION retries, " +
	"a produce request timeout of 8s (+2s overhead) and metadata refreshes at most every 250ms; a paused or cut-off leader holds " +
	"its partitions' records until that timeout, which bounds the worst-partition column for those faults.\n\n"

// writeMarkdown rewrites the reliability page.
func writeMarkdown(path string, ri runInfo, h History, r Result) error {
	var b strings.Builder
	verdict := "**PASS**: no anomalies."
	if ri.failed(r) {
		verdict = fmt.Sprintf("**FAIL**: %d anomalies, %d problems with the run.", r.Anomalies(), len(ri.Problems))
	}
	fmt.Fprintf(&b, "# Reliability: the fault suite\n\n")
	fmt.Fprintf(&b, "Written by `make chaos` (`chaos/`) on %s. %s\n\n", ri.Started.UTC().Format("2006-01-02 15:04 MST"), verdict)
	fmt.Fprintf(&b, "%d `samsa server` processes form one cluster; every node-to-node connection (metadata quorum, controller requests, follower fetches) "+
		"goes through a fault-injecting TCP proxy per directed link (`%s`), while clients reach every node directly. "+
		"One topic, %d partitions, replication factor %d, `min.insync.replicas=2`; %d idempotent acks=all franz-go producers at %d records/s in total "+
		"record every acknowledgement (partition, offset, record id). After each fault is healed the suite waits for the cluster to be whole "+
		"(a quorum leader; every node sees every broker registered, every partition led with a full ISR, and the same leader and epoch as the others), then settles %v. "+
		"At the end every partition is read back from the start and checked against the acknowledgements.\n\n",
		ri.Nodes, dialMapEnv, ri.Partitions, ri.Nodes, ri.Producers, ri.Rate, ri.Timing.settle)
	b.WriteString(reliabilityHowTo)
	fmt.Fprintf(&b, "- command: `%s`\n- seed %d (the fault schedule; timing is the machine's), %d faults in %v\n", ri.Command, ri.Seed, len(h.Faults), ms(ri.Elapsed))
	fmt.Fprintf(&b, "- machine: %s; %s; commit %s\n", ri.Machine, ri.GoVersion, ri.Commit)
	fmt.Fprintf(&b, "- node settings: `%s`\n", strings.Join(clusterProps, "`, `"))
	fmt.Fprintf(&b, "- records: %d sent, %d acknowledged, %d read back, %d read back but never acknowledged (allowed)\n\n", ri.Sent, r.Acked, r.ReadBack, r.Unacked)
	b.WriteString("\"no acks\" is the produce unavailability: the longest time between the fault's start and the end of its settle period without an acknowledgement, over all partitions and in the worst one.\n\n## Faults\n\n")
	markdownTable(&b, faultRows(ri, h, r))
	b.WriteString("## Per kind\n\n")
	markdownTable(&b, kindRows(h, r))
	b.WriteString("## Anomalies\n\n")
	markdownTable(&b, anomalyRows(r))
	for _, list := range []struct {
		title string
		items []string
	}{{"Problems with the run", ri.Problems}, {"Warnings", ri.Warnings}, {"Produce failures", failureLines(ri.Failures)}} {
		if len(list.items) > 0 {
			fmt.Fprintf(&b, "## %s\n\n- %s\n\n", list.title, strings.Join(list.items, "\n- "))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func failureLines(m map[string]int) []string {
	var out []string
	for e, n := range m {
		out = append(out, fmt.Sprintf("%d records: %s", n, e))
	}
	slices.Sort(out)
	return out
}

// machine describes the CPU the run had.
func machine() string {
	model := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH)
}
