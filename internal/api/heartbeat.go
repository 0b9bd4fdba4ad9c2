package api

// Heartbeat (key 12), v0-4. Keeps a classic member's session alive and
// tells it of a rebalance (REBALANCE_IN_PROGRESS). v3 adds
// group.instance.id (KIP-345).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.Heartbeat, 0, 4, handleHeartbeat) }

func handleHeartbeat(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.HeartbeatRequest)
	if r.Version < 3 {
		r.InstanceID = nil
	}
	if h.deps.Groups == nil {
		resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response { return h.deps.Groups.Heartbeat(ctx, r) })
}
