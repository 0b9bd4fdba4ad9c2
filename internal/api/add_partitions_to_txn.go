package api

// AddPartitionsToTxn (key 24, v0-5). v0-3 come from clients (transactions
// v1): one transaction whose partitions must all exist; as Kafka's
// KafkaApis does, an unknown partition answers UNKNOWN_TOPIC_OR_PARTITION
// and every other partition OPERATION_NOT_ATTEMPTED, without asking the
// coordinator. v2 answers PRODUCER_FENCED instead of INVALID_PRODUCER_EPOCH
// (KIP-588); v3 is flexible. v4-5 (KIP-890 part 1 and 2) come from
// partition leaders, batched over transactions, to verify (VerifyOnly) or
// add their partition; Kafka requires CLUSTER_ACTION there.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.AddPartitionsToTxn, 0, 5, handleAddPartitionsToTxn) }

func handleAddPartitionsToTxn(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.AddPartitionsToTxnRequest)
	if h.deps.Transactions == nil {
		return now(addPartitionsError(r, noTxnCode))
	}
	if r.Version < 4 {
		if resp := h.unknownTxnPartitions(r); resp != nil {
			return now(resp)
		}
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Transactions.AddPartitionsToTxn(ctx, r)
	})
}

// unknownTxnPartitions answers a v0-3 request naming a partition that does
// not exist, or returns nil.
func (h *Handler) unknownTxnPartitions(r *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	im := h.image()
	bad := false
	for _, t := range r.Topics {
		mt := im.Topic(t.Topic)
		for _, p := range t.Partitions {
			if mt == nil || p < 0 || int(p) >= len(mt.Partitions) {
				bad = true
			}
		}
	}
	if !bad {
		return nil
	}
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	for _, t := range r.Topics {
		mt := im.Topic(t.Topic)
		rt := kmsg.NewAddPartitionsToTxnResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			code := kerr.OperationNotAttempted.Code
			if mt == nil || p < 0 || int(p) >= len(mt.Partitions) {
				code = kerr.UnknownTopicOrPartition.Code
			}
			rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// addPartitionsError answers every partition of r with code.
func addPartitionsError(r *kmsg.AddPartitionsToTxnRequest, code int16) *kmsg.AddPartitionsToTxnResponse {
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if r.Version >= 4 {
		resp.ErrorCode = code
	}
	return resp
}
