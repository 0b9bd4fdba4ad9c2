package broker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/coordinator"
	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/metadata"
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
		Partition: func(p, epoch int32) (coordinator.Partition, error) {
			return b.coordinatorPartition(coordinator.Topic, p, epoch)
		},
		CreateTopic: func(ctx context.Context) error {
			return b.createOffsetsTopic(ctx, partitions, replication, segment)
		},
		Logger: b.log, Now: b.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	b.groups = c
	b.store.Subscribe(func(_, _ *metadata.Image) { c.Follow() }) // after the replica manager's
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

// coordinatorPartition is partition p of a coordinator's topic if this
// node leads it at leader epoch epoch, with Kafka's acks=-1 waits bounded
// by offsets.commit.timeout.ms.
func (b *Broker) coordinatorPartition(topic string, p, epoch int32) (coordinator.Partition, error) {
	part, err := b.parts.Get(topic, p)
	if err != nil {
		return nil, err
	}
	if !part.IsLeader() || part.LeaderEpoch() != epoch {
		return nil, fmt.Errorf("%w: %s-%d is not led here at epoch %d", partition.ErrNotLeader, topic, p, epoch)
	}
	return coordinatorView{b: b, p: part, epoch: epoch, timeout: b.commitTimeout()}, nil
}

// commitTimeout is offsets.commit.timeout.ms: how long a coordinator's
// write waits for the in-sync replicas (Kafka's, for the group
// coordinator; Samsa bounds the transaction coordinator's and the
// markers' writes with it too).
func (b *Broker) commitTimeout() time.Duration {
	ms, err := strconv.Atoi(b.cfg.Props["offsets.commit.timeout.ms"]) // validated at start
	if err != nil || ms <= 0 {
		ms = 5000 // Kafka's default
	}
	return time.Duration(ms) * time.Millisecond
}

// coordinatorView adapts a hosted partition to the coordinators'
// interface: appends at the epoch the shard loaded at, commits as
// acks=-1 (durable here, then the high watermark past them).
type coordinatorView struct {
	b       *Broker
	p       *partition.Partition
	epoch   int32
	timeout time.Duration
}

// leading refuses a write once the partition moved to another epoch: the
// shard of that epoch, not this one, writes then.
func (v coordinatorView) leading() error {
	if !v.p.IsLeader() || v.p.LeaderEpoch() != v.epoch {
		return partition.ErrNotLeader
	}
	return nil
}

func (v coordinatorView) Append(batch []byte) (int64, error) {
	if err := v.leading(); err != nil {
		return 0, err
	}
	a, err := v.p.AppendAcks(batch, -1)
	return a.Next, err
}

func (v coordinatorView) AppendMarker(batch []byte, tv int8) (int64, error) {
	if err := v.leading(); err != nil {
		return 0, err
	}
	if err := v.b.enoughReplicas(v.p); err != nil {
		return 0, err
	}
	return appendMarker(v.p, batch, tv)
}

func (v coordinatorView) Commit(ctx context.Context, next int64) error {
	if err := v.p.Commit(next); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	return v.p.WaitReplicated(ctx, next)
}

func (v coordinatorView) CommittedEnd(ctx context.Context) (int64, error) {
	end := v.p.Log().LogEndOffset()
	if err := v.p.Commit(end); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	return end, waitHighWatermark(ctx, v.p, end)
}

func (v coordinatorView) Read(offset int64, maxBytes int) ([]byte, int64, error) {
	offset = max(offset, v.p.Log().LogStartOffset())
	r, err := v.p.Read(offset, maxBytes, true)
	return r.Records, r.HighWatermark, err
}

// waitHighWatermark waits until p's high watermark reaches end while this
// node leads p: a new leader's rises as the followers fetch.
func waitHighWatermark(ctx context.Context, p *partition.Partition, end int64) error {
	wake := make(chan struct{}, 1)
	defer p.Watch(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})()
	for p.HighWatermark() < end {
		if !p.IsLeader() {
			return partition.ErrNotLeader
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("%w: the high watermark is %d, waiting for %d: %w", kerr.RequestTimedOut, p.HighWatermark(), end, ctx.Err())
		}
	}
	return nil
}
