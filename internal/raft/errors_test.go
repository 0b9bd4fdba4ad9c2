package raft

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// TestIOErrorStopsNode: when a WAL write, a WAL fsync, or a directory
// fsync of a new segment fails, the proposals waiting on it fail, the node
// stops (later proposals fail at once, Close reports the error), and a
// power cut right after loses nothing that was acknowledged.
func TestIOErrorStopsNode(t *testing.T) {
	cases := []struct {
		op  vfs.Op
		err error
		is  syscall.Errno
	}{
		{vfs.OpSync, vfs.ErrEIO(), syscall.EIO},
		{vfs.OpWrite, vfs.ErrENOSPC(), syscall.ENOSPC},
		{vfs.OpSyncDir, vfs.ErrEIO(), syscall.EIO},
	}
	for _, c := range cases {
		for _, nth := range []int{1, 5, 20} {
			t.Run(fmt.Sprintf("%v-%d", c.op, nth), func(t *testing.T) {
				ioErrorCase(t, c.op, c.err, c.is, nth)
			})
		}
	}
}

func ioErrorCase(t *testing.T, op vfs.Op, injected error, is syscall.Errno, nth int) {
	fsys := vfs.NewMem()
	cfg := testConfig(fsys)
	cfg.SegmentBytes = 512 // new segments, so that directory fsyncs happen
	n, sm := openNode(t, cfg)
	waitLeader(t, n)
	fsys.SetInjector(vfs.FailNth(op, nth, injected))

	var mu sync.Mutex
	var acked []smEntry
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				data := fmt.Sprintf("w%d-%d", w, i)
				idx, err := n.Propose(context.Background(), []byte(data))
				if err != nil {
					if !errors.Is(err, ErrStopped) || !errors.Is(err, is) {
						t.Errorf("propose failed with %v, want ErrStopped wrapping %v", err, is)
					}
					return
				}
				mu.Lock()
				acked = append(acked, smEntry{idx, data})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	start := time.Now()
	if _, err := n.Propose(context.Background(), []byte("late")); !errors.Is(err, ErrStopped) || time.Since(start) > time.Second {
		t.Fatalf("propose on a stopped node: %v after %v", err, time.Since(start))
	}
	if err := n.Close(); !errors.Is(err, is) {
		t.Fatalf("close: %v, want the %v that stopped the node", err, is)
	}
	fsys.SetInjector(nil)
	fsys.Crash()
	n2, sm2 := openNode(t, cfg)
	defer n2.Close()
	got := sm2.list()
	for _, e := range acked {
		if !containsEntry(got, e) {
			t.Fatalf("acknowledged %+v lost after the error and a power cut", e)
		}
	}
	if !isPrefix(sm.list(), got) {
		t.Fatalf("what was applied before the error (%d entries) is not a prefix of what was recovered (%d)", len(sm.list()), len(got))
	}
}

// failingSM fails Apply for one payload.
type failingSM struct {
	listSM
	bad string
}

func (s *failingSM) Apply(index uint64, data []byte) error {
	if string(data) == s.bad {
		return errors.New("state machine refuses")
	}
	return s.listSM.Apply(index, data)
}

// TestApplyErrorStopsNode: a state machine error is not skipped: the
// proposal fails and the node stops.
func TestApplyErrorStopsNode(t *testing.T) {
	sm := &failingSM{bad: "poison"}
	n, err := Open(testConfig(vfs.NewMem()), sm)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader(t, n)
	if _, err := n.Propose(context.Background(), []byte("fine")); err != nil {
		t.Fatal(err)
	}
	_, err = n.Propose(context.Background(), []byte("poison"))
	if !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), "refuses") {
		t.Fatalf("poisoned proposal: %v", err)
	}
	if _, err := n.Propose(context.Background(), []byte("after")); !errors.Is(err, ErrStopped) {
		t.Fatalf("propose after apply error: %v", err)
	}
	if err := n.Close(); err == nil {
		t.Fatal("close after an apply error reported nothing")
	}
}
