package broker

// The cluster APIs and admin requests, routed to the active controller.
// On the controller listener they are answered here when this node is
// the active controller, else NOT_CONTROLLER; on the broker listener they
// are forwarded to it (forward.go), as Kafka's brokers do (KIP-590).

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/internal/controller"
	"github.com/samsa-io/samsa/internal/coordinator"
)

// clusterAPI answers api.Controller and api.Admin.
type clusterAPI struct {
	b          *Broker
	admin      api.Admin // the local controller's admin
	forwarding bool      // a broker listener's: send to the active controller
}

var (
	_ api.Controller = clusterAPI{}
	_ api.Admin      = clusterAPI{}
)

// localController answers on the controller listener.
func (b *Broker) localController() clusterAPI {
	return clusterAPI{b: b, admin: internalAdmin{adminView{b.ctrl}}}
}

// forwardingController answers on the broker listener.
func (b *Broker) forwardingController() clusterAPI {
	return clusterAPI{b: b, admin: adminView{b.ctrl}, forwarding: true}
}

// activeController reports whether this node is the quorum's leader.
func (b *Broker) activeController() bool {
	return b.quorum.Leader() == uint64(b.cfg.NodeID)
}

func route[Req kmsg.Request, R kmsg.Response](c clusterAPI, ctx context.Context, req Req, local func(context.Context, Req) R) R {
	if c.forwarding {
		return forward(ctx, c.b.ctlc, req, func(ctx context.Context) R { return local(ctx, req) })
	}
	if !c.b.activeController() {
		return api.ErrorResponse(req, kerr.NotController).(R)
	}
	// A request from another node (heartbeats, AlterPartition) carries no
	// timeout; without a quorum its proposal would wait forever.
	ctx, cancel := withRequestTimeout(ctx, req, c.b.cfg.SessionTimeout)
	defer cancel()
	return local(ctx, req)
}

func (c clusterAPI) CreateTopics(ctx context.Context, r *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	if !c.forwarding {
		return route(c, ctx, r, c.admin.CreateTopics)
	}
	// The controller listener lets nodes create the internal topics, so
	// a client's request for one is refused here, before forwarding.
	var refused []kmsg.CreateTopicsResponseTopic
	rest := *r
	rest.Topics = nil
	for _, t := range r.Topics {
		if t.Topic != coordinator.Topic && t.Topic != coordinator.TxnTopic {
			rest.Topics = append(rest.Topics, t)
			continue
		}
		rt := kmsg.NewCreateTopicsResponseTopic()
		msg := "creation of internal topic " + t.Topic + " is prohibited"
		rt.Topic, rt.ErrorCode, rt.ErrorMessage = t.Topic, kerr.InvalidRequest.Code, &msg
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		refused = append(refused, rt)
	}
	resp := route(c, ctx, &rest, c.admin.CreateTopics)
	resp.Topics = append(resp.Topics, refused...)
	return resp
}

func (c clusterAPI) DeleteTopics(ctx context.Context, r *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse {
	return route(c, ctx, r, c.admin.DeleteTopics)
}

func (c clusterAPI) CreatePartitions(ctx context.Context, r *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse {
	return route(c, ctx, r, c.admin.CreatePartitions)
}

func (c clusterAPI) AlterConfigs(ctx context.Context, r *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse {
	return route(c, ctx, r, c.admin.AlterConfigs)
}

func (c clusterAPI) IncrementalAlterConfigs(ctx context.Context, r *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	return route(c, ctx, r, c.admin.IncrementalAlterConfigs)
}

func (c clusterAPI) BrokerRegistration(ctx context.Context, r *kmsg.BrokerRegistrationRequest) *kmsg.BrokerRegistrationResponse {
	return route(c, ctx, r, c.b.ctrl.KafkaBrokerRegistration)
}

func (c clusterAPI) BrokerHeartbeat(ctx context.Context, r *kmsg.BrokerHeartbeatRequest) *kmsg.BrokerHeartbeatResponse {
	return route(c, ctx, r, c.b.ctrl.KafkaBrokerHeartbeat)
}

func (c clusterAPI) AlterPartition(ctx context.Context, r *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse {
	return route(c, ctx, r, c.b.ctrl.KafkaAlterPartition)
}

func (c clusterAPI) AllocateProducerIDs(ctx context.Context, r *kmsg.AllocateProducerIDsRequest) *kmsg.AllocateProducerIDsResponse {
	return route(c, ctx, r, c.b.allocateProducerIDs)
}

func (c clusterAPI) ElectLeaders(ctx context.Context, r *kmsg.ElectLeadersRequest) *kmsg.ElectLeadersResponse {
	return route(c, ctx, r, c.b.ctrl.KafkaElectLeaders)
}

func (c clusterAPI) AlterPartitionReassignments(ctx context.Context, r *kmsg.AlterPartitionAssignmentsRequest) *kmsg.AlterPartitionAssignmentsResponse {
	return route(c, ctx, r, c.b.ctrl.KafkaAlterPartitionReassignments)
}

func (c clusterAPI) ListPartitionReassignments(ctx context.Context, r *kmsg.ListPartitionReassignmentsRequest) *kmsg.ListPartitionReassignmentsResponse {
	return route(c, ctx, r, c.b.ctrl.KafkaListPartitionReassignments)
}

func (c clusterAPI) DescribeQuorum(ctx context.Context, r *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	if c.forwarding {
		return c.b.forwardDescribeQuorum(ctx, r)
	}
	return c.b.describeQuorum(r) // any voter answers; a follower says it is not the leader
}

// allocateProducerIDs answers AllocateProducerIds on the active controller.
func (b *Broker) allocateProducerIDs(ctx context.Context, r *kmsg.AllocateProducerIDsRequest) *kmsg.AllocateProducerIDsResponse {
	resp := r.ResponseKind().(*kmsg.AllocateProducerIDsResponse)
	block, err := b.ctrl.AllocateProducerIDs(ctx, r.BrokerID, r.BrokerEpoch)
	if err != nil {
		resp.ErrorCode = controller.Code(err)
		return resp
	}
	resp.ProducerIDStart, resp.ProducerIDLen = block.First, block.Size
	return resp
}

// requestProducerIDs asks the active controller for a block of producer
// ids (KIP-730).
func (b *Broker) requestProducerIDs(ctx context.Context, epoch int64) (controller.ProducerIDBlock, error) {
	req := kmsg.NewPtrAllocateProducerIDsRequest()
	req.BrokerID, req.BrokerEpoch = b.cfg.NodeID, epoch
	resp := b.forwardingController().AllocateProducerIDs(ctx, req)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return controller.ProducerIDBlock{}, err
	}
	return controller.ProducerIDBlock{First: resp.ProducerIDStart, Size: resp.ProducerIDLen}, nil
}

// createInternalTopic creates a coordinator's topic on the active
// controller (the controller listener allows internal names, a broker
// listener does not); one that exists already is no error.
func (b *Broker) createInternalTopic(ctx context.Context, name string, partitions int32, replication int16, configs map[string]string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, partitions, replication
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, &v
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	resp := forward(ctx, b.ctlc, req, func(ctx context.Context) *kmsg.CreateTopicsResponse {
		return b.ctrl.KafkaCreateInternalTopics(ctx, req)
	})
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil && err != kerr.TopicAlreadyExists {
			return fmt.Errorf("creating %s: %w", name, err)
		}
	}
	return nil
}

// internalAdmin is the controller listener's admin: other nodes create
// the internal topics through it.
type internalAdmin struct{ adminView }

func (a internalAdmin) CreateTopics(ctx context.Context, r *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	return a.c.KafkaCreateInternalTopics(ctx, r)
}
