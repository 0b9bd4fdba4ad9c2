package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// ReadRegion must cover exactly the batches Read returns, for random
// logs (batch sizes, segment rolls, sparse and dense offset indexes) and
// random offsets, maxBytes, upTo and minOne, on the in-memory and the real
// file system.
func TestReadRegionMatchesRead(t *testing.T) {
	for _, fs := range []struct {
		name string
		fsys func(t *testing.T) vfs.FS
		dir  func(t *testing.T) string
	}{
		{"mem", func(*testing.T) vfs.FS { return vfs.NewMem() }, func(*testing.T) string { return "topic-0" }},
		{"os", func(*testing.T) vfs.FS { return vfs.OS }, func(t *testing.T) string { return t.TempDir() + "/topic-0" }},
	} {
		t.Run(fs.name, func(t *testing.T) {
			for seed := range uint64(12) {
				regionsMatchReads(t, rand.New(rand.NewPCG(seed, 7)), fs.fsys(t), fs.dir(t))
			}
		})
	}
}

func regionsMatchReads(t *testing.T, rng *rand.Rand, fsys vfs.FS, dir string) {
	cfg := testConfig()
	cfg.SegmentBytes = int64(1024 + rng.IntN(8192))
	cfg.IndexIntervalBytes = []int{0, 64, 256, 4096}[rng.IntN(4)]
	cfg.VerifyOnRead = rng.IntN(2) == 0 // Read verifies or not; the batches are the same
	l, _, err := Open(fsys, dir, Options{Config: cfg, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 40 + rng.IntN(60) {
		mustAppend(t, l, valueBatch(t, 1, 1+rng.IntN(8), rng.IntN(300)))
	}
	leo := l.LogEndOffset()
	for range 300 {
		offset := rng.Int64N(leo + 1)
		maxBytes := rng.IntN(3000)
		upTo := []int64{-1, rng.Int64N(leo + 1), leo}[rng.IntN(3)]
		minOne := rng.IntN(2) == 0
		want, werr := l.Read(offset, maxBytes, upTo, minOne)
		r, rerr := l.ReadRegion(offset, maxBytes, upTo, minOne)
		if (werr == nil) != (rerr == nil) || werr != nil && !errors.Is(rerr, ErrOffsetOutOfRange) {
			t.Fatalf("read(%d, %d, %d, %v): Read error %v, ReadRegion error %v", offset, maxBytes, upTo, minOne, werr, rerr)
		}
		if r == nil {
			if len(want) != 0 {
				t.Fatalf("read(%d, %d, %d, %v): no region, Read returned %d bytes", offset, maxBytes, upTo, minOne, len(want))
			}
			continue
		}
		got := make([]byte, r.Len)
		if _, err := r.File.ReadAt(got, r.Pos); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read(%d, %d, %d, %v): region of %d bytes at %d differs from Read's %d bytes", offset, maxBytes, upTo, minOne, r.Len, r.Pos, len(want))
		}
		if next := lastNext(t, want); r.First != firstBase(t, want) || r.Next != next {
			t.Fatalf("region offsets [%d, %d), batches [%d, %d)", r.First, r.Next, firstBase(t, want), next)
		}
		r.Release()
		r.Release() // a second release does nothing
	}
}

func firstBase(t *testing.T, data []byte) int64 {
	h, err := record.ParseHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	return h.BaseOffset
}

func lastNext(t *testing.T, data []byte) int64 {
	var next int64
	for len(data) > 0 {
		h, err := record.ParseHeader(data)
		if err != nil {
			t.Fatal(err)
		}
		next, data = h.NextOffset(), data[h.Size():]
	}
	return next
}

// A region keeps its segment's file open after retention removed the
// segment: its bytes stay readable until Release, and the file closes then.
func TestRegionOutlivesRetention(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig()
	cfg.SegmentBytes = 2048
	l, _ := openLog(t, fsys, cfg, newClock())
	defer l.Close()
	for range 20 {
		mustAppend(t, l, valueBatch(t, 1, 2, 200))
	}
	want, err := l.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.ReadRegion(0, 1<<20, -1, true)
	if err != nil || r == nil {
		t.Fatalf("region: %v, %v", r, err)
	}
	if err := l.DeleteRecordsBefore(l.LogEndOffset() - 1); err != nil {
		t.Fatal(err)
	}
	if _, err := l.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if bases := l.SegmentBases(); bases[0] == 0 {
		t.Fatalf("the first segment was not removed: %v", bases)
	}
	got := make([]byte, r.Len)
	if _, err := r.File.ReadAt(got, r.Pos); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("reading the removed segment's region: %v", err)
	}
	r.Release()
	if _, err := r.File.ReadAt(got[:1], r.Pos); err == nil {
		t.Fatal("the removed segment's file is still open after Release")
	}
	if _, err := l.ReadRegion(0, 1<<20, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("region below the new log start: %v", err)
	}
}
