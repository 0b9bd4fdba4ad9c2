package log

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// Log compaction (cleanup.policy=compact, KIP-58 for the lag, KIP-534's
// tombstone semantics in a simpler form). A pass:
//
//  1. Considers the sealed segments, stopping at the first one holding a
//     record younger than min.compaction.lag.ms. Segments below the cleaner
//     offset (the first dirty offset) are the clean section, the rest dirty.
//  2. Runs only if dirty bytes / (clean + dirty bytes) reaches
//     min.cleanable.dirty.ratio.
//  3. Maps every key in the dirty section to its latest offset.
//  4. Rewrites the considered segments in groups (up to segment.bytes each),
//     keeping a record unless a later record has its key, or it is a
//     tombstone that was already in the clean section (a previous pass kept
//     it, so consumers had the chance to see it) and whose batch is older
//     than delete.retention.ms. Batches whose records all survive are
//     copied verbatim; others are rebuilt with their original base offset,
//     last offset delta and codec. Offsets never change.
//  5. Swaps each group in crash-safely: the new segment is written as
//     <base>.log.cleaned and fsynced, renamed to <base>.<end>.swap (end: the
//     offset after the replaced range), the replaced segments are unlinked,
//     and the swap file is renamed to <base>.log, with a directory fsync
//     after each step so a crash leaves one of these states in order.
//     Recovery deletes .cleaned files and finishes any .swap it finds.

// CleanResult describes one compaction pass.
type CleanResult struct {
	Ran               bool    // false when nothing was dirty enough
	DirtyRatio        float64 // dirty / cleanable bytes before the pass
	SegmentsBefore    int     // cleanable segments rewritten
	SegmentsAfter     int
	BytesBefore       int64
	BytesAfter        int64
	RecordsRemoved    int
	TombstonesRemoved int
}

// Clean runs one compaction pass if the log is compacted and dirty enough.
func (l *Log) Clean() (CleanResult, error) {
	var res CleanResult
	cfg := l.cfg.Load()
	if !cfg.Compact {
		return res, nil
	}
	l.maint.Lock()
	defer l.maint.Unlock()
	if err := l.writable(); err != nil {
		return res, err
	}
	segs := l.segments()
	end := l.cleanableEnd(segs, cfg)
	firstDirty := l.cleanerOffset.Load()
	dirty := 0
	for dirty < end && segs[dirty].next.Load() <= firstDirty {
		dirty++
	}
	if dirty >= end {
		return res, nil
	}
	var clean, dirtyBytes int64
	for i, s := range segs[:end] {
		if i < dirty {
			clean += s.size.Load()
		} else {
			dirtyBytes += s.size.Load()
		}
	}
	res.DirtyRatio = float64(dirtyBytes) / float64(max(clean+dirtyBytes, 1))
	if res.DirtyRatio < cfg.MinCleanableDirtyRatio {
		return res, nil
	}
	keys, err := l.latestOffsets(segs[dirty:end], cfg)
	if err != nil {
		return res, err
	}
	f := filter{keys: keys, firstDirty: firstDirty, horizon: l.now().Add(-cfg.DeleteRetention).UnixMilli(), max: cfg.MaxDecompressedBytes, aborted: l.abortedBatch}
	res.Ran = true
	for _, g := range groupSegments(segs[:end], cfg) {
		if err := l.cleanGroup(g, &f, &res); err != nil {
			return res, err
		}
	}
	res.RecordsRemoved, res.TombstonesRemoved = f.removed, f.tombstones
	l.cleanerOffset.Store(segs[end].base)
	return res, nil
}

// cleanableEnd is the number of leading sealed segments old enough to
// clean and wholly below the first unstable offset: an open transaction's
// records are not decided yet (Kafka cleans only below the LSO).
func (l *Log) cleanableEnd(segs []*segment, cfg *Config) int {
	horizon := l.now().Add(-cfg.MinCompactionLag).UnixMilli()
	unstable := l.unstable.Load()
	n := 0
	for n < len(segs)-1 && (cfg.MinCompactionLag <= 0 || segs[n].maxTs.Load() <= horizon) &&
		(unstable < 0 || segs[n].next.Load() <= unstable) {
		n++
	}
	return n
}

// groupSegments splits segments into runs whose total size fits
// segment.bytes and whose offsets fit one segment's relative offsets.
func groupSegments(segs []*segment, cfg *Config) [][]*segment {
	var groups [][]*segment
	for i := 0; i < len(segs); {
		j, size := i+1, segs[i].size.Load()
		for j < len(segs) && size+segs[j].size.Load() <= cfg.SegmentBytes {
			if _, ok := relOffset(segs[i].base, segs[j].next.Load()); !ok {
				break
			}
			size += segs[j].size.Load()
			j++
		}
		groups = append(groups, segs[i:j])
		i = j
	}
	return groups
}

// latestOffsets maps each key in segs to the offset of its last record.
func (l *Log) latestOffsets(segs []*segment, cfg *Config) (map[string]int64, error) {
	keys := map[string]int64{}
	for _, s := range segs {
		err := s.forEachBatch(func(batch []byte, h *record.Header) error {
			if h.Control() || l.abortedBatch(h) {
				return nil // an aborted record never shadows a committed one
			}
			recs, err := record.Records(batch, cfg.MaxDecompressedBytes)
			if err != nil {
				return err
			}
			for i := range recs {
				if recs[i].Key != nil {
					keys[string(recs[i].Key)] = recs[i].Offset(h.BaseOffset)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// filter decides which records a pass keeps.
type filter struct {
	keys       map[string]int64
	firstDirty int64
	horizon    int64 // tombstones in batches older than this may go
	max        int
	aborted    func(h *record.Header) bool
	removed    int
	tombstones int
}

// apply returns the batch to write in place of batch: batch itself when
// every record stays, a rebuilt batch, or nil when none stays.
func (f *filter) apply(batch []byte, h *record.Header) ([]byte, error) {
	if h.Control() {
		return batch, nil // markers stay: consumers need them
	}
	if f.aborted != nil && f.aborted(h) {
		f.removed += int(h.NumRecords) // Kafka's cleaner drops aborted data
		return nil, nil
	}
	recs, err := record.Records(batch, f.max)
	if err != nil {
		return nil, err
	}
	kept := recs[:0:0]
	for _, r := range recs {
		if f.keep(&r, h) {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(recs) {
		return batch, nil
	}
	if len(kept) == 0 {
		return nil, nil
	}
	return record.Build(record.BatchSpec{
		BaseOffset: h.BaseOffset, PartitionLeaderEpoch: h.PartitionLeaderEpoch,
		Compression: h.Compression(), LogAppendTime: h.LogAppendTime(), Transactional: h.Transactional(),
		BaseTimestamp: h.BaseTimestamp, MaxTimestamp: h.MaxTimestamp,
		ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch, BaseSequence: h.BaseSequence,
		LastOffsetDelta: h.LastOffsetDelta,
	}, kept)
}

func (f *filter) keep(r *record.Record, h *record.Header) bool {
	if r.Key == nil {
		return true
	}
	off := r.Offset(h.BaseOffset)
	if latest, ok := f.keys[string(r.Key)]; ok && latest > off {
		f.removed++
		return false
	}
	if r.Value == nil && off < f.firstDirty && h.MaxTimestamp < f.horizon {
		f.removed++
		f.tombstones++
		return false
	}
	return true
}

// cleanGroup rewrites one group of segments into one and swaps it in.
func (l *Log) cleanGroup(group []*segment, f *filter, res *CleanResult) error {
	out, err := l.writeCleaned(group, f)
	if err != nil {
		return err
	}
	for _, s := range group {
		res.BytesBefore += s.size.Load()
	}
	res.SegmentsBefore += len(group)
	res.BytesAfter += out.size.Load()
	res.SegmentsAfter++
	err = l.swapFiles(group, out)
	// The replaced segments' .txnindex files went with them: the new
	// segment's holds the entries of every marker it covers.
	if err == nil {
		err = l.writeTxnIndex(out.base, group[len(group)-1].next.Load())
	}
	if err != nil {
		out.release()
		return l.fail(err)
	}
	l.mu.Lock()
	segs := l.segments()
	i := floorSegment(segs, group[0].base)
	next := append(append(append([]*segment(nil), segs[:i]...), out), segs[i+len(group):]...)
	l.setSegments(next)
	l.mu.Unlock()
	for _, s := range group {
		s.release()
	}
	if err := out.writeIndexes(); err != nil {
		return l.fail(err)
	}
	return nil
}

// writeCleaned writes the filtered batches of group to <base>.log.cleaned
// and fsyncs it.
func (l *Log) writeCleaned(group []*segment, f *filter) (*segment, error) {
	base := group[0].base
	file, err := l.fs.Create(segmentName(l.dir, base, logSuffix+cleanedSuffix))
	if err != nil {
		return nil, l.fail(err)
	}
	out := newSegment(l.fs, l.dir, base, file, group[0].created)
	cfg := l.cfg.Load()
	for _, s := range group {
		err := s.forEachBatch(func(batch []byte, h *record.Header) error {
			kept, err := f.apply(batch, h)
			if err != nil || kept == nil {
				return err
			}
			kh, err := record.ParseHeader(kept)
			if err != nil {
				return err
			}
			return out.append(kept, &kh, cfg)
		})
		if err != nil {
			out.release()
			return nil, err
		}
	}
	err = out.unreserve()
	if err == nil {
		err = out.sync()
	}
	if err != nil {
		out.release()
		return nil, l.fail(err)
	}
	return out, nil
}

// swapFiles replaces the files of group with out's, in crash-safe steps,
// each made durable before the next: the cleaned file becomes the swap file
// (which recovery completes), the old segments go (durably, or a crash could
// keep the new segment beside an old one covering the same offsets with no
// swap file to say which wins), and the swap file takes its final name.
func (l *Log) swapFiles(group []*segment, out *segment) error {
	swap := swapName(l.dir, out.base, group[len(group)-1].next.Load())
	syncDir := func() error { return l.fs.SyncDir(l.dir) }
	steps := []func() error{
		func() error { return l.fs.Rename(segmentName(l.dir, out.base, logSuffix+cleanedSuffix), swap) },
		syncDir,
		func() error {
			for _, s := range group {
				if err := removeSegmentFiles(l.fs, l.dir, s.base, segmentSuffixes); err != nil {
					return err
				}
			}
			return nil
		},
		syncDir,
		func() error { return l.fs.Rename(swap, segmentName(l.dir, out.base, logSuffix)) },
		syncDir,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func swapName(dir string, base, end int64) string {
	return path.Join(dir, fmt.Sprintf("%020d.%020d%s", base, end, swapSuffix))
}

// parseSwapName returns the replaced range [base, end) of a swap file name.
func parseSwapName(name string) (base, end int64, ok bool) {
	stem, found := strings.CutSuffix(name, swapSuffix)
	if !found || len(stem) != 41 || stem[20] != '.' {
		return 0, 0, false
	}
	b, err1 := strconv.ParseInt(stem[:20], 10, 64)
	e, err2 := strconv.ParseInt(stem[21:], 10, 64)
	return b, e, err1 == nil && err2 == nil && b <= e
}

// finishSwaps completes compaction swaps that a crash interrupted: the
// swap file was fsynced before it got its name, so it replaces every
// segment in its range. It returns the directory listing afterwards.
func (l *Log) finishSwaps(names []string, rep *RecoveryReport) ([]string, error) {
	done := false
	for _, n := range names {
		base, end, ok := parseSwapName(n)
		if !ok {
			continue
		}
		for _, m := range names {
			b := baseOf(m)
			if b >= base && b < end && !strings.HasSuffix(m, swapSuffix) && !strings.HasSuffix(m, tmpSuffix) {
				if err := l.fs.Remove(path.Join(l.dir, m)); err != nil && !vfs.IsNotExist(err) {
					return nil, err
				}
			}
		}
		if err := l.fs.Rename(path.Join(l.dir, n), segmentName(l.dir, base, logSuffix)); err != nil {
			return nil, err
		}
		rep.CompletedSwaps = append(rep.CompletedSwaps, base)
		done = true
	}
	if !done {
		return names, nil
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return nil, err
	}
	return l.fs.List(l.dir)
}

// forEachBatch calls fn with each batch of the segment, in order. The
// batch slice is only valid during the call.
func (s *segment) forEachBatch(fn func(batch []byte, h *record.Header) error) error {
	if !s.acquire() {
		return fmt.Errorf("log: segment %d removed during compaction", s.base)
	}
	defer s.release()
	size := s.size.Load()
	r := bufio.NewReaderSize(io.NewSectionReader(s.file, 0, size), scanBufferSize)
	var buf []byte
	for pos := int64(0); pos < size; {
		hdr, err := r.Peek(record.HeaderSize)
		if err != nil {
			return s.corrupt(pos, err)
		}
		h, err := record.ParseHeader(hdr)
		if err != nil {
			return s.corrupt(pos, err)
		}
		n := h.Size()
		if pos+int64(n) > size {
			return s.corrupt(pos, record.ErrShort)
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return s.corrupt(pos, err)
		}
		if err := fn(buf, &h); err != nil {
			return err
		}
		pos += int64(n)
	}
	return nil
}
