package api

// OffsetForLeaderEpoch (key 23), versions 2-4: for a leader epoch, the
// largest epoch at most it and the offset where that epoch ended (KIP-101,
// KIP-279); consumers use it to detect truncation (KIP-320). Only the
// leader answers, for consumers and followers alike
// (NOT_LEADER_OR_FOLLOWER elsewhere, as Kafka's lastOffsetForLeaderEpoch
// with fetchOnlyFromLeader); followers mostly use Fetch's diverging epoch
// instead.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.OffsetForLeaderEpoch, 2, 4, handleOffsetForLeaderEpoch) }

func handleOffsetForLeaderEpoch(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.OffsetForLeaderEpochRequest)
	resp := r.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range r.Topics {
		t := kmsg.NewOffsetForLeaderEpochResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			out := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			out.Partition, out.LeaderEpoch, out.EndOffset = rp.Partition, -1, -1
			p, err := h.deps.Partition(rt.Topic, rp.Partition)
			if err == nil {
				err = p.CheckEpoch(rp.CurrentLeaderEpoch)
			}
			if err == nil {
				out.LeaderEpoch, out.EndOffset, err = p.EndOffsetForEpoch(rp.LeaderEpoch)
			}
			out.ErrorCode = errCode(err)
			t.Partitions = append(t.Partitions, out)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return now(resp)
}
