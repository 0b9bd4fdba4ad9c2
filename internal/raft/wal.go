package raft

import (
	"fmt"
	"path"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

const walSuffix = ".wal"

// DefaultSegmentBytes is the size at which the WAL starts a new segment.
const DefaultSegmentBytes = 16 << 20

func segName(seq, firstIndex uint64) string {
	return fmt.Sprintf("%016x-%016x%s", seq, firstIndex, walSuffix)
}

// parseSegName returns the sequence number in a segment file name.
func parseSegName(name string) (seq uint64, ok bool) {
	var first uint64
	if !strings.HasSuffix(name, walSuffix) {
		return 0, false
	}
	n, err := fmt.Sscanf(name, "%016x-%016x"+walSuffix, &seq, &first)
	return seq, err == nil && n == 2 && name == segName(seq, first)
}

type segInfo struct {
	name string
	hdr  segHeader
}

// wal is the write-ahead log: a sequence of segment files, each starting
// with a header record (which names the entry just before the segment) and
// the hard state at the time it was created, followed by entry and
// hard-state records. Every write is fsynced before the node acts on it. A
// segment is created whole (temporary name, fsync, rename, directory
// fsync), so only the last segment can end in a torn record.
//
// wal appends to the last segment. It is used by one goroutine at a time.
type wal struct {
	fs           vfs.FS
	dir          string
	segmentBytes int64

	f    vfs.File // the last segment, open for appending
	size int64
	segs []segInfo // in sequence order; the last is f

	lastIndex, lastTerm uint64            // the last entry written
	hs                  *raftpb.HardState // the last hard state written
	buf                 []byte
}

// save appends entries and then the hard state (when it changed) and
// fsyncs them: the hard state's commit index never runs ahead of the
// entries in any prefix a torn write leaves. It starts a new segment when
// the current one is full.
func (w *wal) save(hs *raftpb.HardState, ents []*raftpb.Entry) error {
	w.buf = w.buf[:0]
	for _, e := range ents {
		w.buf = appendRecord(w.buf, recEntry, encodeEntry(nil, e))
	}
	hsChanged := hs != nil && !hardStateEqual(hs, w.hs)
	if hsChanged {
		w.buf = appendRecord(w.buf, recHardState, encodeHardState(hs))
	}
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.Write(w.buf); err != nil {
		return fmt.Errorf("raft: write WAL: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("raft: fsync WAL: %w", err)
	}
	w.size += int64(len(w.buf))
	if n := len(ents); n > 0 {
		w.lastIndex, w.lastTerm = ents[n-1].GetIndex(), ents[n-1].GetTerm()
	}
	if hsChanged {
		w.hs = &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(hs.GetCommit())}
	}
	if w.size >= w.segmentBytes {
		return w.roll(w.lastIndex, w.lastTerm)
	}
	return nil
}

// roll starts a new segment whose first entry follows (prevIndex,
// prevTerm). After a received snapshot that is the snapshot's index, which
// restarts the log there on replay.
func (w *wal) roll(prevIndex, prevTerm uint64) error {
	seq := uint64(1)
	if n := len(w.segs); n > 0 {
		seq = w.segs[n-1].hdr.seq + 1
	}
	hdr := segHeader{seq: seq, prevIndex: prevIndex, prevTerm: prevTerm}
	name := segName(seq, prevIndex+1)
	f, size, err := createSegment(w.fs, w.dir, name, hdr, w.hs)
	if err != nil {
		return fmt.Errorf("raft: new WAL segment: %w", err)
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f, w.size = f, size
	w.segs = append(w.segs, segInfo{name: name, hdr: hdr})
	w.lastIndex, w.lastTerm = prevIndex, prevTerm
	return nil
}

// createSegment writes a segment's header and hard state under a temporary
// name, fsyncs it, renames it into place, fsyncs the directory and opens it
// for appending.
func createSegment(fsys vfs.FS, dir, name string, hdr segHeader, hs *raftpb.HardState) (vfs.File, int64, error) {
	b := appendRecord(nil, recHeader, encodeHeader(hdr))
	if hs != nil {
		b = appendRecord(b, recHardState, encodeHardState(hs))
	}
	final := path.Join(dir, name)
	if err := vfs.WriteAtomic(fsys, final, b); err != nil {
		return nil, 0, err
	}
	f, err := fsys.OpenRW(final)
	if err != nil {
		return nil, 0, err
	}
	return f, int64(len(b)), nil
}

// compact removes the segments that a durable snapshot at snapIndex makes
// unnecessary: every segment before the last one that starts at or below
// snapIndex. Replay starts at that segment; what the removed segments held
// is either in the snapshot or was overwritten. It returns how many it
// removed; the caller fsyncs the directory.
func (w *wal) compact(snapIndex uint64) (int, error) {
	keep := 0
	for i, s := range w.segs {
		if s.hdr.prevIndex <= snapIndex {
			keep = i
		}
	}
	for i, s := range w.segs[:keep] {
		if err := w.fs.Remove(path.Join(w.dir, s.name)); err != nil && !vfs.IsNotExist(err) {
			w.segs = w.segs[i:]
			return i, fmt.Errorf("raft: remove WAL segment: %w", err)
		}
	}
	w.segs = append([]segInfo(nil), w.segs[keep:]...)
	return keep, nil
}

func hardStateEqual(a, b *raftpb.HardState) bool {
	return a.GetTerm() == b.GetTerm() && a.GetVote() == b.GetVote() && a.GetCommit() == b.GetCommit()
}

func (w *wal) close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
