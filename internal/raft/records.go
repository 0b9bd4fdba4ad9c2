package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/raft/v3/raftpb"
)

// WAL records are framed as
//
//	[length u32][crc32c u32][type u8][payload]
//
// little-endian, where length counts the type byte and the payload and the
// CRC-32C (Castagnoli) covers the same bytes. docs/format/raft.md has the
// payload of each type.
const (
	frameHeader = 8 // length + crc

	recHeader    byte = 1 // segment header: version, seq, previous entry
	recEntry     byte = 2 // one raft log entry
	recHardState byte = 3 // term, vote, commit

	walVersion byte = 1

	// maxRecord bounds a record's length field, so that a torn length is
	// recognized even in a huge file.
	maxRecord = 1 << 28
)

// ErrCorrupt reports damage that a crash cannot explain: a bad record before
// the last segment's tail, a snapshot file whose checksum fails, a gap in the
// log. Open refuses to start rather than lose committed entries silently.
var ErrCorrupt = errors.New("raft: corrupt storage")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// appendRecord frames one record onto buf.
func appendRecord(buf []byte, typ byte, payload []byte) []byte {
	var h [frameHeader + 1]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(payload)+1))
	h[8] = typ
	crc := crc32.Update(crc32.Checksum(h[8:9], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], crc)
	buf = append(buf, h[:]...)
	return append(buf, payload...)
}

// record is one decoded frame; payload aliases the segment's bytes.
type record struct {
	typ     byte
	payload []byte
}

// nextRecord decodes the record at the start of b. ok is false when b does
// not start with a whole, intact record: a torn or damaged frame, or the end.
func nextRecord(b []byte) (r record, n int, ok bool) {
	if len(b) < frameHeader+1 {
		return record{}, 0, false
	}
	length := binary.LittleEndian.Uint32(b[0:])
	if length == 0 || length > maxRecord || int64(length) > int64(len(b)-frameHeader) {
		return record{}, 0, false
	}
	body := b[frameHeader : frameHeader+int(length)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return record{}, 0, false
	}
	return record{typ: body[0], payload: body[1:]}, frameHeader + int(length), true
}

// segHeader is the first record of every WAL segment: the entry just before
// the segment's first entry, which lets replay continue or restart the log
// at the segment's start without the segments before it.
type segHeader struct {
	seq       uint64
	prevIndex uint64
	prevTerm  uint64
}

func encodeHeader(h segHeader) []byte {
	b := make([]byte, 0, 25)
	b = append(b, walVersion)
	b = binary.LittleEndian.AppendUint64(b, h.seq)
	b = binary.LittleEndian.AppendUint64(b, h.prevIndex)
	return binary.LittleEndian.AppendUint64(b, h.prevTerm)
}

func decodeHeader(p []byte) (segHeader, error) {
	if len(p) != 25 {
		return segHeader{}, corruptf("segment header of %d bytes", len(p))
	}
	if p[0] != walVersion {
		return segHeader{}, corruptf("WAL version %d, want %d", p[0], walVersion)
	}
	return segHeader{
		seq:       binary.LittleEndian.Uint64(p[1:]),
		prevIndex: binary.LittleEndian.Uint64(p[9:]),
		prevTerm:  binary.LittleEndian.Uint64(p[17:]),
	}, nil
}

func encodeEntry(buf []byte, e *raftpb.Entry) []byte {
	buf = binary.LittleEndian.AppendUint64(buf, e.GetIndex())
	buf = binary.LittleEndian.AppendUint64(buf, e.GetTerm())
	buf = append(buf, byte(e.GetType()))
	return append(buf, e.GetData()...)
}

func decodeEntry(p []byte) (*raftpb.Entry, error) {
	if len(p) < 17 {
		return nil, corruptf("entry record of %d bytes", len(p))
	}
	typ := raftpb.EntryType(p[16])
	if _, ok := raftpb.EntryType_name[int32(typ)]; !ok {
		return nil, corruptf("entry type %d", p[16])
	}
	e := &raftpb.Entry{
		Index: new(binary.LittleEndian.Uint64(p[0:])),
		Term:  new(binary.LittleEndian.Uint64(p[8:])),
		Type:  typ.Enum(),
	}
	if len(p) > 17 {
		e.Data = append([]byte(nil), p[17:]...)
	}
	return e, nil
}

func encodeHardState(hs *raftpb.HardState) []byte {
	b := make([]byte, 0, 24)
	b = binary.LittleEndian.AppendUint64(b, hs.GetTerm())
	b = binary.LittleEndian.AppendUint64(b, hs.GetVote())
	return binary.LittleEndian.AppendUint64(b, hs.GetCommit())
}

func decodeHardState(p []byte) (*raftpb.HardState, error) {
	if len(p) != 24 {
		return nil, corruptf("hard state record of %d bytes", len(p))
	}
	return &raftpb.HardState{
		Term:   new(binary.LittleEndian.Uint64(p[0:])),
		Vote:   new(binary.LittleEndian.Uint64(p[8:])),
		Commit: new(binary.LittleEndian.Uint64(p[16:])),
	}, nil
}
