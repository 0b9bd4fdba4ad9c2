package log

import (
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionTruncateIntoGapRaisesLogEnd: a follower log with an offset gap
// (the leader's compaction) is truncated to an offset inside the gap, as
// OffsetForLeaderEpoch can direct. cutSegment returns the base offset of the
// first removed batch, which is past the requested offset, so the log end
// ends up ABOVE the truncation point: the leader's records in [offset, new
// end) can then never be appended (ErrOffsetOrder), or the follower fetches
// from its log end and silently skips them.
func TestRegressionTruncateIntoGapRaisesLogEnd(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	replica := func(base int64, epoch int32) []byte {
		b := valueBatch(t, 1, 2, 10)
		record.SetBaseOffset(b, base)
		record.SetPartitionLeaderEpoch(b, epoch)
		return b
	}
	for _, b := range [][]byte{replica(0, 1), replica(10, 1)} { // offsets 0-1, 10-11
		if _, err := l.AppendReplica(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.TruncateTo(5); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() > 5 {
		t.Errorf("TruncateTo(5): log end %d, above the truncation point", l.LogEndOffset())
	}
	// The new leader's batch at 5 (epoch 2).
	if _, err := l.AppendReplica(replica(5, 2)); err != nil {
		t.Fatalf("leader's batch at 5 after TruncateTo(5): %v", err)
	}
}
