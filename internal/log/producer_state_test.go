package log

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
)

// pbatch builds a batch of n records from producer pid at epoch, starting
// at sequence seq.
func pbatch(t testing.TB, ts int64, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	rs := make([]record.Record, n)
	for i := range rs {
		rs[i] = record.Record{OffsetDelta: int32(i), Value: fmt.Appendf(nil, "p%d-e%d-s%d", pid, epoch, int64(seq)+int64(i))}
	}
	b, err := record.Build(record.BatchSpec{BaseTimestamp: ts, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: -1}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProducerStateRules runs scripts of appends against the producer state
// with Kafka's ProducerAppendInfo rules. Each step is
// "<pid> <epoch> <first seq> <records> -> <want>", where want is "ok",
// "dup <first offset>", "oos" (OUT_OF_ORDER_SEQUENCE_NUMBER) or "epoch"
// (INVALID_PRODUCER_EPOCH); "replica ..." appends as a follower (no
// checks); "expire <idle ms>" expires at the current clock, which each step
// moves 1 ms, and "state <pid> <epoch> <last seq>" or "state <pid> gone"
// checks an entry.
func TestProducerStateRules(t *testing.T) {
	const max = math.MaxInt32
	cases := []struct {
		name  string
		steps []string
	}{
		{"in order, then a gap and a repeat of an old sequence", []string{
			"1 0 0 3 -> ok", "1 0 3 2 -> ok", "1 0 6 1 -> oos", "1 0 4 1 -> oos", "1 0 5 1 -> ok", "state 1 0 5",
		}},
		{"a retry of any of the last five batches gets its first offsets", []string{
			"1 0 0 2 -> ok", "1 0 2 2 -> ok", "1 0 4 2 -> ok", "1 0 6 2 -> ok", "1 0 8 2 -> ok",
			"1 0 0 2 -> dup 0", "1 0 4 2 -> dup 4", "1 0 8 2 -> dup 8",
			"1 0 10 2 -> ok", // the sixth batch pushes the first out
			"1 0 0 2 -> oos", "1 0 2 2 -> dup 2",
			"1 0 2 1 -> oos", // same first sequence, other length: not a duplicate
			"state 1 0 11",
		}},
		{"producers are independent; an unknown producer may start anywhere (KIP-360)", []string{
			"1 0 0 1 -> ok", "2 0 77 1 -> ok", "1 0 1 1 -> ok", "2 0 78 1 -> ok", "2 0 80 1 -> oos", "state 2 0 78",
		}},
		{"stale epoch is INVALID_PRODUCER_EPOCH, even for a batch seen before", []string{
			"1 3 0 1 -> ok", "1 2 0 1 -> epoch", "1 2 1 1 -> epoch", "state 1 3 0",
		}},
		{"an epoch bump restarts at sequence 0 and forgets the old batches", []string{
			"1 0 0 5 -> ok", "1 1 5 1 -> oos", "1 1 0 1 -> ok", "1 0 5 1 -> epoch", "1 1 0 1 -> dup 5", "1 1 1 1 -> ok", "state 1 1 1",
		}},
		{"sequences wrap from int32 max to 0", []string{
			fmt.Sprintf("1 0 %d 1 -> ok", max-1), fmt.Sprintf("1 0 %d 1 -> ok", max), "1 0 0 2 -> ok", "1 0 0 2 -> dup 2", "1 0 2 1 -> ok", "state 1 0 2",
		}},
		{"a batch that wraps inside itself", []string{
			fmt.Sprintf("1 0 %d 3 -> ok", max-1), "state 1 0 0", "1 0 1 1 -> ok", fmt.Sprintf("1 0 %d 3 -> dup 0", max-1),
		}},
		{"batches without a producer id are not looked at", []string{
			"-1 -1 -1 3 -> ok", "-1 -1 -1 3 -> ok", "1 0 0 1 -> ok", "-1 -1 -1 1 -> ok", "1 0 1 1 -> ok",
		}},
		{"a replica append records without checking", []string{
			"1 0 0 1 -> ok", "replica 1 0 5 1 -> ok", "state 1 0 5", "1 0 6 1 -> ok", "replica 1 0 2 1 -> ok", "state 1 0 2",
		}},
		{"expiration forgets idle producers, who may then start anywhere", []string{
			"1 0 0 1 -> ok", "2 0 0 1 -> ok", "expire 10", "state 1 0 0", "1 0 1 1 -> ok",
			"expire 3", "state 2 gone", "state 1 0 1", "2 0 9 1 -> ok", "expire 1", "state 1 gone", "state 2 gone",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runProducerScript(t, tc.steps)
		})
	}
}

func runProducerScript(t *testing.T, steps []string) {
	ps := newProducerState()
	now := time.UnixMilli(1_700_000_000_000)
	var leo int64
	for i, step := range steps {
		now = now.Add(time.Millisecond)
		f := strings.Fields(step)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("step %d %q: %s", i, step, fmt.Sprintf(format, args...))
		}
		switch f[0] {
		case "expire":
			var ms int64
			fmt.Sscan(f[1], &ms)
			ps.expire(now, time.Duration(ms)*time.Millisecond)
			continue
		case "state":
			var pid int64
			fmt.Sscan(f[1], &pid)
			e := ps.producers[pid]
			if f[2] == "gone" {
				if e != nil {
					fail("producer still there: %+v", e)
				}
				continue
			}
			var epoch int16
			var last int32
			fmt.Sscan(f[2], &epoch)
			fmt.Sscan(f[3], &last)
			if e == nil || e.Epoch != epoch || e.LastSeq() != last {
				fail("entry %+v", e)
			}
			continue
		}
		replica := f[0] == "replica"
		if replica {
			f = f[1:]
		}
		var pid int64
		var epoch int16
		var seq int32
		var n int
		fmt.Sscan(f[0], &pid)
		fmt.Sscan(f[1], &epoch)
		fmt.Sscan(f[2], &seq)
		fmt.Sscan(f[3], &n)
		b := pbatch(t, now.UnixMilli(), pid, epoch, seq, n)
		h, err := record.ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		h.BaseOffset = leo
		var dup *BatchMetadata
		if !replica {
			dup, err = ps.check(&h)
		}
		got := "ok"
		switch {
		case dup != nil:
			got = fmt.Sprintf("dup %d", dup.FirstOffset)
		case err != nil && errors.Is(err, ErrOutOfOrderSequence):
			got = "oos"
		case err != nil && errors.Is(err, ErrInvalidProducerEpoch):
			got = "epoch"
		case err != nil:
			fail("unexpected error %v", err)
		}
		if want := strings.Join(f[5:], " "); got != want {
			fail("got %q, want %q (err %v)", got, want, err)
		}
		if got == "ok" {
			ps.update(&h)
			leo = h.NextOffset()
		}
	}
}
