package api

// OffsetFetch (key 9), v1-10, as Kafka 4 (v0 is gone, KIP-896). Before v8
// one group per request (null topics, from v2, means every committed
// partition); from v8 several groups (KIP-709), each answered by its own
// shard; v9 adds the member id and epoch of a KIP-848 consumer group
// member (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID); v10 names topics by id
// (KIP-516). RequireStable (v7, KIP-447) answers UNSTABLE_OFFSET_COMMIT
// for a partition whose transactional offset commit is still undecided;
// the client retries.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.OffsetFetch, 1, 10, handleOffsetFetch) }

func handleOffsetFetch(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.OffsetFetchRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
		if r.Version < 8 {
			fetchOneGroup(ctx, h, r, resp)
			return resp
		}
		for _, g := range r.Groups {
			member, epoch := g.MemberID, g.MemberEpoch
			if r.Version < 9 {
				member, epoch = nil, -1
			}
			resp.Groups = append(resp.Groups, h.fetchGroup(ctx, r.Version, r.RequireStable, g.Group, g.Topics, member, epoch))
		}
		return resp
	})
}

// fetchOneGroup answers the single-group form (v1-7).
func fetchOneGroup(ctx context.Context, h *Handler, r *kmsg.OffsetFetchRequest, resp *kmsg.OffsetFetchResponse) {
	var topics []kmsg.OffsetFetchRequestGroupTopic
	if r.Topics != nil {
		topics = make([]kmsg.OffsetFetchRequestGroupTopic, 0, len(r.Topics))
		for _, t := range r.Topics {
			gt := kmsg.NewOffsetFetchRequestGroupTopic()
			gt.Topic, gt.Partitions = t.Topic, t.Partitions
			topics = append(topics, gt)
		}
	}
	g := h.fetchGroup(ctx, r.Version, r.RequireStable, r.Group, topics, nil, -1)
	resp.ErrorCode = g.ErrorCode
	for _, t := range g.Topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if r.Version < 2 && g.ErrorCode != 0 { // no group error field: on every partition
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = g.ErrorCode
			}
		}
	}
}

// fetchGroup answers one group, resolving topic ids from v10.
func (h *Handler) fetchGroup(ctx context.Context, version int16, stable bool, group string, topics []kmsg.OffsetFetchRequestGroupTopic, member *string, epoch int32) kmsg.OffsetFetchResponseGroup {
	if h.deps.Groups == nil {
		g := kmsg.NewOffsetFetchResponseGroup()
		g.Group, g.ErrorCode = group, kerr.CoordinatorNotAvailable.Code
		return g
	}
	fetch := h.deps.Groups.OffsetFetch
	if to, ok := h.deps.Groups.(TxnOffsets); ok && stable {
		fetch = to.OffsetFetchStable
	}
	if version < 10 {
		return fetch(ctx, group, topics, member, epoch)
	}
	im := h.image()
	var unknown []kmsg.OffsetFetchResponseGroupTopic
	var named []kmsg.OffsetFetchRequestGroupTopic
	if topics != nil {
		named = make([]kmsg.OffsetFetchRequestGroupTopic, 0, len(topics))
		for _, t := range topics {
			if mt := im.TopicByID(t.TopicID); mt != nil {
				t.Topic = mt.Name
				named = append(named, t)
				continue
			}
			rt := kmsg.NewOffsetFetchResponseGroupTopic()
			rt.TopicID = t.TopicID
			for _, p := range t.Partitions {
				rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch, rp.ErrorCode = p, -1, -1, kerr.UnknownTopicID.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			unknown = append(unknown, rt)
		}
	}
	g := fetch(ctx, group, named, member, epoch)
	out := g.Topics[:0]
	for _, t := range g.Topics {
		mt := im.Topic(t.Topic)
		if mt == nil {
			continue // a deleted topic has no id to name it by
		}
		t.TopicID = mt.ID
		out = append(out, t)
	}
	g.Topics = append(out, unknown...)
	return g
}
