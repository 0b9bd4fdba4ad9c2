package log

import (
	"github.com/samsa-io/samsa/internal/record"
)

// TimestampOffset is a ListOffsets answer: an offset and its record's
// timestamp. Offset -1 means none.
type TimestampOffset struct {
	Offset    int64
	Timestamp int64
}

var noOffset = TimestampOffset{Offset: -1, Timestamp: -1}

// OffsetForTimestamp returns the first record at or after the log start
// whose timestamp is at least ts (ListOffsets by timestamp). Segments and
// batches are skipped by their max timestamps through the time index; only
// the batches that may hold the answer are decoded.
func (l *Log) OffsetForTimestamp(ts int64) (TimestampOffset, error) {
	return onSnapshot(l, func() (TimestampOffset, bool, error) { return l.offsetForTimestampOnce(ts) })
}

// onSnapshot runs a lookup over one snapshot of the segment list, again on
// a fresh one when a segment was replaced or removed under it (retry), until
// it completes or the log is closed.
func onSnapshot[T any](l *Log, once func() (T, bool, error)) (T, error) {
	for {
		res, retry, err := once()
		if !retry || l.closed.Load() {
			return res, err
		}
	}
}

// offsetForTimestampOnce searches one snapshot of the segment list; retry
// is set when a segment was replaced (compaction) or removed under it.
func (l *Log) offsetForTimestampOnce(ts int64) (TimestampOffset, bool, error) {
	start := l.logStart.Load()
	for _, s := range l.segments() {
		if s.maxTs.Load() < ts || s.next.Load() <= start {
			continue
		}
		if !s.acquire() {
			return noOffset, true, nil
		}
		res, found, err := s.firstAtOrAfter(ts, max(start, s.base), l.cfg.Load().MaxDecompressedBytes)
		s.release()
		if err != nil || found {
			return res, false, err
		}
	}
	return noOffset, false, nil
}

// firstAtOrAfter searches one segment for the first record at or after
// offset `from` with a timestamp of at least ts.
func (s *segment) firstAtOrAfter(ts, from int64, maxDecode int) (TimestampOffset, bool, error) {
	if rel, ok := lookupTime(s.timeIdx.load(), ts); ok {
		from = max(from, s.base+int64(rel)+1)
	}
	pos, h, ok, err := s.find(from)
	size := s.size.Load()
	for ok && err == nil && pos < size {
		if h.MaxTimestamp >= ts {
			// The batch's max may come from records below from: then the
			// answer is in a later batch.
			res, found, err := s.recordAtOrAfter(pos, &h, ts, from, maxDecode)
			if err != nil || found {
				return res, found, err
			}
		}
		pos += int64(h.Size())
		if pos < size {
			h, err = s.readHeader(pos)
		}
	}
	return noOffset, false, err
}

// recordAtOrAfter decodes the batch at pos and returns its first record at
// or after offset from with a timestamp of at least ts.
func (s *segment) recordAtOrAfter(pos int64, h *record.Header, ts, from int64, maxDecode int) (TimestampOffset, bool, error) {
	if h.LogAppendTime() {
		// Every record carries the batch's append time.
		return TimestampOffset{max(h.BaseOffset, from), h.MaxTimestamp}, true, nil
	}
	recs, err := s.decodeAt(pos, h, maxDecode)
	if err != nil {
		return noOffset, false, err
	}
	for i := range recs {
		off, rts := recs[i].Offset(h.BaseOffset), recs[i].Timestamp(h)
		if off >= from && rts >= ts {
			return TimestampOffset{off, rts}, true, nil
		}
	}
	return noOffset, false, nil
}

// decodeAt reads and decodes the records of the batch at pos.
func (s *segment) decodeAt(pos int64, h *record.Header, maxDecode int) ([]record.Record, error) {
	batch := make([]byte, h.Size())
	if _, err := s.file.ReadAt(batch, pos); err != nil {
		return nil, err
	}
	recs, err := record.Records(batch, maxDecode)
	if err != nil {
		return nil, s.corrupt(pos, err)
	}
	return recs, nil
}

// MaxTimestamp returns the first readable record (at or after the log
// start) with the largest timestamp (ListOffsets with timestamp -3,
// KIP-734).
func (l *Log) MaxTimestamp() (TimestampOffset, error) {
	return onSnapshot(l, l.maxTimestampOnce)
}

func (l *Log) maxTimestampOnce() (TimestampOffset, bool, error) {
	start := l.logStart.Load()
	maxDecode := l.cfg.Load().MaxDecompressedBytes
	best := noOffset
	for _, s := range l.segments() {
		if s.next.Load() <= start || s.maxTs.Load() <= best.Timestamp {
			continue
		}
		if !s.acquire() {
			return noOffset, true, nil
		}
		cand, err := s.maxFrom(max(start, s.base), maxDecode)
		s.release()
		if err != nil {
			return noOffset, false, err
		}
		if cand.Timestamp > best.Timestamp {
			best = cand
		}
	}
	return best, false, nil
}

// maxFrom returns the first record at or after from with the segment's
// largest timestamp among those records. From the segment's base that is
// the indexed max; from inside the segment (the log start), the batches
// from there are scanned.
func (s *segment) maxFrom(from int64, maxDecode int) (TimestampOffset, error) {
	if from <= s.base {
		pos, h, ok, err := s.find(s.maxTsOffset.Load())
		if err != nil || !ok {
			return noOffset, err
		}
		res, _, err := s.recordAtOrAfter(pos, &h, s.maxTs.Load(), h.BaseOffset, maxDecode)
		return res, err
	}
	best := noOffset
	pos, h, ok, err := s.find(from)
	for size := s.size.Load(); ok && err == nil && pos < size; {
		if h.MaxTimestamp > best.Timestamp {
			if cand, err := s.batchMax(pos, &h, from, maxDecode); err != nil {
				return noOffset, err
			} else if cand.Timestamp > best.Timestamp {
				best = cand
			}
		}
		if pos += int64(h.Size()); pos < size {
			h, err = s.readHeader(pos)
		}
	}
	return best, err
}

// batchMax returns the first record at or after from with the batch's
// largest timestamp among those records.
func (s *segment) batchMax(pos int64, h *record.Header, from int64, maxDecode int) (TimestampOffset, error) {
	if h.LogAppendTime() {
		return TimestampOffset{max(h.BaseOffset, from), h.MaxTimestamp}, nil
	}
	recs, err := s.decodeAt(pos, h, maxDecode)
	if err != nil {
		return noOffset, err
	}
	best := noOffset
	for i := range recs {
		if off, ts := recs[i].Offset(h.BaseOffset), recs[i].Timestamp(h); off >= from && ts > best.Timestamp {
			best = TimestampOffset{off, ts}
		}
	}
	return best, nil
}
