package api

// CreatePartitions (key 37; KIP-195). The controller answers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.CreatePartitions, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.deps.Admin.CreatePartitions(ctx, req.(*kmsg.CreatePartitionsRequest)))
}
