package api

// ConsumerGroupHeartbeat (key 68), v0-1: KIP-848's consumer group protocol.
// A member joins with epoch 0, heartbeats with its epoch and the partitions
// it owns, and leaves with epoch -1 (-2: a static member leaving for now);
// the coordinator answers with its epoch and, when it changed or the
// request was full, its assignment, computed by a server-side assignor
// ("uniform" or "range"). v1 (Kafka 4.0) has the client choose its member
// id and adds SubscribedTopicRegex (RE2 syntax). The state machine is in
// internal/coordinator/group (consumer_*.go). With "consumer" missing from
// group.coordinator.rebalance.protocols the answer is UNSUPPORTED_VERSION,
// as in Kafka, which clients take as the cue to use classic groups.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.ConsumerGroupHeartbeat, 0, 1, handleConsumerGroupHeartbeat) }

func handleConsumerGroupHeartbeat(_ context.Context, h *Handler, c *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ConsumerGroupHeartbeatRequest)
	if h.deps.Groups == nil {
		resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return now(resp)
	}
	id, host := clientID(c), clientHost(c)
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Groups.ConsumerGroupHeartbeat(ctx, id, host, r)
	})
}
