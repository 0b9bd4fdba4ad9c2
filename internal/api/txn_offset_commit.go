package api

// TxnOffsetCommit (key 28, v0-4): a transactional producer commits a
// consumer group's offsets inside its transaction (KIP-98); the group
// coordinator keeps them pending until the transaction's marker reaches
// the group's partition of __consumer_offsets. v2 adds leader epochs, v3
// the group's generation and member (KIP-447, so a zombie of an old
// generation is fenced), v4 (KIP-890 part 1) TRANSACTION_ABORTABLE. v5
// (KIP-890 part 2: the broker adds the offsets partition itself) is not
// advertised: clients then send AddOffsetsToTxn.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.TxnOffsetCommit, 0, 4, handleTxnOffsetCommit) }

func handleTxnOffsetCommit(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.TxnOffsetCommitRequest)
	g, ok := h.deps.Groups.(TxnOffsets)
	if !ok {
		resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		for _, t := range r.Topics {
			rt := kmsg.NewTxnOffsetCommitResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitResponseTopicPartition{Partition: p.Partition, ErrorCode: noTxnCode})
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return g.TxnOffsetCommit(ctx, r)
	})
}
