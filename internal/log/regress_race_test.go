package log

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionReadDuringTruncationSpuriousCorrupt: a read up to the log end
// (upTo < 0, e.g. a replica fetch) runs while the log is truncated.
// readBatches loads the segment size and copies the bytes; completeBatches
// then checks each batch in the copy against s.next, loaded per batch.
// cutSegment lowers next (adopt) after the copy was taken, so intact batches
// past the new end are reported as ErrCorrupt "out of order" (a
// KAFKA_STORAGE_ERROR for a healthy log). Reads bounded by a high watermark
// below the truncation point break at upTo first and are not affected.
func TestRegressionReadDuringTruncationSpuriousCorrupt(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	cfg.FsyncOnAck = false
	l, _ := openLog(t, vfs.NewMem(), cfg, newClock())
	defer l.Close()
	const hw = 100
	for l.LogEndOffset() < 400 {
		mustAppend(t, l, valueBatch(t, 1, 1, 200))
	}
	var stop atomic.Bool
	var corrupt atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			_, err := l.Read(0, 1<<20, -1, true) // up to the log end (replica fetch)
			if err != nil {
				if errors.Is(err, ErrCorrupt) {
					corrupt.Store(err)
					return
				}
				t.Errorf("read: %v", err)
				return
			}
		}
	}()
	deadline := time.Now().Add(3 * time.Second)
	for corrupt.Load() == nil && time.Now().Before(deadline) {
		if err := l.TruncateTo(hw + 50); err != nil {
			t.Fatal(err)
		}
		for l.LogEndOffset() < 400 {
			mustAppend(t, l, valueBatch(t, 1, 1, 200))
		}
	}
	stop.Store(true)
	wg.Wait()
	if err := corrupt.Load(); err != nil {
		t.Fatalf("read up to the log end during a truncation: %v", err)
	}
}
