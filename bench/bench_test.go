package main

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/cli/perf"
)

func TestParseStatCPUCountsAfterTheCommandName(t *testing.T) {
	// the command name may hold spaces and parentheses
	stat := "4242 (samsa (x) y) S 1 2 3 0 -1 4194560 909 0 0 0 250 75 0 0 20 0 7 0 1250635"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3250*time.Millisecond {
		t.Fatalf("got %v, %v; want 325 ticks = 3.25 s", got, err)
	}
	if _, err := parseStatCPU("4242 (samsa) S 1 2"); err == nil {
		t.Fatal("a short stat line parsed")
	}
}

func TestParseLimits(t *testing.T) {
	text := `## Machine limits (2026-11-24, 2 cores, 23 GiB)

cpu: AMD EPYC
loopback TCP, one stream (iperf3 -t 5): 1.48 GB/s
sequential write, 1 MiB blocks, 2 GiB + fsync (fio): 227 MB/s
CRC-32C, one core (Go, 1 MiB): 18.8 GB/s
`
	l, err := parseLimits(text)
	if err != nil || l.LoopbackMBps != 1480 || l.SeqWriteMBps != 227 {
		t.Fatalf("%+v, %v", l, err)
	}
	md := l.markdown()
	if !strings.HasPrefix(md, "Machine limits (2026-11-24, 2 cores, 23 GiB):\n\n- cpu: AMD EPYC\n") || !strings.Contains(md, "- CRC-32C") {
		t.Errorf("markdown:\n%s", md)
	}
	if coresText(text) != "2 cores" {
		t.Errorf("cores: %q", coresText(text))
	}
	if _, err := parseLimits("nothing"); err == nil {
		t.Error("limits without figures parsed")
	}
}

func TestSpliceKeepsEverythingOutsideTheMarkers(t *testing.T) {
	doc := "# Benchmarks\n\nIntro.\n\n## In process\n\nold numbers\n"
	once := splice(doc, "## Broker\n\nv1\n")
	if !strings.HasPrefix(once, "# Benchmarks\n\nIntro.\n\n"+beginMark+"\n## Broker\n\nv1\n"+endMark+"\n\n## In process\n\nold numbers\n") {
		t.Fatalf("first splice:\n%s", once)
	}
	twice := splice(once, "## Broker\n\nv2\n")
	if strings.Contains(twice, "v1") || !strings.Contains(twice, "v2") || strings.Count(twice, beginMark) != 1 ||
		!strings.HasSuffix(twice, endMark+"\n\n## In process\n\nold numbers\n") {
		t.Fatalf("second splice:\n%s", twice)
	}
}

func TestSpanFormatting(t *testing.T) {
	s := spanOf([]float64{3, 1, 2})
	if s.Min != 1 || s.Med != 2 || s.Max != 3 || s.String() != "1.00–3.00" {
		t.Errorf("%+v %q", s, s)
	}
	if got := spanOf([]float64{265200, 272306}).count(); got != "265–272 k" {
		t.Errorf("count: %q", got)
	}
	if got := spanOf([]float64{0.5, 0.52}).percent(); got != "50.0–52.0%" {
		t.Errorf("percent: %q", got)
	}
	if got := (span{}).String(); got != "—" {
		t.Errorf("empty: %q", got)
	}
}

func TestParsePoints(t *testing.T) {
	pts, err := parsePoints("produce:50, e2e:25")
	if err != nil || len(pts) != 2 || pts[0] != (point{ofProduce, 50}) || pts[1] != (point{ofE2E, 25}) {
		t.Fatalf("%v, %v", pts, err)
	}
	for _, bad := range []string{"50", "disk:50", "e2e:0", "e2e:101"} {
		if _, err := parsePoints(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// fakeResults is two rounds of made-up numbers.
func fakeResults() *results {
	r := &results{Date: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC), Commit: "abc1234",
		Plan:   plan{Rounds: 2, Produce: 10 * time.Second, E2E: 6 * time.Second, RecordSizes: []int{1024, 100}, Points: []point{{ofProduce, 50}, {ofE2E, 50}}},
		Limits: limits{Text: "## Machine limits (x, 2 cores, 1 GiB)\nloopback TCP: 1.5 GB/s", LoopbackMBps: 1500, SeqWriteMBps: 250}}
	for round := 1; round <= 2; round++ {
		for _, name := range []string{samsa, kfake} {
			scale := 1.0
			if name == kfake {
				scale = 0.5
			}
			run := brokerRun{Broker: name, Round: round}
			for _, size := range r.Plan.RecordSizes {
				bytes := int64(200e6 * scale)
				run.Throughput = append(run.Throughput, throughput{RecordSize: size,
					Produce:    perf.ProduceResult{Records: bytes / int64(size), Bytes: bytes, Seconds: 1, MBPerSec: 200 * scale, RecordsPerSec: float64(bytes / int64(size))},
					Consume:    perf.ConsumeResult{Records: bytes / int64(size), Bytes: bytes, Seconds: 1, MBPerSec: 200 * scale, RecordsPerSec: float64(bytes / int64(size))},
					ProduceCPU: time.Duration(float64(300*time.Millisecond) * float64(round)), ConsumeCPU: 150 * time.Millisecond})
			}
			run.E2EMax.ConsumedPerSec = 100000 * scale
			for _, pt := range r.Plan.Points {
				l := perf.Latency{Count: 10, P50: time.Millisecond, P99: time.Duration(round) * 3 * time.Millisecond, P999: 8 * time.Millisecond, Max: 9 * time.Millisecond}
				run.E2E = append(run.E2E, latency{Point: pt, Rate: run.basis(pt) * float64(pt.Percent) / 100,
					Result: perf.E2EResult{Latency: l, ProduceLatency: l, SendLag: l}})
			}
			r.Runs = append(r.Runs, run)
		}
	}
	return r
}

func TestTargetsCountRounds(t *testing.T) {
	ts := fakeResults().targets()
	// Samsa: 1.5 and 3 CPU-ms/MB produced; 0.75 consumed; 2x kfake; p99 3 and 6 ms.
	want := []struct {
		met     int
		measure string
	}{{1, "1.50–3.00"}, {2, "0.750"}, {2, "2.00"}, {1, "3.00–6.00"}}
	for i, w := range want {
		if ts[i].Met != w.met || ts[i].Of != 2 || ts[i].Measured.String() != w.measure {
			t.Errorf("target %q: met %d of %d, measured %s; want %d of 2, %s", ts[i].What, ts[i].Met, ts[i].Of, ts[i].Measured, w.met, w.measure)
		}
	}
}

func TestReportAndChartRender(t *testing.T) {
	r := fakeResults()
	md := r.markdown("chart.svg")
	for _, want := range []string{"### Throughput", "| produce 1 KiB, MB/s | 200 | 100 | 2.00× | 13.3% | 6.67% |",
		"![End-to-end latency", "(chart.svg)", "### Issue 4 targets", "**no** (1 of 2 rounds)", "50% of max produce"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	svg := r.svg()
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("chart is not well-formed XML: %v", err)
	}
	// 2 points x 2 brokers x 3 percentiles, plus 6 legend boxes and the background
	if n := strings.Count(svg, "<rect "); n != 12+6+1 {
		t.Errorf("%d rects in the chart, want 19", n)
	}
}
