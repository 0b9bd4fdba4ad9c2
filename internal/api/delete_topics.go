package api

// DeleteTopics (key 20; by name, or by id from v6: KIP-516). The controller
// answers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.DeleteTopics, 1, 6, handleDeleteTopics) }

func handleDeleteTopics(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.deps.Admin.DeleteTopics(ctx, req.(*kmsg.DeleteTopicsRequest)))
}
