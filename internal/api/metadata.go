package api

// Metadata (key 3): brokers, cluster id, controller, and topics with their
// partitions, leaders, epochs (KIP-320) and ids (KIP-516). Unknown topics
// are created when both auto.create.topics.enable and the request allow
// it, with the broker's defaults, as Kafka does.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

func init() { register(kmsg.Metadata, 0, 13, handleMetadata) }

// authorizedOperationsOmitted is Kafka's INT32_MIN: "not requested".
const authorizedOperationsOmitted = -2147483648

func handleMetadata(ctx context.Context, h *Handler, c *Client, req kmsg.Request) reply {
	r := req.(*kmsg.MetadataRequest)
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	im := h.image()
	all := r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0)
	if !all && h.deps.AutoCreateTopics && (r.Version < 4 || r.AllowAutoTopicCreation) {
		im = h.autoCreate(ctx, im, r.Topics)
	}
	resp.Brokers = brokersOf(im, c.Listener)
	resp.ClusterID = &h.deps.ClusterID
	resp.ControllerID = h.deps.NodeID
	resp.AuthorizedOperations = authorizedOperationsOmitted
	if all {
		for _, name := range im.TopicNames() {
			resp.Topics = append(resp.Topics, topicMetadata(im.Topic(name)))
		}
		return now(resp)
	}
	for _, rt := range r.Topics {
		resp.Topics = append(resp.Topics, requestedTopic(im, rt))
	}
	return now(resp)
}

func requestedTopic(im *metadata.Image, rt kmsg.MetadataRequestTopic) kmsg.MetadataResponseTopic {
	var t *metadata.Topic
	if rt.Topic != nil {
		t = im.Topic(*rt.Topic)
	} else {
		t = im.TopicByID(rt.TopicID)
	}
	if t != nil {
		return topicMetadata(t)
	}
	out := kmsg.NewMetadataResponseTopic()
	out.Topic, out.TopicID = rt.Topic, rt.TopicID
	out.AuthorizedOperations = authorizedOperationsOmitted
	switch {
	case rt.Topic == nil:
		out.ErrorCode = kerr.UnknownTopicID.Code
	case metadata.ValidTopicName(*rt.Topic) != nil:
		out.ErrorCode = kerr.InvalidTopicException.Code
	default:
		out.ErrorCode = kerr.UnknownTopicOrPartition.Code
	}
	return out
}

func topicMetadata(t *metadata.Topic) kmsg.MetadataResponseTopic {
	out := kmsg.NewMetadataResponseTopic()
	name := t.Name
	out.Topic, out.TopicID = &name, t.ID
	out.IsInternal = isInternalTopic(t.Name)
	out.AuthorizedOperations = authorizedOperationsOmitted
	for i, p := range t.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(i)
		mp.Leader, mp.LeaderEpoch = p.Leader, p.LeaderEpoch
		mp.Replicas, mp.ISR = p.Replicas, p.ISR
		if p.Leader < 0 {
			mp.ErrorCode = kerr.LeaderNotAvailable.Code
		}
		out.Partitions = append(out.Partitions, mp)
	}
	return out
}

func isInternalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}

// brokersOf lists the registered brokers with their address on the
// client's listener (or their first one).
func brokersOf(im *metadata.Image, listener string) []kmsg.MetadataResponseBroker {
	var out []kmsg.MetadataResponseBroker
	for _, b := range im.Brokers() {
		ep, ok := b.Endpoint(listener)
		if b.Fenced || !ok {
			continue
		}
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port, mb.Rack = b.ID, ep.Host, ep.Port, b.Rack
		out = append(out, mb)
	}
	return out
}

// autoCreate creates the requested topics that do not exist and have
// valid names, and returns the image that has them.
func (h *Handler) autoCreate(ctx context.Context, im *metadata.Image, topics []kmsg.MetadataRequestTopic) *metadata.Image {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	for _, rt := range topics {
		if rt.Topic == nil || im.Topic(*rt.Topic) != nil || metadata.ValidTopicName(*rt.Topic) != nil || isInternalTopic(*rt.Topic) {
			continue
		}
		ct := kmsg.NewCreateTopicsRequestTopic()
		ct.Topic, ct.NumPartitions, ct.ReplicationFactor = *rt.Topic, -1, -1
		req.Topics = append(req.Topics, ct)
	}
	if len(req.Topics) == 0 {
		return im
	}
	req.SetVersion(7)
	resp := h.deps.Admin.CreateTopics(ctx, req)
	for _, t := range resp.Topics {
		if t.ErrorCode != 0 && t.ErrorCode != kerr.TopicAlreadyExists.Code {
			h.log.Warn("auto-creating topic", "topic", t.Topic, "error", kerr.ErrorForCode(t.ErrorCode))
		}
	}
	return h.image()
}
