package log

import (
	"testing"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionOffsetForTimestampLogStartInsideBatch: with the log start inside
// a batch whose max timestamp comes from a record below the log start,
// firstAtOrAfter decodes that batch, finds nothing at or after the log
// start, and returns "not found" for the whole segment instead of going on
// to the next batch.
func TestRegressionOffsetForTimestampLogStartInsideBatch(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	recs := make([]kv, 10)
	for i := range recs {
		recs[i] = kv{key: key(i), value: []byte("v"), ts: 100 + int64(i)}
	}
	recs[2].ts = 1000                                                                   // the batch's max, below the log start
	mustAppend(t, l, batchOf(t, 100, record.None, recs...))                             // offsets 0-9
	mustAppend(t, l, batchOf(t, 500, record.None, kv{key: key(1), value: []byte("w")})) // offset 10, ts 500
	if err := l.DeleteRecordsBefore(5); err != nil {
		t.Fatal(err)
	}
	got, err := l.OffsetForTimestamp(400)
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != 10 || got.Timestamp != 500 {
		t.Fatalf("OffsetForTimestamp(400) = %+v, want {10 500}", got)
	}
}

// TestRegressionMaxTimestampBelowLogStart: MaxTimestamp picks the segment by its
// max timestamp even when the record holding it is below the log start; the
// lookup then finds no record and answers "none" although the log has
// records.
func TestRegressionMaxTimestampBelowLogStart(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	recs := make([]kv, 10)
	for i := range recs {
		recs[i] = kv{key: key(i), value: []byte("v"), ts: 100 + int64(i)}
	}
	recs[2].ts = 1000
	mustAppend(t, l, batchOf(t, 100, record.None, recs...)) // offsets 0-9
	if err := l.DeleteRecordsBefore(5); err != nil {
		t.Fatal(err)
	}
	got, err := l.MaxTimestamp()
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset < 5 {
		t.Fatalf("MaxTimestamp() = %+v with the log start at 5 and records 5-9 readable", got)
	}
}
