package api

// ConsumerGroupDescribe (key 69), v0-1: KIP-848. Describes consumer groups
// (group epoch, assignment epoch, state, assignor, and per member its
// subscription, current and target assignment), each by its own shard. An
// unknown group, or one that is not a consumer group, is
// GROUP_ID_NOT_FOUND. v1 adds the member type (KIP-1099). Authorized
// operations (KIP-430) are Kafka's "not requested" value until ACLs exist.

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.ConsumerGroupDescribe, 0, 1, handleConsumerGroupDescribe) }

func handleConsumerGroupDescribe(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ConsumerGroupDescribeRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
		for _, id := range r.Groups {
			resp.Groups = append(resp.Groups, h.describeConsumerGroup(ctx, id))
		}
		return resp
	})
}

func (h *Handler) describeConsumerGroup(ctx context.Context, id string) kmsg.ConsumerGroupDescribeResponseGroup {
	var d kmsg.ConsumerGroupDescribeResponseGroup
	switch {
	case h.deps.Groups == nil:
		d = kmsg.NewConsumerGroupDescribeResponseGroup()
		d.Group, d.ErrorCode = id, kerr.CoordinatorNotAvailable.Code
	case id == "":
		d = kmsg.NewConsumerGroupDescribeResponseGroup()
		d.ErrorCode = kerr.InvalidGroupID.Code
	default:
		d = h.deps.Groups.ConsumerGroupDescribe(ctx, id)
	}
	d.AuthorizedOperations = math.MinInt32
	return d
}
