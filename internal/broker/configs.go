package broker

// Configs: the effective log configuration of each topic (topic override,
// then dynamic per-broker and cluster-default configs, then static broker
// configs, then defaults: Kafka's precedence, resolved by the catalog),
// DescribeConfigs over the same layers, and the validators the controller
// applies to config changes.

import (
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/controller"
	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
)

// layers are the config sources of a topic (or of the broker, topic "").
func (b *Broker) layers(im *metadata.Image, topic string) config.Layers {
	l := config.Layers{
		DynamicBroker:  im.Configs(metadata.ConfigKey{Type: metadata.ResourceBroker, Name: strconv.Itoa(int(b.cfg.NodeID))}),
		DynamicDefault: im.Configs(metadata.ConfigKey{Type: metadata.ResourceBroker}),
		Static:         b.cfg.Props,
	}
	if topic != "" {
		l.Topic = im.TopicConfigs(topic)
	}
	return l
}

// logConfig maps a topic's effective configs onto its log's settings.
func (b *Broker) logConfig(im *metadata.Image, topic string) log.Config {
	c := log.DefaultConfig()
	v, err := config.ResolveTopic(b.layers(im, topic))
	if err != nil {
		b.log.Error("topic configs do not resolve; using defaults", "topic", topic, "err", err)
		return c
	}
	c.SegmentBytes = v.Long("segment.bytes")
	c.SegmentAge = v.Duration("segment.ms")
	c.SegmentIndexBytes = v.Int("segment.index.bytes")
	c.IndexIntervalBytes = v.Int("index.interval.bytes")
	c.Retention = v.Duration("retention.ms")
	if v.Long("retention.ms") < 0 {
		c.Retention = -1
	}
	c.RetentionBytes = v.Long("retention.bytes")
	c.Delete, c.Compact = false, false
	for _, p := range v.List("cleanup.policy") {
		c.Delete = c.Delete || p == "delete"
		c.Compact = c.Compact || p == "compact"
	}
	c.DeleteRetention = v.Duration("delete.retention.ms")
	c.MinCleanableDirtyRatio = v.Double("min.cleanable.dirty.ratio")
	c.MinCompactionLag = v.Duration("min.compaction.lag.ms")
	c.MaxMessageBytes = v.Int("max.message.bytes")
	c.LogAppendTime = v.String("message.timestamp.type") == "LogAppendTime"
	c.TimestampAfterMax = v.Duration("message.timestamp.after.max.ms")
	c.TimestampBeforeMax = v.Duration("message.timestamp.before.max.ms")
	// Kafka's flush settings choose page-cache mode; left at their
	// defaults, every acknowledged write is fsynced (docs/durability.md).
	if v.Source("flush.messages") != config.SourceDefault || v.Source("flush.ms") != config.SourceDefault {
		c.FsyncOnAck = false
		c.FlushMessages = v.Long("flush.messages")
		c.FlushInterval = v.Duration("flush.ms")
	}
	if err := c.Validate(); err != nil {
		b.log.Error("topic configs give an invalid log configuration; using defaults", "topic", topic, "err", err)
		return log.DefaultConfig()
	}
	return c
}

func (b *Broker) controllerConfig() controller.Config {
	return controller.Config{
		DefaultPartitions:            b.cfg.DefaultPartitions,
		DefaultReplicationFactor:     b.cfg.DefaultReplication,
		DeleteTopicEnable:            b.cfg.DeleteTopicEnable,
		ValidateTopicConfigs:         validateTopicConfigs,
		ValidateBrokerConfigs:        validateBrokerConfigs,
		DescribeNewTopic:             b.describeNewTopic,
		ClusterID:                    b.meta.ClusterID,
		Now:                          b.cfg.Now,
		SessionTimeout:               b.cfg.SessionTimeout,
		UncleanLeaderElection:        b.cfg.UncleanLeaderElection,
		MinInsyncReplicas:            b.minInsync,
		AutoLeaderRebalance:          b.cfg.AutoLeaderRebalance,
		LeaderImbalanceCheckInterval: b.cfg.LeaderImbalanceCheckInterval,
	}
}

// describeNewTopic lists a topic's effective configs given its overrides.
func (b *Broker) describeNewTopic(overrides map[string]*string) []kmsg.CreateTopicsResponseTopicConfig {
	l := b.layers(b.store.Image(), "")
	l.Topic, _ = strs(overrides)
	var out []kmsg.CreateTopicsResponseTopicConfig
	for _, e := range config.DescribeTopic(l) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.Sensitive
		c.Source = int8(e.Source)
		if e.Sensitive {
			c.Value = nil
		}
		out = append(out, c)
	}
	return out
}

func strs(m map[string]*string) (map[string]string, error) {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			return nil, fmt.Errorf("config %q has a null value", k)
		}
		out[k] = *v
	}
	return out, nil
}

func validateTopicConfigs(m map[string]*string) error {
	s, err := strs(m)
	if err != nil {
		return err
	}
	if err := config.ValidateTopic(s); err != nil { // names and values
		return err
	}
	_, err = config.ResolveTopic(config.Layers{Topic: s}) // and how they combine
	return err
}

func validateBrokerConfigs(m map[string]*string) error {
	s, err := strs(m)
	if err != nil {
		return err
	}
	return config.ValidateBrokerAlter(s, true)
}

// configDescriber answers DescribeConfigs from the catalog.
type configDescriber struct{ b *Broker }

func (b *Broker) configs() configDescriber { return configDescriber{b} }

func (d configDescriber) DescribeConfigs(im *metadata.Image, req *kmsg.DescribeConfigsRequest) *kmsg.DescribeConfigsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, r := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = r.ResourceType, r.ResourceName
		entries, err := d.entries(im, r)
		if err != nil {
			out.ErrorCode = controller.Code(err)
			msg := err.Error()
			out.ErrorMessage = &msg
		}
		for _, e := range entries {
			out.Configs = append(out.Configs, describedConfig(e, req))
		}
		resp.Resources = append(resp.Resources, out)
	}
	return resp
}

func (d configDescriber) entries(im *metadata.Image, r kmsg.DescribeConfigsRequestResource) ([]config.Entry, error) {
	var all []config.Entry
	switch int8(r.ResourceType) {
	case metadata.ResourceTopic:
		if im.Topic(r.ResourceName) == nil {
			return nil, fmt.Errorf("%w: no topic %q", kerr.UnknownTopicOrPartition, r.ResourceName)
		}
		all = config.DescribeTopic(d.b.layers(im, r.ResourceName))
	case metadata.ResourceBroker:
		switch r.ResourceName {
		case "":
			all = config.DescribeBrokerDefaults(d.b.layers(im, ""))
		case strconv.Itoa(int(d.b.cfg.NodeID)):
			all = config.DescribeBroker(d.b.layers(im, ""))
		default:
			return nil, fmt.Errorf("%w: broker %q is not this broker", kerr.InvalidRequest, r.ResourceName)
		}
	default:
		return nil, fmt.Errorf("%w: resource type %d", kerr.InvalidRequest, r.ResourceType)
	}
	if r.ConfigNames == nil {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range r.ConfigNames {
		want[n] = true
	}
	var out []config.Entry
	for _, e := range all {
		if want[e.Name] {
			out = append(out, e)
		}
	}
	return out, nil
}

func describedConfig(e config.Entry, req *kmsg.DescribeConfigsRequest) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name, c.Value, c.ReadOnly, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.Sensitive
	if e.Sensitive {
		c.Value = nil
	}
	c.Source = kmsg.ConfigSource(e.Source)
	c.IsDefault = e.Source == config.SourceDefault
	c.ConfigType = kmsg.ConfigType(e.Type)
	if req.IncludeDocumentation {
		doc := e.Doc
		c.Documentation = &doc
	}
	if req.IncludeSynonyms {
		for _, s := range e.Synonyms {
			syn := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			syn.Name, syn.Value, syn.Source = s.Name, s.Value, kmsg.ConfigSource(s.Source)
			c.ConfigSynonyms = append(c.ConfigSynonyms, syn)
		}
	}
	return c
}
