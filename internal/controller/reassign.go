package controller

// Partition reassignments (KIP-455): AlterPartitionReassignments (45, v0-1;
// v1 adds AllowReplicationFactorChange, KIP-860) and
// ListPartitionReassignments (46, v0), after Kafka's
// ReplicationControlManager.alterPartitionReassignment,
// PartitionReassignmentReplicas and PartitionReassignmentRevert.
//
// A reassignment to target T of a partition with replicas R records
// replicas T followed by R-T, adding T-R and removing R-T. The new replicas
// join the ISR through the leader's AlterPartition; once every replica of
// T is in the ISR, the change that saw it completes the reassignment:
// replicas become T, the removed ones leave the ISR, and a removed leader
// is replaced (leader epoch bumped). A reassignment that needs no new
// replica completes at once. A null replica list cancels: the added
// replicas leave replicas and ISR; when that would empty the ISR it is an
// unclean election, refused (INVALID_REPLICA_ASSIGNMENT) unless the topic
// allows unclean elections. Cancelling nothing is
// NO_REASSIGNMENT_IN_PROGRESS.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// KafkaAlterPartitionReassignments answers an AlterPartitionReassignments
// request.
func (c *Controller) KafkaAlterPartitionReassignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) *kmsg.AlterPartitionAssignmentsResponse {
	ctx, cancel := opContext(ctx, req.TimeoutMillis)
	defer cancel()
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	resp.AllowReplicationFactorChange = req.AllowReplicationFactorChange
	allowRF := req.Version < 1 || req.AllowReplicationFactorChange
	c.mu.Lock()
	defer c.mu.Unlock()
	b := newBatch(c.store.Image())
	for _, rt := range req.Topics {
		t := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			p.Partition = rp.Partition
			p.ErrorCode, p.ErrorMessage = errFields(c.reassign(b, rt.Topic, rp.Partition, rp.Replicas, allowRF))
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if err := c.propose(ctx, b.recs); err != nil {
		resp.ErrorCode, resp.ErrorMessage = errFields(err)
	}
	return resp
}

// reassign plans one partition's reassignment (target nil: cancel).
func (c *Controller) reassign(b *batch, topic string, partition int32, target []int32, allowRF bool) error {
	t := b.im.Topic(topic)
	if t == nil || partition < 0 || int(partition) >= len(t.Partitions) {
		return errorf(kerr.UnknownTopicOrPartition, "no partition %s-%d", topic, partition)
	}
	var ch *change
	var err error
	if target == nil {
		ch, err = c.cancelReassignment(b.im, t, int(partition))
	} else {
		ch, err = c.startReassignment(b.im, t, int(partition), target, allowRF)
	}
	if err != nil {
		return err
	}
	if next, ok := ch.build(); ok {
		return b.add(partitionRecord(t, int(partition), next))
	}
	return nil
}

func (c *Controller) startReassignment(im *metadata.Image, t *metadata.Topic, i int, target []int32, allowRF bool) (*change, error) {
	p := t.Partitions[i]
	if err := checkAssignment(im, target); err != nil {
		return nil, err
	}
	if original := without(p.Replicas, p.AddingReplicas...); !allowRF && len(target) != len(original) {
		return nil, errorf(kerr.InvalidReplicationFactor, "the reassignment changes the replication factor from %d to %d", len(original), len(target))
	}
	ch := c.partitionChange(im, t, i, activeIn(im))
	ch.removing = sortedSet(without(p.Replicas, target...))
	ch.adding = sortedSet(without(target, p.Replicas...))
	ch.replicas = append(slices.Clone(target), ch.removing...)
	return ch, nil
}

func (c *Controller) cancelReassignment(im *metadata.Image, t *metadata.Topic, i int) (*change, error) {
	p := t.Partitions[i]
	if !p.Reassigning() {
		return nil, errorf(kerr.NoReassignmentInProgress, "no reassignment of %s-%d is in progress", t.Name, i)
	}
	ch := c.topicChange(im, t, i, activeIn(im))
	ch.replicas = without(p.Replicas, p.AddingReplicas...)
	ch.isr = without(p.ISR, p.AddingReplicas...)
	ch.adding, ch.removing = nil, nil
	if len(ch.isr) == 0 {
		if !c.uncleanEnabled(im, t.Name) {
			return nil, errorf(kerr.InvalidReplicaAssignment, "reverting %s-%d needs an unclean leader election", t.Name, i)
		}
		ch.isr = []int32{ch.replicas[0]}
	}
	return ch, nil
}

// checkAssignment validates a manual assignment of one partition:
// registered brokers (fenced ones too, as in Kafka), none twice.
func checkAssignment(im *metadata.Image, replicas []int32) error {
	if len(replicas) == 0 {
		return errorf(kerr.InvalidReplicaAssignment, "the assignment has no replicas")
	}
	for i, r := range replicas {
		if _, ok := im.Broker(r); !ok {
			return errorf(kerr.InvalidReplicaAssignment, "the assignment names broker %d, which is not registered", r)
		}
		if slices.Contains(replicas[:i], r) {
			return errorf(kerr.InvalidReplicaAssignment, "the assignment names broker %d twice", r)
		}
	}
	return nil
}

func sortedSet(s []int32) []int32 {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// KafkaListPartitionReassignments answers a ListPartitionReassignments
// request: the reassignments in progress among the partitions named, or
// all of them with a null topic list.
func (c *Controller) KafkaListPartitionReassignments(_ context.Context, req *kmsg.ListPartitionReassignmentsRequest) *kmsg.ListPartitionReassignmentsResponse {
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	im := c.store.Image()
	want := req.Topics
	if want == nil {
		for _, name := range im.TopicNames() {
			rt := kmsg.NewListPartitionReassignmentsRequestTopic()
			rt.Topic, rt.Partitions = name, partitionIDs(im.Topic(name))
			want = append(want, rt)
		}
	}
	for _, rt := range want {
		if t := listReassigning(im.Topic(rt.Topic), rt.Partitions); len(t.Partitions) > 0 {
			resp.Topics = append(resp.Topics, t)
		}
	}
	return resp
}

func listReassigning(t *metadata.Topic, partitions []int32) kmsg.ListPartitionReassignmentsResponseTopic {
	out := kmsg.NewListPartitionReassignmentsResponseTopic()
	if t == nil {
		return out
	}
	out.Topic = t.Name
	for _, i := range partitions {
		if i < 0 || int(i) >= len(t.Partitions) || !t.Partitions[i].Reassigning() {
			continue
		}
		p := t.Partitions[i]
		rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
		rp.Partition, rp.Replicas = i, p.Replicas
		rp.AddingReplicas, rp.RemovingReplicas = nonNil(p.AddingReplicas), nonNil(p.RemovingReplicas)
		out.Partitions = append(out.Partitions, rp)
	}
	return out
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
