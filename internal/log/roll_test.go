package log

import (
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// step is one action in a table-driven log script.
type step struct {
	append  int           // append a batch of this many 100-byte records
	advance time.Duration // move the clock
	// wantSegments, when set, is the segment base offsets after the step.
	wantSegments []int64
}

func runSteps(t *testing.T, l *Log, clk *clock, steps []step) {
	t.Helper()
	for i, s := range steps {
		clk.Advance(s.advance)
		if s.append > 0 {
			mustAppend(t, l, valueBatch(t, clk.Now().UnixMilli(), s.append, 100))
		}
		if s.wantSegments != nil && !equalInt64s(l.SegmentBases(), s.wantSegments) {
			t.Fatalf("step %d: segments %v, want %v", i, l.SegmentBases(), s.wantSegments)
		}
	}
}

func TestSegmentRoll(t *testing.T) {
	const ms = time.Millisecond
	// A batch of n 100-byte records is 61 + n*(100+7) bytes: 1 record 168,
	// 4 records 489.
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		steps []step
	}{
		{"by segment.bytes", func(c *Config) { c.SegmentBytes = 1000 }, []step{
			{append: 4, wantSegments: []int64{0}},
			{append: 4, wantSegments: []int64{0}},    // 978 bytes
			{append: 1, wantSegments: []int64{0, 8}}, // 1146 would not fit
			{append: 4, wantSegments: []int64{0, 8}},
			{append: 4, wantSegments: []int64{0, 8, 13}},
		}},
		{"an oversized batch gets a segment of its own", func(c *Config) { c.SegmentBytes = 300 }, []step{
			{append: 1, wantSegments: []int64{0}},
			{append: 4, wantSegments: []int64{0, 1}},
			{append: 1, wantSegments: []int64{0, 1, 5}},
		}},
		{"by segment.ms", func(c *Config) { c.SegmentAge = time.Hour }, []step{
			{advance: 2 * time.Hour, wantSegments: []int64{0}}, // empty: no roll
			{append: 1, wantSegments: []int64{0}},
			{advance: 59 * time.Minute, append: 1, wantSegments: []int64{0}},
			{advance: time.Minute, append: 1, wantSegments: []int64{0, 2}},
			{advance: 30 * time.Minute, append: 1, wantSegments: []int64{0, 2}},
			{advance: 30 * time.Minute, append: 1, wantSegments: []int64{0, 2, 4}},
		}},
		{"by a full index", func(c *Config) { c.SegmentIndexBytes = 24; c.IndexIntervalBytes = 0 }, []step{
			// an entry per batch after the first: 3 entries fill 24 bytes of
			// offset index, 2 fill the time index's 24 bytes
			// (the clock moves so each batch has a newer max timestamp)
			{append: 1, advance: ms}, {append: 1, advance: ms}, {append: 1, advance: ms, wantSegments: []int64{0}},
			{append: 1, advance: ms, wantSegments: []int64{0, 3}},
			{append: 1, advance: ms}, {append: 1, advance: ms, wantSegments: []int64{0, 3}},
			{append: 1, advance: ms, wantSegments: []int64{0, 3, 6}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			clk := newClock()
			l, _ := openLog(t, vfs.NewMem(), cfg, clk)
			defer l.Close()
			runSteps(t, l, clk, tc.steps)
			if got := readRecords(t, l); int64(len(got)) != l.LogEndOffset() {
				t.Fatalf("read %d records, log end %d", len(got), l.LogEndOffset())
			}
		})
	}
}
