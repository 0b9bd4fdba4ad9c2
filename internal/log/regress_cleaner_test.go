package log

import (
	"bytes"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionTruncateLeavesCleanerOffsetPastEnd: TruncateTo lowers the log
// end but not the cleaner offset (truncateFullyLocked and retention do
// adjust it; Kafka's LogCleanerManager.maybeTruncateCheckpoint does too).
// Records appended after the truncation below the stale cleaner offset
// count as already cleaned: a tombstone there is dropped by the very first
// pass that sees it, although the filter only drops tombstones that a
// previous pass kept.
func TestRegressionTruncateLeavesCleanerOffsetPastEnd(t *testing.T) {
	clk := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	cfg.Delete, cfg.Compact = false, true
	cfg.MinCleanableDirtyRatio = 0
	cfg.DeleteRetention = time.Hour
	l, _ := openLog(t, vfs.NewMem(), cfg, clk)
	defer l.Close()
	for i := 0; i < 60; i++ {
		mustAppend(t, l, batchOf(t, clk.Now().UnixMilli(), record.None, kv{key: key(i), value: []byte("v")}))
	}
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	t.Logf("segments %v, cleaner offset %d, log end %d", l.SegmentBases(), l.CleanerOffset(), l.LogEndOffset())
	if err := l.TruncateTo(5); err != nil {
		t.Fatal(err)
	}
	if l.CleanerOffset() > l.LogEndOffset() {
		t.Errorf("after TruncateTo(5): cleaner offset %d past the log end %d", l.CleanerOffset(), l.LogEndOffset())
	}
	// A tombstone (old timestamp) right after the truncation point, then
	// enough data to seal its segment and have dirty segments after it.
	old := clk.Now().Add(-2 * time.Hour).UnixMilli()
	tomb := mustAppend(t, l, batchOf(t, old, record.None, kv{key: []byte("gone"), value: nil})).BaseOffset
	for i := 0; i < 80; i++ {
		mustAppend(t, l, batchOf(t, clk.Now().UnixMilli(), record.None, kv{key: key(100 + i), value: []byte("v")}))
	}
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	for _, r := range readRecords(t, l) {
		if r.offset == tomb && bytes.Equal(r.key, []byte("gone")) {
			return
		}
	}
	t.Fatalf("tombstone at %d removed by the first compaction pass that saw it", tomb)
}
