package api

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type fakeIDs struct {
	next int64
	err  error
}

func (f *fakeIDs) Next() (int64, error) {
	if f.err != nil {
		return -1, f.err
	}
	f.next++
	return f.next - 1, nil
}

type fakeTxn struct{ got *kmsg.InitProducerIDRequest }

func (f *fakeTxn) InitProducerID(_ context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	f.got = req
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = 99, 3
	return resp
}

func initPID(h *Handler, txnID *string, pid int64, epoch int16) *kmsg.InitProducerIDResponse {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 5
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = txnID, pid, epoch
	r := handleInitProducerID(context.Background(), h, &Client{}, req)
	if r.wait != nil {
		return r.wait(context.Background()).(*kmsg.InitProducerIDResponse)
	}
	return r.resp.(*kmsg.InitProducerIDResponse)
}

func TestInitProducerID(t *testing.T) {
	ids := &fakeIDs{next: 1000}
	txn := &fakeTxn{}
	h := New(Deps{ProducerIDs: ids})
	// Idempotent: a fresh id at epoch 0, even when the producer says which
	// id and epoch it had (Kafka's coordinator ignores them without a
	// transactional id).
	for i, c := range []struct {
		pid   int64
		epoch int16
	}{{-1, -1}, {1000, 0}, {1000, 5}} {
		resp := initPID(h, nil, c.pid, c.epoch)
		if resp.ErrorCode != 0 || resp.ProducerID != 1000+int64(i) || resp.ProducerEpoch != 0 {
			t.Fatalf("request %d: %+v", i, resp)
		}
	}
	// Failing allocations: a Kafka code passes through; anything else is
	// the retriable COORDINATOR_LOAD_IN_PROGRESS.
	ids.err = kerr.RequestTimedOut
	if resp := initPID(h, nil, -1, -1); resp.ErrorCode != kerr.RequestTimedOut.Code || resp.ProducerID != -1 {
		t.Fatalf("timed out allocation: %+v", resp)
	}
	ids.err = errors.New("no block")
	if resp := initPID(h, nil, -1, -1); resp.ErrorCode != kerr.CoordinatorLoadInProgress.Code {
		t.Fatalf("failed allocation: %+v", resp)
	}
	// Transactional ids go to the coordinator, when there is one.
	tid, empty := "t", ""
	if resp := initPID(h, &tid, -1, -1); resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("no coordinator: %+v", resp)
	}
	h = New(Deps{ProducerIDs: ids, TxnCoordinator: txn})
	if resp := initPID(h, &tid, 7, 2); resp.ProducerID != 99 || txn.got == nil || txn.got.ProducerID != 7 {
		t.Fatalf("coordinator's answer %+v, request %+v", resp, txn.got)
	}
	if resp := initPID(h, &empty, -1, -1); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("empty transactional id: %+v", resp)
	}
	if resp := initPID(New(Deps{}), nil, -1, -1); resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("no producer ids: %+v", resp)
	}
}
