package api

// WriteTxnMarkers (key 27, v0-2): a transaction coordinator asks this node,
// as the partitions' leader, to write COMMIT/ABORT markers (KIP-98). Each
// partition answers on its own: NOT_LEADER_OR_FOLLOWER when this node does
// not lead it, TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older
// than the partition has seen, INVALID_PRODUCER_EPOCH for an epoch below
// the producer's or, with v2's transaction version 2 (KIP-890), not above
// it. As Kafka appends markers with acks=-1, a partition whose ISR is
// below min.insync.replicas answers NOT_ENOUGH_REPLICAS, and the others
// answer once every in-sync replica has the marker
// (NOT_ENOUGH_REPLICAS_AFTER_APPEND or REQUEST_TIMED_OUT when that takes
// longer than offsets.commit.timeout.ms); the coordinator sends failed
// ones again. Markers for __consumer_offsets partitions also decide the
// group coordinator's pending offsets. Kafka requires CLUSTER_ACTION.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.WriteTxnMarkers, 0, 2, handleWriteTxnMarkers) }

func handleWriteTxnMarkers(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.WriteTxnMarkersRequest)
	if h.deps.Transactions == nil {
		return now(ErrorResponse(r, noTxnErr))
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Transactions.WriteTxnMarkers(ctx, r)
	})
}
