package api

// FindCoordinator (key 10; batched keys from v4, KIP-699). Samsa has no
// group or transaction coordinator yet (the consumer-groups and
// transactions issues add them), so every key is answered with
// COORDINATOR_NOT_AVAILABLE, which clients treat as "retry later".
//
// The API is registered anyway because librdkafka decides which codecs a
// broker supports from its API versions: before 2.10 it enables LZ4 only on
// brokers that list FindCoordinator, and sends lz4 batches uncompressed
// otherwise (measured with kcat on librdkafka 2.0.2).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.FindCoordinator, 0, 6, handleFindCoordinator) }

const noCoordinator = "this node has no group or transaction coordinator yet"

func handleFindCoordinator(_ context.Context, _ *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.FindCoordinatorRequest)
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	msg := noCoordinator
	if r.Version < 4 {
		resp.ErrorCode, resp.ErrorMessage, resp.NodeID = kerr.CoordinatorNotAvailable.Code, &msg, -1
		return now(resp)
	}
	for _, key := range r.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key, c.NodeID = key, -1
		c.ErrorCode, c.ErrorMessage = kerr.CoordinatorNotAvailable.Code, &msg
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return now(resp)
}
