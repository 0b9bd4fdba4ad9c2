package api

// AlterPartition (key 56; KIP-497, v2-3 as in Kafka 4; controller listener
// only): a partition leader asks the controller to change the ISR.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onController, kmsg.AlterPartition, 2, 3, handleAlterPartition) }

func handleAlterPartition(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.AlterPartition(ctx, req.(*kmsg.AlterPartitionRequest)))
}
