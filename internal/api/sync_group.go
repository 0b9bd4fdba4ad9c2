package api

// SyncGroup (key 14), v0-5. The leader sends the assignment; every member
// waits for it. v3 adds group.instance.id (KIP-345), v5 the protocol type
// and name, checked against the group's (KIP-559).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.SyncGroup, 0, 5, handleSyncGroup) }

func handleSyncGroup(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.SyncGroupRequest)
	if r.Version < 3 {
		r.InstanceID = nil
	}
	if h.deps.Groups == nil {
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response { return h.deps.Groups.SyncGroup(ctx, r) })
}
