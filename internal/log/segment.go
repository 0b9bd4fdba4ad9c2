package log

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// segment is one <base>.log file and its indexes. One appender (holding the
// log's append lock) writes it; any number of readers read it without locks,
// up to the published size. A segment is reference counted so that a reader
// can finish with a segment that retention or compaction has just removed:
// the files are unlinked at once, the handle is closed on the last release.
type segment struct {
	fs      vfs.FS
	dir     string
	base    int64
	file    vfs.File
	created time.Time // when the first batch arrived (segment.ms); append lock

	size        atomic.Int64 // bytes readers may read
	next        atomic.Int64 // offset after the last batch; base when empty
	maxTs       atomic.Int64 // largest batch max timestamp; -1 when empty
	maxTsOffset atomic.Int64 // last offset of the batch that set maxTs
	synced      atomic.Int64 // bytes known durable; written under syncMu
	cuts        atomic.Int64 // truncations; written under syncMu
	// syncMu orders fsync results against truncations: an fsync that a
	// truncation overlapped must not mark the old, longer size synced.
	syncMu sync.Mutex

	offIdx  entries[offsetEntry]
	timeIdx entries[timeEntry]

	// Appender-only state.
	sinceIndex int64 // log bytes since the last index entry
	reserved   int64 // file bytes reserved with Allocate

	refs atomic.Int32 // the log's reference plus one per reader
}

func newSegment(fsys vfs.FS, dir string, base int64, f vfs.File, created time.Time) *segment {
	s := &segment{fs: fsys, dir: dir, base: base, file: f, created: created}
	s.next.Store(base)
	s.maxTs.Store(-1)
	s.maxTsOffset.Store(-1)
	s.refs.Store(1)
	return s
}

// createSegment creates an empty segment, replacing stale files of the same
// base (left by a truncation, say).
func createSegment(fsys vfs.FS, dir string, base int64, now time.Time) (*segment, error) {
	if err := removeSegmentFiles(fsys, dir, base, indexSuffixes); err != nil {
		return nil, err
	}
	f, err := fsys.Create(segmentName(dir, base, logSuffix))
	if err != nil {
		return nil, err
	}
	return newSegment(fsys, dir, base, f, now), nil
}

func (s *segment) acquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.file.Close()
	}
}

// remove unlinks the segment's files; open readers keep their handle.
func (s *segment) remove() error {
	err := removeSegmentFiles(s.fs, s.dir, s.base, segmentSuffixes)
	s.release()
	return err
}

// empty reports whether the segment holds no batch.
func (s *segment) empty() bool { return s.size.Load() == 0 }

// fits reports whether a batch of n bytes ending at lastOffset can go into
// this segment without breaking segment.bytes, the index size limit, or the
// 32-bit relative offsets of index entries.
func (s *segment) fits(n int, lastOffset int64, cfg *Config, queued int64) bool {
	if s.empty() && queued == 0 {
		_, ok := relOffset(s.base, lastOffset)
		return ok
	}
	if s.size.Load()+queued+int64(n) > cfg.SegmentBytes {
		return false
	}
	if _, ok := relOffset(s.base, lastOffset); !ok {
		return false
	}
	return len(s.offIdx.load()) < cfg.SegmentIndexBytes/offsetEntrySize &&
		len(s.timeIdx.load()) < cfg.SegmentIndexBytes/timeEntrySize
}

// reserveChunk is how far ahead of the writes a segment reserves disk
// space. Without it ext4 allocates blocks during write-back; with it,
// 1 MiB appends into the page cache ran 1.5-2.7x faster on the reference
// machine, for at most this much reserved per active segment.
const reserveChunk = 64 << 20

// append writes one batch at the end and indexes it. The caller holds the
// log's append lock and has checked fits.
func (s *segment) append(batch []byte, h *record.Header, cfg *Config) error {
	hs := [1]record.Header{*h}
	return s.write(batch, hs[:], cfg)
}

// write writes data, the batches with headers hs back to back, at the end
// in one write, then indexes and publishes them. The caller holds the log's
// append lock.
func (s *segment) write(data []byte, hs []record.Header, cfg *Config) error {
	pos := s.size.Load()
	if end := pos + int64(len(data)); end > s.reserved {
		s.reserve(end, cfg.SegmentBytes)
	}
	// WriteAt, not Write: after recovery or truncation shortened the file,
	// a handle's own write position may point past the end.
	if n, err := s.file.WriteAt(data, pos); err != nil {
		if n > 0 {
			// Leave no partial batch behind for later appends to follow.
			if terr := s.file.Truncate(pos); terr != nil {
				return fmt.Errorf("%w (and truncating the partial write: %v)", err, terr)
			}
		}
		return err
	}
	at := pos
	for i := range hs {
		s.indexBatch(at, &hs[i], cfg.IndexIntervalBytes)
		at += int64(hs[i].Size())
	}
	s.size.Store(pos + int64(len(data)))
	return nil
}

// reserve reserves file space up to at least end, a chunk at a time but not
// past segment.bytes. It is only a hint: errors surface on the write.
func (s *segment) reserve(end, segmentBytes int64) {
	target := max(end, min(s.reserved+reserveChunk, segmentBytes))
	_ = s.file.Allocate(s.reserved, target-s.reserved)
	s.reserved = target
}

// unreserve gives back the space reserved past the end of the data.
func (s *segment) unreserve() error {
	if s.reserved <= s.size.Load() {
		return nil
	}
	s.reserved = 0
	return s.file.Truncate(s.size.Load())
}

// indexBatch updates the in-memory indexes and statistics for a batch at pos.
func (s *segment) indexBatch(pos int64, h *record.Header, interval int) {
	last := h.LastOffset()
	if h.MaxTimestamp > s.maxTs.Load() {
		s.maxTs.Store(h.MaxTimestamp)
		s.maxTsOffset.Store(last)
	}
	if s.sinceIndex > int64(interval) {
		rel, _ := relOffset(s.base, last)
		s.offIdx.add(offsetEntry{rel: rel, pos: uint32(pos)})
		s.maybeTimeEntry()
		s.sinceIndex = 0
	}
	s.sinceIndex += int64(h.Size())
	s.next.Store(last + 1)
}

// maybeTimeEntry appends a time entry for the current max timestamp if it is
// newer than the last entry.
func (s *segment) maybeTimeEntry() {
	ts := s.maxTs.Load()
	idx := s.timeIdx.load()
	if ts < 0 || (len(idx) > 0 && idx[len(idx)-1].ts >= ts) {
		return
	}
	rel, _ := relOffset(s.base, s.maxTsOffset.Load())
	s.timeIdx.add(timeEntry{ts: ts, rel: rel})
}

// writeIndexes writes both index files whole and fsyncs them, after making
// sure the time index ends with the segment's max timestamp.
func (s *segment) writeIndexes() error {
	s.maybeTimeEntry()
	if err := writeFile(s.fs, segmentName(s.dir, s.base, indexSuffix), encodeOffsetIndex(s.offIdx.load())); err != nil {
		return err
	}
	return writeFile(s.fs, segmentName(s.dir, s.base, timeIndexSuffix), encodeTimeIndex(s.timeIdx.load()))
}

// seal makes a segment that is about to stop being the active one durable:
// its log bytes and its index files. After seal, nothing in it can be torn by
// a crash, so recovery treats damage in a sealed segment as corruption.
func (s *segment) seal() error {
	if err := s.unreserve(); err != nil {
		return err
	}
	if err := s.sync(); err != nil {
		return err
	}
	return s.writeIndexes()
}

// sync fsyncs the log file if it has unsynced bytes.
func (s *segment) sync() error {
	cuts := s.cuts.Load()
	size := s.size.Load()
	if s.synced.Load() >= size {
		return nil
	}
	if err := s.file.Sync(); err != nil {
		return err
	}
	s.syncMu.Lock()
	if s.cuts.Load() == cuts {
		s.synced.Store(max(s.synced.Load(), size))
	}
	s.syncMu.Unlock()
	return nil
}

// cut records a truncation to pos before it happens: readers and fsyncs in
// flight learn that what they saw may be gone.
func (s *segment) cut(pos int64) {
	s.syncMu.Lock()
	s.cuts.Add(1)
	s.synced.Store(min(s.synced.Load(), pos))
	s.syncMu.Unlock()
}

// adopt takes the indexes and statistics of scratch, a rebuilt copy of
// this segment's file.
func (s *segment) adopt(scratch *segment) {
	s.offIdx.set(scratch.offIdx.load())
	s.timeIdx.set(scratch.timeIdx.load())
	s.maxTs.Store(scratch.maxTs.Load())
	s.maxTsOffset.Store(scratch.maxTsOffset.Load())
	s.sinceIndex = scratch.sinceIndex
	s.next.Store(scratch.next.Load())
}

// readHeader reads the batch header at pos.
func (s *segment) readHeader(pos int64) (record.Header, error) {
	var buf [record.HeaderSize]byte
	if _, err := s.file.ReadAt(buf[:], pos); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return record.Header{}, fmt.Errorf("log: segment %d position %d: %w", s.base, pos, err)
	}
	h, err := record.ParseHeader(buf[:])
	if err != nil {
		return h, s.corrupt(pos, err)
	}
	return h, nil
}

// find returns the position and header of the first batch whose last offset
// is at least offset, or ok=false if the segment has none.
func (s *segment) find(offset int64) (pos int64, h record.Header, ok bool, err error) {
	size := s.size.Load()
	if offset < s.base {
		offset = s.base
	}
	rel, fits := relOffset(s.base, offset)
	if !fits {
		return 0, h, false, nil
	}
	cuts := s.cuts.Load()
	pos = lookupPos(s.offIdx.load(), rel)
	prevNext := s.base
	for pos < size {
		h, err = s.readHeader(pos)
		if err != nil {
			if pos >= s.size.Load() {
				return 0, h, false, nil // truncated under this read
			}
			return 0, h, false, err
		}
		if pos+int64(h.Size()) > size {
			return 0, h, false, s.corrupt(pos, record.ErrShort)
		}
		if ok, err := s.inOrder(&h, pos, prevNext, cuts); !ok {
			return 0, h, false, err // nil error: truncated under this read
		}
		prevNext = h.NextOffset()
		if h.LastOffset() >= offset {
			return pos, h, true, nil
		}
		pos += int64(h.Size())
	}
	return 0, h, false, nil
}

// inOrder checks a batch header read at pos, after a batch ending at
// prevNext: the CRC does not cover offsets, so they must run forward and end
// inside the segment (next is published before size, so every batch within
// a size once read ends below it). A violation is corruption, unless the
// segment was truncated since cuts was loaded: then ok is false with no
// error, and the reader stops short.
func (s *segment) inOrder(h *record.Header, pos, prevNext, cuts int64) (ok bool, err error) {
	if h.BaseOffset >= prevNext && h.LastOffset() < s.next.Load() {
		return true, nil
	}
	if s.cuts.Load() != cuts {
		return false, nil
	}
	return false, s.corrupt(pos, fmt.Errorf("%w: batch offsets [%d, %d] out of order", record.ErrInvalid, h.BaseOffset, h.LastOffset()))
}

// CorruptionError reports a damaged batch: where it is and what is wrong.
type CorruptionError struct {
	Segment  int64 // base offset of the segment
	Position int64 // byte position of the batch in the segment
	Err      error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("log: corrupt batch in segment %020d at position %d: %v", e.Segment, e.Position, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) hold for every CorruptionError.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

func (s *segment) corrupt(pos int64, err error) error {
	return &CorruptionError{Segment: s.base, Position: pos, Err: err}
}
