package api

// OffsetDelete (key 47), v0 (KIP-496): deletes a group's committed offsets
// for partitions the group is not subscribed to.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.OffsetDelete, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.OffsetDeleteRequest)
	if h.deps.Groups == nil {
		resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return now(resp)
	}
	return waitFor(func(ctx context.Context) kmsg.Response { return h.deps.Groups.OffsetDelete(ctx, r) })
}
