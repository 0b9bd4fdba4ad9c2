package api

// ElectLeaders (key 43; KIP-183, KIP-460 for the election type in v1+,
// v0-2): preferred or unclean leader elections, done by the controller.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.ElectLeaders, 0, 2, handleElectLeaders) }

func handleElectLeaders(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.ElectLeaders(ctx, req.(*kmsg.ElectLeadersRequest)))
}
