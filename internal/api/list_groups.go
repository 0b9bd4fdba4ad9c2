package api

// ListGroups (key 16), v0-5. Lists the groups of every __consumer_offsets
// partition this node leads; v4 filters by state (KIP-518), v5 by type
// (KIP-848: "classic" or "consumer"; a consumer group shows its KIP-848
// state, Empty, Assigning, Reconciling or Stable).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.ListGroups, 0, 5, handleListGroups) }

func handleListGroups(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ListGroupsRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
		if h.deps.Groups == nil {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp
		}
		groups, code := h.deps.Groups.ListGroups(ctx, r.StatesFilter, r.TypesFilter)
		resp.Groups, resp.ErrorCode = groups, code
		if resp.Groups == nil {
			resp.Groups = []kmsg.ListGroupsResponseGroup{}
		}
		return resp
	})
}
