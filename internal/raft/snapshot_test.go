package raft

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

// TestSnapshotCompactsWAL: after many multiples of SnapshotEvery entries
// there is one snapshot, the WAL segments before it are gone, and a
// reopened node restores the snapshot and applies only the tail.
func TestSnapshotCompactsWAL(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig(fsys)
	cfg.SnapshotEvery = 50
	cfg.SegmentBytes = 1024
	n, sm := openNode(t, cfg)
	waitLeader(t, n)
	acked, errs := proposeAll(n, 4, 150)
	if len(errs) > 0 || len(acked) != 600 {
		t.Fatalf("%d acknowledged, errors %v", len(acked), errs)
	}
	applied := n.Applied()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	snaps := listFiles(t, fsys, cfg.Dir, snapSuffix)
	if len(snaps) != 1 {
		t.Fatalf("snapshot files %v, want one", snaps)
	}
	snapIndex, _ := parseSnapName(snaps[0])
	if snapIndex+cfg.SnapshotEvery <= applied {
		t.Fatalf("newest snapshot at %d, applied %d: one every %d was missed", snapIndex, applied, cfg.SnapshotEvery)
	}
	// Compaction keeps exactly one segment that starts at or before the
	// snapshot (replay needs the entries after it), and none before it.
	segs := listFiles(t, fsys, cfg.Dir, walSuffix)
	for i, name := range segs {
		var first uint64
		fmt.Sscanf(name, "%016x-%016x", new(uint64), &first)
		if i == 0 && (first == 1 || first-1 > snapIndex) {
			t.Fatalf("first WAL segment %s: want one starting after 1 and at or before the snapshot %d", name, snapIndex)
		}
		if i > 0 && first-1 <= snapIndex {
			t.Fatalf("WAL segment %s is not the first but starts at or before the snapshot %d: %v", name, snapIndex, segs)
		}
	}

	n2, sm2 := openNode(t, cfg)
	defer n2.Close()
	sameEntries(t, "after reopen", sm2.list(), sm.list())
	if sm2.restores != 1 || uint64(sm2.applies) > applied-snapIndex {
		t.Fatalf("reopen restored %d snapshots and applied %d entries; want 1 and at most %d", sm2.restores, sm2.applies, applied-snapIndex)
	}
}

// TestSnapshotCrashAtEachStep cuts the power (or fails the operation with
// EIO) before each file operation from the first snapshot on: the
// snapshot's temporary file, rename and directory sync, the new segment,
// the removals, and the appends and later snapshots after them. Each time
// the node recovers every acknowledged entry, then takes snapshots and
// reopens normally.
func TestSnapshotCrashAtEachStep(t *testing.T) {
	maxK := 1 << 30
	if testing.Short() {
		maxK = 25 // the first snapshot, its compaction, and a few appends
	}
	for _, mode := range []string{"crash", "torn", "eio"} {
		for k := 0; ; k++ {
			if k == maxK || !snapshotCrashCase(t, mode, k) {
				if k < 10 {
					t.Fatalf("%s: the snapshot took only %d file operations", mode, k)
				}
				t.Logf("%s: recovered from a failure at each of %d file operations", mode, k)
				break
			}
		}
	}
}

// snapshotCrashCase fails the k-th file operation counted from the
// creation of the first snapshot's temporary file. It reports whether
// that operation came before the proposals ran out.
func snapshotCrashCase(t *testing.T, mode string, k int) bool {
	fsys := vfs.NewMem()
	cfg := testConfig(fsys)
	cfg.SnapshotEvery = 10
	n, sm := openNode(t, cfg)
	waitLeader(t, n)
	hit := failFromSnapshot(fsys, mode, k)
	var acked []smEntry
	for i := range 25 {
		data := fmt.Sprintf("e%d", i)
		idx, err := n.Propose(context.Background(), []byte(data))
		if err != nil {
			if !errors.Is(err, ErrStopped) {
				t.Fatalf("%s k=%d: %v", mode, k, err)
			}
			break
		}
		acked = append(acked, smEntry{idx, data})
	}
	n.Close()
	fsys.SetInjector(nil)
	if !*hit {
		return false
	}
	if !isPrefix(acked, sm.list()) {
		t.Fatalf("%s k=%d: acknowledged entries are not what was applied", mode, k)
	}
	history := sm.list()
	n2, sm2 := openNode(t, cfg)
	if !isPrefix(history, sm2.list()) {
		t.Fatalf("%s k=%d: lost applied entries: %d before, %d after", mode, k, len(history), len(sm2.list()))
	}
	waitLeader(t, n2)
	if _, errs := proposeAll(n2, 2, 15); len(errs) > 0 {
		t.Fatalf("%s k=%d: after recovery: %v", mode, k, errs)
	}
	state := sm2.list()
	n2.Close()
	sameEntries(t, fmt.Sprintf("%s k=%d: direct replay", mode, k), replayFiles(t, fsys, cfg.Dir), state)
	return true
}

// failFromSnapshot arms fsys to fail the k-th operation counted from the
// first snapshot temporary file's creation, after cutting the power unless
// mode is "eio". *hit reports whether it fired.
func failFromSnapshot(fsys *vfs.MemFS, mode string, k int) *bool {
	var mu sync.Mutex
	hit, counting, ops := new(bool), false, 0
	fsys.SetInjector(func(op vfs.Op, p string) error {
		mu.Lock()
		defer mu.Unlock()
		if op == vfs.OpCreate && strings.HasSuffix(p, snapSuffix+tmpSuffix) {
			counting = true
		}
		if *hit {
			return errPowerCut
		}
		if !counting {
			return nil
		}
		if ops++; ops <= k {
			return nil
		}
		*hit = true
		switch mode {
		case "crash":
			fsys.Crash()
		case "torn":
			fsys.CrashTorn(rand.New(rand.NewPCG(uint64(k), 1)))
		default:
			return vfs.ErrEIO()
		}
		return errPowerCut
	})
	return hit
}

// TestConfChangeSurvivesCompaction: a ConfChangeV2 adding a learner is
// applied, recorded in the snapshot's ConfState, and still in force after
// the WAL that held it is compacted away and the node reopens.
func TestConfChangeSurvivesCompaction(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig(fsys)
	cfg.SnapshotEvery = 5
	cfg.SegmentBytes = 512
	n, _ := openNode(t, cfg)
	waitLeader(t, n)
	cc := &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{{
		Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: new(uint64(2)),
	}}}
	ccIndex, err := n.ProposeConfChange(context.Background(), cc)
	if err != nil || ccIndex == 0 {
		t.Fatalf("conf change: index %d, %v", ccIndex, err)
	}
	if _, errs := proposeAll(n, 2, 20); len(errs) > 0 {
		t.Fatal(errs)
	}
	n.Close()

	segs := listFiles(t, fsys, cfg.Dir, walSuffix)
	var first uint64
	fmt.Sscanf(segs[0], "%016x-%016x", new(uint64), &first)
	if first <= ccIndex {
		t.Fatalf("WAL still starts at %d, at or before the conf change at %d", first, ccIndex)
	}
	snaps := listFiles(t, fsys, cfg.Dir, snapSuffix)
	s, err := loadSnapshot(fsys, path.Join(cfg.Dir, snaps[len(snaps)-1]))
	if err != nil {
		t.Fatal(err)
	}
	cs := s.GetMetadata().GetConfState()
	if !slices.Equal(cs.GetVoters(), []uint64{1}) || !slices.Equal(cs.GetLearners(), []uint64{2}) {
		t.Fatalf("snapshot ConfState %v, want voters [1] learners [2]", cs)
	}

	n2, _ := openNode(t, cfg)
	waitLeader(t, n2) // still the only voter: it campaigns at once
	n2.Close()
	if got := n2.lp.confState; !slices.Equal(got.GetLearners(), []uint64{2}) {
		t.Fatalf("reopened ConfState %v, want learner 2", got)
	}
}
