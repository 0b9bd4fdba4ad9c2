package api

// EndTxn (key 26, v0-5): commits or aborts a transaction (KIP-98). The
// response comes once the coordinator's PrepareCommit/PrepareAbort record
// is durable; the markers follow. v2 answers PRODUCER_FENCED (KIP-588);
// v5 (KIP-890 part 2, transactions v2) bumps the producer epoch at every
// end and returns the producer id and epoch for the next transaction, and
// a delayed EndTxn of an earlier epoch is PRODUCER_FENCED.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.EndTxn, 0, 5, handleEndTxn) }

func handleEndTxn(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.EndTxnRequest)
	if h.deps.Transactions == nil {
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = noTxnCode, -1, -1
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Transactions.EndTxn(ctx, r)
	})
}
