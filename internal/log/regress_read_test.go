package log

import (
	"errors"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionReadAfterCloseSpins: Close releases the log's reference on every
// segment but leaves them in the segment list. Read then fails acquire on
// each, readOnce reports retry, and Read loops forever (a busy spin on a
// CPU) instead of returning ErrClosed.
func TestRegressionReadAfterCloseSpins(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	mustAppend(t, l, valueBatch(t, 1, 1, 10))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Read(0, 1<<20, -1, true)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Logf("read after close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Read after Close did not return within 2s (spinning in the retry loop)")
	}
}
