package api

// IncrementalAlterConfigs (key 44; KIP-339: SET, DELETE, APPEND,
// SUBTRACT). The controller answers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.IncrementalAlterConfigs, 0, 1, handleIncrementalAlterConfigs) }

func handleIncrementalAlterConfigs(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.deps.Admin.IncrementalAlterConfigs(ctx, req.(*kmsg.IncrementalAlterConfigsRequest)))
}
