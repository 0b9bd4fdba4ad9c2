package api

// JoinGroup (key 11), v0-9. A member joins a classic group and waits for
// the rebalance to complete (the response comes from the coordinator once
// every member has joined or the rebalance timeout passes). v4 requires a
// member id (KIP-394), v5 adds group.instance.id (KIP-345), v9 the leader's
// SkipAssignment (KIP-814). The state machine is internal/coordinator/group.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.JoinGroup, 0, 9, handleJoinGroup) }

func handleJoinGroup(_ context.Context, h *Handler, c *Client, req kmsg.Request) reply {
	r := req.(*kmsg.JoinGroupRequest)
	if r.Version < 5 {
		r.InstanceID = nil
	}
	if r.Version < 1 {
		r.RebalanceTimeoutMillis = r.SessionTimeoutMillis
	}
	if h.deps.Groups == nil {
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.MemberID, resp.Generation = kerr.CoordinatorNotAvailable.Code, r.MemberID, -1
		return now(resp)
	}
	id, host := clientID(c), clientHost(c)
	return waitFor(func(ctx context.Context) kmsg.Response {
		return h.deps.Groups.JoinGroup(ctx, id, host, r)
	})
}
