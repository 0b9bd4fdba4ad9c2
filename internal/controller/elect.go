package controller

// ElectLeaders (43, v0-2; KIP-183 preferred, KIP-460 unclean as election
// type 1 from v1) and the automatic preferred-leader rebalance
// (auto.leader.rebalance.enable), after Kafka's
// ReplicationControlManager.electLeaders and maybeBalancePartitionLeaders.
//
// Per partition: ELECTION_NOT_NEEDED when the preferred replica already
// leads (preferred) or there is a leader (unclean);
// PREFERRED_LEADER_NOT_AVAILABLE / ELIGIBLE_LEADERS_NOT_AVAILABLE when the
// election changes nothing. A null topic list elects every partition and
// leaves out those that needed no election. An unclean election picks from
// the ISR first, then any active replica, which becomes the whole ISR.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// Election types of ElectLeaders.
const (
	ElectionPreferred int8 = 0
	ElectionUnclean   int8 = 1
)

// KafkaElectLeaders answers an ElectLeaders request.
func (c *Controller) KafkaElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) *kmsg.ElectLeadersResponse {
	ctx, cancel := opContext(ctx, req.TimeoutMillis)
	defer cancel()
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	kind := req.ElectionType
	if req.Version == 0 {
		kind = ElectionPreferred
	}
	if kind != ElectionPreferred && kind != ElectionUnclean {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := newBatch(c.store.Image())
	all := req.Topics == nil
	targets := req.Topics
	if all {
		targets = allPartitions(b.im)
	}
	for _, rt := range targets {
		t := kmsg.NewElectLeadersResponseTopic()
		t.Topic = rt.Topic
		for _, p := range rt.Partitions {
			err := c.electOne(b, rt.Topic, p, kind)
			if all && Code(err) == kerr.ElectionNotNeeded.Code {
				continue
			}
			rp := kmsg.NewElectLeadersResponseTopicPartition()
			rp.Partition = p
			rp.ErrorCode, rp.ErrorMessage = errFields(err)
			t.Partitions = append(t.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if err := c.propose(ctx, b.recs); err != nil {
		failElections(resp, err)
	}
	return resp
}

func allPartitions(im *metadata.Image) []kmsg.ElectLeadersRequestTopic {
	var out []kmsg.ElectLeadersRequestTopic
	for _, name := range im.TopicNames() {
		t := kmsg.NewElectLeadersRequestTopic()
		t.Topic, t.Partitions = name, partitionIDs(im.Topic(name))
		out = append(out, t)
	}
	return out
}

// failElections reports a failed proposal on every election that
// would have happened.
func failElections(resp *kmsg.ElectLeadersResponse, err error) {
	code, msg := errFields(err)
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == 0 {
				p.ErrorCode, p.ErrorMessage = code, msg
			}
		}
	}
}

// electOne plans one partition's election into b.
func (c *Controller) electOne(b *batch, topic string, partition int32, kind int8) error {
	t := b.im.Topic(topic)
	if t == nil || partition < 0 || int(partition) >= len(t.Partitions) {
		return errorf(kerr.UnknownTopicOrPartition, "no partition %s-%d", topic, partition)
	}
	p := t.Partitions[partition]
	if kind == ElectionPreferred && p.Leader == p.Replicas[0] || kind == ElectionUnclean && p.Leader != metadata.NoLeader {
		return errorf(kerr.ElectionNotNeeded, "partition %s-%d has leader %d", topic, partition, p.Leader)
	}
	ch := c.partitionChange(b.im, t, int(partition), activeIn(b.im))
	ch.election = electPreferred
	if kind == ElectionUnclean {
		ch.election = electUnclean
	}
	next, ok := ch.build()
	switch {
	case !ok && kind == ElectionPreferred:
		return errorf(kerr.PreferredLeaderNotAvailable, "preferred replica %d of %s-%d is not an active ISR member", p.Replicas[0], topic, partition)
	case !ok:
		return errorf(kerr.EligibleLeadersNotAvailable, "no active replica of %s-%d", topic, partition)
	}
	return b.add(partitionRecord(t, int(partition), next))
}

// balanceLeaders elects the preferred replica of every partition it does
// not lead where it is an active ISR member.
func (c *Controller) balanceLeaders(b *batch) error {
	im := b.im
	active := activeIn(im)
	var recs []metadata.Record
	for _, name := range im.TopicNames() {
		t := im.Topic(name)
		for i, p := range t.Partitions {
			pref := p.Replicas[0]
			if p.Leader == pref || !active(pref) || !slices.Contains(p.ISR, pref) {
				continue
			}
			ch := c.partitionChange(im, t, i, active)
			ch.election = electPreferred
			if next, ok := ch.build(); ok {
				recs = append(recs, partitionRecord(t, i, next))
			}
		}
	}
	return b.add(recs...)
}

// BalanceLeaders elects preferred leaders now, as Tick does every
// LeaderImbalanceCheckInterval; it returns how many partitions changed.
func (c *Controller) BalanceLeaders(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := newBatch(c.store.Image())
	if err := c.balanceLeaders(b); err != nil {
		return 0, err
	}
	return len(b.recs), c.propose(ctx, b.recs)
}

// partitionIDs lists a topic's partition ids, 0 to its count.
func partitionIDs(t *metadata.Topic) []int32 {
	ids := make([]int32, len(t.Partitions))
	for i := range ids {
		ids[i] = int32(i)
	}
	return ids
}
