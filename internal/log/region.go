package log

import (
	"fmt"
	"sort"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// Region is a stretch of one segment file holding whole batches: what
// ReadRegion returns instead of the bytes, so that a fetch can send them
// from the file (sendfile) without reading them. It holds a reference to
// the segment, which keeps the file open (even after retention or
// compaction removed it) until Release.
type Region struct {
	File vfs.File
	Pos  int64
	Len  int
	// First is the base offset of the first batch and Next the offset after
	// the last: Next-First is the record count, unless compaction left gaps.
	First, Next int64
	seg         *segment
}

// Release lets the segment's file close; calls after the first do nothing.
// The caller must not read the region afterwards.
func (r *Region) Release() {
	if s := r.seg; s != nil {
		r.seg = nil
		s.release()
	}
}

// VerifyOnRead reports whether reads verify batch CRCs (Config.VerifyOnRead):
// a caller that wants verified batches reads bytes with Read, since a
// region's bytes are never read.
func (l *Log) VerifyOnRead() bool { return l.cfg.Load().VerifyOnRead }

// ReadRegion is Read without reading: it returns the region of the segment
// file holding the same batches (whole batches from the one holding offset,
// within maxBytes unless minOne and the first alone is larger, base offsets
// below upTo), finding their boundaries from batch headers alone, or nil
// when Read would return no data. The caller must Release a region it gets.
// CRCs are not checked (the clients check them).
func (l *Log) ReadRegion(offset int64, maxBytes int, upTo int64, minOne bool) (*Region, error) {
	for {
		leo := l.leo.Load()
		if offset < l.logStart.Load() || offset > leo {
			return nil, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.logStart.Load(), leo)
		}
		if upTo < 0 || upTo > leo {
			upTo = leo
		}
		r, retry, err := l.regionOnce(offset, maxBytes, upTo, minOne)
		if offset < l.logStart.Load() {
			// As in Read: retention moved the start during the read.
			if r != nil {
				r.Release()
			}
			return nil, fmt.Errorf("%w: %d below the log start %d", ErrOffsetOutOfRange, offset, l.logStart.Load())
		}
		if !retry {
			return r, err
		}
		if l.closed.Load() {
			return nil, ErrClosed
		}
	}
}

// regionOnce is readOnce for regions: the segment found stays acquired when
// a region is returned.
func (l *Log) regionOnce(offset int64, maxBytes int, upTo int64, minOne bool) (r *Region, retry bool, err error) {
	segs := l.segments()
	for i := floorSegment(segs, offset); i < len(segs); i++ {
		s := segs[i]
		if !s.acquire() {
			return nil, true, nil
		}
		pos, h, ok, err := s.find(offset)
		if ok {
			r, err = s.region(pos, &h, maxBytes, upTo, minOne)
		}
		if r == nil {
			s.release()
		}
		if ok || err != nil {
			return r, false, err
		}
	}
	return nil, false, nil
}

// region returns the whole batches from pos (whose header is first) that
// readBatches would return, as a region holding the caller's reference
// to s, or nil for none. It reads batch headers only: it jumps with the
// offset index to the last indexed batch that may still fit, and walks
// headers from there.
func (s *segment) region(pos int64, first *record.Header, maxBytes int, upTo int64, minOne bool) (*Region, error) {
	if first.BaseOffset >= upTo {
		return nil, nil
	}
	cuts := s.cuts.Load()
	size := s.size.Load()
	want := min(int64(maxBytes), size-pos)
	if fsize := int64(first.Size()); fsize > want {
		if !minOne {
			return nil, nil
		}
		want = fsize
	}
	end := pos + want // no batch may end past it
	at, next := pos+int64(first.Size()), first.NextOffset()
	// lastNext is the offset after the last batch in the region, when known:
	// after a jump it is the base offset of the batch where the walk stops.
	lastNext, known := next, true
	if jump, prev, ok := s.indexedBefore(at, end, upTo); ok {
		at, next, known = jump, max(next, prev), false
		lastNext = next
	}
	for end-at >= record.HeaderSize {
		h, err := s.readHeader(at)
		if err != nil {
			if at >= s.size.Load() {
				break // truncated under this read
			}
			return nil, err
		}
		if ok, err := s.inOrder(&h, at, next, cuts); !ok {
			if err != nil {
				return nil, err
			}
			break // truncated under this read
		}
		if !known {
			lastNext, known = h.BaseOffset, true
		}
		if h.BaseOffset >= upTo || int64(h.Size()) > end-at {
			break
		}
		at += int64(h.Size())
		next, lastNext = h.NextOffset(), h.NextOffset()
	}
	return &Region{File: s.file, Pos: pos, Len: int(at - pos), First: first.BaseOffset, Next: lastNext, seg: s}, nil
}

// indexedBefore returns the position of the last indexed batch that starts
// after from, at or before end-HeaderSize, and ends below upTo, with the
// offset after the previous indexed batch (a lower bound for its base):
// every batch between from and it is whole, below upTo and within end, so
// the header walk may start there. ok is false when no entry qualifies.
func (s *segment) indexedBefore(from, end, upTo int64) (pos, prevLast int64, ok bool) {
	idx := s.offIdx.load()
	// Entries are in position order; the first at or past end-HeaderSize
	// bounds the search.
	i := sort.Search(len(idx), func(i int) bool { return int64(idx[i].pos) > end-record.HeaderSize })
	for i--; i >= 0 && int64(idx[i].pos) > from; i-- {
		e := idx[i]
		last := s.base + int64(e.rel)
		if last >= upTo {
			continue
		}
		// Whether the batch at e.pos also ends within end is for the walk,
		// which starts at it, to check. Its base is above the previous
		// entry's last offset.
		prev := s.base
		if i > 0 {
			prev = s.base + int64(idx[i-1].rel) + 1
		}
		return int64(e.pos), prev, true
	}
	return 0, 0, false
}
