package txn

// InitProducerId with a transactional id, as Kafka 4.x's
// TransactionCoordinator.handleInitProducerId and
// prepareInitProducerIdTransit:
//   - v0-2: a new id gets a producer id from the allocator and epoch 0; a
//     known one gets its epoch bumped, fencing the producer that held it.
//   - v3+ (KIP-360): the request may name its current producer id and
//     epoch; a producer that is not the current one (nor the previous one
//     retrying after a rotation) is PRODUCER_FENCED, a retry of a bump that
//     succeeded gets the same epoch again.
//   - v4+ (KIP-588): PRODUCER_FENCED; older versions get
//     INVALID_PRODUCER_EPOCH instead (KafkaApis maps it).
//   - An Ongoing transaction is aborted first (the epoch is bumped so the
//     markers fence the old producer) and the request is answered
//     CONCURRENT_TRANSACTIONS; the client retries and bumps again.
//   - An epoch at Short.MAX_VALUE-1 is exhausted: the id moves to a new
//     producer id at epoch 0.
//   - transaction.timeout.ms must be in (0, transaction.max.timeout.ms]:
//     INVALID_TRANSACTION_TIMEOUT.
//
// An InitProducerId without a transactional id (an idempotent producer)
// involves no shard: the runtime answers it from the allocator alone.

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// expected is a KIP-360 request's current producer id and epoch.
type expected struct {
	set        bool
	producerID int64
	epoch      int16
}

// InitProducerID handles an InitProducerId whose TransactionalID is set.
func (s *Shard) InitProducerID(now time.Time, h Handle, req *kmsg.InitProducerIDRequest) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrInitProducerIDResponse()
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = noID, noEpoch
	t, code := s.initProducerID(o, req)
	if code == 0 {
		resp.ProducerID, resp.ProducerEpoch = t.producerID, t.epoch
	}
	resp.ErrorCode = fencedCode(code, req.Version, 4)
	o.respond(h, resp)
	return o.fx
}

// fencedCode answers PRODUCER_FENCED as INVALID_PRODUCER_EPOCH to request
// versions before the one that introduced it (KIP-588).
func fencedCode(code, version, since int16) int16 {
	if code == kerr.ProducerFenced.Code && version < since {
		return kerr.InvalidProducerEpoch.Code
	}
	return code
}

func (s *Shard) initProducerID(o *op, req *kmsg.InitProducerIDRequest) (*txnMeta, int16) {
	timeout := req.TransactionTimeoutMillis
	if (req.ProducerID == noID) != (req.ProducerEpoch == noEpoch) {
		return nil, kerr.InvalidRequest.Code
	}
	exp := expected{set: req.ProducerID != noID, producerID: req.ProducerID, epoch: req.ProducerEpoch}
	switch {
	case req.TransactionalID == nil || *req.TransactionalID == "":
		return nil, kerr.InvalidRequest.Code
	case timeout <= 0 || int64(timeout) > s.cfg.MaxTimeout.Milliseconds():
		return nil, kerr.InvalidTransactionTimeout.Code
	}
	id := *req.TransactionalID
	cur := s.txns[id]
	t := cur
	if t == nil {
		pid, code := s.allocate()
		if code != 0 {
			return nil, code
		}
		t = &txnMeta{
			id: id, producerID: pid, prevProducerID: noID, nextProducerID: noID, epoch: noEpoch, lastEpoch: noEpoch,
			timeoutMs: timeout, state: Empty, partitions: map[TopicPartition]struct{}{}, startMs: -1, updateMs: o.nowMs(),
		}
	}
	if exp.set && !t.validExpected(exp) {
		return nil, kerr.ProducerFenced.Code
	}
	switch {
	case t.state.preparing():
		return nil, kerr.ConcurrentTransactions.Code
	case t.state == Ongoing:
		s.fenceAndAbort(o, t)
		return nil, kerr.ConcurrentTransactions.Code
	}
	next, code := s.nextProducer(t, exp, timeout)
	if code != 0 {
		return nil, code
	}
	s.transit(o, cur, next)
	return next, 0
}

// allocate returns a new producer id, or the code to answer.
func (s *Shard) allocate() (int64, int16) {
	pid, err := s.cfg.ProducerIDs.Next()
	if err == nil {
		return pid, 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return -1, ke.Code
	}
	return -1, kerr.CoordinatorLoadInProgress.Code
}

// validExpected is Kafka's isValidProducerId: a producer naming itself is
// not fenced when the id was just created, when it names the current
// producer id (its epoch is checked by the bump), or when it names the
// previous producer id with an exhausted epoch (a retry after a rotation
// whose response was lost).
func (t *txnMeta) validExpected(exp expected) bool {
	return t.epoch == noEpoch || exp.producerID == t.producerID ||
		(exp.producerID == t.prevProducerID && epochExhausted(exp.epoch))
}

// nextProducer is the Empty state an InitProducerId leaves: a new
// producer id once the epoch is exhausted (prepareProducerIdRotation), the
// next epoch otherwise (prepareIncrementProducerEpoch).
func (s *Shard) nextProducer(t *txnMeta, exp expected, timeout int32) (*txnMeta, int16) {
	next := t.clone()
	next.state, next.timeoutMs, next.startMs = Empty, timeout, -1
	next.partitions, next.nextProducerID = map[TopicPartition]struct{}{}, noID
	if epochExhausted(t.epoch) && (!exp.set || exp.epoch == t.epoch) {
		pid, code := s.allocate()
		if code != 0 {
			return nil, code
		}
		next.producerID, next.epoch, next.lastEpoch = pid, 0, noEpoch
		if exp.set {
			next.lastEpoch = t.epoch
		}
		return next, 0
	}
	switch {
	case !exp.set && !epochExhausted(t.epoch):
		next.epoch, next.lastEpoch = t.epoch+1, noEpoch
	case (t.epoch == noEpoch || exp.epoch == t.epoch) && !epochExhausted(t.epoch):
		next.epoch, next.lastEpoch = t.epoch+1, t.epoch
	case exp.set && exp.epoch == t.lastEpoch:
		// A retry of a bump that succeeded: the same epoch again. A new
		// producer's InitProducerId would have reset the last epoch.
	default:
		return nil, kerr.ProducerFenced.Code
	}
	return next, 0
}
