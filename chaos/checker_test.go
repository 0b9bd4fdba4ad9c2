package main

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// cleanRun is a correct run: producers send n records each, round-robin
// over partitions, every one acknowledged at the offset it reads back at,
// one acknowledgement every 10ms.
func cleanRun(producers, partitions, n int) (History, []Read) {
	var h History
	var reads []Read
	next := make([]int64, partitions)
	for seq := range int64(n) {
		for p := range producers {
			part := int32((seq + int64(p)) % int64(partitions))
			off := next[part]
			next[part]++
			h.Acks = append(h.Acks, Ack{Producer: p, Seq: seq, Partition: part, Offset: off,
				At: t0.Add(time.Duration(len(h.Acks)) * 10 * time.Millisecond)})
			reads = append(reads, Read{Partition: part, Offset: off, Value: recordValue(p, seq)})
		}
	}
	return h, reads
}

// counts is the shape of a Result that the tests compare.
type counts struct{ lost, changed, dups, reorders, garbled, unacked int }

func countsOf(r Result) counts {
	return counts{len(r.Lost), len(r.Changed), len(r.Duplicates), len(r.Reorders), len(r.Garbled), r.Unacked}
}

// findRead returns the index in reads of partition/offset.
func findRead(t *testing.T, reads []Read, part int32, off int64) int {
	t.Helper()
	for i, r := range reads {
		if r.Partition == part && r.Offset == off {
			return i
		}
	}
	t.Fatalf("no read at %d/%d", part, off)
	return -1
}

func TestCheckerCleanRunHasNoAnomalies(t *testing.T) {
	h, reads := cleanRun(2, 3, 200)
	// The cluster may hand back records in any order; the checker sorts.
	for i, j := 0, len(reads)-1; i < j; i, j = i+1, j-1 {
		reads[i], reads[j] = reads[j], reads[i]
	}
	r := Check(h, reads)
	if got := countsOf(r); got != (counts{}) || r.Anomalies() != 0 {
		t.Fatalf("clean run: %+v", got)
	}
	if r.Acked != 400 || r.ReadBack != 400 {
		t.Fatalf("acked %d read %d, want 400 and 400", r.Acked, r.ReadBack)
	}
}

func TestCheckerCatchesEachAnomaly(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, h *History, reads []Read) []Read
		want   counts
	}{
		{"lost ack at the tail", func(t *testing.T, h *History, reads []Read) []Read {
			last := h.Acks[len(h.Acks)-1]
			i := findRead(t, reads, last.Partition, last.Offset)
			return append(reads[:i], reads[i+1:]...)
		}, counts{lost: 1}},
		{"lost ack whose offset was reused", func(t *testing.T, h *History, reads []Read) []Read {
			a := h.Acks[50]
			reads[findRead(t, reads, a.Partition, a.Offset)].Value = recordValue(7, 1)
			return reads
		}, counts{lost: 1, changed: 1, unacked: 1}},
		{"duplicate", func(t *testing.T, h *History, reads []Read) []Read {
			return append(reads, Read{Partition: 0, Offset: 1000, Value: recordValue(0, 3)})
		}, counts{dups: 1}},
		{"reordered pair, acknowledged where written", func(t *testing.T, h *History, reads []Read) []Read {
			// Producer 0's seq 3 and 6 follow each other among its records in partition 0.
			a, b := &h.Acks[6], &h.Acks[12]
			if a.Producer != 0 || b.Producer != 0 || a.Partition != b.Partition {
				t.Fatalf("test setup: %+v %+v", a, b)
			}
			i, j := findRead(t, reads, a.Partition, a.Offset), findRead(t, reads, b.Partition, b.Offset)
			reads[i].Value, reads[j].Value = reads[j].Value, reads[i].Value
			a.Offset, b.Offset = b.Offset, a.Offset
			return reads
		}, counts{reorders: 1}},
		{"changed offset", func(t *testing.T, h *History, reads []Read) []Read {
			h.Acks[20].Offset++
			return reads
		}, counts{changed: 1}},
		{"acknowledged at an offset holding another record", func(t *testing.T, h *History, reads []Read) []Read {
			h.Acks[21].Offset = h.Acks[20].Offset - 1
			h.Acks[21].Partition = h.Acks[20].Partition
			return reads
		}, counts{changed: 1}},
		{"garbled value", func(t *testing.T, h *History, reads []Read) []Read {
			return append(reads, Read{Partition: 1, Offset: 1000, Value: []byte("not ours")})
		}, counts{garbled: 1}},
		{"unacknowledged records are allowed", func(t *testing.T, h *History, reads []Read) []Read {
			h.Acks = h.Acks[:len(h.Acks)-3]
			return reads
		}, counts{unacked: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, reads := cleanRun(2, 3, 30)
			reads = c.break_(t, &h, reads)
			r := Check(h, reads)
			if got := countsOf(r); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			wantAnomalies := c.want.lost + c.want.changed + c.want.dups + c.want.reorders + c.want.garbled
			if r.Anomalies() != wantAnomalies {
				t.Fatalf("Anomalies() = %d, want %d", r.Anomalies(), wantAnomalies)
			}
		})
	}
}

func TestCheckerReportsWhereTheAnomalyIs(t *testing.T) {
	h, reads := cleanRun(1, 1, 10)
	reads[3].Value, reads[4].Value = reads[4].Value, reads[3].Value
	r := Check(h, reads)
	if len(r.Reorders) != 1 || r.Reorders[0] != (Reorder{Partition: 0, Producer: 0,
		FirstSeq: 4, SecondSeq: 3, FirstOffset: 3, SecondOffset: 4}) {
		t.Fatalf("reorders %+v", r.Reorders)
	}
	if len(r.Changed) != 2 || r.Changed[0].Found != "record 0/4" || r.Changed[0].At[0] != (position{0, 4}) {
		t.Fatalf("changed %+v", r.Changed)
	}
}

func TestCheckerUnavailabilityWindows(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	acks := []Ack{
		{Partition: 0, At: ms(0)}, {Partition: 1, At: ms(100)},
		{Partition: 0, At: ms(200)}, // fault 1 starts at 250
		{Partition: 1, At: ms(400)}, {Partition: 1, At: ms(900)},
		{Partition: 0, At: ms(1700)}, {Partition: 1, At: ms(1800)},
		{Partition: 0, At: ms(1900)}, // fault 1 ends at 2000, fault 2 spans 2000-2100
	}
	for i := range acks {
		acks[i].Seq = int64(i)
	}
	h := History{Acks: acks, Faults: []Fault{
		{Kind: "a", Start: ms(250), End: ms(2000), Recovered: true},
		{Kind: "b", Start: ms(2000), End: ms(2100), Recovered: true},
	}}
	w := Check(h, nil).Windows
	want := []Window{
		{Overall: 800 * time.Millisecond, WorstPartition: 1450 * time.Millisecond, Partition: 0},
		{Overall: 100 * time.Millisecond, WorstPartition: 100 * time.Millisecond, Partition: 0},
	}
	if len(w) != 2 || w[0] != want[0] || w[1] != want[1] {
		t.Fatalf("windows %+v, want %+v", w, want)
	}
}

// A cluster that never became whole again is an anomaly even when no
// acknowledged record was harmed.
func TestCheckerCountsUnrecoveredFaults(t *testing.T) {
	h, reads := cleanRun(1, 2, 10)
	h.Faults = []Fault{
		{Kind: "pause", Start: t0, End: t0.Add(time.Second), Recovered: true},
		{Kind: "isolate-leader", Start: t0.Add(time.Second), End: t0.Add(2 * time.Second)},
	}
	r := Check(h, reads)
	if len(r.Unrecovered) != 1 || r.Unrecovered[0].Kind != "isolate-leader" || r.Anomalies() != 1 {
		t.Fatalf("unrecovered %+v, anomalies %d", r.Unrecovered, r.Anomalies())
	}
}
