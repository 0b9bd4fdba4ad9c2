package api

// OffsetCommit (key 8), v2-10, as Kafka 4 (v0-1 are gone, KIP-896).
// Group members commit with their generation; a simple consumer commits
// with generation -1. v7 adds group.instance.id (KIP-345), v9 answers an
// unknown group with GROUP_ID_NOT_FOUND and lets KIP-848 consumer group
// members commit with their member epoch as the generation
// (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID), and v10 names topics by id
// (KIP-516). As in Kafka, a topic that does not exist is
// UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID by id) for its partitions.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.OffsetCommit, 2, 10, handleOffsetCommit) }

func handleOffsetCommit(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.OffsetCommitRequest)
	if r.Version < 7 {
		r.InstanceID = nil
	}
	var unknown []kmsg.OffsetCommitResponseTopic
	im := h.image()
	known := r.Topics[:0]
	for _, t := range r.Topics {
		mt, code := im.Topic(t.Topic), kerr.UnknownTopicOrPartition.Code
		if r.Version >= 10 {
			mt, code = im.TopicByID(t.TopicID), kerr.UnknownTopicID.Code
		}
		if mt != nil {
			t.Topic = mt.Name
			known = append(known, t)
			continue
		}
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		unknown = append(unknown, rt)
	}
	r.Topics = known
	if len(known) == 0 { // as in Kafka, nothing reaches the coordinator
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		resp.Topics = unknown
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response {
		var resp *kmsg.OffsetCommitResponse
		if h.deps.Groups == nil {
			resp = r.ResponseKind().(*kmsg.OffsetCommitResponse)
			for _, t := range r.Topics {
				rt := kmsg.NewOffsetCommitResponseTopic()
				rt.Topic, rt.TopicID = t.Topic, t.TopicID
				for _, p := range t.Partitions {
					rp := kmsg.NewOffsetCommitResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p.Partition, kerr.CoordinatorNotAvailable.Code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
		} else {
			resp = h.deps.Groups.OffsetCommit(ctx, r).(*kmsg.OffsetCommitResponse)
		}
		resp.Topics = append(resp.Topics, unknown...)
		return resp
	})
}
