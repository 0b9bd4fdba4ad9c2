package raft

import (
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

// recovered is what a data directory holds after a crash or a clean stop.
type recovered struct {
	snap *raftpb.Snapshot  // the newest snapshot, nil if none
	hs   *raftpb.HardState // nil if none was written
	ents []*raftpb.Entry   // the log after the snapshot
	w    *wal              // open for appending
}

// logState is the log as replay rebuilds it: ents follow (baseIndex,
// baseTerm) without gaps.
type logState struct {
	baseIndex, baseTerm uint64
	ents                []*raftpb.Entry
}

func (l *logState) last() uint64 { return l.baseIndex + uint64(len(l.ents)) }

func (l *logState) lastTerm() uint64 {
	if len(l.ents) == 0 {
		return l.baseTerm
	}
	return l.ents[len(l.ents)-1].GetTerm()
}

func (l *logState) termAt(i uint64) (uint64, bool) {
	switch {
	case i == l.baseIndex:
		return l.baseTerm, true
	case i < l.baseIndex || i > l.last():
		return 0, false
	}
	return l.ents[i-l.baseIndex-1].GetTerm(), true
}

func (l *logState) resetTo(index, term uint64) {
	l.baseIndex, l.baseTerm, l.ents = index, term, nil
}

// restartAt moves the log's start to (index, term), keeping the entries
// after it when the log agrees that index has that term. It reports whether
// the log had to be discarded instead.
func (l *logState) restartAt(index, term uint64) (discarded bool) {
	if t, ok := l.termAt(index); ok && t == term {
		l.ents = l.ents[index-l.baseIndex:]
		l.baseIndex, l.baseTerm = index, term
		return false
	}
	l.resetTo(index, term)
	return true
}

// continueAt cuts the log after (index, term) when it holds that entry, as
// a segment header that continues the log says, and otherwise restarts the
// log there, as the first segment after a received snapshot says.
func (l *logState) continueAt(index, term uint64) {
	if t, ok := l.termAt(index); ok && t == term {
		l.ents = l.ents[:index-l.baseIndex]
		return
	}
	l.resetTo(index, term)
}

// appendEntry adds e, first dropping any entries at or after its index, as
// a follower does when a new leader overwrites its uncommitted tail.
func (l *logState) appendEntry(e *raftpb.Entry) error {
	i := e.GetIndex()
	if i <= l.baseIndex || i > l.last()+1 {
		return corruptf("entry %d outside the log (%d, %d]", i, l.baseIndex, l.last()+1)
	}
	l.ents = append(l.ents[:i-l.baseIndex-1], e)
	return nil
}

// openStorage recovers dir: it loads the newest snapshot, replays the WAL
// (cutting a torn tail off the last segment), and opens the WAL for
// appending.
func openStorage(fsys vfs.FS, dir string, segmentBytes int64, log *slog.Logger) (*recovered, error) {
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, err
	}
	snaps, segs, err := listDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var rec recovered
	if len(snaps) > 0 {
		if rec.snap, err = loadSnapshot(fsys, path.Join(dir, snaps[len(snaps)-1])); err != nil {
			return nil, err
		}
	}
	w := &wal{fs: fsys, dir: dir, segmentBytes: segmentBytes}
	var l logState
	if rec.hs, err = replay(w, segs, &l, log); err != nil {
		return nil, err
	}
	restart, err := fitSnapshot(&l, rec.snap)
	if err != nil {
		return nil, err
	}
	if rec.hs, err = checkCommit(rec.hs, &l); err != nil {
		return nil, err
	}
	w.hs, w.lastIndex, w.lastTerm = rec.hs, l.last(), l.lastTerm()
	if err := openTail(w, restart, &l); err != nil {
		return nil, err
	}
	rec.ents, rec.w = l.ents, w
	return &rec, nil
}

// listDir removes leftover temporary files and returns the snapshot files
// (oldest first) and the WAL segments (in sequence order).
func listDir(fsys vfs.FS, dir string) (snaps, segs []string, err error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range names {
		switch {
		case strings.HasSuffix(name, tmpSuffix):
			if err := fsys.Remove(path.Join(dir, name)); err != nil {
				return nil, nil, err
			}
		case strings.HasSuffix(name, snapSuffix):
			if _, ok := parseSnapName(name); ok {
				snaps = append(snaps, name)
			}
		case strings.HasSuffix(name, walSuffix):
			if _, ok := parseSegName(name); ok {
				segs = append(segs, name)
			}
		}
	}
	byIndex := func(a, b string) int {
		ia, _ := parseSnapName(a)
		ib, _ := parseSnapName(b)
		return cmpU64(ia, ib)
	}
	slices.SortFunc(snaps, byIndex)
	slices.Sort(segs) // fixed-width hex sequence numbers sort as strings
	return snaps, segs, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func loadSnapshot(fsys vfs.FS, name string) (*raftpb.Snapshot, error) {
	b, err := vfs.ReadAll(fsys, name)
	if err != nil {
		return nil, err
	}
	s, err := decodeSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// replay reads every segment into l and w.segs and returns the last hard
// state. A damaged record ends the last segment (it is cut there); anywhere
// else it is corruption.
func replay(w *wal, segs []string, l *logState, log *slog.Logger) (*raftpb.HardState, error) {
	var hs *raftpb.HardState
	for i, name := range segs {
		last := i == len(segs)-1
		b, err := vfs.ReadAll(w.fs, path.Join(w.dir, name))
		if err != nil {
			return nil, err
		}
		hdr, end, err := replaySegment(b, l, &hs, i == 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if seq, _ := parseSegName(name); hdr.seq != seq || name != segName(seq, hdr.prevIndex+1) {
			return nil, corruptf("%s: header says seq %d, previous index %d", name, hdr.seq, hdr.prevIndex)
		}
		w.segs = append(w.segs, segInfo{name: name, hdr: hdr})
		if end == len(b) {
			continue
		}
		if !last {
			return nil, corruptf("%s: damaged record at %d of %d bytes", name, end, len(b))
		}
		log.Warn("raft: cutting torn WAL tail", "segment", name, "at", end, "dropped", len(b)-end)
		if err := truncateFile(w.fs, path.Join(w.dir, name), int64(end)); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

// replaySegment applies one segment's records to l and hs. It returns the
// offset just past the last intact record.
func replaySegment(b []byte, l *logState, hs **raftpb.HardState, first bool) (segHeader, int, error) {
	r, off, ok := nextRecord(b)
	if !ok || r.typ != recHeader {
		return segHeader{}, 0, corruptf("no segment header")
	}
	hdr, err := decodeHeader(r.payload)
	if err != nil {
		return segHeader{}, 0, err
	}
	if first {
		l.resetTo(hdr.prevIndex, hdr.prevTerm)
	} else {
		l.continueAt(hdr.prevIndex, hdr.prevTerm)
	}
	for {
		r, n, ok := nextRecord(b[off:])
		if !ok {
			return hdr, off, nil
		}
		if err := replayRecord(r, l, hs); err != nil {
			return hdr, off, err
		}
		off += n
	}
}

func replayRecord(r record, l *logState, hs **raftpb.HardState) error {
	switch r.typ {
	case recEntry:
		e, err := decodeEntry(r.payload)
		if err != nil {
			return err
		}
		return l.appendEntry(e)
	case recHardState:
		h, err := decodeHardState(r.payload)
		*hs = h
		return err
	}
	return corruptf("record type %d", r.typ)
}

func truncateFile(fsys vfs.FS, name string, size int64) error {
	f, err := fsys.OpenRW(name)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fitSnapshot starts the replayed log at the snapshot. It reports whether
// the WAL must restart at the snapshot (its entries did not continue it).
func fitSnapshot(l *logState, snap *raftpb.Snapshot) (restart bool, err error) {
	if snap == nil {
		if l.baseIndex != 0 {
			return false, corruptf("WAL starts after index %d but there is no snapshot", l.baseIndex)
		}
		return false, nil
	}
	md := snap.GetMetadata()
	if md.GetIndex() < l.baseIndex {
		return false, corruptf("snapshot at %d is older than the WAL's start %d", md.GetIndex(), l.baseIndex)
	}
	return l.restartAt(md.GetIndex(), md.GetTerm()), nil
}

// checkCommit keeps the hard state's commit index within the log: at least
// the snapshot's index, and never past the last entry.
func checkCommit(hs *raftpb.HardState, l *logState) (*raftpb.HardState, error) {
	if hs == nil {
		if l.baseIndex == 0 {
			return nil, nil
		}
		hs = &raftpb.HardState{}
	}
	commit := max(hs.GetCommit(), l.baseIndex)
	if commit > l.last() {
		return nil, corruptf("commit index %d past the last entry %d", commit, l.last())
	}
	return &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(commit)}, nil
}

// openTail opens the last segment for appending, or starts a new one when
// there is none or when the log must restart at the snapshot.
func openTail(w *wal, restart bool, l *logState) error {
	if restart || len(w.segs) == 0 {
		return w.roll(l.baseIndex, l.baseTerm)
	}
	name := path.Join(w.dir, w.segs[len(w.segs)-1].name)
	f, err := w.fs.OpenRW(name)
	if err != nil {
		return err
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, size
	return nil
}
