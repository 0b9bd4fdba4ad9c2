package api

// AlterPartitionReassignments (key 45; KIP-455, v0-1): start or cancel
// moving partitions to other replicas, done by the controller.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	registerOn(onBoth, kmsg.AlterPartitionAssignments, 0, 1, handleAlterPartitionReassignments)
}

func handleAlterPartitionReassignments(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.AlterPartitionReassignments(ctx, req.(*kmsg.AlterPartitionAssignmentsRequest)))
}
