// Package coordinator runs the group coordinator: one single-owner shard
// per partition of __consumer_offsets this node leads (Kafka's
// CoordinatorRuntime), each a goroutine that owns a group.Shard, appends
// its records to the partition and answers requests once those records
// are committed. A shard's state is rebuilt by replaying its partition
// when it loads: when this node becomes the partition's leader. It
// unloads when the node stops leading it, and its waiting requests get
// NOT_COORDINATOR, so clients find the new coordinator.
//
// Responses wait for the commit of everything appended before them, so
// every response (reads included) is delivered after those records are
// durable and on every in-sync replica (Kafka writes them with acks=-1).
// When an append or its replication fails, the waiting requests get the
// error Kafka's coordinators answer (COORDINATOR_NOT_AVAILABLE for
// NOT_ENOUGH_REPLICAS and timeouts, NOT_COORDINATOR for a lost
// leadership), and the shard rebuilds itself by replay.
package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/metadata"
)

// Topic is the internal topic of group metadata and committed offsets.
const Topic = "__consumer_offsets"

// Partition is one hosted partition of __consumer_offsets or
// __transaction_state, led by this node at the leader epoch it was asked
// for. Errors wrap kerr values.
//
// Kafka's coordinators write their records with acks=-1: a write is
// acknowledged once every in-sync replica has it, and refused when the
// ISR is below min.insync.replicas. Commit is that wait.
type Partition interface {
	// Append appends a batch as the leader and returns the offset after it.
	Append(batch []byte) (next int64, err error)
	// AppendMarker appends a transaction marker (record.BuildEndTxn) as the
	// leader, checked with transaction version tv's rules, and returns the
	// offset to Commit for it.
	AppendMarker(batch []byte, tv int8) (next int64, err error)
	// Commit returns once every offset before next is committed: durable
	// here and replicated to the ISR (the high watermark passed it), within
	// a bounded time; NOT_ENOUGH_REPLICAS(_AFTER_APPEND) or
	// REQUEST_TIMED_OUT otherwise, NOT_LEADER_OR_FOLLOWER once this node
	// stops leading at the epoch.
	Commit(ctx context.Context, next int64) error
	// CommittedEnd waits, within a bounded time, until everything in the
	// log is committed and returns the log end: where a load replays to.
	// Replaying to the log end and no further than the high watermark
	// keeps a new leader from both forgetting acknowledged records (its
	// high watermark may lag the old leader's) and acting on records that
	// are not committed.
	CommittedEnd(ctx context.Context) (int64, error)
	// Read returns whole batches from offset up to the high watermark.
	Read(offset int64, maxBytes int) (batches []byte, hw int64, err error)
}

// Config is what the coordinator needs from the broker.
type Config struct {
	NodeID int32
	// NumPartitions is offsets.topic.num.partitions.
	NumPartitions int32
	Group         group.Config
	// RetentionCheck is offsets.retention.check.interval.ms.
	RetentionCheck time.Duration
	Image          func() *metadata.Image
	// Partition returns partition p of __consumer_offsets if this node
	// leads it at leader epoch epoch (NOT_LEADER_OR_FOLLOWER otherwise).
	Partition func(p, epoch int32) (Partition, error)
	// CreateTopic creates __consumer_offsets.
	CreateTopic func(ctx context.Context) error
	Logger      *slog.Logger
	Now         func() time.Time
}

// Coordinator routes group requests to shards.
type Coordinator struct {
	cfg Config
	log *slog.Logger
	rt  *runtime[*shard]

	mu struct {
		sync.Mutex
		creating chan struct{} // closed when a creation attempt ends
		topics   topicsCache
	}
}

// ErrClosed is returned once the coordinator has stopped.
var ErrClosed = errors.New("coordinator: closed")

// New returns a coordinator; Start loads the shards of an existing topic.
func New(cfg Config) (*Coordinator, error) {
	if err := cfg.Group.Validate(); err != nil {
		return nil, err
	}
	if cfg.NumPartitions < 1 {
		return nil, fmt.Errorf("coordinator: offsets.topic.num.partitions %d must be at least 1", cfg.NumPartitions)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RetentionCheck <= 0 {
		cfg.RetentionCheck = 10 * time.Minute
	}
	c := &Coordinator{cfg: cfg, log: cfg.Logger}
	c.rt = newRuntime(Topic, cfg.NodeID, cfg.Image, func(p, epoch int32, ctx context.Context) *shard { return newShard(c, p, epoch, ctx) })
	return c, nil
}

// Start loads every shard this node leads, if the topic exists.
func (c *Coordinator) Start() {
	c.rt.follow()
}

// Follow loads the shards of the partitions this node has become leader
// of and unloads the others; the broker calls it on every metadata image.
func (c *Coordinator) Follow() {
	c.rt.follow()
}

// Close stops every shard; parked requests get NOT_COORDINATOR.
func (c *Coordinator) Close() {
	if c == nil {
		return
	}
	c.rt.close()
}

// PartitionFor is the partition of __consumer_offsets that holds a group:
// abs(Java's String.hashCode) modulo the partition count, as in Kafka.
func PartitionFor(groupID string, partitions int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(groupID)) {
		h = 31*h + int32(u)
	}
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

func (c *Coordinator) partitionFor(groupID string) int32 {
	return PartitionFor(groupID, c.cfg.NumPartitions)
}

func (c *Coordinator) topicExists() bool {
	return c.cfg.Image().Topic(Topic) != nil
}

// ensureTopic creates __consumer_offsets if it does not exist, waiting for
// the creation (one at a time) and for the shards to start loading.
func (c *Coordinator) ensureTopic(ctx context.Context) error {
	for !c.topicExists() {
		wait, err := c.creation()
		if err != nil {
			return err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", kerr.CoordinatorNotAvailable, ctx.Err())
		}
		if !c.topicExists() {
			return fmt.Errorf("%w: %s is not created yet", kerr.CoordinatorNotAvailable, Topic)
		}
	}
	return nil
}

// creation is the creation attempt under way, starting one if none is.
func (c *Coordinator) creation() (chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rt.closed() {
		return nil, ErrClosed
	}
	if c.mu.creating == nil {
		wait := make(chan struct{})
		if !c.rt.spawn(func() { c.create(wait) }) {
			return nil, ErrClosed
		}
		c.mu.creating = wait
	}
	return c.mu.creating, nil
}

func (c *Coordinator) create(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-c.rt.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := c.cfg.CreateTopic(ctx); err != nil {
		c.log.Warn("creating "+Topic, "err", err)
	} else {
		c.log.Info("created "+Topic, "partitions", c.cfg.NumPartitions)
	}
	c.mu.Lock()
	c.mu.creating = nil
	c.mu.Unlock()
	close(done)
	c.rt.follow()
}

// Coordinator returns the node coordinating a group (this one, once its
// partition is hosted), creating __consumer_offsets on first use.
func (c *Coordinator) Coordinator(ctx context.Context, groupID string) (int32, error) {
	if err := c.ensureTopic(ctx); err != nil {
		return -1, err
	}
	return c.rt.coordinator(c.partitionFor(groupID))
}
