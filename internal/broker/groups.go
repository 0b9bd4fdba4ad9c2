package broker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"


	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/coordinator"
	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/partition"
)

// startGroups builds the group coordinator from the broker configs and
// loads the shards of an existing __consumer_offsets.
func (b *Broker) startGroups() (func(), error) {
	v, err := config.ValidateBroker(b.cfg.Props)
	if err != nil {
		return nil, err
	}
	gc := group.DefaultConfig()
	gc.InitialRebalanceDelay = v.Duration("group.initial.rebalance.delay.ms")
	gc.MinSessionTimeout = v.Duration("group.min.session.timeout.ms")
	gc.MaxSessionTimeout = v.Duration("group.max.session.timeout.ms")
	gc.MaxSize = v.Int("group.max.size")
	gc.OffsetsRetention = time.Duration(v.Int("offsets.retention.minutes")) * time.Minute
	gc.OffsetMetadataMaxBytes = v.Int("offset.metadata.max.bytes")
	if err := consumerGroupConfig(v, &gc); err != nil {
		return nil, err
	}
	partitions := int32(v.Int("offsets.topic.num.partitions"))
	replication := int16(v.Int("offsets.topic.replication.factor"))
	segment := strconv.Itoa(v.Int("offsets.topic.segment.bytes"))
	c, err := coordinator.New(coordinator.Config{
		NodeID: b.cfg.NodeID, NumPartitions: partitions, Group: gc,
		RetentionCheck: v.Duration("offsets.retention.check.interval.ms"),
		Image:          b.store.Image,
		Partition:      b.offsetsPartition,
		CreateTopic: func(ctx context.Context) error {
			return b.createOffsetsTopic(ctx, partitions, replication, segment)
		},
		Logger: b.log, Now: b.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	b.groups = c
	c.Start()
	return c.Close, nil
}

// consumerGroupConfig fills the KIP-848 settings of gc and checks them as
// Kafka's GroupCoordinatorConfig does: the session timeout and heartbeat
// interval within their min/max, the interval below the session timeout.
func consumerGroupConfig(v config.Values, gc *group.Config) error {
	gc.ConsumerProtocol = slices.Contains(v.List("group.coordinator.rebalance.protocols"), "consumer")
	gc.ConsumerSessionTimeout = v.Duration("group.consumer.session.timeout.ms")
	gc.ConsumerHeartbeatInterval = v.Duration("group.consumer.heartbeat.interval.ms")
	gc.ConsumerMaxSize = v.Int("group.consumer.max.size")
	gc.ConsumerAssignors = v.List("group.consumer.assignors")
	within := func(name string, d time.Duration) error {
		lo, hi := v.Duration(strings.Replace(name, "consumer.", "consumer.min.", 1)), v.Duration(strings.Replace(name, "consumer.", "consumer.max.", 1))
		if d < lo || d > hi {
			return fmt.Errorf("broker: %s %v must be within [%v, %v] (its min and max settings)", name, d, lo, hi)
		}
		return nil
	}
	if err := within("group.consumer.session.timeout.ms", gc.ConsumerSessionTimeout); err != nil {
		return err
	}
	return within("group.consumer.heartbeat.interval.ms", gc.ConsumerHeartbeatInterval)
}

// createOffsetsTopic creates __consumer_offsets as Kafka does: compacted,
// producer compression, offsets.topic.segment.bytes.
func (b *Broker) createOffsetsTopic(ctx context.Context, partitions int32, replication int16, segment string) error {
	return b.createInternalTopic(ctx, coordinator.Topic, partitions, replication, map[string]string{
		"cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": segment,
	})
}

// offsetsPartition is a partition of __consumer_offsets this node leads.
func (b *Broker) offsetsPartition(p int32) (coordinator.Partition, error) {
	part, err := b.parts.Get(coordinator.Topic, p)
	if err != nil {
		return nil, err
	}
	if !part.IsLeader() {
		return nil, partition.ErrNotLeader
	}
	return offsetsView{part}, nil
}

// offsetsView adapts a hosted partition to the coordinator's interface.
type offsetsView struct{ p *partition.Partition }

func (v offsetsView) Append(batch []byte) (int64, error) {
	a, err := v.p.Append(batch)
	return a.Next, err
}

func (v offsetsView) Commit(next int64) error { return v.p.Commit(next) }

func (v offsetsView) AppendMarker(batch []byte, tv int8) error {
	_, err := v.p.AppendMarker(batch, tv)
	return err
}

func (v offsetsView) Read(offset int64, maxBytes int) ([]byte, int64, error) {
	offset = max(offset, v.p.Log().LogStartOffset())
	r, err := v.p.Read(offset, maxBytes, true)
	return r.Records, r.HighWatermark, err
}
