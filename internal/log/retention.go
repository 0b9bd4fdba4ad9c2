package log

import (
	"fmt"
)

// EnforceRetention deletes whole segments, oldest first and never the
// active one, when cleanup.policy includes delete: segments whose newest
// timestamp is older than retention.ms, segments beyond retention.bytes,
// and segments wholly below the log start offset. It returns how many
// segments it deleted. The log start moves up to the first kept segment.
func (l *Log) EnforceRetention() (int, error) {
	l.maint.Lock()
	defer l.maint.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	cfg := l.cfg.Load()
	segs := l.segments()
	n := l.belowLogStart(segs)
	if cfg.Delete {
		n = max(n, l.expired(segs, cfg), oversize(segs, cfg))
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.deletePrefix(n)
}

// belowLogStart counts the leading sealed segments whose offsets are all
// below the log start offset.
func (l *Log) belowLogStart(segs []*segment) int {
	start := l.logStart.Load()
	n := 0
	for n < len(segs)-1 && segs[n+1].base <= start {
		n++
	}
	return n
}

// expired counts the leading sealed segments past retention.ms.
func (l *Log) expired(segs []*segment, cfg *Config) int {
	if cfg.Retention < 0 {
		return 0
	}
	horizon := l.now().Add(-cfg.Retention).UnixMilli()
	n := 0
	for n < len(segs)-1 && segs[n].maxTs.Load() < horizon {
		n++
	}
	return n
}

// oversize counts the leading sealed segments to delete so the log fits
// retention.bytes.
func oversize(segs []*segment, cfg *Config) int {
	if cfg.RetentionBytes < 0 {
		return 0
	}
	var total int64
	for _, s := range segs {
		total += s.size.Load()
	}
	excess := total - cfg.RetentionBytes
	n := 0
	for n < len(segs)-1 && excess >= segs[n].size.Load() && excess > 0 {
		excess -= segs[n].size.Load()
		n++
	}
	return n
}

// deletePrefix removes the first n segments (never the active one) and
// raises the log start offset to the first remaining segment.
func (l *Log) deletePrefix(n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deletePrefixLocked(n)
}

func (l *Log) deletePrefixLocked(n int) error {
	segs := l.segments()
	n = min(n, len(segs)-1)
	if n <= 0 {
		return nil
	}
	// Raise the log start first: a read that passed the old one must not
	// land on the next segment and get later data instead of an error.
	l.logStart.Store(max(l.logStart.Load(), segs[n].base))
	l.setSegments(segs[n:])
	l.cleanerOffset.Store(max(l.cleanerOffset.Load(), l.logStart.Load()))
	for _, s := range segs[:n] {
		if err := s.remove(); err != nil {
			return l.fail(err)
		}
	}
	if err := l.epochs.truncateFromStart(l.logStart.Load()); err != nil {
		return l.fail(err)
	}
	// Snapshots before the first segment are of no use to recovery. The
	// producers themselves stay until they expire (KIP-360: a producer
	// whose batches retention deleted is still alive).
	first := segs[n].base
	if err := l.removeSnapshots(func(off int64) bool { return off < first }); err != nil {
		return l.fail(err)
	}
	return l.syncDirLocked()
}

// DeleteRecordsBefore raises the log start offset to offset (Kafka's
// DeleteRecords; the caller checks it against the high watermark) and
// deletes the segments that fall wholly below it. The caller persists the
// new log start (the log directory's log-start-offset-checkpoint) before
// acknowledging.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	// restructure writes the append queue first: the start may move into
	// queued offsets.
	return l.restructure(func() error {
		if offset > l.leo.Load() || offset < 0 {
			return fmt.Errorf("%w: %d past the log end %d", ErrOffsetOutOfRange, offset, l.leo.Load())
		}
		if offset > l.logStart.Load() {
			l.logStart.Store(offset)
			l.cleanerOffset.Store(max(l.cleanerOffset.Load(), offset))
		}
		if err := l.epochs.truncateFromStart(l.logStart.Load()); err != nil {
			return err
		}
		if n := l.belowLogStart(l.segments()); n > 0 {
			return l.deletePrefixLocked(n)
		}
		return nil
	})
}
