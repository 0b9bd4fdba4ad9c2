package log

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// appendP appends producer pid's batch of n records at seq.
func appendP(t testing.TB, l *Log, clk *clock, pid int64, epoch int16, seq int32, n int) (AppendResult, error) {
	t.Helper()
	return l.Append(pbatch(t, clk.Now().UnixMilli(), pid, epoch, seq, n), 0)
}

func TestDuplicateGetsOriginalOffsetsAndIsNotWritten(t *testing.T) {
	clk := newClock()
	l, _ := openLog(t, vfs.NewMem(), testConfig(), clk)
	defer l.Close()
	first, err := appendP(t, l, clk, 7, 0, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := appendP(t, l, clk, 7, 0, 3, 2); err != nil {
		t.Fatal(err)
	}
	end := l.LogEndOffset()
	again, err := appendP(t, l, clk, 7, 0, 0, 3)
	if err != nil || !again.Duplicate || again.BaseOffset != first.BaseOffset || again.LastOffset != first.LastOffset {
		t.Fatalf("retry: %+v, %v; first write %+v", again, err, first)
	}
	if l.LogEndOffset() != end || len(readBatches(t, l)) != 2 {
		t.Fatalf("the retry was written: end %d -> %d, %d batches", end, l.LogEndOffset(), len(readBatches(t, l)))
	}
	if _, err := appendP(t, l, clk, 7, 0, 9, 1); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	if l.LogEndOffset() != end {
		t.Fatal("a refused batch moved the log end")
	}
}

// TestProducerStateSurvivesRestart: after a clean close, a crash, or the
// loss of every snapshot, the reopened log recognises retries of each of
// the last five batches and takes the next sequence.
func TestProducerStateSurvivesRestart(t *testing.T) {
	for _, how := range []string{"clean", "crash", "no snapshots", "corrupt snapshot"} {
		t.Run(how, func(t *testing.T) {
			fsys := vfs.NewMem()
			clk := newClock()
			cfg := testConfig()
			cfg.SegmentBytes = 600 // several rolls, so several snapshots
			l, _ := openLog(t, fsys, cfg, clk)
			var firsts []int64
			for i := range 30 {
				res, err := appendP(t, l, clk, 5, 2, int32(i*2), 2)
				if err != nil {
					t.Fatal(err)
				}
				firsts = append(firsts, res.BaseOffset)
				if _, err := appendP(t, l, clk, 6, 0, int32(i), 1); err != nil {
					t.Fatal(err)
				}
			}
			want := l.Producers()
			offs, _ := snapshotOffsets(fsys, "topic-0")
			if len(offs) < 2 {
				t.Fatalf("snapshots %v after %d segments", offs, len(l.SegmentBases()))
			}
			switch how {
			case "clean":
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if offs, _ := snapshotOffsets(fsys, "topic-0"); offs[len(offs)-1] != l.LogEndOffset() {
					t.Fatalf("no snapshot at the log end %d: %v", l.LogEndOffset(), offs)
				}
			case "crash":
				fsys.Crash() // FsyncOnAck: every append was durable
			case "no snapshots", "corrupt snapshot":
				l.Close()
				offs, _ := snapshotOffsets(fsys, "topic-0")
				for i, off := range offs {
					if how == "no snapshots" {
						fsys.Remove(snapshotName("topic-0", off))
					} else if i == len(offs)-1 {
						f, _ := fsys.OpenRW(snapshotName("topic-0", off))
						f.WriteAt([]byte{0xff}, 12)
						f.Close()
					}
				}
			}
			l2, _ := openLog(t, fsys, cfg, clk)
			defer l2.Close()
			if got := l2.Producers(); !reflect.DeepEqual(got, want) {
				t.Fatalf("recovered state\n%+v\nwant\n%+v", got, want)
			}
			for i := 25; i < 30; i++ {
				res, err := appendP(t, l2, clk, 5, 2, int32(i*2), 2)
				if err != nil || !res.Duplicate || res.BaseOffset != firsts[i] {
					t.Fatalf("retry of batch %d: %+v, %v; want offset %d", i, res, err, firsts[i])
				}
			}
			if _, err := appendP(t, l2, clk, 5, 2, 48, 2); !errors.Is(err, ErrOutOfOrderSequence) {
				t.Fatalf("retry of the sixth-last batch: %v", err)
			}
			if res, err := appendP(t, l2, clk, 5, 2, 60, 2); err != nil || res.Duplicate {
				t.Fatalf("next batch: %+v, %v", res, err)
			}
		})
	}
}

func TestTruncationRebuildsProducerState(t *testing.T) {
	fsys := vfs.NewMem()
	clk := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 500
	l, _ := openLog(t, fsys, cfg, clk)
	defer l.Close()
	var bases []int64
	for i := range 20 {
		res, err := appendP(t, l, clk, 9, 0, int32(i), 1)
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, res.BaseOffset)
	}
	// A follower cuts its log back to batch 12: sequences 12.. are gone.
	if err := l.TruncateTo(bases[12]); err != nil {
		t.Fatal(err)
	}
	if offs, _ := snapshotOffsets(fsys, "topic-0"); len(offs) > 0 && offs[len(offs)-1] > l.LogEndOffset() {
		t.Fatalf("snapshot %v past the new end %d", offs, l.LogEndOffset())
	}
	p := l.Producers()
	if len(p) != 1 || p[0].LastSeq() != 11 || p[0].LastOffset() != bases[11] {
		t.Fatalf("state after truncation %+v", p)
	}
	if res, err := appendP(t, l, clk, 9, 0, 12, 1); err != nil || res.Duplicate || res.BaseOffset != bases[12] {
		t.Fatalf("sequence 12 again: %+v, %v", res, err)
	}
	// Truncating everything forgets the producer.
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if p := l.Producers(); len(p) != 0 {
		t.Fatalf("state after full truncation %+v", p)
	}
	if offs, _ := snapshotOffsets(fsys, "topic-0"); len(offs) != 0 {
		t.Fatalf("snapshots left %v", offs)
	}
}

func TestRetentionKeepsProducersAndDropsOldSnapshots(t *testing.T) {
	fsys := vfs.NewMem()
	clk := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 500
	l, _ := openLog(t, fsys, cfg, clk)
	for i := range 20 {
		if _, err := appendP(t, l, clk, 3, 1, int32(i), 1); err != nil {
			t.Fatal(err)
		}
	}
	segs := l.SegmentBases()
	if err := l.DeleteRecordsBefore(segs[len(segs)-1]); err != nil {
		t.Fatal(err)
	}
	if offs, _ := snapshotOffsets(fsys, "topic-0"); len(offs) == 0 || offs[0] < l.SegmentBases()[0] {
		t.Fatalf("snapshots %v, first segment %d", offs, l.SegmentBases()[0])
	}
	// KIP-360: the producer is still known, so a gap is still a gap.
	if _, err := appendP(t, l, clk, 3, 1, 25, 1); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap after retention: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, _ := openLog(t, fsys, cfg, clk, func(o *Options) { o.LogStartOffset = l.LogStartOffset() })
	defer l2.Close()
	if p := l2.Producers(); len(p) != 1 || p[0].LastSeq() != 19 {
		t.Fatalf("after reopen %+v", p)
	}
}

func TestProducerExpiration(t *testing.T) {
	fsys := vfs.NewMem()
	clk := newClock()
	cfg := testConfig()
	cfg.LogAppendTime = true // the batches' timestamps are the broker's clock
	l, _ := openLog(t, fsys, cfg, clk)
	defer l.Close()
	appendP(t, l, clk, 1, 0, 0, 1)
	clk.Advance(time.Hour)
	appendP(t, l, clk, 2, 0, 0, 1)
	clk.Advance(23 * time.Hour)
	if n := l.ExpireProducers(24 * time.Hour); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if p := l.Producers(); len(p) != 1 || p[0].ProducerID != 2 {
		t.Fatalf("left %+v", p)
	}
	// An expired producer is unknown: any sequence is accepted (KIP-360).
	if _, err := appendP(t, l, clk, 1, 0, 40, 1); err != nil {
		t.Fatal(err)
	}
}

// TestProducerStateCrashes cuts the power at random points while several
// producers append (with retries of their recent batches mixed in), then
// checks after each recovery that the producer state is exactly what the
// recovered log implies, that no acknowledged batch was lost or written
// twice, and that a retry of each producer's last acknowledged batch is
// recognised.
func TestProducerStateCrashes(t *testing.T) {
	for seed := range uint64(40) {
		producerCrashSeed(t, seed)
	}
}

func producerCrashSeed(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 98))
	fsys := vfs.NewMem()
	clk := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = int64(400 + rng.IntN(1200))
	cfg.FsyncOnAck = rng.IntN(3) > 0
	type acked struct {
		seq  int32
		base int64
	}
	next := map[int64]int32{}   // producer -> next sequence to send
	last := map[int64][]acked{} // producer -> acknowledged durable batches
	var rp int64
	for round := range 6 {
		boot := &bootFS{FS: fsys}
		l, _, err := Open(boot, "topic-0", Options{Config: cfg, Now: clk.Now, RecoveryPoint: rp})
		if err != nil {
			t.Fatalf("seed %d round %d: open: %v", seed, round, err)
		}
		// The state equals a replay of the whole recovered log.
		replayed := newProducerState()
		if _, err := l.replayProducers(replayed, l.SegmentBases()[0], l.LogEndOffset()); err != nil {
			t.Fatal(err)
		}
		if got, want := l.Producers(), replayed.entries(); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d round %d: recovered state\n%+v\nreplay gives\n%+v", seed, round, got, want)
		}
		// Every acknowledged batch survived, once; the producers continue
		// from what the log holds (an unacknowledged tail may be gone).
		for pid, bs := range last {
			if len(bs) == 0 {
				continue
			}
			b := bs[len(bs)-1]
			res, err := appendP(t, l, clk, pid, 0, b.seq, 1)
			if err != nil || !res.Duplicate || res.BaseOffset != b.base {
				t.Fatalf("seed %d round %d: retry of producer %d seq %d: %+v, %v; acknowledged at %d", seed, round, pid, b.seq, res, err, b.base)
			}
		}
		for _, e := range l.Producers() {
			next[e.ProducerID] = e.LastSeq() + 1
		}
		cutPowerAt(fsys, boot, 5+rng.IntN(80))
		for range 10 + rng.IntN(40) {
			pid := int64(rng.IntN(3))
			if bs := last[pid]; len(bs) > 0 && rng.IntN(5) == 0 {
				b := bs[len(bs)-1]
				res, err := appendP(t, l, clk, pid, 0, b.seq, 1)
				if err != nil {
					break // the power went
				}
				if !res.Duplicate || res.BaseOffset != b.base {
					t.Fatalf("seed %d: retry %+v, want offset %d", seed, res, b.base)
				}
				continue
			}
			res, err := appendP(t, l, clk, pid, 0, next[pid], 1)
			if err != nil {
				break
			}
			if res.Duplicate {
				t.Fatalf("seed %d: a new sequence %d was taken for a duplicate", seed, next[pid])
			}
			next[pid]++
			if !cfg.FsyncOnAck {
				if err := l.Sync(res.LastOffset + 1); err != nil {
					break
				}
			}
			last[pid] = append(last[pid], acked{seq: next[pid] - 1, base: res.BaseOffset})
		}
		if !boot.dead.Load() {
			if rng.IntN(2) == 0 {
				l.Close()
				rp = l.RecoveryPoint()
			}
			boot.dead.Store(true)
			fsys.Crash()
		}
		fsys.SetInjector(nil)
	}
}
