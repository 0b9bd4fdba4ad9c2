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
// the one batch that holds the answer is decoded.
func (l *Log) OffsetForTimestamp(ts int64) (TimestampOffset, error) {
	start := l.logStart.Load()
	for _, s := range l.segments() {
		if s.maxTs.Load() < ts || s.next.Load() <= start {
			continue
		}
		if !s.acquire() {
			continue
		}
		res, found, err := s.firstAtOrAfter(ts, max(start, s.base), l.cfg.Load().MaxDecompressedBytes)
		s.release()
		if err != nil || found {
			return res, err
		}
	}
	return noOffset, nil
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
			return s.recordAtOrAfter(pos, &h, ts, from, maxDecode)
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

// MaxTimestamp returns the first record with the largest timestamp in the
// log (ListOffsets with timestamp -3, KIP-734).
func (l *Log) MaxTimestamp() (TimestampOffset, error) {
	var best *segment
	for _, s := range l.segments() {
		if s.next.Load() > l.logStart.Load() && s.maxTs.Load() >= 0 && (best == nil || s.maxTs.Load() > best.maxTs.Load()) {
			best = s
		}
	}
	if best == nil || !best.acquire() {
		return noOffset, nil
	}
	defer best.release()
	ts := best.maxTs.Load()
	pos, h, ok, err := best.find(best.maxTsOffset.Load())
	if err != nil || !ok {
		return noOffset, err
	}
	res, _, err := best.recordAtOrAfter(pos, &h, ts, max(h.BaseOffset, l.logStart.Load()), l.cfg.Load().MaxDecompressedBytes)
	return res, err
}
