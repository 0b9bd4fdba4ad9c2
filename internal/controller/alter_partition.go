package controller

// AlterPartition (56, v0-3; KIP-497, topic ids from v2 per KIP-841,
// broker epochs of ISR members from v3 per KIP-903), after Kafka's
// ReplicationControlManager.alterPartition: a partition leader asks to
// change its ISR.
//
// The sender must be registered at its epoch (STALE_BROKER_EPOCH for the
// whole request). Per partition, in Kafka's order: epochs ahead of the
// controller's are NOT_CONTROLLER (this node is behind); an older leader
// epoch is FENCED_LEADER_EPOCH; a sender that is not the leader is
// INVALID_REQUEST, as in Kafka; an older partition epoch is
// INVALID_UPDATE_VERSION; an ISR with a non-replica, a duplicate, or
// without the leader is INVALID_REQUEST; an ISR member that is not
// registered, is fenced, is shutting down or (v3+) is at another broker
// epoch is INELIGIBLE_REPLICA (OPERATION_NOT_ATTEMPTED before v2). On
// success the partition epoch grows and the response carries the new
// state; when the change completes a reassignment that removes the leader,
// the answer is NEW_LEADER_ELECTED (FENCED_LEADER_EPOCH before v2).

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// KafkaAlterPartition answers an AlterPartition request.
func (c *Controller) KafkaAlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse {
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	c.mu.Lock()
	defer c.mu.Unlock()
	b := newBatch(c.store.Image())
	if reg, ok := b.im.Broker(req.BrokerID); !ok || reg.Epoch != req.BrokerEpoch {
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp
	}
	for _, rt := range req.Topics {
		t := kmsg.NewAlterPartitionResponseTopic()
		t.Topic, t.TopidID = rt.Topic, rt.TopicID
		topic := b.im.Topic(rt.Topic)
		if req.Version >= 2 {
			topic = b.im.TopicByID(rt.TopicID)
		}
		for _, rp := range rt.Partitions {
			t.Partitions = append(t.Partitions, c.alterOne(b, req, topic, rp))
		}
		resp.Topics = append(resp.Topics, t)
	}
	if err := c.propose(ctx, b.recs); err != nil {
		resp.ErrorCode = Code(err)
	}
	return resp
}

// isrStates is the request's new ISR with broker epochs (-1: unchecked,
// as Kafka takes versions before 3).
func isrStates(version int16, rp kmsg.AlterPartitionRequestTopicPartition) []kmsg.AlterPartitionRequestTopicPartitionNewEpochISR {
	if version >= 3 {
		return rp.NewEpochISR
	}
	out := make([]kmsg.AlterPartitionRequestTopicPartitionNewEpochISR, len(rp.NewISR))
	for i, id := range rp.NewISR {
		out[i] = kmsg.AlterPartitionRequestTopicPartitionNewEpochISR{BrokerID: id, BrokerEpoch: -1}
	}
	return out
}

func (c *Controller) alterOne(b *batch, req *kmsg.AlterPartitionRequest, t *metadata.Topic, rp kmsg.AlterPartitionRequestTopicPartition) kmsg.AlterPartitionResponseTopicPartition {
	out := kmsg.NewAlterPartitionResponseTopicPartition()
	out.Partition = rp.Partition
	if t == nil {
		out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if req.Version >= 2 {
			out.ErrorCode = kerr.UnknownTopicID.Code
		}
		return out
	}
	if rp.Partition < 0 || int(rp.Partition) >= len(t.Partitions) {
		out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return out
	}
	isr := isrStates(req.Version, rp)
	cur := t.Partitions[rp.Partition]
	if code := c.checkAlter(b.im, req, cur, rp, isr); code != nil {
		out.ErrorCode = code.Code
		return out
	}
	ch := c.topicChange(b.im, t, int(rp.Partition), activeIn(b.im))
	ch.isr = make([]int32, len(isr))
	for i, s := range isr {
		ch.isr[i] = s.BrokerID
	}
	ch.recovery = rp.LeaderRecoveryState
	next, changed := ch.build()
	if changed {
		if err := b.add(partitionRecord(t, int(rp.Partition), next)); err != nil {
			out.ErrorCode = Code(err)
			return out
		}
		if next.Leader != req.BrokerID {
			out.ErrorCode = kerr.FencedLeaderEpoch.Code
			if req.Version >= 2 {
				out.ErrorCode = kerr.NewLeaderElected.Code
			}
			return out
		}
	}
	out.LeaderID, out.LeaderEpoch, out.PartitionEpoch = next.Leader, next.LeaderEpoch, next.PartitionEpoch
	out.ISR, out.LeaderRecoveryState = next.ISR, next.LeaderRecoveryState
	return out
}

// checkAlter is Kafka's validateAlterPartitionData.
func (c *Controller) checkAlter(im *metadata.Image, req *kmsg.AlterPartitionRequest, cur metadata.Partition,
	rp kmsg.AlterPartitionRequestTopicPartition, isr []kmsg.AlterPartitionRequestTopicPartitionNewEpochISR) *kerr.Error {
	ids := make([]int32, len(isr))
	for i, s := range isr {
		ids[i] = s.BrokerID
	}
	switch {
	case rp.LeaderEpoch > cur.LeaderEpoch || rp.PartitionEpoch > cur.PartitionEpoch:
		return kerr.NotController
	case rp.LeaderEpoch < cur.LeaderEpoch:
		return kerr.FencedLeaderEpoch
	case req.BrokerID != cur.Leader:
		return kerr.InvalidRequest
	case rp.PartitionEpoch < cur.PartitionEpoch:
		return kerr.InvalidUpdateVersion
	case !validISR(cur.Replicas, ids) || !slices.Contains(ids, cur.Leader):
		return kerr.InvalidRequest
	case rp.LeaderRecoveryState == 1 && len(ids) > 1,
		cur.LeaderRecoveryState == 0 && rp.LeaderRecoveryState == 1:
		return kerr.InvalidRequest
	}
	for _, s := range isr {
		reg, ok := im.Broker(s.BrokerID)
		if !ok || reg.Fenced || reg.InControlledShutdown || s.BrokerEpoch != -1 && s.BrokerEpoch != reg.Epoch {
			if req.Version >= 2 {
				return kerr.IneligibleReplica
			}
			return kerr.OperationNotAttempted
		}
	}
	return nil
}

// validISR reports whether isr is a duplicate-free subset of replicas.
func validISR(replicas, isr []int32) bool {
	for i, r := range isr {
		if !slices.Contains(replicas, r) || slices.Contains(isr[:i], r) {
			return false
		}
	}
	return true
}
