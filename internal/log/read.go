package log

import (
	"errors"
	"io"

	"github.com/samsa-io/samsa/internal/record"
)

// readBatches returns whole batches starting at pos, with base offsets below
// upTo, whose total size stays within maxBytes; when minOne is set the first
// batch is returned whole even if it is larger. The data is a copy.
func (s *segment) readBatches(pos int64, first *record.Header, maxBytes int, upTo int64, minOne, verify bool) ([]byte, error) {
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
	buf := make([]byte, want)
	got, err := s.file.ReadAt(buf, pos)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// A short read means a follower truncated the segment under this read
	// (above the high watermark); the whole batches read are still good.
	n, err := s.completeBatches(buf[:got], pos, upTo, verify, cuts)
	if err != nil {
		return nil, err
	}
	return buf[:n:n], nil
}

// completeBatches walks the batches in buf (read from pos) and returns the
// length of the prefix made of whole batches with base offsets below upTo.
// A truncation since cuts was loaded ends the walk instead of reporting
// corruption: the bytes past the cut were read before it.
func (s *segment) completeBatches(buf []byte, pos int64, upTo int64, verify bool, cuts int64) (int, error) {
	n := 0
	prevNext := int64(-1)
	for n < len(buf) {
		rest := buf[n:]
		if len(rest) < record.HeaderSize {
			break
		}
		h, err := record.ParseHeader(rest)
		if err != nil {
			return 0, s.corrupt(pos+int64(n), err)
		}
		if ok, err := s.inOrder(&h, pos+int64(n), prevNext, cuts); !ok {
			if err != nil {
				return 0, err
			}
			break // truncated under this read
		}
		prevNext = h.NextOffset()
		if h.BaseOffset >= upTo || h.Size() > len(rest) {
			break
		}
		if verify {
			if _, err := record.Validate(rest[:h.Size()]); err != nil {
				return 0, s.corrupt(pos+int64(n), err)
			}
		}
		n += h.Size()
	}
	return n, nil
}
