package api

// LeaveGroup (key 13), v0-5. Before v3 one member leaves by id; from v3 a
// batch of members leaves by member id or group.instance.id (KIP-345),
// each with its own error.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.LeaveGroup, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.LeaveGroupRequest)
	if h.deps.Groups == nil {
		resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response { return h.deps.Groups.LeaveGroup(ctx, r) })
}
