package raft

import (
	"errors"
	"path"
	"slices"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/samsa-io/samsa/internal/vfs"
)

func ent(index, term uint64, data string) *raftpb.Entry {
	e := &raftpb.Entry{Index: new(index), Term: new(term), Type: raftpb.EntryNormal.Enum()}
	if data != "" {
		e.Data = []byte(data)
	}
	return e
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func mustOpenStorage(t *testing.T, fsys vfs.FS, segBytes int64) *recovered {
	t.Helper()
	rec, err := openStorage(fsys, "d", segBytes, quietLogger())
	if err != nil {
		t.Fatalf("open storage: %v", err)
	}
	return rec
}

func mustSave(t *testing.T, w *wal, hs *raftpb.HardState, ents ...*raftpb.Entry) {
	t.Helper()
	if err := w.save(hs, ents); err != nil {
		t.Fatal(err)
	}
}

// logOf describes entries as (index, term) pairs.
func logOf(ents []*raftpb.Entry) [][2]uint64 {
	var out [][2]uint64
	for _, e := range ents {
		out = append(out, [2]uint64{e.GetIndex(), e.GetTerm()})
	}
	return out
}

// TestWALTornTailEveryByte cuts the only segment at every byte: recovery
// keeps exactly the records that end before the cut, cuts the file there,
// and never lets the commit index pass the entries kept.
func TestWALTornTailEveryByte(t *testing.T) {
	src := vfs.NewMem()
	w := mustOpenStorage(t, src, DefaultSegmentBytes).w
	mustSave(t, w, hardState(1, 1, 0), ent(1, 1, "a"), ent(2, 1, "bb"))
	mustSave(t, w, hardState(1, 1, 2), ent(3, 1, "ccc"))
	mustSave(t, w, hardState(1, 1, 3), ent(4, 1, "dddd"), ent(5, 1, ""))
	mustSave(t, w, hardState(1, 1, 5))
	name := path.Join("d", w.segs[0].name)
	w.close()
	full, _ := src.ReadFile(name)

	// Record boundaries of the intact file, and what each prefix holds.
	type state struct {
		end     int
		entries int
		commit  uint64
	}
	var bounds []state
	var s state
	for off := 0; off < len(full); {
		r, n, ok := nextRecord(full[off:])
		if !ok {
			t.Fatal("intact file does not parse")
		}
		off += n
		switch r.typ {
		case recEntry:
			s.entries++
		case recHardState:
			hs, _ := decodeHardState(r.payload)
			s.commit = hs.GetCommit()
		}
		s.end = off
		bounds = append(bounds, s)
	}
	for cut := bounds[0].end; cut <= len(full); cut++ {
		want := bounds[0]
		for _, b := range bounds {
			if b.end <= cut {
				want = b
			}
		}
		fsys := vfs.NewMem()
		fsys.MkdirAll("d")
		fsys.WriteFile(name, full[:cut])
		rec := mustOpenStorage(t, fsys, DefaultSegmentBytes)
		rec.w.close()
		if len(rec.ents) != want.entries || rec.hs.GetCommit() != want.commit {
			t.Fatalf("cut at %d: %d entries, commit %d; want %d, %d", cut, len(rec.ents), rec.hs.GetCommit(), want.entries, want.commit)
		}
		if b, _ := fsys.ReadFile(name); len(b) != want.end {
			t.Fatalf("cut at %d: file left at %d bytes, want %d", cut, len(b), want.end)
		}
	}
}

// TestWALDamageBeforeTailIsCorruption: a bad record in a segment that is
// not the last cannot be a torn write, so Open refuses instead of
// dropping the committed entries after it.
func TestWALDamageBeforeTailIsCorruption(t *testing.T) {
	fsys := vfs.NewMem()
	w := mustOpenStorage(t, fsys, 100).w
	for i := uint64(1); i <= 6; i++ {
		mustSave(t, w, hardState(1, 1, i), ent(i, 1, "payload"))
	}
	if len(w.segs) < 3 {
		t.Fatalf("%d segments, want several", len(w.segs))
	}
	first := path.Join("d", w.segs[0].name)
	w.close()
	if err := fsys.FlipBit(first, 60, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := openStorage(fsys, "d", 100, quietLogger()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with a damaged first segment: %v, want ErrCorrupt", err)
	}
}

// TestWALReplaysOverwrites: a follower's log overwritten by a new leader
// replays as the new leader's log.
func TestWALReplaysOverwrites(t *testing.T) {
	fsys := vfs.NewMem()
	w := mustOpenStorage(t, fsys, 200).w
	mustSave(t, w, hardState(1, 0, 2), ent(1, 1, "a"), ent(2, 1, "b"), ent(3, 1, "c"), ent(4, 1, "d"), ent(5, 1, "e"))
	mustSave(t, w, hardState(2, 0, 2), ent(3, 2, "C"), ent(4, 2, "D"))
	mustSave(t, w, hardState(2, 0, 4), ent(5, 2, "E"))
	w.close()
	rec := mustOpenStorage(t, fsys, 200)
	rec.w.close()
	want := [][2]uint64{{1, 1}, {2, 1}, {3, 2}, {4, 2}, {5, 2}}
	if got := logOf(rec.ents); !slices.Equal(got, want) || string(rec.ents[2].GetData()) != "C" {
		t.Fatalf("replayed %v, want %v", got, want)
	}
}

// TestRecoverWithSnapshot covers the snapshot against the log: a snapshot
// the log agrees with keeps the entries after it; one it disagrees with
// (a snapshot from a new leader, made durable just before a crash, while
// the log still held a divergent tail) discards them and restarts the WAL
// at the snapshot.
func TestRecoverWithSnapshot(t *testing.T) {
	for _, c := range []struct {
		name     string
		snapTerm uint64
		want     [][2]uint64
	}{
		{"agrees", 1, [][2]uint64{{9, 1}, {10, 1}}},
		{"diverges", 3, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			w := mustOpenStorage(t, fsys, DefaultSegmentBytes).w
			for i := uint64(1); i <= 10; i++ {
				mustSave(t, w, hardState(1, 0, min(i, 4)), ent(i, 1, "x"))
			}
			w.close()
			snap := &raftpb.Snapshot{Data: []byte("state"), Metadata: &raftpb.SnapshotMetadata{
				Index: new(uint64(8)), Term: new(c.snapTerm), ConfState: &raftpb.ConfState{Voters: []uint64{1}},
			}}
			if err := writeSnapshot(fsys, "d", snap); err != nil {
				t.Fatal(err)
			}
			rec := mustOpenStorage(t, fsys, DefaultSegmentBytes)
			if got := logOf(rec.ents); !slices.Equal(got, c.want) || rec.hs.GetCommit() != 8 {
				t.Fatalf("log %v commit %d, want %v commit 8", got, rec.hs.GetCommit(), c.want)
			}
			mustSave(t, rec.w, hardState(3, 0, 9), ent(9, 3, "new"))
			rec.w.close()
			rec = mustOpenStorage(t, fsys, DefaultSegmentBytes)
			rec.w.close()
			wantAfter := [][2]uint64{{9, 3}} // where kept, 9 is overwritten and 10 dropped
			if got := logOf(rec.ents); !slices.Equal(got, wantAfter) {
				t.Fatalf("after appending 9@3: %v, want %v", got, wantAfter)
			}
		})
	}
}

// TestSnapshotFileRoundTripAndDamage: the snapshot file keeps every
// ConfState field, and a flipped bit anywhere is refused.
func TestSnapshotFileRoundTripAndDamage(t *testing.T) {
	snap := &raftpb.Snapshot{Data: []byte("state machine bytes"), Metadata: &raftpb.SnapshotMetadata{
		Index: new(uint64(42)), Term: new(uint64(7)),
		ConfState: &raftpb.ConfState{
			Voters: []uint64{1, 2, 3}, Learners: []uint64{4}, VotersOutgoing: []uint64{1, 2, 5},
			LearnersNext: []uint64{5}, AutoLeave: new(true),
		},
	}}
	b := encodeSnapshot(snap)
	got, err := decodeSnapshot(b)
	if err != nil || !proto.Equal(got, snap) {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	for i := range b {
		bad := slices.Clone(b)
		bad[i] ^= 0x10
		if _, err := decodeSnapshot(bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipped byte %d accepted: %v", i, err)
		}
	}
}

// TestMissingSnapshotIsCorruption: a WAL compacted behind a snapshot that
// is gone cannot be replayed.
func TestMissingSnapshotIsCorruption(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := testConfig(fsys)
	cfg.SnapshotEvery = 5
	cfg.SegmentBytes = 256
	n, _ := openNode(t, cfg)
	waitLeader(t, n)
	if _, errs := proposeAll(n, 2, 20); len(errs) > 0 {
		t.Fatal(errs)
	}
	n.Close()
	for _, s := range listFiles(t, fsys, cfg.Dir, snapSuffix) {
		fsys.Remove(path.Join(cfg.Dir, s))
	}
	if _, err := Open(cfg, &listSM{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open without the snapshot: %v, want ErrCorrupt", err)
	}
}
