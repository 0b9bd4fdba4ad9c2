package main

// The checker: a pure function from what the producers were told (every
// acknowledged record with its partition and offset), the faults with
// their times, and what the cluster reads back after healing, to the
// anomalies a correct acks=all, idempotent Kafka must never show and the
// produce unavailability around each fault.

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ack is one acknowledged record, as the producer's callback saw it.
type Ack struct {
	Producer  int
	Seq       int64 // the producer's send order, across all partitions
	Partition int32
	Offset    int64
	At        time.Time
}

// Read is one record read back after healing.
type Read struct {
	Partition int32
	Offset    int64
	Value     []byte
}

// Fault is one injected fault: started, healed (the injector undid it),
// and ended (the cluster was healthy again and settled, or gave up).
type Fault struct {
	Kind      string
	Target    string
	Start     time.Time
	Healed    time.Time
	Whole     time.Time // the cluster was whole again (zero: never)
	End       time.Time
	Recovered bool   // the cluster was whole again before End
	Note      string // what went wrong injecting or healing, if anything
}

// History is everything the run recorded.
type History struct {
	Acks   []Ack
	Faults []Fault
}

// recordValue is the value of producer's record seq; parseValue inverts it.
func recordValue(producer int, seq int64) []byte {
	return fmt.Appendf(nil, "%d/%d", producer, seq)
}

func parseValue(v []byte) (producer int, seq int64, ok bool) {
	p, s, found := strings.Cut(string(v), "/")
	pn, err1 := strconv.Atoi(p)
	sn, err2 := strconv.ParseInt(s, 10, 64)
	return pn, sn, found && err1 == nil && err2 == nil
}

type recordID struct {
	Producer int
	Seq      int64
}

type position struct {
	Partition int32
	Offset    int64
}

func (p position) String() string { return fmt.Sprintf("%d/%d", p.Partition, p.Offset) }

// Changed is an acknowledged record that does not read back at the
// partition/offset it was acknowledged at.
type Changed struct {
	Ack   Ack
	Found string // what the acked position holds: "nothing" or another record
	At    []position
}

// Duplicate is a record that reads back more than once.
type Duplicate struct {
	ID recordID
	At []position
}

// Reorder is a pair of one producer's records, adjacent in one
// partition's log, in the opposite of their send order.
type Reorder struct {
	Partition                 int32
	Producer                  int
	FirstSeq, SecondSeq       int64
	FirstOffset, SecondOffset int64
}

// Window is the produce unavailability across one fault: the longest
// time without an acknowledgement between its start and end, overall
// and in the worst partition.
type Window struct {
	Overall        time.Duration
	WorstPartition time.Duration
	Partition      int32
}

// Result is the checker's verdict.
type Result struct {
	Acked, ReadBack int
	Unacked         int // read back but never acknowledged: allowed
	Lost            []Ack
	Changed         []Changed
	Duplicates      []Duplicate
	Reorders        []Reorder
	Garbled         []Read  // values no producer of this run wrote
	Unrecovered     []Fault // faults after which the cluster never became whole
	Windows         []Window
}

// Anomalies counts every violation; a correct run has none.
func (r Result) Anomalies() int {
	return len(r.Lost) + len(r.Changed) + len(r.Duplicates) + len(r.Reorders) + len(r.Garbled) + len(r.Unrecovered)
}

// Check compares the history with the read-back.
func Check(h History, reads []Read) Result {
	reads = slices.Clone(reads)
	slices.SortFunc(reads, func(a, b Read) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
	})
	res := Result{Acked: len(h.Acks), ReadBack: len(reads)}
	where, at := index(reads, &res)
	acked := map[recordID]bool{}
	for _, a := range h.Acks {
		id := recordID{a.Producer, a.Seq}
		acked[id] = true
		checkAck(a, where[id], at, &res)
	}
	for id, ps := range where {
		if len(ps) > 1 {
			res.Duplicates = append(res.Duplicates, Duplicate{ID: id, At: ps})
		}
		if !acked[id] {
			res.Unacked++
		}
	}
	slices.SortFunc(res.Duplicates, func(a, b Duplicate) int { return comparePos(a.At[0], b.At[0]) })
	res.Reorders = reorders(reads)
	res.Windows = windows(h.Acks, h.Faults)
	for _, f := range h.Faults {
		if !f.Recovered {
			res.Unrecovered = append(res.Unrecovered, f)
		}
	}
	return res
}

func comparePos(a, b position) int {
	return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Offset, b.Offset))
}

// index maps each record read back to its positions, and each position
// to its record; values that are not ours are Garbled.
func index(reads []Read, res *Result) (map[recordID][]position, map[position]recordID) {
	where := map[recordID][]position{}
	at := map[position]recordID{}
	for _, r := range reads {
		p, s, ok := parseValue(r.Value)
		if !ok {
			res.Garbled = append(res.Garbled, r)
			continue
		}
		id, pos := recordID{p, s}, position{r.Partition, r.Offset}
		where[id] = append(where[id], pos)
		at[pos] = id
	}
	return where, at
}

// checkAck records a as Lost when it does not read back at all, and as
// Changed when its acknowledged position holds something else or it
// reads back elsewhere.
func checkAck(a Ack, found []position, at map[position]recordID, res *Result) {
	id, pos := recordID{a.Producer, a.Seq}, position{a.Partition, a.Offset}
	if len(found) == 0 {
		res.Lost = append(res.Lost, a)
	}
	got, occupied := at[pos]
	if got == id {
		return
	}
	if occupied || len(found) > 0 {
		what := "nothing"
		if occupied {
			what = fmt.Sprintf("record %d/%d", got.Producer, got.Seq)
		}
		res.Changed = append(res.Changed, Changed{Ack: a, Found: what, At: found})
	}
}

// reorders finds, per partition and producer, adjacent records (first
// copies only: a duplicate is reported as one) whose send order is
// reversed. reads are sorted by partition and offset.
func reorders(reads []Read) []Reorder {
	type key struct {
		part int32
		prod int
	}
	type last struct{ seq, off int64 }
	prev := map[key]last{}
	seen := map[recordID]bool{}
	var out []Reorder
	for _, r := range reads {
		p, s, ok := parseValue(r.Value)
		if !ok || seen[recordID{p, s}] {
			continue
		}
		seen[recordID{p, s}] = true
		k := key{r.Partition, p}
		if l, ok := prev[k]; ok && s < l.seq {
			out = append(out, Reorder{Partition: r.Partition, Producer: p,
				FirstSeq: l.seq, SecondSeq: s, FirstOffset: l.off, SecondOffset: r.Offset})
		}
		prev[k] = last{s, r.Offset}
	}
	return out
}

// windows measures each fault's longest gap between acknowledgements.
func windows(acks []Ack, faults []Fault) []Window {
	var all []time.Time
	byPart := map[int32][]time.Time{}
	for _, a := range acks {
		all = append(all, a.At)
		byPart[a.Partition] = append(byPart[a.Partition], a.At)
	}
	slices.SortFunc(all, time.Time.Compare)
	for _, ts := range byPart {
		slices.SortFunc(ts, time.Time.Compare)
	}
	parts := make([]int32, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	out := make([]Window, len(faults))
	for i, f := range faults {
		out[i].Overall = longestGap(all, f.Start, f.End)
		for _, p := range parts {
			if g := longestGap(byPart[p], f.Start, f.End); g > out[i].WorstPartition {
				out[i].WorstPartition, out[i].Partition = g, p
			}
		}
	}
	return out
}

// longestGap is the longest interval in [start, end] without a time of
// ts (sorted): the gaps between start, each time inside, and end.
func longestGap(ts []time.Time, start, end time.Time) time.Duration {
	i, _ := slices.BinarySearchFunc(ts, start, time.Time.Compare)
	prev, gap := start, time.Duration(0)
	for ; i < len(ts) && ts[i].Before(end); i++ {
		gap = max(gap, ts[i].Sub(prev))
		prev = ts[i]
	}
	return max(gap, end.Sub(prev))
}
