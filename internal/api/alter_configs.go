package api

// AlterConfigs (key 33): replaces a resource's whole set of overrides.
// The controller answers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.AlterConfigs, 0, 2, handleAlterConfigs) }

func handleAlterConfigs(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.deps.Admin.AlterConfigs(ctx, req.(*kmsg.AlterConfigsRequest)))
}
