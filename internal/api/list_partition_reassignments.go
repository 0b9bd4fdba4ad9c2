package api

// ListPartitionReassignments (key 46; KIP-455, v0): the reassignments in
// progress.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	registerOn(onBoth, kmsg.ListPartitionReassignments, 0, 0, handleListPartitionReassignments)
}

func handleListPartitionReassignments(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.ListPartitionReassignments(ctx, req.(*kmsg.ListPartitionReassignmentsRequest)))
}
