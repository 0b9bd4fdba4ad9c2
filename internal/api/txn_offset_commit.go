package api

// TxnOffsetCommit (key 28, v0-5): a transactional producer commits a
// consumer group's offsets inside its transaction (KIP-98); the group
// coordinator keeps them pending until the transaction's marker reaches
// the group's partition of __consumer_offsets. v2 adds leader epochs, v3
// the group's generation and member (KIP-447, so a zombie of an old
// generation is fenced), v4 (KIP-890 part 1) TRANSACTION_ABORTABLE. Before
// the offsets are written, the group's __consumer_offsets partition is
// checked with the transaction coordinator as Kafka 4.x's group
// coordinator does (CoordinatorPartitionWriter.maybeStartTransactionVerification):
// v5 under transactions v2 (KIP-890 part 2) adds it, the client having
// sent no AddOffsetsToTxn; older versions verify that AddOffsetsToTxn
// added it. The leader's errors are normalized as Kafka's group
// coordinator does: NOT_ENOUGH_REPLICAS (a transaction still completing,
// the coordinator unavailable) is COORDINATOR_NOT_AVAILABLE.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// offsetsTopic is the internal topic of committed offsets.
const offsetsTopic = "__consumer_offsets"

func init() { register(kmsg.TxnOffsetCommit, 0, 5, handleTxnOffsetCommit) }

func handleTxnOffsetCommit(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.TxnOffsetCommitRequest)
	g, ok := h.deps.Groups.(TxnOffsets)
	if !ok {
		return now(txnOffsetCommitError(r, noTxnCode))
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		if code := h.verifyTxnOffsets(ctx, r); code != 0 {
			return txnOffsetCommitError(r, code)
		}
		return g.TxnOffsetCommit(ctx, r)
	})
}

// verifyTxnOffsets adds (v5, transactions v2) or verifies the group's
// __consumer_offsets partition in the producer's transaction.
func (h *Handler) verifyTxnOffsets(ctx context.Context, r *kmsg.TxnOffsetCommitRequest) int16 {
	if h.deps.Transactions == nil || r.TransactionalID == "" {
		return 0
	}
	p := h.deps.Transactions.OffsetsPartition(r.Group)
	if part, err := h.deps.Partition(offsetsTopic, p); err == nil {
		if o, ok := part.(ongoingTxns); ok && o.OngoingTxn(r.ProducerID, r.ProducerEpoch) {
			return 0
		}
	}
	add := r.Version >= 5 && h.deps.TransactionVersion >= 2
	code := h.addToTxn(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, offsetsTopic, p, !add)
	switch {
	case code == kerr.TransactionAbortable.Code && r.Version < 4:
		code = kerr.InvalidTxnState.Code
	case code == kerr.NotEnoughReplicas.Code:
		code = kerr.CoordinatorNotAvailable.Code
	}
	return code
}

// txnOffsetCommitError answers every partition of r with code.
func txnOffsetCommitError(r *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitResponseTopicPartition{Partition: p.Partition, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
