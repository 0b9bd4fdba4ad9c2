package log

import (
	"fmt"
)

// TruncateTo removes every batch that holds offset or comes after it, as a
// follower does when its log diverges from the leader's (KIP-101). The new
// log end is the base offset of the first removed batch (offset itself when
// offset is a batch boundary). Truncating at or past the end removes no
// batch, only epochs starting at the log end; below the log start, the log
// restarts empty at offset.
func (l *Log) TruncateTo(offset int64) error {
	return l.restructure(func() error { return l.truncateToLocked(offset) })
}

func (l *Log) truncateToLocked(offset int64) error {
	if offset >= l.leo.Load() {
		// Still drop epochs that start at the log end: a broker that led
		// and recorded its epoch (AssignEpoch) but wrote nothing before
		// another leader took over has one, and must not report it as its
		// last fetched epoch (Kafka's UnifiedLog.truncateTo does the same).
		if err := l.epochs.truncateFromEnd(l.leo.Load()); err != nil {
			return l.fail(err)
		}
		return nil
	}
	if offset <= l.logStart.Load() {
		return l.truncateFullyLocked(offset)
	}
	segs := l.segments()
	i := floorSegment(segs, offset)
	for i > 0 && segs[i].base == offset {
		i-- // the whole segment goes; cut the previous one at its end
	}
	// Whole segments go first, durably, then the cut: a crash in between
	// leaves a shorter log, never the removed tail behind a gap.
	l.setSegments(segs[: i+1 : i+1])
	for _, s := range segs[i+1:] {
		if err := s.remove(); err != nil {
			return l.fail(err)
		}
	}
	if err := l.syncDirLocked(); err != nil {
		return err
	}
	cut, err := l.cutSegment(segs[i], offset)
	if err != nil {
		return l.fail(err)
	}
	// The new end is offset, or the start of the batch that held it; never
	// above offset (the segment may end in a gap before it) nor below the
	// log start (which may lie inside the removed batch), as in Kafka.
	keep := max(min(cut, offset), l.logStart.Load())
	l.leo.Store(keep)
	l.cleanerOffset.Store(min(l.cleanerOffset.Load(), keep))
	l.flush.lower(keep)
	if err := l.epochs.truncateFromEnd(keep); err != nil {
		return l.fail(err)
	}
	if err := l.syncDirLocked(); err != nil { // the cut segment's index files are gone
		return err
	}
	// Producer state as of the new end: snapshots past it go, and the
	// latest one left is replayed forward (Kafka's truncateAndReload).
	if err := l.rebuildProducersLocked(); err != nil {
		return l.fail(err)
	}
	return nil
}

// cutSegment truncates s before the batch holding offset (or at its end)
// and makes it the active segment again; it returns the new log end.
func (l *Log) cutSegment(s *segment, offset int64) (int64, error) {
	pos, h, ok, err := s.find(offset)
	if err != nil {
		return 0, err
	}
	if !ok {
		pos = s.size.Load()
	}
	// Readers run concurrently: count the cut first (a reader that sees an
	// inconsistency then knows why), shrink the published size before the
	// file, and rebuild the indexes on a scratch copy, publishing the result
	// only when complete, so no reader sees a half-rebuilt segment.
	s.cut(pos)
	s.size.Store(pos)
	if err := s.file.Truncate(pos); err != nil {
		return 0, err
	}
	if err := s.file.Sync(); err != nil {
		return 0, err
	}
	scratch := newSegment(s.fs, s.dir, s.base, s.file, s.created)
	validEnd, _, problem := scratch.rebuild(false, l.cfg.Load().IndexIntervalBytes)
	if problem != nil || validEnd != pos {
		return 0, fmt.Errorf("log: rebuilding segment %d after truncation: %v", s.base, problem)
	}
	s.adopt(scratch)
	if err := removeSegmentFiles(l.fs, l.dir, s.base, indexSuffixes); err != nil {
		return 0, err
	}
	if ok {
		return h.BaseOffset, nil
	}
	return s.next.Load(), nil
}

// TruncateFullyAndStartAt empties the log and restarts it at offset, as a
// follower does when the leader's log starts past its end.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	return l.restructure(func() error { return l.truncateFullyLocked(offset) })
}

// restructure runs fn holding both the maintenance and the append lock, on
// a log that still takes writes.
func (l *Log) restructure(fn func() error) error {
	l.maint.Lock()
	defer l.maint.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if err := l.writeQueueLocked(); err != nil {
		return err
	}
	return fn()
}

func (l *Log) truncateFullyLocked(offset int64) error {
	for _, s := range l.segments() {
		if err := s.remove(); err != nil {
			return l.fail(err)
		}
	}
	s, err := createSegment(l.fs, l.dir, offset, l.now())
	if err != nil {
		return l.fail(err)
	}
	l.setSegments([]*segment{s})
	l.leo.Store(offset)
	l.logStart.Store(offset)
	l.cleanerOffset.Store(offset)
	l.flush.lower(offset)
	if err := l.epochs.clear(); err != nil {
		return l.fail(err)
	}
	l.producers = newProducerState()
	l.hasSnapshots = false
	if err := l.removeSnapshots(func(int64) bool { return true }); err != nil {
		return l.fail(err)
	}
	return l.syncDirLocked()
}

// syncDirLocked makes removals and creations in the directory durable.
func (l *Log) syncDirLocked() error {
	if err := l.fs.SyncDir(l.dir); err != nil {
		return l.fail(err)
	}
	l.dirDirty.Store(false)
	return nil
}
