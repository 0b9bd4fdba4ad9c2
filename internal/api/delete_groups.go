package api

// DeleteGroups (key 42), v0-2. Each empty group is deleted with its
// offsets by its own shard: a group with members is NON_EMPTY_GROUP, an
// unknown one GROUP_ID_NOT_FOUND.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DeleteGroups, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DeleteGroupsRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
		for _, id := range r.Groups {
			if h.deps.Groups == nil {
				g := kmsg.NewDeleteGroupsResponseGroup()
				g.Group, g.ErrorCode = id, kerr.CoordinatorNotAvailable.Code
				resp.Groups = append(resp.Groups, g)
				continue
			}
			resp.Groups = append(resp.Groups, h.deps.Groups.DeleteGroup(ctx, id))
		}
		return resp
	})
}
