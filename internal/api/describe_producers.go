package api

// DescribeProducers (key 61, v0; KIP-664): the idempotent and
// transactional producers a partition leader knows, with their epoch, last
// sequence and timestamp, coordinator epoch and open transaction's first
// offset. Each partition answers on its own: UNKNOWN_TOPIC_OR_PARTITION,
// NOT_LEADER_OR_FOLLOWER, or the list.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DescribeProducers, 0, 0, handleDescribeProducers) }

// ActiveProducer is one producer's state in a partition.
type ActiveProducer struct {
	ProducerID            int64
	Epoch                 int16
	LastSequence          int32
	LastTimestamp         int64
	CoordinatorEpoch      int32
	CurrentTxnStartOffset int64
}

func handleDescribeProducers(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DescribeProducersRequest)
	resp := r.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range r.Topics {
		t := kmsg.NewDescribeProducersResponseTopic()
		t.Topic = rt.Topic
		for _, p := range rt.Partitions {
			t.Partitions = append(t.Partitions, h.describeProducers(rt.Topic, p))
		}
		resp.Topics = append(resp.Topics, t)
	}
	return now(resp)
}

func (h *Handler) describeProducers(topic string, partition int32) kmsg.DescribeProducersResponseTopicPartition {
	out := kmsg.NewDescribeProducersResponseTopicPartition()
	out.Partition = partition
	if h.deps.Producers == nil {
		out.ErrorCode = kerr.UnknownServerError.Code
		return out
	}
	producers, err := h.deps.Producers(topic, partition)
	if err != nil {
		out.ErrorCode, out.ErrorMessage = errCode(err), errMessage(err)
		return out
	}
	for _, p := range producers {
		ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
		ap.ProducerID, ap.ProducerEpoch, ap.LastSequence = p.ProducerID, int32(p.Epoch), p.LastSequence
		ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = p.LastTimestamp, p.CoordinatorEpoch, p.CurrentTxnStartOffset
		out.ActiveProducers = append(out.ActiveProducers, ap)
	}
	return out
}
