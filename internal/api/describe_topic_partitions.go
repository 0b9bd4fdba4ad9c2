package api

// DescribeTopicPartitions (key 75; KIP-966): topics with their partitions,
// paginated by a cursor and a partition limit, sorted by name, with each
// partition's eligible leader replicas and last known ELR.

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

func init() { register(kmsg.DescribeTopicPartitions, 0, 0, handleDescribeTopicPartitions) }

func handleDescribeTopicPartitions(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DescribeTopicPartitionsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeTopicPartitionsResponse)
	im := h.image()
	names := im.TopicNames()
	if len(r.Topics) > 0 {
		names = names[:0:0]
		for _, t := range r.Topics {
			names = append(names, t.Topic)
		}
		slices.Sort(names)
	}
	budget := r.ResponsePartitionLimit
	if budget <= 0 {
		budget = 2000
	}
	startTopic, startPart := "", int32(0)
	if r.Cursor != nil {
		startTopic, startPart = r.Cursor.Topic, r.Cursor.Partition
	}
	for _, name := range names {
		if name < startTopic {
			continue
		}
		first := int32(0)
		if name == startTopic {
			first = startPart
		}
		t := im.Topic(name)
		if t == nil {
			resp.Topics = append(resp.Topics, unknownDescribedTopic(name))
			continue
		}
		dt, next := describedTopic(t, first, budget)
		resp.Topics = append(resp.Topics, dt)
		budget -= int32(len(dt.Partitions))
		if next >= 0 {
			resp.NextCursor = &kmsg.DescribeTopicPartitionsResponseNextCursor{Topic: name, Partition: next}
			break
		}
	}
	return now(resp)
}

func unknownDescribedTopic(name string) kmsg.DescribeTopicPartitionsResponseTopic {
	dt := kmsg.NewDescribeTopicPartitionsResponseTopic()
	dt.Topic = &name
	dt.ErrorCode = kerr.UnknownTopicOrPartition.Code
	dt.AuthorizedOperations = authorizedOperationsOmitted
	return dt
}

// describedTopic lists t's partitions from first, at most budget of them;
// next is the first partition left out, or -1.
func describedTopic(t *metadata.Topic, first, budget int32) (kmsg.DescribeTopicPartitionsResponseTopic, int32) {
	dt := kmsg.NewDescribeTopicPartitionsResponseTopic()
	name := t.Name
	dt.Topic, dt.TopicID, dt.IsInternal = &name, t.ID, isInternalTopic(name)
	dt.AuthorizedOperations = authorizedOperationsOmitted
	for i := first; int(i) < len(t.Partitions); i++ {
		if int32(len(dt.Partitions)) >= budget {
			return dt, i
		}
		p := t.Partitions[i]
		dp := kmsg.NewDescribeTopicPartitionsResponseTopicPartition()
		dp.Partition, dp.LeaderID, dp.LeaderEpoch = i, p.Leader, p.LeaderEpoch
		dp.Replicas, dp.ISR = p.Replicas, p.ISR
		dp.EligibleLeaderReplicas, dp.LastKnownELR = orEmpty(p.ELR), orEmpty(p.LastKnownELR)
		dt.Partitions = append(dt.Partitions, dp)
	}
	return dt, -1
}

// orEmpty is s, or an empty list for nil: both fields are nullable, and
// Kafka sends an empty list for a partition with none.
func orEmpty(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}
