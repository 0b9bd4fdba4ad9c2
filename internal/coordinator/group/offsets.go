package group

import (
	"cmp"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Offsets live here, beside the group they belong to: commits are validated
// against the group's generation and members, DeleteGroups and expiry need
// both, and replay rebuilds both from the same partition.

type topicPartition struct {
	topic     string
	partition int32
}

// offset is one committed offset (Kafka's OffsetAndMetadata).
type offset struct {
	offset      int64
	leaderEpoch int32 // -1 if none
	metadata    string
	commitMs    int64
	expireMs    int64 // -1 unless committed with a retention time (v2-v4)
}

// validateOffsetCommit is Kafka's ClassicGroup.validateOffsetCommit.
// Simple consumers (generation < 0, no member) may commit to an empty group;
// members must name their generation; a group that has handed out a
// generation but not its assignment answers REBALANCE_IN_PROGRESS.
func (g *Group) validateOffsetCommit(memberID string, instance *string, generation int32) int16 {
	if g.state == Dead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if generation < 0 && g.state == Empty {
		return 0
	}
	if generation >= 0 || memberID != "" || instance != nil {
		if code := g.validateMember(memberID, instance); code != 0 {
			return code
		}
		if generation != g.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if g.state != Empty {
		return kerr.UnknownMemberID.Code
	}
	if g.state == CompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// commit records the offsets of a validated OffsetCommit and fills resp.
func (g *Group) commit(o *op, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, maxMeta int) {
	// In the classic protocol a commit also keeps the session alive.
	if m := g.members[req.MemberID]; m != nil && (g.state == Stable || g.state == PreparingRebalance) {
		g.reschedule(o, m, ms(m.sessionMs))
	}
	expire := int64(-1)
	if req.RetentionTimeMillis >= 0 && req.Version >= 2 && req.Version <= 4 {
		expire = o.now.UnixMilli() + req.RetentionTimeMillis
	}
	for i, t := range req.Topics {
		for j, p := range t.Partitions {
			meta := ""
			if p.Metadata != nil {
				meta = *p.Metadata
			}
			if len(meta) > maxMeta {
				resp.Topics[i].Partitions[j].ErrorCode = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			epoch := p.LeaderEpoch
			if req.Version < 6 {
				epoch = -1
			}
			tp := topicPartition{topic: t.Topic, partition: p.Partition}
			off := offset{offset: p.Offset, leaderEpoch: epoch, metadata: meta, commitMs: o.now.UnixMilli(), expireMs: expire}
			g.offsets[tp] = off
			o.record(offsetRecord(g.id, tp, off))
		}
	}
}

// commitResponse is an OffsetCommit response with code for every partition.
func commitResponse(req *kmsg.OffsetCommitRequest, code int16) *kmsg.OffsetCommitResponse {
	resp := kmsg.NewPtrOffsetCommitResponse()
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// fetch returns the committed offsets of the given topics, or of every
// topic when topics is nil.
func (g *Group) fetch(topics []kmsg.OffsetFetchRequestGroupTopic) []kmsg.OffsetFetchResponseGroupTopic {
	if topics == nil {
		topics = g.committedTopics()
	}
	out := make([]kmsg.OffsetFetchResponseGroupTopic, 0, len(topics))
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseGroupTopic()
		rt.Topic, rt.TopicID = t.Topic, t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = p, -1, -1
			meta := ""
			if g != nil {
				if off, ok := g.offsets[topicPartition{t.Topic, p}]; ok {
					rp.Offset, rp.LeaderEpoch, meta = off.offset, off.leaderEpoch, off.metadata
				}
			}
			rp.Metadata = &meta
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out
}

func (g *Group) committedTopics() []kmsg.OffsetFetchRequestGroupTopic {
	var out []kmsg.OffsetFetchRequestGroupTopic
	if g == nil {
		return out
	}
	for _, tp := range g.sortedOffsets() {
		if n := len(out); n == 0 || out[n-1].Topic != tp.topic {
			t := kmsg.NewOffsetFetchRequestGroupTopic()
			t.Topic = tp.topic
			out = append(out, t)
		}
		out[len(out)-1].Partitions = append(out[len(out)-1].Partitions, tp.partition)
	}
	return out
}

func (g *Group) sortedOffsets() []topicPartition {
	tps := make([]topicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b topicPartition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return tps
}

// deleteOffsets handles OffsetDelete (KIP-496) for a group that exists.
func (g *Group) deleteOffsets(o *op, req *kmsg.OffsetDeleteRequest, resp *kmsg.OffsetDeleteResponse) {
	if g.state != Empty && g.protocolType != consumerProtocol {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		subscribed := g.isSubscribedTo(t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			tp := topicPartition{t.Topic, p.Partition}
			if _, ok := g.offsets[tp]; subscribed {
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if ok {
				delete(g.offsets, tp)
				o.record(offsetTombstone(g.id, tp))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
}

// deleteAllOffsets tombstones every offset of the group.
func (g *Group) deleteAllOffsets(o *op) {
	for _, tp := range g.sortedOffsets() {
		o.record(offsetTombstone(g.id, tp))
	}
	clear(g.offsets)
}

// expireOffsets tombstones the offsets past retention (KIP-211) and reports
// whether none is left.
func (g *Group) expireOffsets(o *op, retentionMs int64) bool {
	base, ok := g.expiryBase()
	if !ok {
		return len(g.offsets) == 0
	}
	now := o.now.UnixMilli()
	all := true
	for _, tp := range g.sortedOffsets() {
		off := g.offsets[tp]
		expired := now-base(off) >= retentionMs
		if off.expireMs >= 0 { // committed with an explicit retention (v2-v4)
			expired = now >= off.expireMs
		}
		if g.isSubscribedTo(tp.topic) || !expired {
			all = false
			continue
		}
		delete(g.offsets, tp)
		o.record(offsetTombstone(g.id, tp))
	}
	return all
}

// expiryBase returns what an offset's age counts from: for an empty group
// the time it became empty, for a stable consumer group and a simple
// consumer's group the commit; other groups keep their offsets.
func (g *Group) expiryBase() (func(offset) int64, bool) {
	byCommit := func(off offset) int64 { return off.commitMs }
	switch {
	case g.consumer != nil: // Kafka's modern groups count from the commit
		return byCommit, true
	case g.protocolType == "":
		return byCommit, true
	case g.state == Empty:
		if g.stateTime.IsZero() {
			return byCommit, true
		}
		at := g.stateTime.UnixMilli()
		return func(offset) int64 { return at }, true
	case g.state == Stable && g.protocolType == consumerProtocol:
		_, known := g.subscribedTopics()
		return byCommit, known
	}
	return nil, false
}

const consumerProtocol = "consumer"

// isSubscribedTo reports whether the group consumes topic; when that cannot
// be known, a consumer group is taken to consume everything.
func (g *Group) isSubscribedTo(topic string) bool {
	if g.consumer != nil {
		return g.consumer.subscribedTopic(topic)
	}
	topics, known := g.subscribedTopics()
	if !known {
		return g.protocolType == consumerProtocol
	}
	return topics[topic]
}

// subscribedTopics decodes the members' consumer-protocol subscriptions.
func (g *Group) subscribedTopics() (map[string]bool, bool) {
	if g.protocolType != consumerProtocol {
		return nil, false
	}
	topics := map[string]bool{}
	if len(g.members) == 0 {
		return topics, true
	}
	if g.protocol == "" {
		return nil, false
	}
	for _, m := range g.members {
		ts, err := subscriptionTopics(m.metadata(g.protocol))
		if err != nil {
			return nil, false
		}
		for _, t := range ts {
			topics[t] = true
		}
	}
	return topics, true
}

var errSubscription = errors.New("group: malformed consumer subscription")

// subscriptionTopics reads the topics of a ConsumerProtocolSubscription by
// its version-0 prefix (int16 version, array of strings), which every
// version shares, as Kafka does.
func subscriptionTopics(b []byte) ([]string, error) {
	if len(b) < 6 {
		return nil, errSubscription
	}
	n := int32(binary.BigEndian.Uint32(b[2:]))
	b = b[6:]
	if n < 0 || int(n) > len(b)/2 {
		return nil, errSubscription
	}
	topics := make([]string, 0, n)
	for range n {
		if len(b) < 2 {
			return nil, errSubscription
		}
		l := int(int16(binary.BigEndian.Uint16(b)))
		if l < 0 || len(b) < 2+l {
			return nil, errSubscription
		}
		topics = append(topics, string(b[2:2+l]))
		b = b[2+l:]
	}
	return topics, nil
}
