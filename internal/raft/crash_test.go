package raft

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

// The crash tests cut the power (MemFS.Crash, or CrashTorn which keeps a
// random part of unsynced appends) at a random file operation while eight
// goroutines propose, then reopen and check the contract:
//   - what the state machine had applied before the cut (which includes
//     every acknowledged proposal, at its acknowledged index) is a prefix of
//     what the reopened node replays: same entries, same order;
//   - no proposal appears twice, and nothing appears that was not proposed;
//   - the reopened node's state equals replaying the surviving snapshot and
//     log directly.

var errPowerCut = errors.New("test: power cut")

func TestCrashWhileProposing(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 30
	}
	acked, late := 0, 0
	for seed := range uint64(seeds) {
		a, l := crashSeed(t, seed)
		acked, late = acked+a, late+l
	}
	t.Logf("%d acknowledged proposals checked across %d seeds x 3 power cuts (%d cut after the proposals ran out)", acked, seeds, late)
}

type crashRun struct {
	t        *testing.T
	seed     uint64
	fsys     *vfs.MemFS
	cfg      Config
	history  []smEntry       // applied before the last power cut
	proposed map[string]bool // every payload ever proposed
	late     int             // cuts after the proposals ran out
}

func crashSeed(t *testing.T, seed uint64) (acked, late int) {
	rng := rand.New(rand.NewPCG(seed, 0x5a45))
	r := &crashRun{t: t, seed: seed, fsys: vfs.NewMem(), proposed: map[string]bool{}}
	r.cfg = testConfig(r.fsys)
	if rng.IntN(2) == 0 { // exercise snapshots, rolls and compaction
		r.cfg.SnapshotEvery = uint64(5 + rng.IntN(40))
		r.cfg.SegmentBytes = int64(256 + rng.IntN(2048))
	}
	total := 0
	for round := range 3 {
		n, sm := r.reopen(round)
		torn := rng.IntN(2) == 0
		tear := rand.New(rand.NewPCG(seed, uint64(round)))
		cut := r.cutPowerAt(1+rng.IntN(300), torn, tear)
		acked := r.proposeUntilCut(n, round)
		if !cut() {
			r.late++
		}
		n.Close()
		r.fsys.SetInjector(nil)
		r.history = sm.list()
		for idx, data := range acked {
			if !containsEntry(r.history, smEntry{idx, data}) {
				t.Fatalf("seed %d round %d: acknowledged %q at %d was never applied", seed, round, data, idx)
			}
		}
		total += len(acked)
	}
	n, _ := r.reopen(3)
	n.Close()
	return total, r.late
}

// reopen opens the node after a power cut and checks it against the
// history, then checks that its state equals a direct replay of the files.
func (r *crashRun) reopen(round int) (*Node, *listSM) {
	t := r.t
	n, sm := openNode(t, r.cfg)
	got := sm.list()
	if !isPrefix(r.history, got) {
		t.Fatalf("seed %d round %d: applied before the cut (%d entries) is not a prefix of the %d replayed", r.seed, round, len(r.history), len(got))
	}
	r.checkUnique(round, got)
	waitLeader(t, n)
	// Once this is applied, so is everything the log held.
	sync := fmt.Sprintf("sync-%d", round)
	r.proposed[sync] = true
	if _, err := n.Propose(context.Background(), []byte(sync)); err != nil {
		t.Fatalf("seed %d round %d: %v", r.seed, round, err)
	}
	state := sm.list()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	sameEntries(t, fmt.Sprintf("seed %d round %d: node vs direct replay", r.seed, round), state, replayFiles(t, r.fsys, r.cfg.Dir))
	r.history = state
	n, sm = openNode(t, r.cfg)
	waitLeader(t, n)
	return n, sm
}

func (r *crashRun) checkUnique(round int, ents []smEntry) {
	seen := map[string]bool{}
	for i, e := range ents {
		if i > 0 && e.index <= ents[i-1].index {
			r.t.Fatalf("seed %d round %d: index %d after %d", r.seed, round, e.index, ents[i-1].index)
		}
		if !r.proposed[e.data] {
			r.t.Fatalf("seed %d round %d: %q was never proposed", r.seed, round, e.data)
		}
		if seen[e.data] {
			r.t.Fatalf("seed %d round %d: %q applied twice", r.seed, round, e.data)
		}
		seen[e.data] = true
	}
}

// cutPowerAt crashes the file system just before its k-th operation from
// now; that operation and every later one fail. The node does all its file
// operations on one goroutine, so the cut falls exactly between two. The
// returned func cuts the power now if that has not happened yet (when the
// proposals ran out first) and reports whether it had.
func (r *crashRun) cutPowerAt(k int, torn bool, tear *rand.Rand) func() bool {
	var mu sync.Mutex
	ops, dead := 0, false
	cut := func() {
		dead = true
		if torn {
			r.fsys.CrashTorn(tear)
		} else {
			r.fsys.Crash()
		}
	}
	r.fsys.SetInjector(func(vfs.Op, string) error {
		mu.Lock()
		defer mu.Unlock()
		if ops++; !dead && ops == k {
			cut()
		}
		if dead {
			return errPowerCut
		}
		return nil
	})
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		was := dead
		if !dead {
			cut()
		}
		return was
	}
}

// proposeUntilCut proposes from eight goroutines until the node stops and
// returns what was acknowledged.
func (r *crashRun) proposeUntilCut(n *Node, round int) map[uint64]string {
	var mu sync.Mutex
	acked := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		names := make([]string, 0, 64)
		mu.Lock()
		for i := range cap(names) {
			name := fmt.Sprintf("r%d-w%d-%d", round, w, i)
			r.proposed[name] = true
			names = append(names, name)
		}
		mu.Unlock()
		wg.Go(func() {
			for _, data := range names {
				idx, err := n.Propose(context.Background(), []byte(data))
				if err != nil {
					if !errors.Is(err, ErrStopped) {
						r.t.Errorf("seed %d: propose failed with %v, want ErrStopped", r.seed, err)
					}
					return
				}
				mu.Lock()
				acked[idx] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked
}

func containsEntry(ents []smEntry, e smEntry) bool {
	for _, x := range ents {
		if x == e {
			return true
		}
	}
	return false
}

// replayFiles rebuilds the state machine straight from the files: the
// snapshot, then every committed normal entry after it.
func replayFiles(t testing.TB, fsys vfs.FS, dir string) []smEntry {
	t.Helper()
	rec, err := openStorage(fsys, dir, DefaultSegmentBytes, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.w.close()
	sm := &listSM{}
	if rec.snap != nil {
		if err := sm.Restore(rec.snap.GetData()); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range rec.ents {
		if e.GetIndex() > rec.hs.GetCommit() {
			break
		}
		if e.GetType() != raftpb.EntryNormal || len(e.GetData()) == 0 {
			continue
		}
		_, _, payload, ok := decodeEnvelope(e.GetData())
		if !ok {
			t.Fatalf("entry %d without envelope", e.GetIndex())
		}
		if err := sm.Apply(e.GetIndex(), payload); err != nil {
			t.Fatal(err)
		}
	}
	return sm.list()
}
