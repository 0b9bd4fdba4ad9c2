package log

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// RecoveryReport says what Open found and changed.
type RecoveryReport struct {
	Segments int // segments in the log after recovery
	Scanned  int // segments rescanned batch by batch (CRC included)
	Batches  int // batches checked in those segments
	// TruncatedBytes were cut from the end of the last segment, starting at
	// TruncatedAt (the new log end offset); Reason says what was wrong with
	// the first byte cut. TruncatedAt is -1 when nothing was cut.
	TruncatedBytes int64
	TruncatedAt    int64
	Reason         error
	// BelowRecoveryPoint: the cut removed offsets the recovery point said
	// were durable, so it was damage rather than a torn unsynced write.
	BelowRecoveryPoint bool
	RebuiltIndexes     []int64  // sealed segments whose index files were bad or missing
	CompletedSwaps     []int64  // compaction swaps finished after a crash
	RemovedFiles       []string // leftovers: temporary, half-cleaned, orphan index files
}

// Open opens (creating if needed) the log in dir and recovers it: it
// finishes or discards interrupted compaction swaps, rescans every segment
// from the one holding the recovery point (checking each batch's length,
// CRC and offsets), truncates a torn or corrupt tail of the last segment,
// rebuilds missing or bad indexes, and fsyncs what it kept. Damage in any
// other segment is returned as a *CorruptionError.
func Open(fsys vfs.FS, dir string, opts Options) (*Log, RecoveryReport, error) {
	rep := RecoveryReport{TruncatedAt: -1}
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, rep, err
	}
	l := &Log{fs: fsys, dir: dir, now: opts.Now}
	if l.now == nil {
		l.now = time.Now
	}
	l.cfg.Store(&cfg)
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, rep, err
	}
	bases, err := l.tidyDir(&rep)
	if err != nil {
		return nil, rep, err
	}
	segs, err := l.openSegments(bases, opts, &rep)
	if err != nil {
		return nil, rep, err
	}
	if len(segs) == 0 {
		s, err := createSegment(fsys, dir, opts.LogStartOffset, l.now())
		if err != nil {
			return nil, rep, err
		}
		segs = []*segment{s}
	}
	l.setSegments(segs)
	if err := l.finishOpen(opts, &rep); err != nil {
		l.closeSegments()
		return nil, rep, err
	}
	rep.Segments = len(l.segments())
	return l, rep, nil
}

// tidyDir removes leftovers of interrupted operations, finishes compaction
// swaps, and returns the base offsets of the segments, ascending.
func (l *Log) tidyDir(rep *RecoveryReport) ([]int64, error) {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return nil, err
	}
	if names, err = l.finishSwaps(names, rep); err != nil {
		return nil, err
	}
	logs := map[int64]bool{}
	var bases []int64
	for _, n := range names {
		if b, ok := parseSegmentName(n, logSuffix); ok {
			logs[b] = true
			bases = append(bases, b)
		}
	}
	for _, n := range names {
		_, isIdx := parseSegmentName(n, indexSuffix)
		_, isTime := parseSegmentName(n, timeIndexSuffix)
		_, isTxn := parseSegmentName(n, txnIndexSuffix)
		orphan := (isIdx || isTime || isTxn) && !logs[baseOf(n)]
		if orphan || strings.HasSuffix(n, tmpSuffix) || strings.HasSuffix(n, cleanedSuffix) {
			if err := l.fs.Remove(l.dir + "/" + n); err != nil && !vfs.IsNotExist(err) {
				return nil, err
			}
			rep.RemovedFiles = append(rep.RemovedFiles, n)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// baseOf parses the 20-digit prefix of a segment file name.
func baseOf(name string) int64 {
	if len(name) < 20 {
		return -1
	}
	b, ok := parseSegmentName(name[:20], "")
	if !ok {
		return -1
	}
	return b
}

// openSegments opens every segment: sealed ones before the recovery point
// from their indexes, the rest by a full rescan.
func (l *Log) openSegments(bases []int64, opts Options, rep *RecoveryReport) ([]*segment, error) {
	scanFrom := max(sort.Search(len(bases), func(i int) bool { return bases[i] > opts.RecoveryPoint })-1, 0)
	var segs []*segment
	fail := func(err error) ([]*segment, error) {
		for _, s := range segs {
			s.release()
		}
		return nil, err
	}
	for i, base := range bases {
		f, err := l.fs.OpenRW(segmentName(l.dir, base, logSuffix))
		if err != nil {
			return fail(err)
		}
		s := newSegment(l.fs, l.dir, base, f, l.now())
		segs = append(segs, s)
		last := i == len(bases)-1
		if i < scanFrom {
			err = l.loadSealed(s, bases[i+1], rep)
		} else {
			err = l.rescan(s, last, opts.RecoveryPoint, rep)
		}
		if err == nil && i > 0 && segs[i-1].next.Load() > base {
			err = segs[i-1].corrupt(segs[i-1].size.Load(), fmt.Errorf("segment ends at offset %d, after the next segment's base %d", segs[i-1].next.Load(), base))
		}
		if err != nil {
			return fail(err)
		}
	}
	return segs, nil
}

// rescan checks every batch of s and rebuilds its indexes. A bad tail of
// the last segment is truncated; anywhere else it is corruption.
func (l *Log) rescan(s *segment, last bool, recoveryPoint int64, rep *RecoveryReport) error {
	cfg := l.cfg.Load()
	validEnd, batches, problem := s.rebuild(true, cfg.IndexIntervalBytes)
	rep.Scanned++
	rep.Batches += batches
	if problem != nil && !last {
		return problem
	}
	if problem != nil {
		fileSize, err := s.file.Size()
		if err != nil {
			return err
		}
		if err := s.file.Truncate(validEnd); err != nil {
			return err
		}
		if err := s.file.Sync(); err != nil { // durable even when cut to zero
			return err
		}
		rep.TruncatedBytes = fileSize - validEnd
		rep.TruncatedAt = s.next.Load()
		rep.Reason = problem
		rep.BelowRecoveryPoint = s.next.Load() < recoveryPoint
	}
	s.size.Store(validEnd)
	if !last {
		return s.writeIndexes()
	}
	return nil
}

// loadSealed opens a segment below the recovery point from its index files,
// rebuilding them from the log if they are missing or inconsistent, and
// finds its end by scanning from the last indexed batch.
func (l *Log) loadSealed(s *segment, nextBase int64, rep *RecoveryReport) error {
	size, err := s.file.Size()
	if err != nil {
		return err
	}
	s.size.Store(size)
	s.synced.Store(size)
	maxRel, _ := relOffset(s.base, min(nextBase-1, s.base+1<<31-1))
	if l.loadIndexes(s, size, maxRel) == nil && l.scanTail(s, size) == nil {
		return nil
	}
	rep.RebuiltIndexes = append(rep.RebuiltIndexes, s.base)
	validEnd, _, problem := s.rebuild(false, l.cfg.Load().IndexIntervalBytes)
	if problem != nil {
		return problem
	}
	if validEnd != size {
		return s.corrupt(validEnd, fmt.Errorf("sealed segment ends inside a batch"))
	}
	return s.writeIndexes()
}

// loadIndexes reads and checks both index files of a sealed segment.
func (l *Log) loadIndexes(s *segment, size int64, maxRel uint32) error {
	ib, err := vfs.ReadAll(l.fs, segmentName(s.dir, s.base, indexSuffix))
	if err != nil {
		return err
	}
	tb, err := vfs.ReadAll(l.fs, segmentName(s.dir, s.base, timeIndexSuffix))
	if err != nil {
		return err
	}
	oi, err := decodeOffsetIndex(ib, size, maxRel)
	if err != nil {
		return err
	}
	ti, err := decodeTimeIndex(tb, maxRel)
	if err != nil {
		return err
	}
	s.offIdx.set(oi)
	s.timeIdx.set(ti)
	if len(ti) > 0 {
		s.maxTs.Store(ti[len(ti)-1].ts)
		s.maxTsOffset.Store(s.base + int64(ti[len(ti)-1].rel))
	}
	return nil
}

// scanTail walks batch headers from the last indexed batch to the end of
// the file to find the segment's next offset; a header that does not parse
// or a batch that overruns the file means the index or the log is bad.
func (l *Log) scanTail(s *segment, size int64) error {
	idx := s.offIdx.load()
	pos := int64(0)
	if len(idx) > 0 {
		pos = int64(idx[len(idx)-1].pos)
	}
	for pos < size {
		h, err := s.readHeader(pos)
		if err != nil {
			return err
		}
		if pos+int64(h.Size()) > size || h.BaseOffset < s.next.Load() {
			return s.corrupt(pos, fmt.Errorf("batch at %d does not fit the index", pos))
		}
		if len(idx) > 0 && pos == int64(idx[len(idx)-1].pos) && h.LastOffset() != s.base+int64(idx[len(idx)-1].rel) {
			return s.corrupt(pos, fmt.Errorf("last index entry names offset %d, batch ends at %d", s.base+int64(idx[len(idx)-1].rel), h.LastOffset()))
		}
		s.next.Store(h.NextOffset())
		pos += int64(h.Size())
	}
	if s.maxTs.Load() < 0 && size > 0 {
		return fmt.Errorf("no time index entry in a non-empty segment")
	}
	return nil
}

// finishOpen sets the offsets, loads the epoch cache and makes what
// recovery kept durable.
func (l *Log) finishOpen(opts Options, rep *RecoveryReport) error {
	segs := l.segments()
	active := segs[len(segs)-1]
	// The active segment's index files are stale from here on; they are
	// written again when it is sealed or closed.
	if err := removeSegmentFiles(l.fs, l.dir, active.base, indexSuffixes); err != nil {
		return err
	}
	l.leo.Store(active.next.Load())
	l.logStart.Store(max(opts.LogStartOffset, segs[0].base))
	l.producers = newProducerState()
	var err error
	if l.epochs, err = loadEpochCache(l.fs, l.dir); err != nil {
		return err
	}
	if l.logStart.Load() > l.leo.Load() {
		if err := l.truncateFullyLocked(l.logStart.Load()); err != nil {
			return err
		}
	}
	if err := l.epochs.truncateFromEnd(l.leo.Load()); err != nil {
		return err
	}
	if err := l.epochs.truncateFromStart(l.logStart.Load()); err != nil {
		return err
	}
	l.cleanerOffset.Store(max(opts.CleanerOffset, l.logStart.Load()))
	l.hw.Store(opts.HighWatermark)
	l.flush.init(-1, l.now())
	l.dirDirty.Store(true)
	// Rescanned segments start with nothing marked synced: what they hold may
	// sit only in the page cache after a process crash.
	if _, _, err := l.syncOnce(); err != nil {
		return err
	}
	l.flush.durable = l.leo.Load()
	return l.rebuildProducersLocked()
}

func (l *Log) closeSegments() {
	for _, s := range l.segments() {
		s.release()
	}
}
