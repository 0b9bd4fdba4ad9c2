package txn

// EndTxn, as Kafka 4.x's TransactionCoordinator.endTransaction (v5,
// transactions v2) and endTransactionWithTV1 (v0-4):
//   - v5 (KIP-890 part 2): every commit or abort bumps the epoch; the
//     response carries the producer id and epoch for the next transaction
//     (a new producer id at epoch 0 once the epoch is exhausted). A retry
//     (the request's epoch one below the current one, the state Complete*
//     of the same outcome) is answered NONE with the current id and epoch;
//     an abort of an Empty or completed id is allowed and bumps the epoch.
//     Kafka's table for Empty/CompleteAbort/CompleteCommit (Retry = the
//     request's epoch is current-1, PF = PRODUCER_FENCED, ITS =
//     INVALID_TXN_STATE, EB = epoch bump):
//                       Abort          Commit
//                       Retry Current  Retry Current
//       Empty           PF    EB       PF    ITS
//       CompleteAbort   NONE  EB       ITS   ITS
//       CompleteCommit  ITS   EB       NONE  ITS
//     A delayed EndTxn of epoch N once the next transaction runs at N+1 is
//     PRODUCER_FENCED (the KIP-890 zombie case).
//   - v0-4: the epoch must be the current one; a completed transaction of
//     the same outcome answers NONE, of the other INVALID_TXN_STATE.
//   - v2+ (KIP-588): PRODUCER_FENCED, INVALID_PRODUCER_EPOCH before.
//   - PrepareCommit/PrepareAbort: CONCURRENT_TRANSACTIONS for the same
//     outcome, INVALID_TXN_STATE for the other.
// The response is sent once the Prepare record is durable; the markers are
// written after it, and the Complete record once they are all written.

import (
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn handles an EndTxn.
func (s *Shard) EndTxn(now time.Time, h Handle, req *kmsg.EndTxnRequest) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrEndTxnResponse()
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = noID, noEpoch
	var t *txnMeta
	var code int16
	if req.Version >= 5 {
		t, code = s.endTxnV2(o, req)
	} else {
		code = s.endTxnV1(o, req)
	}
	resp.ErrorCode = fencedCode(code, req.Version, 2)
	if code == 0 && t != nil {
		resp.ProducerID, resp.ProducerEpoch = t.producerID, t.epoch
		if t.nextProducerID != noID { // the epoch overflowed: the next transaction runs on a new id
			resp.ProducerID, resp.ProducerEpoch = t.nextProducerID, 0
		}
	}
	o.respond(h, resp)
	return o.fx
}

func (s *Shard) endTxnV2(o *op, req *kmsg.EndTxnRequest) (*txnMeta, int16) {
	t := s.txns[req.TransactionalID]
	switch {
	case req.TransactionalID == "":
		return nil, kerr.InvalidRequest.Code
	case t == nil:
		return nil, kerr.InvalidProducerIDMapping.Code
	}
	epoch := int32(req.ProducerEpoch)
	retryOnOverflow := t.prevProducerID == req.ProducerID && epoch == math.MaxInt16-1 && t.epoch == 0
	retryOnBump := int32(t.epoch) == epoch+1
	retry := retryOnBump || retryOnOverflow
	valid := epoch == int32(t.epoch)
	switch {
	case t.state.preparing():
		valid = retryOnBump
	case t.state.complete():
		valid = valid || retry
	}
	switch {
	case t.producerID != req.ProducerID && !retryOnOverflow:
		return nil, kerr.InvalidProducerIDMapping.Code
	case !valid:
		return nil, kerr.ProducerFenced.Code
	}
	return s.endV2InState(o, t, req.Commit, retry)
}

// endV2InState is the v5 transition from t's state, once the producer is
// known to be the right one.
func (s *Shard) endV2InState(o *op, t *txnMeta, commit, retry bool) (*txnMeta, int16) {
	switch {
	case t.state == Ongoing:
		return s.prepareEnd(o, t, commit, 2, false)
	case t.state.preparing():
		if commit == (t.state == PrepareCommit) {
			return nil, kerr.ConcurrentTransactions.Code
		}
	case t.state == CompleteCommit && commit, t.state == CompleteAbort && !commit:
		if retry {
			return t, 0
		}
		if !commit {
			return s.prepareEnd(o, t, false, 2, true)
		}
	case !commit && !retry: // an abort of an Empty id, or after a commit
		return s.prepareEnd(o, t, false, 2, true)
	}
	return nil, kerr.InvalidTxnState.Code
}

func (s *Shard) endTxnV1(o *op, req *kmsg.EndTxnRequest) int16 {
	t := s.txns[req.TransactionalID]
	switch {
	case req.TransactionalID == "":
		return kerr.InvalidRequest.Code
	case t == nil || t.producerID != req.ProducerID:
		return kerr.InvalidProducerIDMapping.Code
	case req.ProducerEpoch != t.epoch:
		return kerr.ProducerFenced.Code
	}
	same := (t.state == PrepareCommit || t.state == CompleteCommit) == req.Commit
	switch {
	case t.state == Ongoing:
		_, code := s.prepareEnd(o, t, req.Commit, 0, false)
		return code
	case t.state.complete() && same:
		return 0
	case t.state.preparing() && same:
		return kerr.ConcurrentTransactions.Code
	}
	return kerr.InvalidTxnState.Code
}

// prepareEnd moves t to PrepareCommit or PrepareAbort at transaction
// version tv (Kafka's prepareAbortOrCommit) and starts its markers. With
// tv 2 the epoch is bumped, and a new producer id is allocated for the
// completion when the current epoch is exhausted. noPartitionAdded (an
// abort with no transaction open) starts the transaction now.
func (s *Shard) prepareEnd(o *op, t *txnMeta, commit bool, tv int16, noPartitionAdded bool) (*txnMeta, int16) {
	next := t.clone()
	next.state, next.tv, next.nextProducerID = PrepareAbort, tv, noID
	if commit {
		next.state = PrepareCommit
	}
	if bumpsEpoch(tv) {
		if epochExhausted(t.epoch) {
			pid, code := s.allocate()
			if code != 0 {
				return nil, code
			}
			next.nextProducerID = pid
		}
		next.epoch, next.lastEpoch = t.epoch+1, t.epoch
	}
	if noPartitionAdded {
		next.startMs = o.nowMs()
	}
	s.transit(o, t, next)
	s.startMarkers(o, next)
	return next, 0
}

// fenceAndAbort aborts t's Ongoing transaction on the coordinator's own
// initiative, for an InitProducerId that fences its producer or for a
// timeout (Kafka's prepareFenceProducerEpoch followed by an abort at the
// cluster's transaction version). The epoch is bumped once, so the abort
// markers fence the producer that ran the transaction; at an exhausted
// epoch the abort is written at Short.MAX_VALUE, the epoch Kafka keeps for
// fencing, and (transactions v2) the completion rotates to a new producer
// id, as Kafka 4.x does since it stopped bumping twice at the boundary.
func (s *Shard) fenceAndAbort(o *op, t *txnMeta) {
	tv := s.cfg.TransactionVersion
	if !bumpsEpoch(tv) {
		tv = 0
	}
	fenced := t.clone()
	if fenced.epoch < math.MaxInt16 {
		fenced.epoch++
	}
	fenced.lastEpoch = noEpoch
	next := fenced.clone()
	next.state, next.tv, next.nextProducerID = PrepareAbort, tv, noID
	if bumpsEpoch(tv) {
		next.lastEpoch = t.epoch
		if epochExhausted(t.epoch) {
			if pid, code := s.allocate(); code == 0 {
				next.nextProducerID = pid
			} // else the next InitProducerId finds the epoch exhausted and rotates
		}
	}
	s.transit(o, t, next)
	s.startMarkers(o, next)
}

// AbortTimedOut aborts every Ongoing transaction older than its
// transaction.timeout.ms (Kafka's abortTimedOutTransactions); call it every
// transaction.abort.timed.out.transaction.cleanup.interval.ms.
func (s *Shard) AbortTimedOut(now time.Time) Effects {
	o := &op{now: now}
	for _, id := range s.IDs() {
		t := s.txns[id]
		if t.state == Ongoing && t.startMs+int64(t.timeoutMs) < o.nowMs() {
			s.fenceAndAbort(o, t)
		}
	}
	return o.fx
}
