package log

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// truncFixture: 10 batches of 3 records (offsets 0-29), leader epoch i/3
// for batch i, in segments of about 4 batches.
func truncFixture(t *testing.T, fsys vfs.FS) *Log {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 1400
	l, _ := openLog(t, fsys, cfg, newClock())
	for i := 0; i < 10; i++ {
		if _, err := l.Append(valueBatch(t, int64(i), 3, 100), int32(i/3)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestTruncateTo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		to         int64
		wantEnd    int64
		wantEpochs []EpochEntry
	}{
		{"at a batch boundary", 15, 15, []EpochEntry{{0, 0}, {1, 9}}},
		{"inside a batch drops the whole batch", 16, 15, []EpochEntry{{0, 0}, {1, 9}}},
		{"at a segment's base", 12, 12, []EpochEntry{{0, 0}, {1, 9}}},
		{"to the start of an epoch", 9, 9, []EpochEntry{{0, 0}}},
		{"at the end does nothing", 30, 30, []EpochEntry{{0, 0}, {1, 9}, {2, 18}, {3, 27}}},
		{"to zero empties the log", 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			l := truncFixture(t, fsys)
			if err := l.TruncateTo(tc.to); err != nil {
				t.Fatal(err)
			}
			checkTruncated(t, l, tc.wantEnd, tc.wantEpochs)
			// Durable: a power cut right after keeps the truncation.
			fsys.Crash()
			cfg := l.Config()
			l2, _ := openLog(t, fsys, cfg, newClock())
			defer l2.Close()
			checkTruncated(t, l2, tc.wantEnd, tc.wantEpochs)
			if res := mustAppend(t, l2, valueBatch(t, 1, 2, 10)); res.BaseOffset != tc.wantEnd {
				t.Fatalf("append after truncation at %d, want %d", res.BaseOffset, tc.wantEnd)
			}
		})
	}
}

func checkTruncated(t *testing.T, l *Log, end int64, epochs []EpochEntry) {
	t.Helper()
	if l.LogEndOffset() != end {
		t.Fatalf("log end %d, want %d", l.LogEndOffset(), end)
	}
	if got := readRecords(t, l); int64(len(got)) != end {
		t.Fatalf("%d records readable, want %d", len(got), end)
	}
	got := l.Epochs()
	if len(got) != len(epochs) {
		t.Fatalf("epochs %v, want %v", got, epochs)
	}
	for i := range got {
		if got[i] != epochs[i] {
			t.Fatalf("epochs %v, want %v", got, epochs)
		}
	}
}

func TestTruncateFullyAndReplicaAppends(t *testing.T) {
	fsys := vfs.NewMem()
	l := truncFixture(t, fsys)
	defer l.Close()
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 100 || l.LogEndOffset() != 100 || !equalInt64s(l.SegmentBases(), []int64{100}) || len(l.Epochs()) != 0 {
		t.Fatalf("after truncating fully: [%d, %d) segments %v epochs %v", l.LogStartOffset(), l.LogEndOffset(), l.SegmentBases(), l.Epochs())
	}
	// A follower appends the leader's batches as they are: offsets, epochs,
	// and gaps left by the leader's compaction.
	replica := func(base int64, epoch int32, n int) []byte {
		b := valueBatch(t, 1, n, 10)
		record.SetBaseOffset(b, base)
		record.SetPartitionLeaderEpoch(b, epoch)
		return b
	}
	for _, tc := range []struct {
		base  int64
		epoch int32
		want  error
	}{
		{100, 4, nil}, {102, 4, nil}, {110, 5, nil}, {111, 5, ErrOffsetOrder},
	} {
		if _, err := l.AppendReplica(replica(tc.base, tc.epoch, 2)); !errors.Is(err, tc.want) {
			t.Fatalf("replica append at %d: %v, want %v", tc.base, err, tc.want)
		}
	}
	if l.LogEndOffset() != 112 {
		t.Fatalf("log end %d, want 112", l.LogEndOffset())
	}
	if e := l.Epochs(); len(e) != 2 || e[0] != (EpochEntry{4, 100}) || e[1] != (EpochEntry{5, 110}) {
		t.Fatalf("epochs %v", e)
	}
	if data, err := l.Read(105, 1<<20, -1, true); err != nil || endOffset(t, data) != 112 {
		t.Fatalf("read across the gap: %v", err)
	}
}

// TestReadsDuringTruncation: a follower truncates and re-appends above what
// consumers read; their reads must never see a half-truncated segment.
func TestReadsDuringTruncation(t *testing.T) {
	l := truncFixture(t, vfs.NewMem())
	defer l.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				for off := int64(0); off < 12; off += 3 {
					data, err := l.Read(off, 1<<20, 12, true)
					if err != nil {
						t.Errorf("read %d during truncation: %v", off, err)
						return
					}
					if len(data) == 0 {
						t.Errorf("read %d during truncation: no data", off)
						return
					}
					reads.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 60; i++ {
		if err := l.TruncateTo(13 + int64(i%3)*3); err != nil {
			t.Fatal(err)
		}
		for l.LogEndOffset() < 30 {
			if _, err := l.Append(valueBatch(t, 1, 3, 100), 3); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	if reads.Load() == 0 {
		t.Fatal("no reads ran")
	}
}

// TestTruncationIsCrashSafe cuts the power at each file-system operation of
// a truncation in turn: the reopened log must be a prefix of the original,
// byte for byte, at least as long as the truncation point, with no epoch
// past its end.
func TestTruncationIsCrashSafe(t *testing.T) {
	for k := 1; ; k++ {
		fsys := vfs.NewMem()
		boot := &bootFS{FS: fsys}
		l := truncFixture(t, boot)
		before := readBatches(t, l)
		calls := cutPowerAt(fsys, boot, k)
		err := l.TruncateTo(13)
		fsys.SetInjector(nil)
		if *calls < k {
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("cut the power at each of %d operations of a truncation", k-1)
			return
		}
		l2, rep := openLog(t, fsys, l.Config(), newClock())
		got := readBatches(t, l2)
		if l2.LogEndOffset() < 12 {
			t.Fatalf("crash at op %d: log end %d below the truncation point (report %+v)", k, l2.LogEndOffset(), rep)
		}
		for i, b := range got {
			if !bytes.Equal(b, before[i]) {
				t.Fatalf("crash at op %d: batch %d differs from the original", k, i)
			}
		}
		for _, e := range l2.Epochs() {
			if e.StartOffset >= l2.LogEndOffset() {
				t.Fatalf("crash at op %d: epoch %v past the log end %d", k, e, l2.LogEndOffset())
			}
		}
		l2.Close()
	}
}

// A broker that became leader (AssignEpoch) and wrote nothing before it
// followed again keeps no epoch at its log end once it truncates there:
// it would otherwise send that epoch as its last fetched one forever.
func TestTruncateAtEndDropsEmptyEpoch(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	for range 2 {
		if _, err := l.Append(valueBatch(t, 1, 2, 10), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.AssignEpoch(2); err != nil {
		t.Fatal(err)
	}
	if e, end := l.EndOffsetForEpoch(2); e != 2 || end != l.LogEndOffset() {
		t.Fatalf("epoch 2 ends at (%d, %d)", e, end)
	}
	if err := l.TruncateTo(l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	if got := l.Epochs(); len(got) != 1 || got[0].Epoch != 1 {
		t.Fatalf("epochs %v, want only epoch 1", got)
	}
}
