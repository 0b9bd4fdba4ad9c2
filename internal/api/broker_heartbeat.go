package api

// BrokerHeartbeat (key 63; KIP-631, v0-1; controller listener only): a
// broker's liveness and metadata progress; the answer fences, unfences or
// lets it shut down.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onController, kmsg.BrokerHeartbeat, 0, 1, handleBrokerHeartbeat) }

func handleBrokerHeartbeat(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.BrokerHeartbeat(ctx, req.(*kmsg.BrokerHeartbeatRequest)))
}
