package raft

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// TestSingleVoterProposeReopen: 16 goroutines propose concurrently; every
// proposal is acknowledged with a distinct index, the state machine holds
// exactly the acknowledged entries in index order, and a reopened node
// replays the same list (with the same checksum) before Open returns.
func TestSingleVoterProposeReopen(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig(fsys)
	n, sm := openNode(t, cfg)
	if id := waitLeader(t, n); id != 1 {
		t.Fatalf("leader %d, want 1", id)
	}
	const workers, each = 16, 40
	acked, errs := proposeAll(n, workers, each)
	if len(errs) > 0 || len(acked) != workers*each {
		t.Fatalf("%d acknowledged, errors %v", len(acked), errs)
	}
	var want []smEntry
	for _, idx := range slices.Sorted(maps.Keys(acked)) {
		want = append(want, smEntry{idx, acked[idx]})
	}
	sameEntries(t, "applied", sm.list(), want)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Propose(context.Background(), []byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("propose after close: %v", err)
	}

	n2, sm2 := openNode(t, cfg)
	defer n2.Close()
	sameEntries(t, "replayed", sm2.list(), want)
	if sm2.checksum() != sm.checksum() {
		t.Fatalf("checksum %x after reopen, %x before", sm2.checksum(), sm.checksum())
	}
	waitLeader(t, n2)
	idx, err := n2.Propose(context.Background(), []byte("after"))
	if err != nil || idx <= want[len(want)-1].index {
		t.Fatalf("propose after reopen: index %d, %v", idx, err)
	}
}

// TestSingleVoterStartsFast: a single voter on the real file system leads
// and commits its first proposal well within the two seconds a broker has
// to start, without waiting out an election timeout (here 10 s).
func TestSingleVoterStartsFast(t *testing.T) {
	cfg := testConfig(vfs.OS)
	cfg.Dir = t.TempDir()
	cfg.Tick = time.Second // an election timeout would take 10-20 s
	for round := range 2 { // fresh and restarted
		start := time.Now()
		n, _ := openNode(t, cfg)
		waitLeader(t, n)
		if _, err := n.Propose(context.Background(), []byte("x")); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		d := time.Since(start)
		if d > time.Second {
			t.Fatalf("round %d: open and first commit took %v", round, d)
		}
		t.Logf("round %d: open, election and first commit in %v", round, d)
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProposeCancelAndClose: a proposal stuck behind an fsync returns when
// its context ends, and Close fails the others with ErrClosed rather than
// leaving them hanging.
func TestProposeCancelAndClose(t *testing.T) {
	fsys := vfs.NewMem()
	n, _ := openNode(t, testConfig(fsys))
	waitLeader(t, n)
	if _, err := n.Propose(context.Background(), []byte("first")); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	fsys.SetInjector(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			<-release
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := n.Propose(ctx, []byte("stuck")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("propose with a deadline: %v", err)
	}
	errc := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := n.Propose(context.Background(), []byte("waiting"))
			errc <- err
		}()
	}
	closed := make(chan error)
	go func() { closed <- n.Close() }()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	for range 8 {
		select {
		case err := <-errc:
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Fatalf("propose during close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a proposal hangs after Close")
		}
	}
}

// TestOpenRejectsBadConfig covers the config checks.
func TestOpenRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{FS: vfs.NewMem(), Dir: "d"},
		{ID: 1, Dir: "d"},
		{ID: 1, FS: vfs.NewMem(), Dir: "d", ElectionTicks: 2, HeartbeatTicks: 2},
	} {
		if n, err := Open(cfg, &listSM{}); err == nil {
			n.Close()
			t.Fatalf("Open(%+v) succeeded", cfg)
		}
	}
}
