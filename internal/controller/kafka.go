package controller

// Kafka's admin requests in, Kafka's responses out: the controller takes
// the request data as Kafka's controller does (ControllerApis), so the API
// layer passes admin requests straight through.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// opContext bounds an operation by the request's timeout (30 s when the
// request gives none).
func opContext(ctx context.Context, timeoutMillis int32) (context.Context, context.CancelFunc) {
	d := time.Duration(timeoutMillis) * time.Millisecond
	if d <= 0 {
		d = 30 * time.Second
	}
	return context.WithTimeout(ctx, d)
}

// errFields is a response's error code and message: the message without
// the code's name, which the code already says.
func errFields(err error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	msg := err.Error()
	var ce *Error
	if errors.As(err, &ce) {
		msg = ce.Msg
	}
	return Code(err), &msg
}

// KafkaCreateTopics answers a CreateTopics request.
func (c *Controller) KafkaCreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	return c.kafkaCreateTopics(ctx, req, false)
}

// KafkaCreateInternalTopics is KafkaCreateTopics for the brokers'
// coordinators, which may create the internal topics.
func (c *Controller) KafkaCreateInternalTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	return c.kafkaCreateTopics(ctx, req, true)
}

func (c *Controller) kafkaCreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest, internal bool) *kmsg.CreateTopicsResponse {
	ctx, cancel := opContext(ctx, req.TimeoutMillis)
	defer cancel()
	specs := make([]TopicSpec, len(req.Topics))
	for i, t := range req.Topics {
		specs[i] = TopicSpec{Name: t.Topic, Partitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor,
			Configs: map[string]*string{}, Internal: internal}
		for _, a := range t.ReplicaAssignment {
			specs[i].Assignment = append(specs[i].Assignment, a.Replicas)
		}
		for _, cfg := range t.Configs {
			specs[i].Configs[cfg.Name] = cfg.Value
		}
	}
	res := c.CreateTopics(ctx, specs, req.ValidateOnly)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	for i, r := range res {
		t := kmsg.NewCreateTopicsResponseTopic()
		t.Topic = specs[i].Name
		t.ErrorCode, t.ErrorMessage = errFields(r.Err)
		t.NumPartitions, t.ReplicationFactor = -1, -1
		if r.Err == nil {
			t.TopicID, t.NumPartitions, t.ReplicationFactor = r.ID, r.Partitions, r.ReplicationFactor
			if c.cfg.DescribeNewTopic != nil {
				t.Configs = c.cfg.DescribeNewTopic(specs[i].Configs)
			}
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// KafkaDeleteTopics answers a DeleteTopics request (names before v6,
// names or ids from v6).
func (c *Controller) KafkaDeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse {
	ctx, cancel := opContext(ctx, req.TimeoutMillis)
	defer cancel()
	var refs []TopicRef
	for _, name := range req.TopicNames {
		refs = append(refs, TopicRef{Name: name})
	}
	for _, t := range req.Topics {
		ref := TopicRef{ID: t.TopicID}
		if t.Topic != nil {
			ref.Name = *t.Topic
		}
		refs = append(refs, ref)
	}
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	for _, r := range c.DeleteTopics(ctx, refs) {
		t := kmsg.NewDeleteTopicsResponseTopic()
		if r.Name != "" {
			name := r.Name
			t.Topic = &name
		}
		t.TopicID = r.ID
		t.ErrorCode, t.ErrorMessage = errFields(r.Err)
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// KafkaCreatePartitions answers a CreatePartitions request.
func (c *Controller) KafkaCreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse {
	ctx, cancel := opContext(ctx, req.TimeoutMillis)
	defer cancel()
	specs := make([]PartitionsSpec, len(req.Topics))
	for i, t := range req.Topics {
		specs[i] = PartitionsSpec{Topic: t.Topic, Count: t.Count}
		for _, a := range t.Assignment {
			specs[i].Assignment = append(specs[i].Assignment, a.Replicas)
		}
	}
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for i, err := range c.CreatePartitions(ctx, specs, req.ValidateOnly) {
		t := kmsg.NewCreatePartitionsResponseTopic()
		t.Topic = specs[i].Topic
		t.ErrorCode, t.ErrorMessage = errFields(err)
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// KafkaAlterConfigs answers an AlterConfigs request.
func (c *Controller) KafkaAlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse {
	changes := make([]ConfigChange, len(req.Resources))
	for i, r := range req.Resources {
		changes[i] = ConfigChange{Type: int8(r.ResourceType), Name: r.ResourceName}
		for _, cfg := range r.Configs {
			changes[i].Ops = append(changes[i].Ops, ConfigOp{Name: cfg.Name, Op: OpSet, Value: cfg.Value})
		}
	}
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for i, err := range c.AlterConfigs(ctx, changes, req.ValidateOnly) {
		r := kmsg.NewAlterConfigsResponseResource()
		r.ResourceType, r.ResourceName = req.Resources[i].ResourceType, req.Resources[i].ResourceName
		r.ErrorCode, r.ErrorMessage = errFields(err)
		resp.Resources = append(resp.Resources, r)
	}
	return resp
}

// KafkaIncrementalAlterConfigs answers an IncrementalAlterConfigs request.
func (c *Controller) KafkaIncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	changes := make([]ConfigChange, len(req.Resources))
	for i, r := range req.Resources {
		changes[i] = ConfigChange{Type: int8(r.ResourceType), Name: r.ResourceName, Incremental: true}
		for _, cfg := range r.Configs {
			changes[i].Ops = append(changes[i].Ops, ConfigOp{Name: cfg.Name, Op: int8(cfg.Op), Value: cfg.Value})
		}
	}
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for i, err := range c.AlterConfigs(ctx, changes, req.ValidateOnly) {
		r := kmsg.NewIncrementalAlterConfigsResponseResource()
		r.ResourceType, r.ResourceName = req.Resources[i].ResourceType, req.Resources[i].ResourceName
		r.ErrorCode, r.ErrorMessage = errFields(err)
		resp.Resources = append(resp.Resources, r)
	}
	return resp
}
