package log

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// tbatch is a transactional batch of producer pid.
func tbatch(t testing.TB, ts int64, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	rs := make([]record.Record, n)
	for i := range rs {
		rs[i] = record.Record{OffsetDelta: int32(i), Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "p%d-s%d", pid, int64(seq)+int64(i))}
	}
	b, err := record.Build(record.BatchSpec{BaseTimestamp: ts, Transactional: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: -1}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marker(t testing.TB, pid int64, epoch int16, commit bool, coordEpoch int32) []byte {
	t.Helper()
	b, err := record.BuildEndTxn(record.EndTxn{ProducerID: pid, ProducerEpoch: epoch, Commit: commit, CoordinatorEpoch: coordEpoch, Timestamp: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransactionMarkersLSOAndAbortedIndex: open transactions hold the
// first unstable offset; markers close them; an abort is indexed, survives
// a restart with and without a clean close (the index rebuilt by replay),
// and old coordinator or producer epochs are refused.
func TestTransactionMarkersLSOAndAbortedIndex(t *testing.T) {
	for _, how := range []string{"clean", "crash", "no txnindex"} {
		t.Run(how, func(t *testing.T) {
			fsys := vfs.NewMem()
			clk := newClock()
			cfg := testConfig()
			cfg.SegmentBytes = 500
			l, _ := openLog(t, fsys, cfg, clk)
			ts := clk.Now().UnixMilli()
			must := func(b []byte, tv int8) AppendResult {
				t.Helper()
				res, err := l.AppendMarker(b, 0, tv)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			a1 := must(tbatch(t, ts, 1, 0, 0, 3), 0) // producer 1 opens at 0
			if l.FirstUnstableOffset() != a1.BaseOffset {
				t.Fatalf("first unstable %d, want %d", l.FirstUnstableOffset(), a1.BaseOffset)
			}
			a2 := must(tbatch(t, ts, 2, 0, 0, 2), 0) // producer 2 opens at 3
			must(tbatch(t, ts, 1, 0, 3, 2), 0)
			m1 := must(marker(t, 1, 0, false, 5), 0) // abort producer 1
			if l.FirstUnstableOffset() != a2.BaseOffset {
				t.Fatalf("first unstable after abort %d, want %d", l.FirstUnstableOffset(), a2.BaseOffset)
			}
			want := []AbortedTxn{{ProducerID: 1, FirstOffset: a1.BaseOffset, LastOffset: m1.BaseOffset, LastStableOffset: a2.BaseOffset}}
			if got := l.AbortedTxns(0, l.LogEndOffset()); !reflect.DeepEqual(got, want) {
				t.Fatalf("aborted %+v, want %+v", got, want)
			}
			if got := l.AbortedTxns(m1.BaseOffset+1, l.LogEndOffset()); len(got) != 0 {
				t.Fatalf("a fetch past the marker got %+v", got)
			}
			// An older coordinator epoch is fenced; the same producer epoch
			// is refused for transaction version 2.
			if _, err := l.AppendMarker(marker(t, 1, 0, true, 4), 0, 0); !errors.Is(err, ErrCoordinatorFenced) {
				t.Fatalf("old coordinator epoch: %v", err)
			}
			if _, err := l.AppendMarker(marker(t, 2, 0, true, 5), 0, 2); !errors.Is(err, ErrInvalidProducerEpoch) {
				t.Fatalf("TV2 marker at the data's epoch: %v", err)
			}
			must(marker(t, 2, 1, true, 5), 2) // commit producer 2 at the bumped epoch
			if l.FirstUnstableOffset() != -1 {
				t.Fatalf("first unstable %d after every transaction closed", l.FirstUnstableOffset())
			}
			for range 20 { // roll segments past the markers
				must(tbatch(t, ts, 3, 0, 0, 1), 0)
				must(marker(t, 3, 0, true, 1), 0)
			}
			a3 := must(tbatch(t, ts, 1, 0, 5, 1), 0) // a transaction left open
			switch how {
			case "clean":
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			case "crash":
				// no close: the files stay as the appends left them
			case "no txnindex":
				l.Close()
				names, _ := fsys.List("topic-0")
				for _, n := range names {
					if b, ok := parseSegmentName(n, txnIndexSuffix); ok && b > 0 {
						fsys.Remove("topic-0/" + n)
					}
				}
				// the index is rebuilt only from what recovery replays: remove
				// the snapshots too, so it replays everything
				l.removeSnapshots(func(int64) bool { return true })
			}
			l2, _ := openLog(t, fsys, cfg, clk)
			defer l2.Close()
			if got := l2.AbortedTxns(0, l2.LogEndOffset()); !reflect.DeepEqual(got, want) {
				t.Fatalf("after reopen: aborted %+v, want %+v", got, want)
			}
			if l2.FirstUnstableOffset() != a3.BaseOffset {
				t.Fatalf("after reopen: first unstable %d, want %d", l2.FirstUnstableOffset(), a3.BaseOffset)
			}
		})
	}
}

// TestCompactionKeepsMarkersAndDropsAbortedData: an aborted record never
// shadows a committed one of its key, markers stay, and segments above the
// first unstable offset are not cleaned.
func TestCompactionKeepsMarkersAndDropsAbortedData(t *testing.T) {
	clk := newClock()
	cfg := testConfig()
	cfg.Compact, cfg.SegmentBytes, cfg.MinCleanableDirtyRatio = true, 300, 0.01
	l, _ := openLog(t, vfs.NewMem(), cfg, clk)
	defer l.Close()
	ts := clk.Now().UnixMilli()
	app := func(b []byte) {
		if _, err := l.AppendMarker(b, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	app(tbatch(t, ts, 1, 0, 0, 2)) // k0, k1 committed
	app(marker(t, 1, 0, true, 0))
	app(tbatch(t, ts, 2, 0, 0, 2)) // k0, k1 aborted
	app(marker(t, 2, 0, false, 0))
	for i := range 10 {
		app(tbatch(t, ts, 3, 0, int32(i), 1)) // k0 of producer 3, open at the end
	}
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	var committed, aborted, markers int
	for _, b := range readBatches(t, l) {
		h, _ := record.ParseHeader(b)
		switch {
		case h.Control():
			markers++
		case h.ProducerID == 1:
			committed++
		case h.ProducerID == 2:
			aborted++
		}
	}
	if committed != 1 || aborted != 0 || markers != 2 {
		t.Fatalf("after cleaning: %d committed batches (want 1), %d aborted (want 0), %d markers (want 2)", committed, aborted, markers)
	}
}

// A transaction-version-2 marker sent again (the coordinator restarted
// between writing its markers and its Complete record, so it sends them
// again at the same bumped epoch) succeeds without a second marker in the
// log; one at that epoch after the producer opened a new transaction is
// still refused, as a zombie's would be.
func TestTV2MarkerRetryIsAcceptedOnce(t *testing.T) {
	clk := newClock()
	l, _ := openLog(t, vfs.NewMem(), testConfig(), clk)
	ts := clk.Now().UnixMilli()
	if _, err := l.AppendMarker(tbatch(t, ts, 7, 3, 0, 2), 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendMarker(marker(t, 7, 4, true, 1), 0, 2); err != nil {
		t.Fatal(err)
	}
	end := l.LogEndOffset()
	res, err := l.AppendMarker(marker(t, 7, 4, true, 1), 0, 2)
	if err != nil || !res.Duplicate {
		t.Fatalf("the retried marker: %+v, %v; want a duplicate accepted", res, err)
	}
	if l.LogEndOffset() != end || l.FirstUnstableOffset() >= 0 {
		t.Fatalf("log end %d (want %d), first unstable %d: the retry wrote or opened something", l.LogEndOffset(), end, l.FirstUnstableOffset())
	}
	if _, err := l.AppendMarker(tbatch(t, ts, 7, 4, 0, 1), 0, 0); err != nil { // the next transaction, at the bumped epoch
		t.Fatal(err)
	}
	if _, err := l.AppendMarker(marker(t, 7, 4, false, 1), 0, 2); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("a marker at the epoch of an open transaction's data: %v, want INVALID_PRODUCER_EPOCH", err)
	}
}
