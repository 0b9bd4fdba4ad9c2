package api

// The cluster APIs: what brokers send the active controller (broker
// registration and heartbeats, KIP-631; AlterPartition, KIP-497;
// AllocateProducerIds, KIP-730) and the admin requests the controller
// answers (ElectLeaders, KIP-460; partition reassignments, KIP-455;
// DescribeQuorum, KIP-595). A controller listener's handler answers them
// from the local controller, which says NOT_CONTROLLER unless it is the
// active one; a broker listener's handler hands the admin ones to a
// forwarder that sends them to the active controller.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Controller answers the cluster APIs.
type Controller interface {
	BrokerRegistration(ctx context.Context, req *kmsg.BrokerRegistrationRequest) *kmsg.BrokerRegistrationResponse
	BrokerHeartbeat(ctx context.Context, req *kmsg.BrokerHeartbeatRequest) *kmsg.BrokerHeartbeatResponse
	AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse
	AllocateProducerIDs(ctx context.Context, req *kmsg.AllocateProducerIDsRequest) *kmsg.AllocateProducerIDsResponse
	ElectLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) *kmsg.ElectLeadersResponse
	AlterPartitionReassignments(ctx context.Context, req *kmsg.AlterPartitionAssignmentsRequest) *kmsg.AlterPartitionAssignmentsResponse
	ListPartitionReassignments(ctx context.Context, req *kmsg.ListPartitionReassignmentsRequest) *kmsg.ListPartitionReassignmentsResponse
	DescribeQuorum(ctx context.Context, req *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse
}

// NewController returns the handler of a controller listener: it serves
// ApiVersions, the cluster APIs from ctl, and the admin APIs from
// deps.Admin.
func NewController(deps Deps, ctl Controller) *Handler {
	h := New(deps)
	h.scope, h.ctl = onController, ctl
	return h
}

// WithController sets the Controller a broker listener's handler sends
// the admin cluster APIs to, and returns h.
func (h *Handler) WithController(ctl Controller) *Handler {
	h.ctl = ctl
	return h
}

// noController answers every cluster API with NOT_CONTROLLER: a handler
// built without a Controller has none to ask.
type noController struct{}

func notController[R kmsg.Response](req kmsg.Request) R {
	return ErrorResponse(req, kerr.NotController).(R)
}

func (noController) BrokerRegistration(_ context.Context, r *kmsg.BrokerRegistrationRequest) *kmsg.BrokerRegistrationResponse {
	return notController[*kmsg.BrokerRegistrationResponse](r)
}

func (noController) BrokerHeartbeat(_ context.Context, r *kmsg.BrokerHeartbeatRequest) *kmsg.BrokerHeartbeatResponse {
	return notController[*kmsg.BrokerHeartbeatResponse](r)
}

func (noController) AlterPartition(_ context.Context, r *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse {
	return notController[*kmsg.AlterPartitionResponse](r)
}

func (noController) AllocateProducerIDs(_ context.Context, r *kmsg.AllocateProducerIDsRequest) *kmsg.AllocateProducerIDsResponse {
	return notController[*kmsg.AllocateProducerIDsResponse](r)
}

func (noController) ElectLeaders(_ context.Context, r *kmsg.ElectLeadersRequest) *kmsg.ElectLeadersResponse {
	return notController[*kmsg.ElectLeadersResponse](r)
}

func (noController) AlterPartitionReassignments(_ context.Context, r *kmsg.AlterPartitionAssignmentsRequest) *kmsg.AlterPartitionAssignmentsResponse {
	return notController[*kmsg.AlterPartitionAssignmentsResponse](r)
}

func (noController) ListPartitionReassignments(_ context.Context, r *kmsg.ListPartitionReassignmentsRequest) *kmsg.ListPartitionReassignmentsResponse {
	return notController[*kmsg.ListPartitionReassignmentsResponse](r)
}

func (noController) DescribeQuorum(_ context.Context, r *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	return notController[*kmsg.DescribeQuorumResponse](r)
}
