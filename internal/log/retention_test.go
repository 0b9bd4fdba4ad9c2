package log

import (
	"errors"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// retStep is one action of a retention script.
type retStep struct {
	append       int           // append a batch of this many 100-byte records (489 bytes for 4)
	advance      time.Duration // move the clock first
	deleteBefore int64         // > 0: DeleteRecordsBefore(deleteBefore)
	enforce      bool          // run EnforceRetention
	wantDeleted  int
	wantStart    int64
	wantSegments []int64
}

func TestRetention(t *testing.T) {
	const h = time.Hour
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		steps []retStep
	}{
		{"retention.ms deletes segments whose newest record expired", func(c *Config) { c.Retention = 2 * h }, []retStep{
			{append: 4}, {append: 4}, // segment 0: records 0-7 at t0
			{advance: h, append: 4}, {append: 4}, // segment 8: 8-15 at t0+1h
			{advance: h, append: 4}, // segment 16 (active) at t0+2h
			{enforce: true, wantDeleted: 0, wantStart: 0, wantSegments: []int64{0, 8, 16}},
			{advance: time.Minute, enforce: true, wantDeleted: 1, wantStart: 8, wantSegments: []int64{8, 16}},
			{advance: 2 * h, enforce: true, wantDeleted: 1, wantStart: 16, wantSegments: []int64{16}},
			// the active segment stays however old it is
			{advance: 100 * h, enforce: true, wantDeleted: 0, wantStart: 16, wantSegments: []int64{16}},
		}},
		{"retention.bytes keeps the log under the limit", func(c *Config) { c.RetentionBytes = 1500 }, []retStep{
			{append: 4}, {append: 4}, {append: 4}, {append: 4}, {append: 4}, {append: 4}, {append: 4},
			// segments 0, 8, 16 of 978 bytes, active 24 of 489: 3423 bytes.
			// As in Kafka, a segment goes only if the log stays at or above
			// retention.bytes without it: 3423-978 = 2445 >= 1500, but
			// 2445-978 = 1467 < 1500.
			{enforce: true, wantDeleted: 1, wantStart: 8, wantSegments: []int64{8, 16, 24}},
			{enforce: true, wantDeleted: 0, wantStart: 8},
			{append: 4, enforce: true, wantDeleted: 1, wantStart: 16, wantSegments: []int64{16, 24}},
		}},
		{"DeleteRecords moves the log start and drops covered segments", nil, []retStep{
			{append: 4}, {append: 4}, {append: 4}, {append: 4}, {append: 4}, {append: 4},
			{deleteBefore: 3, wantStart: 3, wantSegments: []int64{0, 8, 16}},
			{deleteBefore: 8, wantStart: 8, wantSegments: []int64{8, 16}},
			{deleteBefore: 17, wantStart: 17, wantSegments: []int64{16}},
			{deleteBefore: 5, wantStart: 17, wantSegments: []int64{16}}, // never backwards
		}},
		{"compact-only topics keep expired data", func(c *Config) { c.Delete, c.Compact, c.Retention = false, true, h }, []retStep{
			{append: 4}, {append: 4}, {append: 4},
			{advance: 10 * h, enforce: true, wantDeleted: 0, wantStart: 0, wantSegments: []int64{0, 8}},
		}},
		{"compact,delete applies both", func(c *Config) { c.Compact, c.Retention = true, h }, []retStep{
			{append: 4}, {append: 4}, {append: 4},
			{advance: 10 * h, enforce: true, wantDeleted: 1, wantStart: 8, wantSegments: []int64{8}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.SegmentBytes = 1000
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			clk := newClock()
			l, _ := openLog(t, vfs.NewMem(), cfg, clk)
			defer l.Close()
			for i, s := range tc.steps {
				runRetentionStep(t, i, l, clk, s)
			}
			// Reads below the start are out of range; from it, all is there.
			if start := l.LogStartOffset(); start > 0 {
				if _, err := l.Read(start-1, 1<<20, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
					t.Fatalf("read below the log start: %v", err)
				}
			}
			got := readRecords(t, l)
			if len(got) == 0 || got[len(got)-1].offset != l.LogEndOffset()-1 || got[0].offset > l.LogStartOffset() {
				t.Fatalf("readable records %d..%d, log [%d, %d)", got[0].offset, got[len(got)-1].offset, l.LogStartOffset(), l.LogEndOffset())
			}
		})
	}
}

func runRetentionStep(t *testing.T, i int, l *Log, clk *clock, s retStep) {
	t.Helper()
	clk.Advance(s.advance)
	if s.append > 0 {
		mustAppend(t, l, valueBatch(t, clk.Now().UnixMilli(), s.append, 100))
	}
	if s.deleteBefore > 0 {
		if err := l.DeleteRecordsBefore(s.deleteBefore); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if s.enforce {
		n, err := l.EnforceRetention()
		if err != nil || n != s.wantDeleted {
			t.Fatalf("step %d: deleted %d segments (%v), want %d", i, n, err, s.wantDeleted)
		}
	}
	if (s.enforce || s.deleteBefore > 0) && l.LogStartOffset() != s.wantStart {
		t.Fatalf("step %d: log start %d, want %d", i, l.LogStartOffset(), s.wantStart)
	}
	if s.wantSegments != nil && !equalInt64s(l.SegmentBases(), s.wantSegments) {
		t.Fatalf("step %d: segments %v, want %v", i, l.SegmentBases(), s.wantSegments)
	}
}

func TestDeleteRecordsPastTheEnd(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), DefaultConfig(), newClock())
	defer l.Close()
	mustAppend(t, l, valueBatch(t, 1, 3, 10))
	if err := l.DeleteRecordsBefore(4); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("delete past the end: %v", err)
	}
	if err := l.DeleteRecordsBefore(3); err != nil || l.LogStartOffset() != 3 {
		t.Fatalf("delete to the end: %v, start %d", err, l.LogStartOffset())
	}
	if data, err := l.Read(3, 100, -1, true); err != nil || len(data) != 0 {
		t.Fatalf("read at the end of an emptied log: %d bytes, %v", len(data), err)
	}
}

func TestLogStartSurvivesReopen(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := DefaultConfig()
	cfg.SegmentBytes = 1000
	l, _ := openLog(t, fsys, cfg, newClock())
	for i := 0; i < 6; i++ {
		mustAppend(t, l, valueBatch(t, 1, 4, 100))
	}
	if err := l.DeleteRecordsBefore(10); err != nil {
		t.Fatal(err)
	}
	start := l.LogStartOffset()
	l.Close()
	l2, _ := openLog(t, fsys, cfg, newClock(), func(o *Options) { o.LogStartOffset = start })
	defer l2.Close()
	if l2.LogStartOffset() != 10 || l2.LogEndOffset() != 24 {
		t.Fatalf("after reopen [%d, %d), want [10, 24)", l2.LogStartOffset(), l2.LogEndOffset())
	}
}
