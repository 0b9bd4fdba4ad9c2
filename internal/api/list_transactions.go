package api

// ListTransactions (key 66, v0-2, KIP-664): the transactions this node
// coordinates, filtered by state and producer id; v1 by how long they have
// run (KIP-994), v2 by a regular expression on the id (KIP-1152; an
// invalid one is INVALID_REGULAR_EXPRESSION). Unknown state names come
// back in UnknownStateFilters.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.ListTransactions, 0, 2, handleListTransactions) }

func handleListTransactions(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ListTransactionsRequest)
	if h.deps.Transactions == nil {
		resp := r.ResponseKind().(*kmsg.ListTransactionsResponse)
		resp.ErrorCode = noTxnCode
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Transactions.ListTransactions(ctx, r)
	})
}
