package api

// AllocateProducerIds (key 67; KIP-730, v0; controller listener only): a
// broker takes the next block of producer ids from the controller.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onController, kmsg.AllocateProducerIDs, 0, 0, handleAllocateProducerIDs) }

func handleAllocateProducerIDs(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.AllocateProducerIDs(ctx, req.(*kmsg.AllocateProducerIDsRequest)))
}
