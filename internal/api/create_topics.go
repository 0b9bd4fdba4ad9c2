package api

// CreateTopics (key 19; KIP-4, validate_only, KIP-464 defaults, KIP-525
// configs in the response). The controller answers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.CreateTopics, 2, 7, handleCreateTopics) }

func handleCreateTopics(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.deps.Admin.CreateTopics(ctx, req.(*kmsg.CreateTopicsRequest)))
}
