package log

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// countSyncs counts fsyncs of segment files on fsys, each taking delay.
func countSyncs(fsys *vfs.MemFS, delay time.Duration) *atomic.Int64 {
	var n atomic.Int64
	fsys.SetInjector(func(op vfs.Op, p string) error {
		if op == vfs.OpSync && strings.HasSuffix(p, logSuffix) {
			n.Add(1)
			time.Sleep(delay)
		}
		return nil
	})
	return &n
}

func TestGroupCommitSharesFsyncs(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := DefaultConfig() // FsyncOnAck
	l, _ := openLog(t, fsys, cfg, newClock())
	defer l.Close()
	syncs := countSyncs(fsys, time.Millisecond)
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				res, err := l.Append(valueBatch(t, 1, 1, 100), 0)
				if err != nil {
					t.Error(err)
					return
				}
				// Acknowledged means durable: the recovery point covers it.
				if rp := l.RecoveryPoint(); rp <= res.LastOffset {
					t.Errorf("append of %d returned with the recovery point at %d", res.LastOffset, rp)
				}
			}
		}()
	}
	wg.Wait()
	n := syncs.Load()
	t.Logf("%d appends, %d fsyncs", writers*each, n)
	if n == 0 || n > writers*each/2 {
		t.Fatalf("%d fsyncs for %d appends: group commit is not sharing them", n, writers*each)
	}
}

func TestFlushPolicies(t *testing.T) {
	fsys := vfs.NewMem()
	clk := newClock()
	cfg := DefaultConfig()
	cfg.FsyncOnAck = false
	cfg.FlushMessages = 10
	cfg.FlushInterval = time.Second
	l, _ := openLog(t, fsys, cfg, clk)
	defer l.Close()
	syncs := countSyncs(fsys, 0)
	for i := 0; i < 9; i++ {
		mustAppend(t, l, valueBatch(t, 1, 1, 10))
	}
	if syncs.Load() != 0 || l.RecoveryPoint() != 0 {
		t.Fatalf("page-cache mode synced early: %d fsyncs, recovery point %d", syncs.Load(), l.RecoveryPoint())
	}
	mustAppend(t, l, valueBatch(t, 1, 1, 10)) // the 10th unflushed record
	if syncs.Load() != 1 || l.RecoveryPoint() != 10 {
		t.Fatalf("flush.messages=10: %d fsyncs, recovery point %d", syncs.Load(), l.RecoveryPoint())
	}
	mustAppend(t, l, valueBatch(t, 1, 3, 10))
	if err := l.MaybeFlush(); err != nil || syncs.Load() != 1 {
		t.Fatalf("flush.ms flushed before its time: %d fsyncs, %v", syncs.Load(), err)
	}
	clk.Advance(time.Second)
	if err := l.MaybeFlush(); err != nil || syncs.Load() != 2 || l.RecoveryPoint() != 13 {
		t.Fatalf("flush.ms: %d fsyncs, recovery point %d, %v", syncs.Load(), l.RecoveryPoint(), err)
	}
	clk.Advance(time.Hour)
	if err := l.MaybeFlush(); err != nil || syncs.Load() != 2 {
		t.Fatalf("nothing unflushed, yet %d fsyncs, %v", syncs.Load(), err)
	}
}

func TestIOErrorsFailTheLog(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   vfs.Op
		errf func() error
		want error
	}{
		{"EIO on fsync", vfs.OpSync, vfs.ErrEIO, syscall.EIO},
		{"ENOSPC on write", vfs.OpWrite, vfs.ErrENOSPC, syscall.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			l, _ := openLog(t, fsys, DefaultConfig(), newClock())
			for i := 0; i < 5; i++ {
				mustAppend(t, l, valueBatch(t, 1, 2, 10))
			}
			fsys.SetInjector(vfs.FailNth(tc.op, 1, tc.errf()))
			_, err := l.Append(valueBatch(t, 1, 2, 10), 0)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrFailed) {
				t.Fatalf("append: %v, want %v and ErrFailed", err, tc.want)
			}
			fsys.SetInjector(nil)
			// Failed for good: no retry after an fsync error (the page cache
			// may have dropped the dirty pages).
			if _, err := l.Append(valueBatch(t, 1, 2, 10), 0); !errors.Is(err, ErrFailed) {
				t.Fatalf("append after the failure: %v, want ErrFailed", err)
			}
			if err := l.Sync(l.LogEndOffset()); !errors.Is(err, ErrFailed) && l.RecoveryPoint() < l.LogEndOffset() {
				t.Fatalf("sync after the failure: %v", err)
			}
			// What was acknowledged is still readable, now and after a crash.
			if got := readRecords(t, l); len(got) < 10 {
				t.Fatalf("read %d records after the failure, want 10+", len(got))
			}
			fsys.Crash()
			l2, rep := openLog(t, fsys, DefaultConfig(), newClock())
			defer l2.Close()
			if got := readRecords(t, l2); len(got) != 10 || rep.BelowRecoveryPoint {
				t.Fatalf("after restart %d records (want the 10 acknowledged), report %+v", len(got), rep)
			}
		})
	}
}

// AppendDeferred writes without FsyncOnAck's wait: a power cut before the
// caller's Sync may lose the batch, one after it may not.
func TestAppendDeferredIsDurableOnlyAfterSync(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig()
	cfg.FsyncOnAck = true
	l, _ := openLog(t, fsys, cfg, newClock())
	mustAppend(t, l, valueBatch(t, 1, 3, 10))
	res, next, err := l.AppendDeferred(valueBatch(t, 2, 2, 10), 0)
	if err != nil || res.BaseOffset != 3 || next != 5 {
		t.Fatalf("deferred append: %+v next %d err %v", res, next, err)
	}
	if l.RecoveryPoint() != 3 {
		t.Fatalf("recovery point %d before Sync, want 3", l.RecoveryPoint())
	}
	if err := l.Sync(next); err != nil || l.RecoveryPoint() != 5 {
		t.Fatalf("sync: %v, recovery point %d", err, l.RecoveryPoint())
	}
	if _, _, err := l.AppendDeferred(valueBatch(t, 3, 1, 10), 0); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	l2, _ := openLog(t, fsys, cfg, newClock())
	if end := l2.LogEndOffset(); end < 5 {
		t.Fatalf("synced records lost: log end %d", end)
	}
}

// Switching a live log from fsync-on-ack to page-cache mode writes out the
// batches queued for the next group commit: a deferred append then
// survives the process dying (page cache kept).
func TestLeavingFsyncOnAckWritesTheQueue(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig()
	cfg.FsyncOnAck = true
	l, _ := openLog(t, fsys, cfg, newClock())
	if _, _, err := l.AppendDeferred(valueBatch(t, 1, 2, 10), 0); err != nil {
		t.Fatal(err)
	}
	cfg.FsyncOnAck = false
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	// In page-cache mode the batch counts as committed now; the process
	// dies without Close: what was written is in the page cache (MemFS
	// keeps unsynced data until Crash), nothing queued in memory is.
	l2, _ := openLog(t, fsys, cfg, newClock())
	if recs := readRecords(t, l2); len(recs) != 2 || recs[0].ts != 1 {
		t.Fatalf("after reopening: %d records %+v", len(recs), recs)
	}
}

// A deferred append waits in the write queue for the group commit, but the
// queue holds a copy: the caller may reuse its buffer as soon as the call
// returns (the listener does, for produce requests), and the log still
// writes what was appended.
func TestQueuedAppendKeepsNoReferenceToTheCallersBuffer(t *testing.T) {
	cfg := testConfig()
	cfg.FsyncOnAck = true
	l, _ := openLog(t, vfs.NewMem(), cfg, newClock())
	var want [][]byte
	var next int64
	for i := range 3 {
		b := valueBatch(t, int64(i+1), 2, 10)
		_, n, err := l.AppendDeferred(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		next = n
		want = append(want, bytes.Clone(b)) // as assigned offsets rewrote it
		for j := range b {
			b[j] = 0xee
		}
	}
	if err := l.Sync(next); err != nil {
		t.Fatal(err)
	}
	got := readBatches(t, l)
	if len(got) != len(want) {
		t.Fatalf("read %d batches, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("batch %d was read back changed: the log wrote the caller's reused buffer", i)
		}
	}
}
