package log

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/samsa-io/samsa/internal/vfs"
)

// TestRegressionSyncRacingTruncationOverstatesDurable: a group-commit leader
// notes the log end (target), releases every lock and fsyncs. A truncation
// meanwhile lowers the durable offset, but when the leader finishes it sets
// durable = max(durable, target): the old, higher log end. Later appends
// below that offset then return from Append without any fsync, and the
// recovery point exceeds the log end.
func TestRegressionSyncRacingTruncationOverstatesDurable(t *testing.T) {
	fsys := vfs.NewMem()
	boot := &bootFS{FS: fsys}
	cfg := testConfig() // FsyncOnAck
	l, _ := openLog(t, boot, cfg, newClock())
	for i := 0; i < 10; i++ {
		mustAppend(t, l, valueBatch(t, 1, 1, 10))
	}
	var armed atomic.Bool
	blocked := make(chan struct{})
	release := make(chan struct{})
	fsys.SetInjector(func(op vfs.Op, p string) error {
		if op == vfs.OpSync && strings.HasSuffix(p, logSuffix) && armed.CompareAndSwap(true, false) {
			close(blocked)
			<-release
		}
		return nil
	})
	armed.Store(true)
	done := make(chan error)
	go func() {
		_, err := l.Append(valueBatch(t, 1, 1, 10), 0) // offset 10; leads the fsync
		done <- err
	}()
	<-blocked // the leader has noted target=11 and is inside fsync
	if err := l.TruncateTo(5); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fsys.SetInjector(nil)
	// Offsets 5, 6, 7: acknowledged as durable.
	for i := 0; i < 3; i++ {
		mustAppend(t, l, valueBatch(t, 1, 1, 10))
	}
	leo := l.LogEndOffset()
	rp := l.RecoveryPoint()
	t.Logf("log end %d, recovery point %d", leo, rp)
	boot.dead.Store(true)
	fsys.Crash()
	l2, _ := openLog(t, fsys, cfg, newClock())
	defer l2.Close()
	if l2.LogEndOffset() != leo {
		t.Fatalf("acknowledged appends lost in a power cut: log end %d before, %d after (recovery point was %d)", leo, l2.LogEndOffset(), rp)
	}
	if rp > leo {
		t.Fatalf("recovery point %d above the log end %d", rp, leo)
	}
}
