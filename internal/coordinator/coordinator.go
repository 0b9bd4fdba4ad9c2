// Package coordinator runs the group coordinator: one single-owner shard
// per partition of __consumer_offsets (Kafka's CoordinatorRuntime), each a
// goroutine that owns a group.Shard, appends its records to the partition
// and answers requests once those records are committed. A shard's state is
// rebuilt by replaying its partition when it loads.
//
// The runtime commits every append before it takes the next operation, so
// every response (reads included) is delivered after everything appended
// before it is durable. On an append failure the operation's requests get
// NOT_COORDINATOR, the shard unloads and rebuilds itself by replay.
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

// Partition is one hosted partition of __consumer_offsets, led by this
// node. Errors wrap kerr values.
type Partition interface {
	// Append appends a batch as the leader and returns the offset after it.
	Append(batch []byte) (next int64, err error)
	// Commit returns once every offset before next is committed.
	Commit(next int64) error
	// Read returns whole batches from offset up to the high watermark.
	Read(offset int64, maxBytes int) (batches []byte, hw int64, err error)
	// AppendMarker appends a transaction marker (record.BuildEndTxn) as the
	// leader, checked with transaction version tv's rules, and returns once
	// it is committed.
	AppendMarker(batch []byte, tv int8) error
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
	// leads it.
	Partition func(p int32) (Partition, error)
	// CreateTopic creates __consumer_offsets.
	CreateTopic func(ctx context.Context) error
	Logger      *slog.Logger
	Now         func() time.Time
}

// Coordinator routes group requests to shards.
type Coordinator struct {
	cfg  Config
	log  *slog.Logger
	stop chan struct{}
	wg   sync.WaitGroup

	mu struct {
		sync.Mutex
		shards   map[int32]*shard
		closed   bool
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
	c := &Coordinator{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	c.mu.shards = map[int32]*shard{}
	return c, nil
}

// Start loads every shard this node leads, if the topic exists.
func (c *Coordinator) Start() {
	if c.topicExists() {
		c.loadAll()
	}
}

// Close stops every shard; parked requests get NOT_COORDINATOR.
func (c *Coordinator) Close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.mu.closed {
		c.mu.Unlock()
		return
	}
	c.mu.closed = true
	c.mu.Unlock()
	close(c.stop)
	c.wg.Wait()
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
		c.mu.Lock()
		if c.mu.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		wait := c.mu.creating
		if wait == nil {
			wait = make(chan struct{})
			c.mu.creating = wait
			c.wg.Add(1)
			go c.create(wait)
		}
		c.mu.Unlock()
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

func (c *Coordinator) create(done chan struct{}) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
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
	if c.topicExists() {
		c.loadAll()
	}
}

// loadAll starts a shard for every partition of the topic.
func (c *Coordinator) loadAll() {
	for p := range c.cfg.NumPartitions {
		c.shardFor(p)
	}
}

// shardFor returns partition p's shard, starting it if needed.
func (c *Coordinator) shardFor(p int32) (*shard, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return nil, ErrClosed
	}
	if s := c.mu.shards[p]; s != nil {
		return s, nil
	}
	s := newShard(c, p)
	c.mu.shards[p] = s
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		s.run()
	}()
	return s, nil
}

// Coordinator returns the node coordinating a group (this one, once its
// partition is hosted), creating __consumer_offsets on first use.
func (c *Coordinator) Coordinator(ctx context.Context, groupID string) (int32, error) {
	if err := c.ensureTopic(ctx); err != nil {
		return -1, err
	}
	p := c.partitionFor(groupID)
	t := c.cfg.Image().Topic(Topic)
	if t == nil || int(p) >= len(t.Partitions) {
		return -1, fmt.Errorf("%w: %s has no partition %d", kerr.CoordinatorNotAvailable, Topic, p)
	}
	leader := t.Partitions[p].Leader
	if leader < 0 {
		return -1, fmt.Errorf("%w: partition %d has no leader", kerr.CoordinatorNotAvailable, p)
	}
	if leader == c.cfg.NodeID {
		if _, err := c.shardFor(p); err != nil {
			return -1, fmt.Errorf("%w: %v", kerr.CoordinatorNotAvailable, err)
		}
	}
	return leader, nil
}
