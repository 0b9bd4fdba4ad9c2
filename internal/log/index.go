package log

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"sync/atomic"

	"github.com/samsa-io/samsa/internal/vfs"
)

// Sparse indexes in Kafka's formats (OffsetIndex.java, TimeIndex.java):
//
//	.index      8-byte entries: relative offset uint32, file position uint32
//	.timeindex 12-byte entries: timestamp int64, relative offset uint32
//
// An offset entry maps a batch's last offset to the position of the batch.
// A time entry says that every batch up to the given offset has a max
// timestamp of at most the entry's timestamp. Entries are appended every
// index.interval.bytes of log. Lookups are binary searches: O(log n).
//
// In memory the entries live in a slice published through an atomic pointer,
// so lookups never take a lock: the appender writes an entry into spare
// capacity (or a new array) before publishing the longer slice. Index files
// are written whole when a segment is sealed (rolled) or closed; the active
// segment's index is rebuilt by recovery, which always rescans that segment.

const (
	offsetEntrySize = 8
	timeEntrySize   = 12
)

type offsetEntry struct {
	rel uint32 // last offset of the batch, relative to the segment base
	pos uint32 // position of the batch in the .log file
}

type timeEntry struct {
	ts  int64  // largest batch max timestamp up to and including rel
	rel uint32 // last offset of that batch, relative to the segment base
}

// entries is a slice of index entries with lock-free readers and one writer.
type entries[E any] struct {
	p atomic.Pointer[[]E]
}

func (x *entries[E]) load() []E {
	if p := x.p.Load(); p != nil {
		return *p
	}
	return nil
}

// add appends e; only the segment's single writer calls it.
func (x *entries[E]) add(e E) {
	s := append(x.load(), e)
	x.p.Store(&s)
}

func (x *entries[E]) set(s []E) { x.p.Store(&s) }

// lookupPos returns the position of the last indexed batch whose last offset
// is below target: every batch holding target or later starts at or after
// it. Zero when no entry qualifies.
func lookupPos(idx []offsetEntry, rel uint32) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].rel >= rel })
	if i == 0 {
		return 0
	}
	return int64(idx[i-1].pos)
}

// lookupTime returns the relative last offset of the last time entry whose
// timestamp is below ts: no batch up to that offset reaches ts. ok is false
// when no entry qualifies.
func lookupTime(idx []timeEntry, ts int64) (rel uint32, ok bool) {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].ts >= ts })
	if i == 0 {
		return 0, false
	}
	return idx[i-1].rel, true
}

func encodeOffsetIndex(idx []offsetEntry) []byte {
	b := make([]byte, 0, len(idx)*offsetEntrySize)
	for _, e := range idx {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	return b
}

func encodeTimeIndex(idx []timeEntry) []byte {
	b := make([]byte, 0, len(idx)*timeEntrySize)
	for _, e := range idx {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	return b
}

// decodeOffsetIndex parses and checks an offset index against its segment:
// whole entries, offsets and positions strictly increasing, positions inside
// the log, offsets inside the segment's range. Any violation means the index
// must be rebuilt from the log.
func decodeOffsetIndex(b []byte, logSize int64, maxRel uint32) ([]offsetEntry, error) {
	if len(b)%offsetEntrySize != 0 {
		return nil, fmt.Errorf("size %d is not a multiple of %d", len(b), offsetEntrySize)
	}
	idx := make([]offsetEntry, len(b)/offsetEntrySize)
	for i := range idx {
		e := offsetEntry{binary.BigEndian.Uint32(b[i*8:]), binary.BigEndian.Uint32(b[i*8+4:])}
		if int64(e.pos) >= logSize || e.rel > maxRel {
			return nil, fmt.Errorf("entry %d (%d, %d) outside the segment", i, e.rel, e.pos)
		}
		if i > 0 && (e.rel <= idx[i-1].rel || e.pos <= idx[i-1].pos) {
			return nil, fmt.Errorf("entry %d (%d, %d) not increasing", i, e.rel, e.pos)
		}
		idx[i] = e
	}
	return idx, nil
}

// decodeTimeIndex parses and checks a time index: whole entries, timestamps
// and offsets increasing, offsets inside the segment's range.
func decodeTimeIndex(b []byte, maxRel uint32) ([]timeEntry, error) {
	if len(b)%timeEntrySize != 0 {
		return nil, fmt.Errorf("size %d is not a multiple of %d", len(b), timeEntrySize)
	}
	idx := make([]timeEntry, len(b)/timeEntrySize)
	for i := range idx {
		e := timeEntry{int64(binary.BigEndian.Uint64(b[i*12:])), binary.BigEndian.Uint32(b[i*12+8:])}
		if e.rel > maxRel {
			return nil, fmt.Errorf("entry %d (%d, %d) outside the segment", i, e.ts, e.rel)
		}
		if i > 0 && (e.ts <= idx[i-1].ts || e.rel < idx[i-1].rel) {
			return nil, fmt.Errorf("entry %d (%d, %d) not increasing", i, e.ts, e.rel)
		}
		idx[i] = e
	}
	return idx, nil
}

// writeFile creates name with data and fsyncs it.
func writeFile(fsys vfs.FS, name string, data []byte) error {
	f, err := fsys.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// relOffset converts an absolute offset to one relative to base, or reports
// that it does not fit an index entry.
func relOffset(base, offset int64) (uint32, bool) {
	d := offset - base
	return uint32(d), d >= 0 && d <= math.MaxInt32
}
