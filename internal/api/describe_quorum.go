package api

// DescribeQuorum (key 55; KIP-595, KIP-836 for replica timestamps in v1,
// KIP-853 for nodes and directory ids in v2; v0-2): the metadata quorum's
// leader, epoch and voters' progress.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.DescribeQuorum, 0, 2, handleDescribeQuorum) }

func handleDescribeQuorum(ctx context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.ctl.DescribeQuorum(ctx, req.(*kmsg.DescribeQuorumRequest)))
}
