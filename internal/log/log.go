// Package log is one partition's log: an append-only sequence of Kafka
// RecordBatch v2 bytes in segments, laid out as Kafka lays them out:
//
//	<dir>/<20-digit base offset>.log        batches, verbatim after offset assignment
//	<dir>/<20-digit base offset>.index      sparse offset index (8-byte entries)
//	<dir>/<20-digit base offset>.timeindex  sparse time index (12-byte entries)
//	<dir>/leader-epoch-checkpoint           leader epoch -> start offset (KIP-101)
//	<dir>/<20-digit offset>.snapshot        producer state as of the offset (KIP-98)
//	<dir>/<20-digit base offset>.txnindex   aborted transactions whose markers the segment holds (txn.go)
//
// Batches stay bytes: Append validates the header and CRC, rewrites the base
// offset and leader epoch in place (and, for LogAppendTime, the max timestamp
// and CRC), and writes; records are decoded only by compaction and by
// timestamp lookups. Reads never take the append lock.
//
// Durability follows Samsa's ARCHITECTURE: by default (Config.FsyncOnAck) an
// Append returns once its batch is fsynced, and concurrent appenders share
// fsyncs (group commit); otherwise Kafka's flush.messages / flush.ms apply.
// A segment is fsynced, with its indexes, before the next one is created, so
// only the last segment can hold a torn write: recovery truncates a bad tail
// there and reports damage anywhere else as corruption, never serving it.
//
// Lock order (docs/locks.md): Log.maint, then Log.mu, then flusher.mu.
package log

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// Errors returned by the log; the API layer maps them to Kafka codes.
var (
	// ErrOffsetOutOfRange: a read below the log start or past the log end
	// (OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrMessageTooLarge: a batch over max.message.bytes (MESSAGE_TOO_LARGE).
	ErrMessageTooLarge = errors.New("log: batch larger than max.message.bytes")
	// ErrCorrupt: damaged data on disk (KAFKA_STORAGE_ERROR).
	ErrCorrupt = errors.New("log: corrupt data")
	// ErrFailed: an earlier write or fsync failed; the log accepts no more
	// writes until it is reopened (KAFKA_STORAGE_ERROR).
	ErrFailed = errors.New("log: failed after an I/O error")
	// ErrOffsetOrder: a replica append whose offsets go backwards.
	ErrOffsetOrder = errors.New("log: batch offsets not above the log end")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("log: closed")
	// ErrInvalidTimestamp: a CreateTime batch outside the topic's
	// message.timestamp.{before,after}.max.ms (INVALID_TIMESTAMP).
	ErrInvalidTimestamp = errors.New("log: timestamp out of the accepted range")
)

// Options are what Open needs besides the directory.
type Options struct {
	Config Config
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RecoveryPoint is the offset below which the log was known durable
	// (recovery-point-offset-checkpoint): recovery rescans from the segment
	// holding it. Zero rescans everything.
	RecoveryPoint int64
	// LogStartOffset is the checkpointed log start (log-start-offset-checkpoint).
	LogStartOffset int64
	// CleanerOffset is the checkpointed first dirty offset for compaction
	// (cleaner-offset-checkpoint).
	CleanerOffset int64
	// HighWatermark is the checkpointed high watermark
	// (replication-offset-checkpoint); see Log.HighWatermark.
	HighWatermark int64
}

// Log is one partition's log. Its methods are safe for concurrent use.
type Log struct {
	fs  vfs.FS
	dir string
	now func() time.Time
	cfg atomic.Pointer[Config]

	// mu is the append lock. It guards appends, changes to the segment list
	// and the epoch cache; reads take no lock.
	mu       sync.Mutex
	segs     atomic.Pointer[[]*segment] // ascending base offsets; last is active
	leo      atomic.Int64               // log end offset
	logStart atomic.Int64
	epochs   *epochCache
	queue    writeQueue  // fsync-on-ack batches awaiting the group commit's write
	dirDirty atomic.Bool // a segment file was created since the last SyncDir
	failed   atomic.Pointer[error]
	closed   atomic.Bool
	// producers is the idempotent producers' state (producer_state.go), as
	// of the log end; hasSnapshots: a snapshot file exists. Append lock.
	producers    *producerState
	hasSnapshots bool
	// unstable is the first offset of the earliest open transaction, or
	// -1; aborted is the aborted-transaction index (txn.go), replaced or
	// appended to under the append lock, read without it.
	unstable atomic.Int64
	aborted  atomic.Pointer[[]AbortedTxn]

	// maint serializes maintenance that restructures sealed segments:
	// retention, DeleteRecords, truncation, compaction.
	maint         sync.Mutex
	cleanerOffset atomic.Int64
	hw            atomic.Int64 // the replica's high watermark, for checkpoints

	flush flusher
}

// AppendResult describes an appended batch. For a producer's retry of a
// batch already written (Duplicate), the offsets are the first write's and
// nothing was written.
type AppendResult struct {
	BaseOffset, LastOffset int64
	Duplicate              bool
	// LogAppendTime is the broker timestamp stamped on the batch, or -1.
	LogAppendTime  int64
	LogStartOffset int64
}

// Config returns the log's current configuration.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig changes the configuration of the live log (a topic config
// alter). New values apply to the next append, read and maintenance pass.
// Leaving FsyncOnAck writes out the batches queued for the next group
// commit: page-cache mode writes each append at once, behind them.
func (l *Log) SetConfig(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.cfg.Load()
	l.cfg.Store(&c)
	if old.FsyncOnAck && !c.FsyncOnAck && !l.closed.Load() {
		return l.writeQueueLocked()
	}
	return nil
}

func (l *Log) segments() []*segment { return *l.segs.Load() }

func (l *Log) active() *segment {
	s := l.segments()
	return s[len(s)-1]
}

func (l *Log) setSegments(s []*segment) { l.segs.Store(&s) }

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// LogEndOffset is the offset the next appended record will get.
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// LogStartOffset is the first offset still readable.
func (l *Log) LogStartOffset() int64 { return l.logStart.Load() }

// RecoveryPoint is the offset below which everything is durable; the log
// directory checkpoints it.
func (l *Log) RecoveryPoint() int64 { return l.flush.durableOffset() }

// CleanerOffset is compaction's first dirty offset; the log directory
// checkpoints it.
func (l *Log) CleanerOffset() int64 { return l.cleanerOffset.Load() }

// HighWatermark is the high watermark the replica layer last recorded with
// SetHighWatermark, or the checkpointed one it opened with; the log only
// keeps it for replication-offset-checkpoint (Dir.Checkpoint), so that a
// restarted replica starts from it rather than from the log start.
func (l *Log) HighWatermark() int64 { return l.hw.Load() }

// SetHighWatermark records the replica's high watermark for the next
// checkpoint.
func (l *Log) SetHighWatermark(hw int64) { l.hw.Store(hw) }

// Size is the total size of the log's segment files.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range l.segments() {
		n += s.size.Load()
	}
	return n
}

// SegmentBases lists the base offsets of the segments, oldest first.
func (l *Log) SegmentBases() []int64 {
	segs := l.segments()
	bases := make([]int64, len(segs))
	for i, s := range segs {
		bases[i] = s.base
	}
	return bases
}

func (l *Log) failure() error {
	if p := l.failed.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrFailed, *p)
	}
	return nil
}

// fail records the first I/O error on the write path. After a failed write
// or fsync the page cache and the file may disagree (an fsync error can drop
// dirty pages), so the log stops taking writes instead of retrying.
func (l *Log) fail(err error) error {
	l.failed.CompareAndSwap(nil, &err)
	return l.failure()
}

// Append validates batch, assigns it the next offsets and leaderEpoch, and
// writes it. The batch's bytes are rewritten in place, and the log keeps no
// reference to them once the call returns. With FsyncOnAck the call
// returns once the batch is durable.
func (l *Log) Append(batch []byte, leaderEpoch int32) (AppendResult, error) {
	res, next, err := l.appendBatch(batch, true, leaderEpoch, 0)
	if err != nil {
		return res, err
	}
	return res, l.afterAppend(next, l.cfg.Load())
}

// AppendMarker appends a transaction marker (a control batch,
// record.BuildEndTxn) as the leader, checked against the producer's state
// with the rules of transaction version tv (txn.go), and returns once it is
// durable by the log's policy.
func (l *Log) AppendMarker(batch []byte, leaderEpoch int32, tv int8) (AppendResult, error) {
	res, next, err := l.appendBatch(batch, true, leaderEpoch, tv)
	if err != nil {
		return res, err
	}
	return res, l.afterAppend(next, l.cfg.Load())
}

// AppendDeferred is Append without waiting for FsyncOnAck's fsync: it
// returns once the batch is written, and the caller calls Sync with the
// returned next offset before acknowledging it. This lets a connection
// append its next pipelined request while the fsync of the previous one
// runs, so both share one group commit. The flush.messages policy of
// page-cache mode still applies here.
func (l *Log) AppendDeferred(batch []byte, leaderEpoch int32) (res AppendResult, next int64, err error) {
	res, next, err = l.appendBatch(batch, true, leaderEpoch, 0)
	if cfg := l.cfg.Load(); err == nil && !cfg.FsyncOnAck {
		err = l.afterAppend(next, cfg)
	}
	return res, next, err
}

// FsyncOnAck reports whether acknowledgements wait for an fsync (the
// current config's FsyncOnAck), without copying the whole config.
func (l *Log) FsyncOnAck() bool { return l.cfg.Load().FsyncOnAck }

// AppendReplica appends a batch fetched from the partition leader, keeping
// its offsets and leader epoch. Its base offset must be at or past the log
// end (a compacted leader may leave gaps).
func (l *Log) AppendReplica(batch []byte) (AppendResult, error) {
	res, next, err := l.appendBatch(batch, false, 0, 0)
	if err != nil {
		return res, err
	}
	return res, l.afterAppend(next, l.cfg.Load())
}

// AppendReplicaDeferred is AppendReplica without waiting for FsyncOnAck's
// fsync: a follower appends every batch of a fetch response, then calls
// Sync once with the returned next offset of the last before it reports
// the new offset to the leader.
func (l *Log) AppendReplicaDeferred(batch []byte) (res AppendResult, next int64, err error) {
	res, next, err = l.appendBatch(batch, false, 0, 0)
	if cfg := l.cfg.Load(); err == nil && !cfg.FsyncOnAck {
		err = l.afterAppend(next, cfg)
	}
	return res, next, err
}

// AssignEpoch records that leader epoch epoch starts at the log end, as a
// new leader does before writing (Kafka's maybeAssignEpochStartOffset in
// makeLeader): OffsetForLeaderEpoch and diverging-epoch checks (KIP-279,
// KIP-320) then see the new epoch even before its first batch. Epochs not
// above the latest change nothing.
func (l *Log) AssignEpoch(epoch int32) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if _, err := l.epochs.assign(epoch, l.leo.Load()); err != nil {
		return l.fail(err)
	}
	return nil
}

// appendBatch validates batch, places it under the append lock (as the
// leader: new offsets and epoch; as a replica: its own, checked) and
// appends it; it returns the next offset for the durability policy. tv is
// the transaction version a marker is checked with.
func (l *Log) appendBatch(batch []byte, leader bool, leaderEpoch int32, tv int8) (AppendResult, int64, error) {
	res := AppendResult{LogAppendTime: -1}
	h, err := record.Validate(batch)
	if err != nil {
		return res, 0, err
	}
	var marker *record.EndTxn
	if h.Control() {
		m, err := record.ParseEndTxn(batch)
		switch {
		case err == nil:
			marker = &m
		case leader:
			return res, 0, err
		}
	}
	cfg := l.cfg.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	err = l.writable()
	if err == nil && leader && marker != nil {
		err = l.producers.checkMarker(&h, marker, tv)
		if errors.Is(err, errMarkerRetry) {
			res.BaseOffset, res.LastOffset, res.Duplicate, res.LogStartOffset = -1, -1, true, l.logStart.Load()
			return res, l.leo.Load(), nil // durable once the log end is, the first marker included
		}
	} else if err == nil && leader {
		var dup *BatchMetadata
		if dup, err = l.producers.check(&h); dup != nil {
			return l.duplicate(dup, cfg), dup.LastOffset + 1, nil
		}
	}
	if err == nil && leader {
		err = l.placeAsLeader(batch, &h, leaderEpoch, cfg, &res)
	} else if err == nil && h.BaseOffset < l.leo.Load() {
		err = fmt.Errorf("%w: base offset %d, log end %d", ErrOffsetOrder, h.BaseOffset, l.leo.Load())
	}
	if err == nil {
		err = l.appendLocked(batch, &h, h.PartitionLeaderEpoch, cfg)
	}
	if err == nil {
		err = l.updateProducersLocked(&h, marker)
	}
	res.BaseOffset, res.LastOffset, res.LogStartOffset = h.BaseOffset, h.LastOffset(), l.logStart.Load()
	return res, h.NextOffset(), err
}

// duplicate answers a retried batch with its first write's offsets (and,
// with LogAppendTime, its timestamp), as Kafka's duplicate detection does.
func (l *Log) duplicate(dup *BatchMetadata, cfg *Config) AppendResult {
	res := AppendResult{BaseOffset: dup.FirstOffset, LastOffset: dup.LastOffset, Duplicate: true,
		LogAppendTime: -1, LogStartOffset: l.logStart.Load()}
	if cfg.LogAppendTime {
		res.LogAppendTime = dup.Timestamp
	}
	return res
}

// placeAsLeader gives batch the next offsets and leaderEpoch, and for
// LogAppendTime the broker's timestamp, rewriting its bytes in place.
func (l *Log) placeAsLeader(batch []byte, h *record.Header, leaderEpoch int32, cfg *Config, res *AppendResult) error {
	if len(batch) > cfg.MaxMessageBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMessageTooLarge, len(batch), cfg.MaxMessageBytes)
	}
	if err := l.checkTimestamps(h, cfg); err != nil {
		return err
	}
	h.BaseOffset = l.leo.Load()
	h.PartitionLeaderEpoch = leaderEpoch
	record.SetBaseOffset(batch, h.BaseOffset)
	record.SetPartitionLeaderEpoch(batch, leaderEpoch)
	if cfg.LogAppendTime {
		res.LogAppendTime = l.now().UnixMilli()
		record.SetLogAppendTime(batch, res.LogAppendTime)
		h.MaxTimestamp = res.LogAppendTime
	}
	return nil
}

// checkTimestamps applies message.timestamp.{after,before}.max.ms to a
// CreateTime batch.
func (l *Log) checkTimestamps(h *record.Header, cfg *Config) error {
	if cfg.LogAppendTime {
		return nil
	}
	now := l.now().UnixMilli()
	if cfg.TimestampAfterMax >= 0 && h.MaxTimestamp > now+cfg.TimestampAfterMax.Milliseconds() {
		return fmt.Errorf("%w: timestamp %d is more than %v ahead of the broker's %d", ErrInvalidTimestamp, h.MaxTimestamp, cfg.TimestampAfterMax, now)
	}
	if cfg.TimestampBeforeMax >= 0 && h.BaseTimestamp < now-cfg.TimestampBeforeMax.Milliseconds() {
		return fmt.Errorf("%w: timestamp %d is more than %v behind the broker's %d", ErrInvalidTimestamp, h.BaseTimestamp, cfg.TimestampBeforeMax, now)
	}
	return nil
}

func (l *Log) writable() error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.failure()
}

// appendLocked rolls if needed, records a new leader epoch, and writes the
// batch, or with fsync-on-ack queues it for the group commit to write.
func (l *Log) appendLocked(batch []byte, h *record.Header, epoch int32, cfg *Config) error {
	seg := l.active()
	if !seg.fits(len(batch), h.LastOffset(), cfg, l.queue.bytes) || l.tooOld(seg, cfg) {
		if err := l.writeQueueLocked(); err != nil {
			return err
		}
		var err error
		if seg, err = l.roll(h.BaseOffset); err != nil {
			return l.fail(err)
		}
		// Kafka snapshots producer state at each roll, so recovery replays
		// at most the active segment.
		if err := l.writeSnapshotLocked(seg.base); err != nil {
			return l.fail(err)
		}
	}
	if _, err := l.epochs.assign(epoch, h.BaseOffset); err != nil {
		return l.fail(err)
	}
	if seg.empty() && l.queue.bytes == 0 {
		seg.created = l.now() // segment.ms counts from the first batch
	}
	if cfg.FsyncOnAck && l.queue.fits(len(batch)) {
		l.queue.add(batch, h)
	} else {
		if err := l.writeQueueLocked(); err != nil { // keep the offset order
			return err
		}
		if err := seg.append(batch, h, cfg); err != nil {
			return l.fail(err)
		}
	}
	l.leo.Store(h.NextOffset())
	return nil
}

func (l *Log) tooOld(s *segment, cfg *Config) bool {
	return (!s.empty() || l.queue.bytes > 0) && l.now().Sub(s.created) >= cfg.SegmentAge
}

// writeQueue holds fsync-on-ack batches between their append and the group
// commit that makes them durable. Appends only queue (no syscall, so they
// do not contend with a running fsync); the group-commit leader writes the
// whole queue to the active segment in one write, then fsyncs. Batches are
// copied in (see add). Guarded by the append lock.
type writeQueue struct {
	data  []byte // the queued batches back to back, copied: see add
	hdrs  []record.Header
	bytes int64
}

// Only small batches are queued: joining them saves a write per batch and
// keeps writes from contending with the running fsync, while large batches
// write efficiently on their own (joining 1 MiB batches cost 60% of
// 8-appender throughput in the benchmark).
const (
	queueMaxBatch = 128 << 10
	queueMaxBytes = 1 << 20
)

func (q *writeQueue) fits(n int) bool {
	return n < queueMaxBatch && q.bytes+int64(n) <= queueMaxBytes
}

// add copies batch into the queue, so that no append keeps a reference to
// its caller's buffer once it returns (the listener reuses request
// buffers). The copy is the join the write needs anyway.
func (q *writeQueue) add(batch []byte, h *record.Header) {
	q.data = append(q.data, batch...)
	q.hdrs = append(q.hdrs, *h)
	q.bytes += int64(len(batch))
}

// writeQueueLocked writes the queued batches to the active segment.
func (l *Log) writeQueueLocked() error {
	q := &l.queue
	if len(q.hdrs) == 0 {
		return nil
	}
	data := q.data
	active := l.active()
	err := active.write(data, q.hdrs, l.cfg.Load())
	q.data, q.hdrs, q.bytes = q.data[:0], q.hdrs[:0], 0
	if err != nil {
		// The queued offsets were never written: the log ends where the
		// data does, and the failure (set first) fails their waiters.
		err = l.fail(err)
		l.leo.Store(active.next.Load())
		return err
	}
	return nil
}

// roll seals the active segment and starts a new one at base. An empty
// active segment is replaced instead (a replica append past a gap).
func (l *Log) roll(base int64) (*segment, error) {
	segs := l.segments()
	old := segs[len(segs)-1]
	if old.empty() {
		if old.base == base {
			return old, nil
		}
		if err := old.remove(); err != nil {
			return nil, err
		}
		segs = segs[:len(segs)-1]
	} else if err := old.seal(); err != nil {
		return nil, err
	}
	seg, err := createSegment(l.fs, l.dir, base, l.now())
	if err != nil {
		return nil, err
	}
	l.dirDirty.Store(true)
	l.setSegments(append(segs[:len(segs):len(segs)], seg))
	return seg, nil
}

// afterAppend applies the durability policy to an append ending at next.
func (l *Log) afterAppend(next int64, cfg *Config) error {
	if cfg.FsyncOnAck {
		return l.Sync(next)
	}
	if cfg.FlushMessages > 0 && next-l.flush.durableOffset() >= cfg.FlushMessages {
		return l.Sync(next)
	}
	return nil
}

// MaybeFlush applies flush.ms in page-cache mode: it fsyncs when unflushed
// data has waited FlushInterval since the last flush. A scheduler calls it
// periodically.
func (l *Log) MaybeFlush() error {
	cfg := l.cfg.Load()
	if cfg.FsyncOnAck || cfg.FlushInterval < 0 {
		return nil
	}
	leo := l.leo.Load()
	if leo <= l.flush.durableOffset() || l.now().Sub(l.flush.lastFlushTime()) < cfg.FlushInterval {
		return nil
	}
	return l.Sync(leo)
}

// Read returns whole batches starting with the one holding offset, up to
// maxBytes in total, with base offsets below upTo (the high watermark; a
// negative upTo means the log end). With minOne the first batch is returned
// even when it alone exceeds maxBytes (KIP-74). Reading at the log end
// returns no data; below the log start or past the end, ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int, upTo int64, minOne bool) ([]byte, error) {
	verify := l.cfg.Load().VerifyOnRead
	for {
		leo := l.leo.Load()
		if offset < l.logStart.Load() || offset > leo {
			return nil, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.logStart.Load(), leo)
		}
		if upTo < 0 || upTo > leo {
			upTo = leo
		}
		data, retry, err := l.readOnce(offset, maxBytes, upTo, minOne, verify)
		if offset < l.logStart.Load() {
			// Retention or DeleteRecords moved the start during the read
			// (the start moves before segments go), so do not serve later
			// data in place of what was deleted.
			return nil, fmt.Errorf("%w: %d below the log start %d", ErrOffsetOutOfRange, offset, l.logStart.Load())
		}
		if !retry {
			return data, err
		}
		if l.closed.Load() {
			return nil, ErrClosed // its segments stay listed but released
		}
	}
}

// readOnce reads from one snapshot of the segment list; retry is set when a
// segment was removed under it.
func (l *Log) readOnce(offset int64, maxBytes int, upTo int64, minOne, verify bool) (data []byte, retry bool, err error) {
	segs := l.segments()
	for i := floorSegment(segs, offset); i < len(segs); i++ {
		s := segs[i]
		if !s.acquire() {
			return nil, true, nil
		}
		pos, h, ok, err := s.find(offset)
		if ok {
			data, err = s.readBatches(pos, &h, maxBytes, upTo, minOne, verify)
		}
		s.release()
		if ok || err != nil {
			return data, false, err
		}
	}
	return nil, false, nil
}

// floorSegment is the index of the last segment whose base is at most
// offset, or 0.
func floorSegment(segs []*segment, offset int64) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset })
	return max(i-1, 0)
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch: the largest epoch not
// above the requested one, and the offset where it ended.
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epochs.endOffsetFor(epoch, l.leo.Load())
}

// Epochs returns the leader epoch cache's entries.
func (l *Log) Epochs() []EpochEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epochs.snapshot()
}

// Abandon releases the log's files as a crash would leave them: no fsync,
// no producer snapshot, no index writes, queued group-commit writes
// dropped. The next open recovers as after a crash. For in-process crash
// tests (broker.Abort); a closed log stays closed.
func (l *Log) Abandon() {
	l.maint.Lock()
	defer l.maint.Unlock()
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	for _, s := range l.segments() {
		s.release()
	}
}

// Close fsyncs the log, writes the active segment's indexes and closes its
// files. The caller then checkpoints RecoveryPoint.
func (l *Log) Close() error {
	l.maint.Lock()
	defer l.maint.Unlock()
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	err := l.failure()
	if err == nil {
		err = l.Sync(l.leo.Load())
	}
	if err == nil {
		l.mu.Lock()
		err = l.writeSnapshotLocked(l.leo.Load()) // a clean restart replays nothing
		l.mu.Unlock()
	}
	if err == nil {
		err = l.active().unreserve()
	}
	if err == nil {
		err = l.active().writeIndexes()
	}
	for _, s := range l.segments() {
		s.release()
	}
	return err
}
