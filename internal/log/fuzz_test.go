package log

import (
	"errors"
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// fuzzSegment returns the bytes of a valid segment and of its offset index.
func fuzzSegment(f *testing.F) ([]byte, []byte) {
	fsys := vfs.NewMem()
	cfg := DefaultConfig()
	cfg.IndexIntervalBytes = 100
	cfg.SegmentBytes = 1200
	l, _, err := Open(fsys, "topic-0", Options{Config: cfg})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		if _, err := l.Append(valueBatch(f, int64(i), 1+i%3, 30), 0); err != nil {
			f.Fatal(err)
		}
	}
	l.Close()
	seg, _ := fsys.ReadFile(segFile(0, logSuffix))
	idx, _ := fsys.ReadFile(segFile(0, indexSuffix))
	return seg, idx
}

// FuzzRecoverSegment feeds arbitrary bytes to recovery as a segment file,
// and in sealed mode also as its offset index (a segment below the
// recovery point, loaded from its index). Open may refuse the log, but must
// not panic, and whatever it then serves must be valid batches with
// increasing offsets; appends must continue from the log end.
func FuzzRecoverSegment(f *testing.F) {
	seg, idx := fuzzSegment(f)
	f.Add(seg, idx, false)
	f.Add(seg, idx, true)
	f.Add(seg[:len(seg)-7], idx, false)
	f.Add(seg[:len(seg)/2], idx[:len(idx)-3], true)
	f.Add([]byte{}, []byte{}, false)
	f.Fuzz(func(t *testing.T, data, index []byte, sealed bool) {
		fsys := vfs.NewMem()
		if err := fsys.MkdirAll("topic-0"); err != nil {
			t.Fatal(err)
		}
		write := func(name string, b []byte) {
			if err := fsys.WriteFile(name, b); err != nil {
				t.Fatal(err)
			}
		}
		write(segFile(0, logSuffix), data)
		opts := Options{Config: DefaultConfig()}
		const next = 1 << 20
		if sealed {
			write(segFile(0, indexSuffix), index)
			write(segFile(next, logSuffix), valueBatch(t, 1, 1, 1))
			opts.RecoveryPoint = next + 1
		}
		l, _, err := Open(fsys, "topic-0", opts)
		if err != nil {
			return // refused, not served
		}
		defer l.Close()
		checkServed(t, l)
		end := l.LogEndOffset()
		res, err := l.Append(valueBatch(t, 1, 1, 1), 0)
		if err != nil || res.BaseOffset != end {
			t.Fatalf("append after recovery: at %d (log end %d): %v", res.BaseOffset, end, err)
		}
	})
}

// checkServed reads the whole log: every byte served must be a valid
// batch, offsets increasing; damage may only show up as ErrCorrupt.
func checkServed(t *testing.T, l *Log) {
	prev := int64(-1)
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		data, err := l.Read(off, 1<<16, -1, true)
		if errors.Is(err, ErrCorrupt) {
			return
		}
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		if len(data) == 0 {
			return
		}
		for len(data) > 0 {
			b, h, rest, err := record.Next(data)
			if err != nil {
				t.Fatalf("served bytes at %d are not a batch: %v", off, err)
			}
			if _, err := record.Validate(b); err != nil {
				t.Fatalf("served an invalid batch at %d: %v", h.BaseOffset, err)
			}
			if h.BaseOffset <= prev || h.LastOffset() < off {
				t.Fatalf("served batch [%d, %d] for offset %d after %d", h.BaseOffset, h.LastOffset(), off, prev)
			}
			prev, off, data = h.LastOffset(), h.NextOffset(), rest
		}
	}
}
