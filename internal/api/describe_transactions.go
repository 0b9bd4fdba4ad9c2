package api

// DescribeTransactions (key 65, v0, KIP-664): the state of transactional
// ids this node coordinates; others answer NOT_COORDINATOR, an unknown id
// TRANSACTIONAL_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DescribeTransactions, 0, 0, handleDescribeTransactions) }

func handleDescribeTransactions(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DescribeTransactionsRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
		for _, id := range r.TransactionalIDs {
			if h.deps.Transactions == nil {
				d := kmsg.NewDescribeTransactionsResponseTransactionState()
				d.TransactionalID, d.ErrorCode = id, noTxnCode
				resp.TransactionStates = append(resp.TransactionStates, d)
				continue
			}
			resp.TransactionStates = append(resp.TransactionStates, h.deps.Transactions.DescribeTransaction(ctx, id))
		}
		return resp
	})
}
