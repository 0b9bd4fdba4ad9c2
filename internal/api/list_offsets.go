package api

// ListOffsets (key 2), versions 1-11: earliest (-2), latest (-1), by
// timestamp, max timestamp (-3, KIP-734), earliest local (-4, KIP-405),
// latest tiered (-5, KIP-1005), earliest pending upload (-6, KIP-1023).
// With isolation level READ_COMMITTED (1, KIP-98) lookups stop at the last
// stable offset, and latest is that offset. Leader epochs are checked
// (KIP-320).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.ListOffsets, 1, 11, handleListOffsets) }

func handleListOffsets(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ListOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	type tp struct {
		topic     string
		partition int32
	}
	count := map[tp]int{}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			count[tp{rt.Topic, rp.Partition}]++
		}
	}
	for _, rt := range r.Topics {
		t := kmsg.NewListOffsetsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			if count[tp{rt.Topic, rp.Partition}] > 1 {
				// Kafka answers a partition asked twice with INVALID_REQUEST.
				out := kmsg.NewListOffsetsResponseTopicPartition()
				out.Partition, out.ErrorCode = rp.Partition, kerr.InvalidRequest.Code
				out.Offset, out.Timestamp, out.LeaderEpoch = -1, -1, -1
				t.Partitions = append(t.Partitions, out)
				continue
			}
			t.Partitions = append(t.Partitions, h.listOffset(rt.Topic, rp, r.IsolationLevel == 1))
		}
		resp.Topics = append(resp.Topics, t)
	}
	return now(resp)
}

func (h *Handler) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition, committed bool) kmsg.ListOffsetsResponseTopicPartition {
	out := kmsg.NewListOffsetsResponseTopicPartition()
	out.Partition = rp.Partition
	p, err := h.deps.Partition(topic, rp.Partition)
	if err == nil {
		err = p.CheckEpoch(rp.CurrentLeaderEpoch)
	}
	if err == nil {
		out.Offset, out.Timestamp, out.LeaderEpoch, err = p.ListOffset(rp.Timestamp, committed)
	}
	if err != nil {
		out.ErrorCode = errCode(err)
		out.Offset, out.Timestamp, out.LeaderEpoch = -1, -1, -1
	}
	return out
}
