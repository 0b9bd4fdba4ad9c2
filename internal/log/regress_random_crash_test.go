package log

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionRandomCrashes drives a log through appends, syncs, truncations,
// DeleteRecords, retention and compaction with power cuts, reopening from
// lagging checkpoints as the log directory would. Checks: Open succeeds, the
// whole log reads without error, and no acknowledged offset is lost.
func TestRegressionRandomCrashes(t *testing.T) {
	seeds := uint64(150)
	if testing.Short() {
		seeds = 30
	}
	for seed := range seeds {
		randomCrashSeed(t, seed)
	}
}

func randomCrashSeed(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 77))
	fsys := vfs.NewMem()
	clk := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = int64(400 + rng.IntN(1500))
	cfg.IndexIntervalBytes = rng.IntN(300)
	cfg.Compact = rng.IntN(2) == 0
	cfg.Delete = !cfg.Compact || rng.IntN(2) == 0
	cfg.MinCleanableDirtyRatio = 0
	cfg.DeleteRetention = time.Minute
	cfg.FsyncOnAck = rng.IntN(2) == 0
	var rp, ls, co int64
	durable := int64(0) // every offset below is acknowledged durable
	for round := 0; round < 5; round++ {
		boot := &bootFS{FS: fsys}
		l, rep, err := Open(boot, "topic-0", Options{Config: cfg, Now: clk.Now, RecoveryPoint: rp, LogStartOffset: ls, CleanerOffset: co})
		if err != nil {
			t.Fatalf("seed %d round %d: open: %v (rp %d ls %d)", seed, round, err, rp, ls)
		}
		if lastBatchEnd(l) < durable && l.LogStartOffset() < durable {
			t.Fatalf("seed %d round %d: log end %d below acknowledged %d (report %+v)", seed, round, l.LogEndOffset(), durable, rep)
		}
		readAllChecked(t, seed, round, l)
		durable = lastBatchEnd(l)
		var before [2]int64
		lastOp := ""
		for i, n := 0, 10+rng.IntN(60); i < n; i++ {
			if l.LogStartOffset() > l.LogEndOffset() {
				t.Fatalf("seed %d: log start %d past the log end %d after %s (before [%d,%d))", seed, l.LogStartOffset(), l.LogEndOffset(), lastOp, before[0], before[1])
			}
			before = [2]int64{l.LogStartOffset(), l.LogEndOffset()}
			switch r := rng.IntN(20); {
			case r < 12:
				lastOp = "append"
				k := rng.IntN(8)
				var v []byte
				if rng.IntN(5) > 0 {
					v = []byte("value")
				}
				b := batchOf(t, clk.Now().UnixMilli(), record.None, kv{key: key(k), value: v}, kv{key: key(k + 1), value: []byte("x")})
				res, err := l.Append(b, int32(round))
				if err != nil {
					t.Fatalf("seed %d: append: %v", seed, err)
				}
				if cfg.FsyncOnAck {
					durable = res.LastOffset + 1
				}
			case r < 14:
				if err := l.Sync(l.LogEndOffset()); err != nil {
					t.Fatal(err)
				}
				durable = lastBatchEnd(l)
			case r < 15:
				to := l.LogStartOffset() + rng.Int64N(l.LogEndOffset()-l.LogStartOffset()+1)
				lastOp = fmt.Sprintf("TruncateTo(%d) segs %v nexts %v", to, l.SegmentBases(), nexts(l))
				if err := l.TruncateTo(to); err != nil {
					t.Fatalf("seed %d: truncate %d: %v", seed, to, err)
				}
				durable = min(durable, lastBatchEnd(l))
			case r < 16:
				to := l.LogStartOffset() + rng.Int64N(l.LogEndOffset()-l.LogStartOffset()+1)
				lastOp = fmt.Sprintf("DeleteRecordsBefore(%d)", to)
				if err := l.DeleteRecordsBefore(to); err != nil {
					t.Fatal(err)
				}
				ls = l.LogStartOffset()
			case r < 18:
				lastOp = "retention+clean"
				clk.Advance(time.Duration(rng.IntN(120)) * time.Second)
				if _, err := l.EnforceRetention(); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Clean(); err != nil {
					t.Fatalf("seed %d: clean: %v", seed, err)
				}
			default:
				rp, ls, co = l.RecoveryPoint(), l.LogStartOffset(), l.CleanerOffset()
			}
		}
		readAllChecked(t, seed, round, l)
		boot.dead.Store(true)
		if rng.IntN(2) == 0 {
			fsys.Crash()
		} else {
			fsys.CrashTorn(rng)
		}
	}
}

// nexts lists the segments' next offsets, for failure messages.
func nexts(l *Log) []int64 {
	var n []int64
	for _, s := range l.segments() {
		n = append(n, s.next.Load())
	}
	return n
}

// lastBatchEnd is the offset after the last batch in the log (the log end
// can be past it after a truncation into a compaction gap).
func lastBatchEnd(l *Log) int64 {
	var n int64
	for _, s := range l.segments() {
		n = max(n, s.next.Load())
	}
	return n
}

func readAllChecked(t *testing.T, seed uint64, round int, l *Log) {
	t.Helper()
	off := l.LogStartOffset()
	prev := int64(-1)
	for off < l.LogEndOffset() {
		data, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			if errors.Is(err, ErrOffsetOutOfRange) {
				t.Fatalf("seed %d round %d: read %d in [%d, %d): %v", seed, round, off, l.LogStartOffset(), l.LogEndOffset(), err)
			}
			t.Fatalf("seed %d round %d: read %d: %v", seed, round, off, err)
		}
		if len(data) == 0 {
			break // a gap at the end (compaction, replica)
		}
		for len(data) > 0 {
			_, h, rest, err := record.Next(data)
			if err != nil {
				t.Fatal(err)
			}
			if h.BaseOffset <= prev {
				t.Fatalf("seed %d round %d: offsets go back: %d after %d", seed, round, h.BaseOffset, prev)
			}
			prev = h.LastOffset()
			off, data = h.NextOffset(), rest
		}
	}
}
