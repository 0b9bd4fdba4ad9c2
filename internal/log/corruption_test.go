package log

import (
	"errors"
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// corruptionFixture writes 60 batches of 2 records over several segments,
// closes the log cleanly, and returns the file system, the segment bases
// and the batches' positions in the last segment.
func corruptionFixture(t *testing.T) (*vfs.MemFS, []int64, []int64) {
	t.Helper()
	fsys := vfs.NewMem()
	l, _ := openLog(t, fsys, fixtureConfig(), newClock())
	for i := 0; i < 60; i++ {
		mustAppend(t, l, valueBatch(t, int64(1000+i), 2, 60))
	}
	bases := l.SegmentBases()
	if len(bases) < 4 {
		t.Fatalf("fixture needs 4+ segments, has %v", bases)
	}
	var positions []int64
	last := l.active()
	for pos := int64(0); pos < last.size.Load(); {
		h, err := last.readHeader(pos)
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, pos)
		pos += int64(h.Size())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return fsys, bases, positions
}

func fixtureConfig() Config {
	c := testConfig()
	c.SegmentBytes = 2048
	return c
}

func segFile(base int64, suffix string) string { return segmentName("topic-0", base, suffix) }

func TestCorruptLastSegmentIsTruncated(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(fsys *vfs.MemFS, last int64, pos []int64) error
		batch   int // index of the first batch lost in the last segment
		checkpt bool
	}{
		{"flipped bit in a record", func(fsys *vfs.MemFS, last int64, pos []int64) error {
			return fsys.FlipBit(segFile(last, logSuffix), pos[2]+record.HeaderSize+5, 3)
		}, 2, false},
		{"flipped bit in a length", func(fsys *vfs.MemFS, last int64, pos []int64) error {
			return fsys.FlipBit(segFile(last, logSuffix), pos[1]+10, 6)
		}, 1, false},
		{"file cut inside a batch", func(fsys *vfs.MemFS, last int64, pos []int64) error {
			data, err := fsys.ReadFile(segFile(last, logSuffix))
			if err != nil {
				return err
			}
			return fsys.WriteFile(segFile(last, logSuffix), data[:pos[3]+20])
		}, 3, false},
		{"damage below the recovery point is flagged", func(fsys *vfs.MemFS, last int64, pos []int64) error {
			return fsys.FlipBit(segFile(last, logSuffix), pos[2]+record.HeaderSize+5, 0)
		}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, bases, pos := corruptionFixture(t)
			last := bases[len(bases)-1]
			if err := tc.damage(fsys, last, pos); err != nil {
				t.Fatal(err)
			}
			l, rep := openLog(t, fsys, fixtureConfig(), newClock(), func(o *Options) {
				if tc.checkpt {
					o.RecoveryPoint = 120
				}
			})
			defer l.Close()
			wantEnd := last + 2*int64(tc.batch)
			if rep.TruncatedAt != wantEnd || l.LogEndOffset() != wantEnd || rep.Reason == nil {
				t.Fatalf("report %+v, log end %d; want truncation at %d", rep, l.LogEndOffset(), wantEnd)
			}
			if rep.BelowRecoveryPoint != tc.checkpt {
				t.Fatalf("BelowRecoveryPoint %v, want %v", rep.BelowRecoveryPoint, tc.checkpt)
			}
			if got := readRecords(t, l); len(got) != int(wantEnd) {
				t.Fatalf("read %d records, want %d", len(got), wantEnd)
			}
			// The log goes on from the cut.
			if res := mustAppend(t, l, valueBatch(t, 1, 1, 1)); res.BaseOffset != wantEnd {
				t.Fatalf("next append at %d, want %d", res.BaseOffset, wantEnd)
			}
		})
	}
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(fsys *vfs.MemFS, seg int64) error
	}{
		{"flipped bit in an offset entry", func(fsys *vfs.MemFS, seg int64) error {
			return fsys.FlipBit(segFile(seg, indexSuffix), 9, 7)
		}},
		{"flipped bit in a position", func(fsys *vfs.MemFS, seg int64) error {
			return fsys.FlipBit(segFile(seg, indexSuffix), 6, 2)
		}},
		{"index cut mid-entry", func(fsys *vfs.MemFS, seg int64) error {
			data, err := fsys.ReadFile(segFile(seg, indexSuffix))
			if err != nil {
				return err
			}
			return fsys.WriteFile(segFile(seg, indexSuffix), data[:len(data)-3])
		}},
		{"index missing", func(fsys *vfs.MemFS, seg int64) error {
			return fsys.Remove(segFile(seg, indexSuffix))
		}},
		{"time index out of order", func(fsys *vfs.MemFS, seg int64) error {
			return fsys.FlipBit(segFile(seg, timeIndexSuffix), 12+2, 7)
		}},
		{"time index missing", func(fsys *vfs.MemFS, seg int64) error {
			return fsys.Remove(segFile(seg, timeIndexSuffix))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, bases, _ := corruptionFixture(t)
			seg := bases[1]
			if err := tc.damage(fsys, seg); err != nil {
				t.Fatal(err)
			}
			l, rep := openLog(t, fsys, fixtureConfig(), newClock(), func(o *Options) { o.RecoveryPoint = 120 })
			defer l.Close()
			if len(rep.RebuiltIndexes) != 1 || rep.RebuiltIndexes[0] != seg {
				t.Fatalf("rebuilt %v, want [%d] (report %+v)", rep.RebuiltIndexes, seg, rep)
			}
			if rep.TruncatedAt != -1 {
				t.Fatalf("index damage truncated the log: %+v", rep)
			}
			got := readRecords(t, l)
			if len(got) != 120 {
				t.Fatalf("read %d records, want 120", len(got))
			}
			for off := seg; off < bases[2]; off++ {
				data, err := l.Read(off, 1, -1, true)
				_, h, _, perr := record.Next(data)
				if err != nil || perr != nil || h.BaseOffset > off || h.LastOffset() < off {
					t.Fatalf("read %d after rebuild: batch [%d, %d] %v %v", off, h.BaseOffset, h.LastOffset(), err, perr)
				}
			}
			// The rebuilt index was written back: a second open trusts it.
			l.Close()
			l2, rep2 := openLog(t, fsys, fixtureConfig(), newClock(), func(o *Options) { o.RecoveryPoint = 120 })
			defer l2.Close()
			if len(rep2.RebuiltIndexes) != 0 {
				t.Fatalf("second open rebuilt %v again", rep2.RebuiltIndexes)
			}
		})
	}
}

// batchStarts lists the batch positions in a segment file.
func batchStarts(t *testing.T, fsys *vfs.MemFS, base int64) []int64 {
	t.Helper()
	data, err := fsys.ReadFile(segFile(base, logSuffix))
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for pos := 0; pos < len(data); {
		out = append(out, int64(pos))
		_, h, _, err := record.Next(data[pos:])
		if err != nil {
			t.Fatal(err)
		}
		pos += h.Size()
	}
	return out
}

func TestCorruptMiddleSegmentIsReportedNotServed(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   int64 // byte within the fourth batch
	}{
		{"record payload (CRC)", record.HeaderSize + 30},
		{"base offset (not CRC-covered)", 1},
	} {
		t.Run(tc.name, func(t *testing.T) { middleSegmentDamage(t, tc.at) })
	}
}

func middleSegmentDamage(t *testing.T, at int64) {
	fsys, bases, _ := corruptionFixture(t)
	mid := bases[1]
	if err := fsys.FlipBit(segFile(mid, logSuffix), batchStarts(t, fsys, mid)[3]+at, 1); err != nil {
		t.Fatal(err)
	}

	// Recovery from an old recovery point rescans the segment: Open fails.
	_, _, err := Open(fsys, "topic-0", Options{Config: fixtureConfig(), RecoveryPoint: 0})
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Segment != mid {
		t.Fatalf("open: %v, want a corruption error in segment %d", err, mid)
	}

	// With the recovery point past it the segment is not rescanned; reads
	// with VerifyOnRead (off by default) check CRCs and report the damage
	// instead of serving it.
	cfg := fixtureConfig()
	cfg.VerifyOnRead = true
	l, _ := openLog(t, fsys, cfg, newClock(), func(o *Options) { o.RecoveryPoint = 120 })
	defer l.Close()
	served := 0
	for k, off := 0, mid; off < bases[2]; k, off = k+1, off+2 {
		data, err := l.Read(off, 1, -1, true)
		if k == 3 && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("read of the damaged batch at %d: %v, want ErrCorrupt", off, err)
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read %d: %v", off, err)
			}
			continue
		}
		h, verr := record.Validate(data)
		if verr != nil || h.BaseOffset != off {
			t.Fatalf("read %d served batch at %d: %v", off, h.BaseOffset, verr)
		}
		served++
	}
	if served < 3 {
		t.Fatalf("served %d batches; the three before the damage must still be served", served)
	}
	// Nothing of the damaged batch leaks into a larger read either.
	if _, err := l.Read(mid, 1<<20, -1, true); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("large read over the damage: %v, want ErrCorrupt", err)
	}
}

func TestTruncatedMiddleSegmentIsReported(t *testing.T) {
	for _, rp := range []int64{0, 120} {
		fsys, bases, _ := corruptionFixture(t)
		mid := bases[1]
		data, err := fsys.ReadFile(segFile(mid, logSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if err := fsys.WriteFile(segFile(mid, logSuffix), data[:len(data)-30]); err != nil {
			t.Fatal(err)
		}
		_, _, err = Open(fsys, "topic-0", Options{Config: fixtureConfig(), RecoveryPoint: rp})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("recovery point %d: open %v, want ErrCorrupt", rp, err)
		}
	}
}
