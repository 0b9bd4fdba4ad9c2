package api

// BrokerRegistration (key 62; KIP-631, v0-4; controller listener only): a
// broker registers its listeners, rack and incarnation with the active
// controller and gets its broker epoch.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onController, kmsg.BrokerRegistration, 0, 4, handleBrokerRegistration) }

func handleBrokerRegistration(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.BrokerRegistration(ctx, req.(*kmsg.BrokerRegistrationRequest)))
}
