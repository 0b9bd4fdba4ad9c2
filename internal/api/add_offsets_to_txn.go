package api

// AddOffsetsToTxn (key 25, v0-4): adds the group's partition of
// __consumer_offsets to the transaction, so that the transaction's
// TxnOffsetCommit is decided by its marker (KIP-98). v2 answers
// PRODUCER_FENCED instead of INVALID_PRODUCER_EPOCH (KIP-588); v3 is
// flexible; v4 (KIP-890) only marks clients that understand
// TRANSACTION_ABORTABLE.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.AddOffsetsToTxn, 0, 4, handleAddOffsetsToTxn) }

func handleAddOffsetsToTxn(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.AddOffsetsToTxnRequest)
	if h.deps.Transactions == nil {
		resp := r.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
		resp.ErrorCode = noTxnCode
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Transactions.AddOffsetsToTxn(ctx, r)
	})
}
