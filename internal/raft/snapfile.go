package raft

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

// A snapshot file holds one raft snapshot: metadata (index, term, ConfState)
// and the state machine's data, under one CRC-32C. docs/format/raft.md has
// the layout.
const (
	snapMagic   = "SRSN"
	snapVersion = 1
	snapSuffix  = ".snap"
	tmpSuffix   = ".tmp"
	snapFixed   = len(snapMagic) + 1 + 4 // magic, version, crc
)

func snapName(term, index uint64) string {
	return fmt.Sprintf("%016x-%016x%s", term, index, snapSuffix)
}

// parseSnapName returns the index in a snapshot file name.
func parseSnapName(name string) (index uint64, ok bool) {
	var term uint64
	if !strings.HasSuffix(name, snapSuffix) {
		return 0, false
	}
	n, err := fmt.Sscanf(name, "%016x-%016x"+snapSuffix, &term, &index)
	return index, err == nil && n == 2 && name == snapName(term, index)
}

func encodeSnapshot(s *raftpb.Snapshot) []byte {
	md := s.GetMetadata()
	body := binary.LittleEndian.AppendUint64(nil, md.GetTerm())
	body = binary.LittleEndian.AppendUint64(body, md.GetIndex())
	body = appendConfState(body, md.GetConfState())
	body = binary.LittleEndian.AppendUint64(body, uint64(len(s.GetData())))
	body = append(body, s.GetData()...)

	b := make([]byte, 0, snapFixed+len(body))
	b = append(b, snapMagic...)
	b = append(b, snapVersion)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(body, castagnoli))
	return append(b, body...)
}

func decodeSnapshot(b []byte) (*raftpb.Snapshot, error) {
	if len(b) < snapFixed || string(b[:4]) != snapMagic {
		return nil, corruptf("not a snapshot file")
	}
	if b[4] != snapVersion {
		return nil, corruptf("snapshot version %d, want %d", b[4], snapVersion)
	}
	body := b[snapFixed:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[5:]) {
		return nil, corruptf("snapshot checksum mismatch")
	}
	d := decoder{b: body}
	term, index := d.u64(), d.u64()
	cs := d.confState()
	data := d.bytes(d.u64())
	if d.err != nil || len(d.b) != 0 {
		return nil, corruptf("snapshot body malformed")
	}
	return &raftpb.Snapshot{
		Data: data,
		Metadata: &raftpb.SnapshotMetadata{
			Index: new(index), Term: new(term), ConfState: cs,
		},
	}, nil
}

func appendConfState(b []byte, cs *raftpb.ConfState) []byte {
	for _, ids := range [][]uint64{cs.GetVoters(), cs.GetLearners(), cs.GetVotersOutgoing(), cs.GetLearnersNext()} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(ids)))
		for _, id := range ids {
			b = binary.LittleEndian.AppendUint64(b, id)
		}
	}
	if cs.GetAutoLeave() {
		return append(b, 1)
	}
	return append(b, 0)
}

// decoder reads little-endian fields; the first short read sets err.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) bytes(n uint64) []byte { return append([]byte(nil), d.take(n)...) }

func (d *decoder) ids() []uint64 {
	p := d.take(4)
	if p == nil {
		return nil
	}
	n := binary.LittleEndian.Uint32(p)
	if uint64(n)*8 > uint64(len(d.b)) {
		d.err = ErrCorrupt
		return nil
	}
	var ids []uint64
	for range n {
		ids = append(ids, d.u64())
	}
	return ids
}

func (d *decoder) confState() *raftpb.ConfState {
	cs := &raftpb.ConfState{Voters: d.ids(), Learners: d.ids(), VotersOutgoing: d.ids(), LearnersNext: d.ids()}
	if p := d.take(1); p != nil && p[0] == 1 {
		cs.AutoLeave = new(true)
	}
	return cs
}

// writeSnapshot makes s durable in dir: a temporary file, fsynced, renamed
// to its final name, and the directory fsynced.
func writeSnapshot(fsys vfs.FS, dir string, s *raftpb.Snapshot) error {
	md := s.GetMetadata()
	return vfs.WriteAtomic(fsys, path.Join(dir, snapName(md.GetTerm(), md.GetIndex())), encodeSnapshot(s))
}
