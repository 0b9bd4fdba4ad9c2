package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/samsa-io/samsa/internal/cli/perf"
)

// results is a whole benchmark run, as saved to JSON and rendered.
type results struct {
	Date     time.Time     `json:"date"`
	Commit   string        `json:"commit"`
	Go       string        `json:"go"`
	Kgo      string        `json:"kgo"`
	Kfake    string        `json:"kfake"`
	Plan     plan          `json:"plan"`
	Limits   limits        `json:"limits"`
	Runs     []brokerRun   `json:"runs"`
	WallTime time.Duration `json:"wall_time_ns"`
}

// metric is one figure of a broker's run.
type metric func(brokerRun) float64

// of returns name's figure over the rounds.
func (r *results) of(name string, f metric) span {
	var xs []float64
	for _, run := range r.Runs {
		if run.Broker == name {
			xs = append(xs, f(run))
		}
	}
	return spanOf(xs)
}

// ratio returns Samsa's figure over kfake's, round by round.
func (r *results) ratio(f metric) span {
	by := map[int]map[string]float64{}
	for _, run := range r.Runs {
		if by[run.Round] == nil {
			by[run.Round] = map[string]float64{}
		}
		by[run.Round][run.Broker] = f(run)
	}
	var xs []float64
	for _, m := range by {
		s, okS := m[samsa]
		k, okK := m[kfake]
		if okS && okK && k != 0 {
			xs = append(xs, s/k)
		}
	}
	return spanOf(xs)
}

// scaled returns s times k.
func scaled(s span, k float64) span {
	return span{Min: s.Min * k, Med: s.Med * k, Max: s.Max * k, N: s.N}
}

func produceMBps(size int) metric {
	return func(r brokerRun) float64 { return r.size(size).Produce.MBPerSec }
}
func produceRps(size int) metric {
	return func(r brokerRun) float64 { return r.size(size).Produce.RecordsPerSec }
}
func consumeMBps(size int) metric {
	return func(r brokerRun) float64 { return r.size(size).Consume.MBPerSec }
}
func consumeRps(size int) metric {
	return func(r brokerRun) float64 { return r.size(size).Consume.RecordsPerSec }
}

// cpuMs is broker CPU-ms per MB produced (consume: per MB consumed).
func cpuMs(size int, consume bool) metric {
	return func(r brokerRun) float64 {
		t := r.size(size)
		if consume {
			return cpuPerMB(t.ConsumeCPU, t.Consume.Bytes)
		}
		return cpuPerMB(t.ProduceCPU, t.Produce.Bytes)
	}
}

// cpuPerM is broker CPU-seconds per million records.
func cpuPerM(size int, consume bool) metric {
	return func(r brokerRun) float64 {
		t := r.size(size)
		cpu, n := t.ProduceCPU, t.Produce.Records
		if consume {
			cpu, n = t.ConsumeCPU, t.Consume.Records
		}
		if n == 0 {
			return 0
		}
		return cpu.Seconds() / (float64(n) / 1e6)
	}
}

// cores is the broker's (or with client, the load generator's) CPU time
// over the run's wall time.
func cores(size int, consume, client bool) metric {
	return func(r brokerRun) float64 {
		t := r.size(size)
		cpu, secs := t.ProduceCPU, t.Produce.Seconds
		if client {
			cpu = t.ProduceClientCPU
		}
		if consume {
			cpu, secs = t.ConsumeCPU, t.Consume.Seconds
			if client {
				cpu = t.ConsumeClientCPU
			}
		}
		if secs == 0 {
			return 0
		}
		return cpu.Seconds() / secs
	}
}

// e2eWall is an end-to-end run's length: to the last arrival.
func e2eWall(res perf.E2EResult) float64 {
	if res.ConsumedPerSec > 0 {
		return float64(res.Consumed) / res.ConsumedPerSec
	}
	return res.Seconds
}

// e2eCores is "broker / client" cores busy in an end-to-end run.
func (r *results) e2eCores(name string, pt point) string {
	per := func(cpu func(l latency) time.Duration) span {
		return r.of(name, func(run brokerRun) float64 {
			l := run.at(pt)
			if w := e2eWall(l.Result); w > 0 {
				return cpu(l).Seconds() / w
			}
			return 0
		})
	}
	return per(func(l latency) time.Duration { return l.BrokerCPU }).String() + " / " +
		per(func(l latency) time.Duration { return l.ClientCPU }).String()
}

func e2eMs(pt point, f func(l latency) time.Duration) metric {
	return func(r brokerRun) float64 { return ms(f(r.at(pt))) }
}

func rateAt(pt point) metric {
	return func(r brokerRun) float64 { return r.at(pt).Rate }
}

func sizeName(size int) string {
	if size == 1024 {
		return "1 KiB"
	}
	return fmt.Sprintf("%d B", size)
}

// target is one of issue 4's targets for Samsa.
type target struct {
	What     string
	Measured span
	Unit     string
	Met      int // rounds that met it
	Of       int
}

func (t target) verdict() string {
	switch {
	case t.Of == 0:
		return "not measured"
	case t.Met == t.Of:
		return fmt.Sprintf("**yes** (%d of %d round%s)", t.Met, t.Of, plural(t.Of))
	}
	return fmt.Sprintf("**no** (%d of %d round%s)", t.Met, t.Of, plural(t.Of))
}

// count returns how many of a span's rounds pass ok, recomputed from the
// runs.
func (r *results) count(name string, f metric, ok func(float64) bool) (met, of int) {
	for _, run := range r.Runs {
		if run.Broker == name {
			of++
			if ok(f(run)) {
				met++
			}
		}
	}
	return met, of
}

func (r *results) ratioCount(f metric, ok func(float64) bool) (met, of int) {
	by := map[int]map[string]float64{}
	for _, run := range r.Runs {
		if by[run.Round] == nil {
			by[run.Round] = map[string]float64{}
		}
		by[run.Round][run.Broker] = f(run)
	}
	for _, m := range by {
		s, okS := m[samsa]
		k, okK := m[kfake]
		if okS && okK && k != 0 {
			of++
			if ok(s / k) {
				met++
			}
		}
	}
	return met, of
}

// targets evaluates issue 4's targets.
func (r *results) targets() []target {
	var ts []target
	add := func(what, unit string, s span, met, of int) {
		ts = append(ts, target{What: what, Measured: s, Unit: unit, Met: met, Of: of})
	}
	m, o := r.count(samsa, cpuMs(1024, false), func(v float64) bool { return v <= 2 })
	add("broker CPU ≤ 2 ms per MB produced (1 KiB, acks=1, no compression)", "CPU-ms/MB", r.of(samsa, cpuMs(1024, false)), m, o)
	m, o = r.count(samsa, cpuMs(1024, true), func(v float64) bool { return v <= 1 })
	add("broker CPU ≤ 1 ms per MB consumed (1 KiB)", "CPU-ms/MB", r.of(samsa, cpuMs(1024, true)), m, o)
	m, o = r.ratioCount(produceMBps(1024), func(v float64) bool { return v >= 2 })
	add("produce throughput ≥ 2× kfake's (1 KiB, same run)", "× kfake", r.ratio(produceMBps(1024)), m, o)
	// The maximum sustainable end-to-end rate is the one measured with the
	// consumer attached (BENCHMARKING.md: latency at a share of the maximum
	// sustainable rate); 50% of the produce-only maximum overloads a
	// machine whose cores the consumer shares.
	p99 := e2eMs(point{ofE2E, 50}, func(l latency) time.Duration { return l.Result.Latency.P99 })
	m, o = r.count(samsa, p99, func(v float64) bool { return v < 5 })
	add("end-to-end p99 < 5 ms at 50% of the maximum sustainable end-to-end rate (1 KiB)", "ms", r.of(samsa, p99), m, o)
	return ts
}

// markdown renders the broker section of docs/BENCHMARKS.md.
func (r *results) markdown(svgName string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p := r.Plan
	w("## Broker, end to end: Samsa beside kfake (`make bench`)\n\n")
	w("Generated by `make bench` (`go run ./bench`) on %s at commit %s; rerun it rather than editing this section. ",
		r.Date.UTC().Format("2006-01-02 15:04 UTC"), r.Commit)
	w("The whole run, limits included, took %s.\n\n", r.WallTime.Round(time.Second))

	w("### Machine\n\n%s\n", r.Limits.markdown())

	w("### Conditions\n\n")
	w("- **Brokers**: Samsa (`samsa server`, one node that is broker and controller, default settings, data on the file system the limits above were measured on); kfake (`github.com/twmb/franz-go/pkg/kfake` %s, one in-memory broker in its own process, `bench/cmd/kfake`). Each broker is a fresh process per round.\n", r.Kfake)
	w("- **Durability**: replication factor 1, min.insync.replicas 1, **acks=1**, idempotence off. Samsa fsyncs each batch before acknowledging it (its default; group commit shares one fsync among waiting requests); kfake keeps everything in memory and never touches the disk.\n")
	w("- **Records**: %s values of pseudorandom bytes, no keys, **no compression**; a topic of %d partitions per workload.\n", joinSizes(p.RecordSizes), partitions)
	w("- **Clients**: one producer and one consumer (franz-go kgo %s, %s) in the harness process, which shares the machine's cores with the broker. Producer: linger 0, up to 5 produce requests in flight, batches up to 1 MB, 50,000 records buffered. Consumer: by assignment (no group), from the start, fetches up to 50 MiB (1 MiB per partition).\n", r.Kgo, r.Go)
	w("- **Runs**: %d round%s, alternating Samsa and kfake (Samsa, kfake, Samsa, ...). Per round and broker: produce as fast as acknowledged for %s, then consume it from the start (for at most as long), for each record size; then end-to-end runs of %s of 1 KiB records: one as fast as possible with the consumer attached (\"max e2e\": the highest rate records made it through), then at %s. Every cell is the range (min–max) over the rounds; ratios are taken round by round.\n",
		p.Rounds, plural(p.Rounds), p.Produce, p.E2E, joinPoints(p.Points))
	w("- **CPU**: the broker process's utime + stime from `/proc/PID/stat` (10 ms ticks) before and after each run. CPU-ms per MB equals CPU-s per GB. MB = 10^6 bytes of record values (and keys) as the client sees them.\n")
	w("- **Latency**: open loop. Sends are scheduled at fixed intervals and latency runs from each record's *scheduled* send time (stamped in its value) to its arrival at the consumer, so a stall counts against every record it delays (no coordinated omission).\n\n")

	w("### Throughput\n\n")
	w("| workload | Samsa | kfake | Samsa ÷ kfake | Samsa ÷ loopback | kfake ÷ loopback |\n|---|---|---|---|---|---|\n")
	lb := r.Limits.LoopbackMBps
	for _, size := range p.RecordSizes {
		for _, dir := range []struct {
			name     string
			mb, recs metric
		}{{"produce", produceMBps(size), produceRps(size)}, {"consume", consumeMBps(size), consumeRps(size)}} {
			s, k := r.of(samsa, dir.mb), r.of(kfake, dir.mb)
			w("| %s %s, MB/s | %s | %s | %s | %s | %s |\n", dir.name, sizeName(size), s, k, r.ratio(dir.mb).times(),
				scaled(s, 1/lb).percent(), scaled(k, 1/lb).percent())
			w("| %s %s, records/s | %s | %s | %s | | |\n", dir.name, sizeName(size),
				r.of(samsa, dir.recs).count(), r.of(kfake, dir.recs).count(), r.ratio(dir.recs).times())
		}
	}
	w("\nLoopback is one iperf3 TCP stream (%.0f MB/s). ", lb)
	if r.Limits.SeqWriteMBps > 0 {
		w("Samsa writes and fsyncs every produced byte: its 1 KiB produce ran at %s of the disk's fio sequential write (%.0f MB/s).",
			scaled(r.of(samsa, produceMBps(1024)), 1/r.Limits.SeqWriteMBps).percent(), r.Limits.SeqWriteMBps)
	}
	w("\n\n### Broker CPU\n\n")
	w("| workload | Samsa CPU-ms per MB | kfake CPU-ms per MB | Samsa ÷ kfake | Samsa CPU-s per million records | kfake CPU-s per million records |\n|---|---|---|---|---|---|\n")
	dirs := []struct {
		name    string
		consume bool
	}{{"produce", false}, {"consume", true}}
	for _, size := range p.RecordSizes {
		for _, d := range dirs {
			w("| %s %s | %s | %s | %s | %s | %s |\n", d.name, sizeName(size),
				r.of(samsa, cpuMs(size, d.consume)), r.of(kfake, cpuMs(size, d.consume)), r.ratio(cpuMs(size, d.consume)).times(),
				r.of(samsa, cpuPerM(size, d.consume)), r.of(kfake, cpuPerM(size, d.consume)))
		}
	}
	w("\nWhere the cores went: CPU time over the run's wall time, of the broker and of the load generator (the harness process: producer or consumer) in the same run; the machine has %s.\n\n", coresText(r.Limits.Text))
	w("| workload | Samsa | its load generator | kfake | its load generator |\n|---|---|---|---|---|\n")
	for _, size := range p.RecordSizes {
		for _, d := range dirs {
			w("| %s %s | %s | %s | %s | %s |\n", d.name, sizeName(size),
				r.of(samsa, cores(size, d.consume, false)), r.of(samsa, cores(size, d.consume, true)),
				r.of(kfake, cores(size, d.consume, false)), r.of(kfake, cores(size, d.consume, true)))
		}
	}
	w("\n")

	w("### End-to-end latency, 1 KiB records\n\n")
	w("Each broker at a share of its own rates from the same round: \"max produce\" is the 1 KiB produce rate of the Throughput table (no consumer running); \"max e2e\" the rate records made it through when produced as fast as possible with the consumer attached, where producer, consumer and broker share the cores. ")
	w("Max e2e: Samsa %s, kfake %s records/s (broker / load generator cores busy: Samsa %s / %s, kfake %s / %s). ",
		r.of(samsa, e2eMax).count(), r.of(kfake, e2eMax).count(),
		r.of(samsa, e2eMaxCores(false)), r.of(samsa, e2eMaxCores(true)), r.of(kfake, e2eMaxCores(false)), r.of(kfake, e2eMaxCores(true)))
	w("Latency runs from the scheduled send to the consumer; \"ack p99\" is the producer's acknowledgement latency and \"send lag p99\" the generator's own lateness (part of both), in the same run; \"cores\" are the broker's and the load generator's (producer and consumer) cores busy.\n\n")
	w("| broker | load | rate, records/s | p50 ms | p99 ms | p99.9 ms | max ms | ack p99 ms | send lag p99 ms | cores |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, pt := range p.Points {
		for _, name := range []string{samsa, kfake} {
			lat := func(f func(l latency) time.Duration) string { return r.of(name, e2eMs(pt, f)).String() }
			w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, pt, r.of(name, rateAt(pt)).count(),
				lat(func(l latency) time.Duration { return l.Result.Latency.P50 }),
				lat(func(l latency) time.Duration { return l.Result.Latency.P99 }),
				lat(func(l latency) time.Duration { return l.Result.Latency.P999 }),
				lat(func(l latency) time.Duration { return l.Result.Latency.Max }),
				lat(func(l latency) time.Duration { return l.Result.ProduceLatency.P99 }),
				lat(func(l latency) time.Duration { return l.Result.SendLag.P99 }), r.e2eCores(name, pt))
		}
	}
	w("\n![End-to-end latency percentiles of Samsa and kfake](%s)\n\n", svgName)

	w("### Issue 4 targets\n\n| target (Samsa, single node) | measured | met |\n|---|---|---|\n")
	for _, t := range r.targets() {
		w("| %s | %s %s | %s |\n", t.What, t.Measured, t.Unit, t.verdict())
	}
	w("\n")
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func joinSizes(sizes []int) string {
	var s []string
	for _, size := range sizes {
		s = append(s, sizeName(size))
	}
	return strings.Join(s, " and ")
}

func joinPoints(pts []point) string {
	var s []string
	for _, p := range pts {
		s = append(s, p.String())
	}
	return strings.Join(s, ", ")
}

func e2eMax(r brokerRun) float64 { return r.E2EMax.ConsumedPerSec }

func e2eMaxCores(client bool) metric {
	return func(r brokerRun) float64 {
		cpu := r.E2EMaxBrokerCPU
		if client {
			cpu = r.E2EMaxClientCPU
		}
		if w := e2eWall(r.E2EMax); w > 0 {
			return cpu.Seconds() / w
		}
		return 0
	}
}

// coresText finds "N cores" in the limits' heading.
func coresText(limitsText string) string {
	for _, f := range strings.Split(limitsText, ",") {
		if f = strings.TrimSpace(f); strings.HasSuffix(f, " cores") {
			return f
		}
	}
	return "its cores"
}

// Markers around the generated section of docs/BENCHMARKS.md; everything
// outside them is kept as it is.
const (
	beginMark = "<!-- begin: generated by make bench (go run ./bench) -->"
	endMark   = "<!-- end: generated by make bench -->"
)

// splice puts section between the markers of doc, or, when doc has none,
// after its first paragraph following the title.
func splice(doc, section string) string {
	block := beginMark + "\n" + section + endMark + "\n"
	if i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark); i >= 0 && j > i {
		return doc[:i] + block + "\n" + strings.TrimLeft(doc[j+len(endMark):], "\n")
	}
	if i := strings.Index(doc, "\n## "); i >= 0 {
		return doc[:i+1] + block + "\n" + doc[i+1:]
	}
	return doc + "\n" + block
}

// writeDoc splices the section into path.
func writeDoc(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if len(old) == 0 {
		old = []byte("# Benchmarks\n")
	}
	return os.WriteFile(path, []byte(splice(string(old), section)), 0o644)
}
