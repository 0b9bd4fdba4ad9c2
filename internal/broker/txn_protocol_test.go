package broker_test

// Acceptance 5 of issue 6 at the protocol level, against a live node with
// raw requests at pinned versions: once a transaction ended with EndTxn v5
// (transactions v2, KIP-890 part 2: the epoch is bumped at every end) and
// the next one runs at the bumped epoch, a delayed EndTxn or
// AddPartitionsToTxn of the earlier epoch is PRODUCER_FENCED, and the
// running transaction is untouched.

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDelayedTxnRequestsOfAnEarlierEpochAreFenced(t *testing.T) {
	e := newEnv(t)
	e.create("t5", 1, nil)
	const id = "tx-5"
	// FindCoordinator creates __transaction_state; its shard loads.
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType, fc.CoordinatorKey = 1, id
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr(id), 60000
	ir := kmsg.NewPtrInitProducerIDResponse()
	for deadline := time.Now().Add(20 * time.Second); ; {
		fr := kmsg.NewPtrFindCoordinatorResponse()
		call(t, e, fc, 3, fr)
		if fr.ErrorCode == 0 {
			call(t, e, init, 5, ir)
			if ir.ErrorCode == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transaction coordinator: find %d, init %d", fr.ErrorCode, ir.ErrorCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid, epoch := ir.ProducerID, ir.ProducerEpoch
	add := func(version int16, ep int16) int16 {
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch = id, pid, ep
		req.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "t5", Partitions: []int32{0}}}
		resp := kmsg.NewPtrAddPartitionsToTxnResponse()
		call(t, e, req, version, resp)
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	end := func(ep int16, commit bool) *kmsg.EndTxnResponse {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, ep, commit
		resp := kmsg.NewPtrEndTxnResponse()
		call(t, e, req, 5, resp)
		return resp
	}
	if code := add(3, epoch); code != 0 {
		t.Fatalf("AddPartitionsToTxn v3 at epoch %d: %v", epoch, kerr.ErrorForCode(code))
	}
	r := end(epoch, true)
	if r.ErrorCode != 0 || r.ProducerID != pid || r.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn v5 commit: %v, producer %d epoch %d; want epoch %d", kerr.ErrorForCode(r.ErrorCode), r.ProducerID, r.ProducerEpoch, epoch+1)
	}
	// The next transaction runs at the bumped epoch, once the markers of
	// the first are written (until then CONCURRENT_TRANSACTIONS, retried).
	next := r.ProducerEpoch
	code := add(3, next)
	for deadline := time.Now().Add(10 * time.Second); code == kerr.ConcurrentTransactions.Code && time.Now().Before(deadline); code = add(3, next) {
		time.Sleep(20 * time.Millisecond)
	}
	if code != 0 {
		t.Fatalf("AddPartitionsToTxn at the bumped epoch %d: %v", next, kerr.ErrorForCode(code))
	}
	// Delayed requests of the earlier epoch.
	if r := end(epoch, true); r.ErrorCode != kerr.ProducerFenced.Code {
		t.Fatalf("delayed EndTxn v5 of epoch %d: %v, want PRODUCER_FENCED", epoch, kerr.ErrorForCode(r.ErrorCode))
	}
	if r := end(epoch, false); r.ErrorCode != kerr.ProducerFenced.Code {
		t.Fatalf("delayed abort EndTxn v5 of epoch %d: %v, want PRODUCER_FENCED", epoch, kerr.ErrorForCode(r.ErrorCode))
	}
	if code := add(3, epoch); code != kerr.ProducerFenced.Code {
		t.Fatalf("delayed AddPartitionsToTxn v3 of epoch %d: %v, want PRODUCER_FENCED", epoch, kerr.ErrorForCode(code))
	}
	if code := add(1, epoch); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("delayed AddPartitionsToTxn v1 of epoch %d: %v, want INVALID_PRODUCER_EPOCH (before KIP-588)", epoch, kerr.ErrorForCode(code))
	}
	// The running transaction is intact: DescribeTransactions shows it
	// Ongoing at the bumped epoch, and it commits.
	dr := kmsg.NewPtrDescribeTransactionsRequest()
	dr.TransactionalIDs = []string{id}
	d := kmsg.NewPtrDescribeTransactionsResponse()
	call(t, e, dr, 0, d)
	if s := d.TransactionStates[0]; s.ErrorCode != 0 || s.State != "Ongoing" || s.ProducerEpoch != next {
		t.Fatalf("DescribeTransactions: %+v", s)
	}
	if r := end(next, true); r.ErrorCode != 0 || r.ProducerEpoch != next+1 {
		t.Fatalf("EndTxn of the running transaction: %v epoch %d", kerr.ErrorForCode(r.ErrorCode), r.ProducerEpoch)
	}
	lr := kmsg.NewPtrListTransactionsRequest()
	l := kmsg.NewPtrListTransactionsResponse()
	call(t, e, lr, 2, l)
	if l.ErrorCode != 0 || len(l.TransactionStates) != 1 || l.TransactionStates[0].TransactionalID != id {
		t.Fatalf("ListTransactions: %+v", l)
	}
}
