package api

// DescribeCluster (key 60; KIP-700): brokers, cluster id and controller,
// as an admin client sees them. Endpoint type 1 is brokers (KIP-919).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.DescribeCluster, 0, 2, handleDescribeCluster) }

func handleDescribeCluster(_ context.Context, h *Handler, c *Client, req kmsg.Request) reply {
	r := req.(*kmsg.DescribeClusterRequest)
	resp := r.ResponseKind().(*kmsg.DescribeClusterResponse)
	if r.Version >= 1 && r.EndpointType != 1 {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		return now(resp)
	}
	resp.EndpointType = 1
	resp.ClusterID = h.deps.ClusterID
	resp.ControllerID = h.deps.NodeID
	resp.ClusterAuthorizedOperations = authorizedOperationsOmitted
	for _, b := range brokersOf(h.image(), c.Listener) {
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID, db.Host, db.Port, db.Rack = b.NodeID, b.Host, b.Port, b.Rack
		resp.Brokers = append(resp.Brokers, db)
	}
	return now(resp)
}
