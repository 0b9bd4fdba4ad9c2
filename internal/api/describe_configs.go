package api

// DescribeConfigs (key 32; KIP-226 sources and synonyms, KIP-525 types and
// documentation). The config catalog answers over the current image.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DescribeConfigs, 1, 4, handleDescribeConfigs) }

func handleDescribeConfigs(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	return now(h.deps.Configs.DescribeConfigs(h.image(), req.(*kmsg.DescribeConfigsRequest)))
}
