package log

import (
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionTruncateBelowLogStart: TruncateTo(offset) with offset above the
// log start, where the segment holding offset ends (a compaction or replica
// gap) below the log start. cutSegment returns that segment's next, which is
// below the log start: the log ends up with log start > log end. Every read
// is then out of range, and the next appends get offsets below the log
// start: acknowledged, yet unreadable, and wiped at the next Open
// (finishOpen truncates fully to the log start).
func TestRegressionTruncateBelowLogStart(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	l, _ := openLog(t, vfs.NewMem(), cfg, newClock())
	defer l.Close()
	replica := func(base int64, n int) []byte {
		b := valueBatch(t, 1, n, 200)
		record.SetBaseOffset(b, base)
		return b
	}
	for _, b := range [][]byte{replica(0, 2), replica(2, 2), replica(20, 2)} { // 20 does not fit: new segment
		if _, err := l.AppendReplica(b); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("segments %v, log end %d", l.SegmentBases(), l.LogEndOffset())
	if len(l.SegmentBases()) != 2 {
		t.Fatalf("fixture: want 2 segments, have %v", l.SegmentBases())
	}
	if err := l.DeleteRecordsBefore(15); err != nil { // inside the gap 4..19
		t.Fatal(err)
	}
	if err := l.TruncateTo(17); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() > l.LogEndOffset() {
		t.Errorf("after TruncateTo(17): log start %d past the log end %d", l.LogStartOffset(), l.LogEndOffset())
	}
	res, err := l.Append(valueBatch(t, 1, 1, 10), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Read(res.BaseOffset, 1<<20, -1, true); err != nil {
		t.Fatalf("acknowledged append at %d (log start %d) unreadable: %v", res.BaseOffset, l.LogStartOffset(), err)
	}
}

// TestRegressionTruncateInsideLogStartBatch: the same without any gap: the log
// start is inside a batch (DeleteRecords), and TruncateTo cuts inside that
// batch above the log start. The new log end is the batch's base offset,
// below the log start.
func TestRegressionTruncateInsideLogStartBatch(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	mustAppend(t, l, valueBatch(t, 1, 10, 10)) // offsets 0-9
	mustAppend(t, l, valueBatch(t, 1, 10, 10)) // offsets 10-19
	if err := l.DeleteRecordsBefore(12); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(15); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() > l.LogEndOffset() {
		t.Errorf("after TruncateTo(15): log start %d past the log end %d", l.LogStartOffset(), l.LogEndOffset())
	}
	res := mustAppend(t, l, valueBatch(t, 1, 1, 10))
	if _, err := l.Read(res.BaseOffset, 1<<20, -1, true); err != nil {
		t.Fatalf("acknowledged append at %d (log start %d) unreadable: %v", res.BaseOffset, l.LogStartOffset(), err)
	}
}
