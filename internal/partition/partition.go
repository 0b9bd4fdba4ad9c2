// Package partition is the replica manager: the partitions this broker
// hosts, their roles (leader or follower, from the metadata image), their
// high watermarks, and the waiting that acks and fetch long polls need.
// When the image gives this broker a replica, the partition's log is
// opened or created; when the topic goes, the log is deleted.
//
// Replication is Kafka's ISR protocol: followers pull from the leader with
// Fetch (follower.go, fetcher.go), the leader tracks each follower's log
// end and proposes ISR changes to the controller (leader.go), and the high
// watermark (HW), the offset below which records are committed and
// visible to consumers, is the smallest log end among the in-sync
// replicas. The leader's own log end there is its committed end: the
// durable end with FsyncOnAck, the log end in page-cache mode.
package partition

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/record"
)

// Errors a partition operation returns are Kafka's own (kerr values,
// possibly wrapped), so the API layer answers with their codes.
var (
	ErrNotLeader   = kerr.NotLeaderForPartition
	ErrOutOfRange  = kerr.OffsetOutOfRange
	ErrFenced      = kerr.FencedLeaderEpoch  // the client's epoch is older than ours
	ErrStaleEpoch  = kerr.UnknownLeaderEpoch // the client's epoch is newer than ours
	ErrUnknown     = kerr.UnknownTopicOrPartition
	ErrStorageFail = kerr.KafkaStorageError
	// acks=all: the ISR is below min.insync.replicas before the append
	// (nothing appended) or when the batch was committed.
	ErrNotEnoughReplicas            = kerr.NotEnoughReplicas
	ErrNotEnoughReplicasAfterAppend = kerr.NotEnoughReplicasAfterAppend
	ErrTimedOut                     = kerr.RequestTimedOut
)

// readError maps a log read error to Kafka's code: a closed log is a
// partition going away (its topic deleted), anything else a storage error.
func readError(err error) error {
	if errors.Is(err, log.ErrClosed) {
		return fmt.Errorf("%w: %w", kerr.NotLeaderForPartition, err)
	}
	return fmt.Errorf("%w: %w", kerr.KafkaStorageError, err)
}

// appendError maps a log or record error to Kafka's code for it.
func appendError(err error) error {
	var code *kerr.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, record.ErrUnsupportedMagic):
		code = kerr.InvalidRecord // Kafka 4 takes only magic 2 (KIP-724)
	case errors.Is(err, record.ErrCorrupt), errors.Is(err, record.ErrShort), errors.Is(err, log.ErrCorrupt):
		code = kerr.CorruptMessage
	case errors.Is(err, record.ErrInvalid):
		code = kerr.InvalidRecord
	case errors.Is(err, log.ErrMessageTooLarge):
		code = kerr.MessageTooLarge
	case errors.Is(err, log.ErrInvalidTimestamp):
		code = kerr.InvalidTimestamp
	case errors.Is(err, log.ErrOutOfOrderSequence):
		code = kerr.OutOfOrderSequenceNumber
	case errors.Is(err, log.ErrInvalidProducerEpoch):
		// Kafka 2.7+ answers a stale epoch on Produce so in every version
		// (KIP-588), keeping PRODUCER_FENCED for the coordinator.
		code = kerr.InvalidProducerEpoch
	case errors.Is(err, log.ErrInvalidTxnState):
		code = kerr.InvalidTxnState
	case errors.Is(err, log.ErrCoordinatorFenced):
		code = kerr.TransactionCoordinatorFenced
	case errors.Is(err, log.ErrClosed):
		code = kerr.NotLeaderForPartition // the partition is going away
	default:
		code = kerr.KafkaStorageError
	}
	return fmt.Errorf("%w: %w", code, err)
}

// Partition is one partition this broker hosts.
//
// Locks (docs/locks.md): replicaMu, then mu, then the log's. replicaMu
// orders a follower's log changes (fetched appends, truncations) against
// role changes; mu guards the waiters and the replication state.
type Partition struct {
	TP      log.TopicPartition
	TopicID metadata.UUID
	log     *log.Log
	now     func() time.Time
	// alter sends an ISR proposal to the controller (Manager.sendAlter);
	// nil: the ISR never changes here.
	alter func(*Partition, *isrChange)

	leader      atomic.Bool
	leaderEpoch atomic.Int32
	hw          atomic.Int64

	replicaMu sync.Mutex

	mu         sync.Mutex
	waiters    map[*byte]func() // the high watermark moved
	endWaiters map[*byte]func() // the leader's readable log end moved
	ls         leaderState      // while leading (leader.go)
	// leaderID is the leader this broker follows, -1 for none or while
	// leading.
	leaderID int32
}

func newPartition(tp log.TopicPartition, id metadata.UUID, l *log.Log, now func() time.Time) *Partition {
	if now == nil {
		now = time.Now
	}
	p := &Partition{TP: tp, TopicID: id, log: l, now: now, leaderID: -1,
		waiters: map[*byte]func(){}, endWaiters: map[*byte]func(){}}
	p.leaderEpoch.Store(-1)
	p.hw.Store(p.committedEnd())
	return p
}

// Log is the partition's log.
func (p *Partition) Log() *log.Log { return p.log }

// LeaderEpoch is the partition's current leader epoch.
func (p *Partition) LeaderEpoch() int32 { return p.leaderEpoch.Load() }

// IsLeader reports whether this broker leads the partition.
func (p *Partition) IsLeader() bool { return p.leader.Load() }

// HighWatermark is the offset below which records are committed.
func (p *Partition) HighWatermark() int64 { return p.hw.Load() }

// committedEnd is what the leader's own replica counts for the high
// watermark: the durable end with FsyncOnAck, the log end in page-cache
// mode.
func (p *Partition) committedEnd() int64 {
	if p.log.FsyncOnAck() {
		return p.log.RecoveryPoint()
	}
	return p.log.LogEndOffset()
}

// advance recomputes the leader's high watermark (leader.go) after its
// committed end moved, and wakes replica fetches: the batches are readable.
func (p *Partition) advance() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maybeIncrementHWLocked(p.now())
	notifyAll(p.endWaiters)
}

// setHWLocked stores a new high watermark and wakes the waiters if it
// moved.
func (p *Partition) setHWLocked(hw int64) {
	if p.hw.Swap(hw) != hw {
		notifyAll(p.waiters)
	}
}

func notifyAll(ws map[*byte]func()) {
	for _, notify := range ws {
		notify()
	}
}

// Appended describes an appended batch. A producer's retry of a batch
// already written (Duplicate) has the first write's offsets.
type Appended struct {
	BaseOffset     int64
	Duplicate      bool
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
	// Next is the offset after the batch: pass it to Commit.
	Next int64
}

// Append appends one batch as the leader. The batch is not committed until
// Commit(Next) returns (and, for acks=all, WaitReplicated(Next)): the
// caller may append more (its next pipelined request) before waiting.
func (p *Partition) Append(batch []byte) (Appended, error) {
	return p.AppendAcks(batch, 1)
}

// AppendAcks is Append for a produce with acks: with acks=-1 it first
// checks that the ISR holds min.insync.replicas (NOT_ENOUGH_REPLICAS,
// nothing appended), as Kafka's appendRecordsToLeader does.
func (p *Partition) AppendAcks(batch []byte, acks int16) (Appended, error) {
	if !p.leader.Load() {
		return Appended{}, ErrNotLeader
	}
	if acks == -1 {
		if err := p.checkMinISR(); err != nil {
			return Appended{}, err
		}
	}
	if h, err := record.ParseHeader(batch); err == nil && h.Control() {
		// Only transaction coordinators write markers (AppendMarker), as in
		// Kafka, which refuses control batches from clients.
		return Appended{}, fmt.Errorf("%w: control batches come from transaction coordinators only", kerr.InvalidRecord)
	}
	res, next, err := p.log.AppendDeferred(batch, p.leaderEpoch.Load())
	if err != nil {
		return Appended{}, appendError(err)
	}
	if !p.log.FsyncOnAck() {
		p.advance()
	}
	return Appended{BaseOffset: res.BaseOffset, Duplicate: res.Duplicate, LogAppendTime: res.LogAppendTime, LogStartOffset: res.LogStartOffset, Next: next}, nil
}

// OngoingTxn reports whether the producer has a transaction open here at
// this epoch (KIP-890: no verification is needed then).
func (p *Partition) OngoingTxn(producerID int64, epoch int16) bool {
	return p.log.OngoingTxn(producerID, epoch)
}

// AppendMarker appends a transaction marker (record.BuildEndTxn) as the
// leader, checked with the rules of transaction version tv (log.AppendMarker:
// TRANSACTION_COORDINATOR_FENCED, INVALID_PRODUCER_EPOCH), and returns once
// it is committed.
func (p *Partition) AppendMarker(batch []byte, tv int8) (Appended, error) {
	if !p.leader.Load() {
		return Appended{}, ErrNotLeader
	}
	res, err := p.log.AppendMarker(batch, p.leaderEpoch.Load(), tv)
	if err != nil {
		return Appended{}, appendError(err)
	}
	next := res.LastOffset + 1
	return Appended{BaseOffset: res.BaseOffset, LogAppendTime: res.LogAppendTime, LogStartOffset: res.LogStartOffset, Next: next}, p.Commit(next)
}

// LastStableOffset is the offset below which every transaction is decided
// (KIP-98): the first offset of the earliest open transaction, or the high
// watermark when that is lower or none is open. read_committed consumers
// read below it.
func (p *Partition) LastStableOffset() int64 {
	hw := p.hw.Load()
	if fu := p.log.FirstUnstableOffset(); fu >= 0 && fu < hw {
		return fu
	}
	return hw
}

// Commit waits until every offset below next is durable on this broker,
// fsyncing with FsyncOnAck (one fsync for every caller waiting at once):
// what acks=1 waits for. acks=all then waits with WaitReplicated.
func (p *Partition) Commit(next int64) error {
	if p.log.FsyncOnAck() {
		if err := p.log.Sync(next); err != nil {
			return appendError(err)
		}
	}
	p.advance()
	return nil
}

// wakeAll calls every waiter: the partition is going away or changed
// role, and long polls and acks=all waits on it should find out now
// rather than at their deadline.
func (p *Partition) wakeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	notifyAll(p.waiters)
	notifyAll(p.endWaiters)
}

// Watch calls notify (which must not block) each time the high watermark
// moves, until the returned cancel is called.
func (p *Partition) Watch(notify func()) (cancel func()) {
	return p.watch(p.waiters, notify)
}

// WatchEnd calls notify (which must not block) each time the batches a
// follower may fetch grow (the leader's log end, once written), until the
// returned cancel is called: replica fetches wait on it, since the high
// watermark moves only after they fetch.
func (p *Partition) WatchEnd(notify func()) (cancel func()) {
	return p.watch(p.endWaiters, notify)
}

func (p *Partition) watch(ws map[*byte]func(), notify func()) (cancel func()) {
	key := new(byte)
	p.mu.Lock()
	ws[key] = notify
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		delete(ws, key)
		p.mu.Unlock()
	}
}

// ReadResult is a fetch from one partition.
type ReadResult struct {
	Records []byte
	// Region, from ReadFetch, holds the batches instead of Records; the
	// caller must Release it.
	Region         *log.Region
	HighWatermark  int64
	LastStable     int64
	LogStartOffset int64
	// Aborted, for a read_committed read, are the aborted transactions
	// overlapping the offsets it covers (KIP-98).
	Aborted []log.AbortedTxn
}

// Read returns batches from offset up to the high watermark, at most
// maxBytes, or the first batch whatever its size with minOne (KIP-74).
func (p *Partition) Read(offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	return p.read(offset, func(res *ReadResult, hw int64) (err error) {
		res.Records, err = p.log.Read(offset, maxBytes, hw, minOne)
		return err
	})
}

// ReadFetch is what a Fetch reads: a file region of the batches
// (log.ReadRegion), to send without copying them, unless the log verifies
// CRCs on read (log.Config.VerifyOnRead): then Read.
//
// Only the leader serves consumers (NOT_LEADER_OR_FOLLOWER elsewhere): a
// follower's log may hold batches the leader will make it truncate.
func (p *Partition) ReadFetch(offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	if !p.leader.Load() {
		return p.notLeaderResult(), ErrNotLeader
	}
	if p.log.VerifyOnRead() {
		return p.Read(offset, maxBytes, minOne)
	}
	return p.read(offset, func(res *ReadResult, hw int64) (err error) {
		res.Region, err = p.log.ReadRegion(offset, maxBytes, hw, minOne)
		return err
	})
}

// ReadFetchCommitted is ReadFetch for read_committed consumers (isolation
// level 1, KIP-98): batches below the last stable offset only, and the
// aborted transactions overlapping [offset, last stable offset), as
// Kafka's UnifiedLog.collectAbortedTransactions gives them.
func (p *Partition) ReadFetchCommitted(offset int64, maxBytes int, minOne bool) (ReadResult, error) {
	if !p.leader.Load() {
		return p.notLeaderResult(), ErrNotLeader
	}
	res, err := p.readUpTo(offset, true, func(res *ReadResult, upTo int64) (err error) {
		if p.log.VerifyOnRead() {
			res.Records, err = p.log.Read(offset, maxBytes, upTo, minOne)
		} else {
			res.Region, err = p.log.ReadRegion(offset, maxBytes, upTo, minOne)
		}
		return err
	})
	if err == nil && offset < res.LastStable {
		res.Aborted = p.log.AbortedTxns(offset, res.LastStable)
	}
	return res, err
}

// notLeaderResult is what a refused read reports: no watermarks.
func (p *Partition) notLeaderResult() ReadResult {
	return ReadResult{HighWatermark: -1, LastStable: -1, LogStartOffset: -1}
}

// read checks offset against the log and the high watermark and calls
// read for the batches below the high watermark.
func (p *Partition) read(offset int64, read func(res *ReadResult, hw int64) error) (ReadResult, error) {
	return p.readUpTo(offset, false, read)
}

// readUpTo is read below the high watermark, or with committed below the
// last stable offset.
func (p *Partition) readUpTo(offset int64, committed bool, read func(res *ReadResult, upTo int64) error) (ReadResult, error) {
	hw := p.hw.Load()
	res := ReadResult{HighWatermark: hw, LastStable: min(p.LastStableOffset(), hw), LogStartOffset: p.log.LogStartOffset()}
	if committed {
		hw = res.LastStable
	}
	if offset < res.LogStartOffset || offset > p.log.LogEndOffset() {
		return res, ErrOutOfRange
	}
	if offset >= hw {
		return res, nil
	}
	err := read(&res, hw)
	if errors.Is(err, log.ErrOffsetOutOfRange) {
		return res, ErrOutOfRange
	}
	if err != nil {
		return res, readError(err)
	}
	return res, nil
}

// Special timestamps of ListOffsets.
const (
	Latest            = -1
	Earliest          = -2
	MaxTimestamp      = -3
	EarliestLocal     = -4 // KIP-405
	LatestTiered      = -5 // KIP-1005
	EarliestPending   = -6 // KIP-1023
	notFoundTimestamp = -1
)

// OffsetResult is one ListOffsets answer.
type OffsetResult struct {
	Offset      int64
	Timestamp   int64
	LeaderEpoch int32
}

// noOffset answers a lookup that found nothing.
var noOffset = OffsetResult{Offset: -1, Timestamp: -1, LeaderEpoch: -1}

// ListOffset answers ListOffsets for one timestamp (or special value), as
// the leader, below the high watermark, or with committed (isolation level
// READ_COMMITTED, KIP-98) below the last stable offset.
func (p *Partition) ListOffset(ts int64, committed bool) (OffsetResult, error) {
	if !p.leader.Load() {
		return noOffset, ErrNotLeader
	}
	hw := p.hw.Load()
	if committed {
		hw = p.LastStableOffset()
	}
	found := func(off, ts int64) OffsetResult {
		return OffsetResult{Offset: off, Timestamp: ts, LeaderEpoch: p.epochAt(off)}
	}
	switch ts {
	case Latest:
		return OffsetResult{Offset: hw, Timestamp: notFoundTimestamp, LeaderEpoch: p.leaderEpoch.Load()}, nil
	case Earliest, EarliestLocal:
		return found(p.log.LogStartOffset(), notFoundTimestamp), nil
	case LatestTiered, EarliestPending:
		// Nothing is tiered: Kafka answers -1 without tiered storage.
		return noOffset, nil
	}
	var to log.TimestampOffset
	var err error
	if ts == MaxTimestamp {
		to, err = p.log.MaxTimestamp()
	} else {
		to, err = p.log.OffsetForTimestamp(ts)
	}
	if err != nil {
		return noOffset, readError(err)
	}
	if to.Offset < 0 || to.Offset >= hw {
		return noOffset, nil
	}
	return found(to.Offset, to.Timestamp), nil
}

// epochAt is the leader epoch of the batch holding offset.
func (p *Partition) epochAt(off int64) int32 {
	epoch := int32(-1)
	for _, e := range p.log.Epochs() {
		if e.StartOffset > off {
			break
		}
		epoch = e.Epoch
	}
	return epoch
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch (KIP-101, KIP-279): the
// largest epoch at most the one asked, and the offset where it ended.
func (p *Partition) EndOffsetForEpoch(epoch int32) (int32, int64) {
	if epoch == p.leaderEpoch.Load() {
		return epoch, p.log.LogEndOffset()
	}
	return p.log.EndOffsetForEpoch(epoch)
}

// CheckEpoch compares a client's current leader epoch (KIP-320; -1 skips
// the check) with ours.
func (p *Partition) CheckEpoch(clientEpoch int32) error {
	ours := p.leaderEpoch.Load()
	switch {
	case clientEpoch < 0 || clientEpoch == ours:
		return nil
	case clientEpoch > ours:
		return ErrStaleEpoch // we are behind: UNKNOWN_LEADER_EPOCH
	}
	return ErrFenced // the client is behind: FENCED_LEADER_EPOCH
}
