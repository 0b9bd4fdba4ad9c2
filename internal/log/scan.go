package log

import (
	"bufio"
	"fmt"
	"io"

	"github.com/samsa-io/samsa/internal/record"
)

const scanBufferSize = 1 << 20

// rebuild rescans the segment's file from the start, checking every batch
// (header, length, offsets increasing and inside the segment, and with
// verify its CRC), and rebuilds the in-memory indexes and statistics. It
// returns the end of the last good batch and, when the file does not end
// there, why the next batch was rejected. It does not change the file.
func (s *segment) rebuild(verify bool, interval int) (validEnd int64, batches int, problem error) {
	fileSize, err := s.file.Size()
	if err != nil {
		return 0, 0, err
	}
	s.offIdx.set(nil)
	s.timeIdx.set(nil)
	s.sinceIndex = 0
	s.next.Store(s.base)
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(-1)

	r := bufio.NewReaderSize(io.NewSectionReader(s.file, 0, fileSize), scanBufferSize)
	var pos int64
	for pos < fileSize {
		h, err := s.scanOne(r, fileSize-pos, verify)
		if err != nil {
			return pos, batches, s.corrupt(pos, err)
		}
		s.indexBatch(pos, &h, interval)
		pos += int64(h.Size())
		batches++
	}
	return pos, batches, nil
}

// scanOne reads and checks the next batch from r; left is the number of
// bytes left in the file.
func (s *segment) scanOne(r *bufio.Reader, left int64, verify bool) (record.Header, error) {
	hdr, err := r.Peek(min(record.HeaderSize, int(min(left, record.HeaderSize))))
	if err != nil {
		return record.Header{}, err
	}
	h, err := record.ParseHeader(hdr)
	if err != nil {
		return h, err
	}
	size := int64(h.Size())
	switch {
	case size > left:
		return h, fmt.Errorf("%w: batch of %d bytes with %d left in the file", record.ErrShort, size, left)
	case h.BaseOffset < s.next.Load():
		return h, fmt.Errorf("%w: base offset %d below the previous batch's end %d", record.ErrInvalid, h.BaseOffset, s.next.Load())
	}
	if _, ok := relOffset(s.base, h.LastOffset()); !ok {
		return h, fmt.Errorf("%w: last offset %d outside the segment based at %d", record.ErrInvalid, h.LastOffset(), s.base)
	}
	if !verify {
		_, err := r.Discard(int(size))
		return h, err
	}
	var batch []byte
	if size <= scanBufferSize {
		batch, err = r.Peek(int(size))
	} else {
		batch = make([]byte, size)
		_, err = io.ReadFull(r, batch)
	}
	if err != nil {
		return h, err
	}
	if _, err := record.Validate(batch); err != nil {
		return h, err
	}
	if size <= scanBufferSize {
		_, err = r.Discard(int(size))
	}
	return h, err
}
