package api

// InitProducerId (key 22, v0-5). Without a transactional id (an idempotent
// producer, KIP-98; on by default in clients since KIP-679) any broker
// answers with a fresh producer id at epoch 0 from its block of ids
// (allocated through the metadata quorum, so ids never repeat). Kafka's
// TransactionCoordinator "blindly accepts" such a request even when it
// carries the producer's current id and epoch (v3+, KIP-360): those
// fields matter only with a transactional id, and an idempotent producer
// bumps its own epoch (KIP-360) without asking. With a transactional id the
// request goes to the transaction coordinator (TxnCoordinator), an empty
// one is INVALID_REQUEST as in Kafka; without a coordinator the answer is
// COORDINATOR_NOT_AVAILABLE. v4 (KIP-588) only lets the coordinator answer
// PRODUCER_FENCED; v5 (KIP-890) only marks clients that support epoch
// bumps per transaction; v6 (KIP-939) is not taken.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.InitProducerID, 0, 5, handleInitProducerID) }

// ProducerIDs hands out producer ids that never repeat. An error wrapping a
// kerr value is answered with its code, any other with
// COORDINATOR_LOAD_IN_PROGRESS (retriable), as Kafka answers while it waits
// for a block of ids.
type ProducerIDs interface {
	Next() (int64, error)
}

// TxnCoordinator is the transaction coordinator, for the requests that
// carry a transactional id.
type TxnCoordinator interface {
	InitProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse
}

func handleInitProducerID(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.InitProducerIDRequest)
	if r.TransactionalID != nil {
		return h.initTransactional(r)
	}
	return waitFor(func(context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ProducerID, resp.ProducerEpoch = -1, -1
		if h.deps.ProducerIDs == nil {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp
		}
		id, err := h.deps.ProducerIDs.Next()
		if err != nil {
			if !errors.As(err, new(*kerr.Error)) {
				err = errors.Join(kerr.CoordinatorLoadInProgress, err)
			}
			resp.ErrorCode = errCode(err)
			return resp
		}
		resp.ProducerID, resp.ProducerEpoch = id, 0
		return resp
	})
}

// initTransactional passes a request with a transactional id to the
// transaction coordinator.
func (h *Handler) initTransactional(r *kmsg.InitProducerIDRequest) reply {
	fail := func(code int16) reply {
		resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ProducerID, resp.ProducerEpoch, resp.ErrorCode = -1, -1, code
		return now(resp)
	}
	switch {
	case *r.TransactionalID == "":
		return fail(kerr.InvalidRequest.Code)
	case h.deps.TxnCoordinator == nil:
		return fail(kerr.CoordinatorNotAvailable.Code)
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.TxnCoordinator.InitProducerID(ctx, r)
	})
}
