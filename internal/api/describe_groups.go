package api

// DescribeGroups (key 15), v0-6. Each group is described by its own
// shard; member metadata and assignments only for a Stable group. An
// unknown group, and as in Kafka 4 a KIP-848 consumer group (which is not a
// classic group), is shown as Dead, and from v6 (KIP-1043) is
// GROUP_ID_NOT_FOUND. Authorized operations (v3+, KIP-430) are left at
// Kafka's "not requested" value until ACLs exist.

import (
	"context"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DescribeGroups, 0, 6, handleDescribeGroups) }

func handleDescribeGroups(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DescribeGroupsRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, id := range r.Groups {
			resp.Groups = append(resp.Groups, h.describeGroup(ctx, r.Version, id))
		}
		return resp
	})
}

func (h *Handler) describeGroup(ctx context.Context, version int16, id string) kmsg.DescribeGroupsResponseGroup {
	if h.deps.Groups == nil {
		d := kmsg.NewDescribeGroupsResponseGroup()
		d.Group, d.ErrorCode = id, kerr.CoordinatorNotAvailable.Code
		return d
	}
	d, found := h.deps.Groups.DescribeGroup(ctx, id)
	d.AuthorizedOperations = math.MinInt32
	switch {
	case found || d.ErrorCode != 0:
	case version >= 6:
		d.ErrorCode = kerr.GroupIDNotFound.Code
		if d.ErrorMessage == nil {
			msg := fmt.Sprintf("Group %s not found.", id)
			d.ErrorMessage = &msg
		}
	default:
		d.ErrorMessage = nil // no error to go with it before v6
	}
	return d
}
