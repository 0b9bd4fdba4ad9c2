package log

// Producer state: the idempotent producer's half of exactly-once (KIP-98),
// with the rules of Kafka's ProducerStateManager, ProducerAppendInfo and
// ProducerStateEntry.
//
// For each producer id that wrote to the partition the log keeps its epoch
// and the metadata of its last five batches (first and last sequence,
// first and last offset, max timestamp): a producer keeps at most five
// requests in flight per partition, so a retry of any of them is found and
// acknowledged with the offsets the first write got, never written again.
// On an append as leader:
//
//   - a batch without a producer id (-1) is not looked at;
//   - an epoch below the producer's is INVALID_PRODUCER_EPOCH (Kafka 2.7+
//     answers every produce version so, keeping PRODUCER_FENCED for the
//     transaction coordinator);
//   - a duplicate of one of the last five batches (same epoch, same first
//     and last sequence) returns that batch's offsets;
//   - a new epoch must start at sequence 0 (the epoch bump of KIP-360 and
//     of transactions), else OUT_OF_ORDER_SEQUENCE_NUMBER;
//   - the same epoch must continue at the last sequence + 1, wrapping from
//     int32 max to 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
//   - a non-transactional batch from a producer with an open transaction
//     is INVALID_TXN_STATE (Kafka's ProducerAppendInfo);
//   - an unknown producer id is accepted at any sequence: since Kafka 2.5
//     (KIP-360) the broker does not answer UNKNOWN_PRODUCER_ID, because the
//     state of a live producer may have gone with retention or expiration.
//
// A replica append (the leader already checked) only records the batch.
// Producers idle for producer.id.expiration.ms (by their last batch's
// timestamp, as Kafka measures it) are forgotten, unless a transaction of
// theirs is open.
//
// The transactional half (KIP-98 transactions, KIP-890) is in txn.go:
// CoordinatorEpoch and CurrentTxnFirstOffset are kept, snapshotted and
// shown by DescribeProducers; a transactional batch opens a transaction as
// in Kafka, and a marker closes it. A batch without a sequence (-1) is a
// coordinator's transactional write (the group coordinator's
// TxnOffsetCommit records, Kafka's AppendOrigin.COORDINATOR): its epoch is
// checked, its sequence is not, and it is not kept for duplicate detection.

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/samsa-io/samsa/internal/record"
)

// Errors of the producer-state checks; the partition maps them to Kafka's
// codes.
var (
	// ErrOutOfOrderSequence: a batch whose sequence does not continue the
	// producer's (OUT_OF_ORDER_SEQUENCE_NUMBER).
	ErrOutOfOrderSequence = errors.New("log: out of order sequence number")
	// ErrInvalidProducerEpoch: a batch from an epoch older than the
	// producer's latest (INVALID_PRODUCER_EPOCH).
	ErrInvalidProducerEpoch = errors.New("log: producer epoch older than the partition's")
	// ErrInvalidTxnState: a non-transactional batch from a producer whose
	// transaction is open in the partition (INVALID_TXN_STATE).
	ErrInvalidTxnState = errors.New("log: non-transactional write from a producer with an open transaction")
)

// batchesToRetain is how many batches of a producer are kept for duplicate
// detection (Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the most
// requests a producer keeps in flight per partition).
const batchesToRetain = 5

// BatchMetadata is what the state keeps of one batch of a producer.
type BatchMetadata struct {
	FirstSeq, LastSeq       int32
	FirstOffset, LastOffset int64
	Timestamp               int64 // the batch's max timestamp
}

// ProducerEntry is one producer's state in a partition.
type ProducerEntry struct {
	ProducerID int64
	Epoch      int16
	// Batches are the last ones written, oldest first, at most five, all of
	// Epoch.
	Batches       []BatchMetadata
	LastTimestamp int64
	// CoordinatorEpoch is the epoch of the transaction coordinator that
	// wrote the producer's last marker; -1 before any.
	CoordinatorEpoch int32
	// CurrentTxnFirstOffset is the first offset of the producer's open
	// transaction in this partition; -1 when none is open.
	CurrentTxnFirstOffset int64
}

// LastSeq is the last sequence written, or -1.
func (e *ProducerEntry) LastSeq() int32 {
	if len(e.Batches) == 0 {
		return -1
	}
	return e.Batches[len(e.Batches)-1].LastSeq
}

// LastOffset is the last offset written, or -1.
func (e *ProducerEntry) LastOffset() int64 {
	if len(e.Batches) == 0 {
		return -1
	}
	return e.Batches[len(e.Batches)-1].LastOffset
}

func (e *ProducerEntry) clone() *ProducerEntry {
	c := *e
	c.Batches = slices.Clone(e.Batches)
	return &c
}

// duplicate returns the retained batch that h repeats, or nil.
func (e *ProducerEntry) duplicate(h *record.Header) *BatchMetadata {
	if h.ProducerEpoch != e.Epoch {
		return nil
	}
	last := lastSequence(h)
	for i := range e.Batches {
		if b := &e.Batches[i]; b.FirstSeq == h.BaseSequence && b.LastSeq == last {
			return b
		}
	}
	return nil
}

// lastSequence is the sequence of a batch's last record, wrapping past
// int32 max to 0 as producers do (Kafka's DefaultRecordBatch.incrementSequence).
func lastSequence(h *record.Header) int32 {
	return int32((int64(h.BaseSequence) + int64(h.LastOffsetDelta)) % (math.MaxInt32 + 1))
}

// inSequence reports whether next follows last (Kafka's
// ProducerAppendInfo.inSequence).
func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}

// producerState is the partition's producers, guarded by the log's append
// lock.
type producerState struct {
	producers map[int64]*ProducerEntry
}

func newProducerState() *producerState {
	return &producerState{producers: map[int64]*ProducerEntry{}}
}

// check applies the leader's rules to a batch about to be appended: it
// returns the batch's earlier write when h is a duplicate, an error when
// the batch must be refused, and neither when it may be appended.
func (ps *producerState) check(h *record.Header) (*BatchMetadata, error) {
	if h.ProducerID < 0 || h.Control() {
		return nil, nil
	}
	e := ps.producers[h.ProducerID]
	if e == nil {
		return nil, nil // KIP-360: any sequence from an unknown producer
	}
	if h.ProducerEpoch < e.Epoch {
		return nil, fmt.Errorf("%w: producer %d epoch %d, the partition has seen %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.Epoch)
	}
	if h.BaseSequence < 0 {
		return nil, nil // a coordinator's write (TxnOffsetCommit): no sequence
	}
	if dup := e.duplicate(h); dup != nil {
		return dup, nil
	}
	if !h.Transactional() && e.CurrentTxnFirstOffset >= 0 {
		// Kafka's ProducerAppendInfo: an idempotent write may not join or
		// slip under an open transaction of the same producer id.
		return nil, fmt.Errorf("%w: producer %d has a transaction open at offset %d", ErrInvalidTxnState, h.ProducerID, e.CurrentTxnFirstOffset)
	}
	if h.ProducerEpoch != e.Epoch {
		if h.BaseSequence != 0 && e.Epoch >= 0 {
			return nil, fmt.Errorf("%w: producer %d starts epoch %d at sequence %d, not 0", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	if e.Epoch >= 0 && !inSequence(e.LastSeq(), h.BaseSequence) {
		return nil, fmt.Errorf("%w: producer %d epoch %d sent sequence %d after %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, e.LastSeq())
	}
	return nil, nil
}

// update records a batch written at its final offsets.
func (ps *producerState) update(h *record.Header) {
	if h.ProducerID < 0 || h.Control() {
		return
	}
	e := ps.producers[h.ProducerID]
	if e == nil {
		e = &ProducerEntry{ProducerID: h.ProducerID, Epoch: h.ProducerEpoch, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1}
		ps.producers[h.ProducerID] = e
	}
	if e.Epoch != h.ProducerEpoch {
		e.Epoch = h.ProducerEpoch
		e.Batches = e.Batches[:0]
	}
	if h.BaseSequence < 0 { // a coordinator's transactional write: no sequence
		e.LastTimestamp = h.MaxTimestamp
		if h.Transactional() && e.CurrentTxnFirstOffset < 0 {
			e.CurrentTxnFirstOffset = h.BaseOffset
		}
		return
	}
	if len(e.Batches) == batchesToRetain {
		e.Batches = append(e.Batches[:0], e.Batches[1:]...)
	}
	e.Batches = append(e.Batches, BatchMetadata{
		FirstSeq: h.BaseSequence, LastSeq: lastSequence(h),
		FirstOffset: h.BaseOffset, LastOffset: h.LastOffset(), Timestamp: h.MaxTimestamp,
	})
	e.LastTimestamp = h.MaxTimestamp
	if h.Transactional() && e.CurrentTxnFirstOffset < 0 {
		e.CurrentTxnFirstOffset = h.BaseOffset
	}
}

// expire forgets producers whose last batch is at least maxIdle older than
// now and that have no open transaction; it returns how many went.
func (ps *producerState) expire(now time.Time, maxIdle time.Duration) int {
	horizon := now.UnixMilli() - maxIdle.Milliseconds()
	n := 0
	for id, e := range ps.producers {
		if e.CurrentTxnFirstOffset < 0 && e.LastTimestamp <= horizon {
			delete(ps.producers, id)
			n++
		}
	}
	return n
}

// entries returns copies of every producer's state, by producer id.
func (ps *producerState) entries() []ProducerEntry {
	out := make([]ProducerEntry, 0, len(ps.producers))
	for _, id := range slices.Sorted(maps.Keys(ps.producers)) {
		out = append(out, *ps.producers[id].clone())
	}
	return out
}

// Producers returns a copy of every producer's state (DescribeProducers).
func (l *Log) Producers() []ProducerEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.producers.entries()
}

// OngoingTxn reports whether the producer has a transaction open in the
// partition at this epoch: the partition leader then needs no KIP-890
// verification or implicit add before appending its batch (Kafka's
// UnifiedLog.hasOngoingTransaction).
func (l *Log) OngoingTxn(producerID int64, epoch int16) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.producers.producers[producerID]
	return e != nil && e.Epoch == epoch && e.CurrentTxnFirstOffset >= 0
}

// ExpireProducers forgets producers idle for maxIdle
// (producer.id.expiration.ms) with no open transaction, and returns how
// many went. The broker calls it every
// producer.id.expiration.check.interval.ms; the next snapshot leaves them
// out.
func (l *Log) ExpireProducers(maxIdle time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.producers.expire(l.now(), maxIdle)
}
