package coordinator

// The transaction coordinator's runtime: one single-owner shard per
// partition of __transaction_state led by this node, each a goroutine that
// owns a txn.Shard, appends its records, delivers responses and sends
// markers once those records are committed, and rebuilds its state by
// replay when it loads or an append fails (the group coordinator's model,
// sharing its committer, Partition and PartitionFor). See package txn for
// what the API layer must call.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/txn"
	"github.com/samsa-io/samsa/internal/metadata"
)

// TxnTopic is the internal topic of transaction state.
const TxnTopic = "__transaction_state"

// MarkerWriter writes transaction markers: the broker's adapter appends a
// control batch to each partition this node leads and sends
// WriteTxnMarkers to the leaders of the others. It returns one result per
// partition of m (Gone for a partition missing from the metadata image),
// and is called off the shard's goroutine.
type MarkerWriter interface {
	WriteMarkers(ctx context.Context, m txn.Marker) []txn.MarkerResult
}

// TxnConfig is what the transaction coordinator needs from the broker.
type TxnConfig struct {
	NodeID int32
	// NumPartitions is transaction.state.log.num.partitions (50).
	NumPartitions int32
	// OffsetsPartitions is offsets.topic.num.partitions, for AddOffsetsToTxn.
	OffsetsPartitions int32
	Txn               txn.Config
	// AbortInterval is transaction.abort.timed.out.transaction.cleanup.interval.ms
	// (10 s); ExpireInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms (1 h).
	AbortInterval, ExpireInterval time.Duration
	Image                         func() *metadata.Image
	// Partition returns partition p of __transaction_state if this node leads it.
	Partition func(p int32) (Partition, error)
	// CreateTopic creates __transaction_state.
	CreateTopic func(ctx context.Context) error
	Markers     MarkerWriter
	Logger      *slog.Logger
	Now         func() time.Time
}

// TxnCoordinator routes transaction requests to shards.
type TxnCoordinator struct {
	cfg  TxnConfig
	log  *slog.Logger
	stop chan struct{}
	wg   sync.WaitGroup

	create sync.Mutex // one topic creation at a time
	mu     struct {
		sync.Mutex
		shards map[int32]*txnShard
		closed bool
	}
}

// NewTxn returns a transaction coordinator; Start loads its shards.
func NewTxn(cfg TxnConfig) (*TxnCoordinator, error) {
	if err := cfg.Txn.Validate(); err != nil {
		return nil, err
	}
	if cfg.NumPartitions < 1 || cfg.OffsetsPartitions < 1 || cfg.Markers == nil {
		return nil, fmt.Errorf("coordinator: transaction coordinator needs partition counts and a marker writer")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AbortInterval <= 0 {
		cfg.AbortInterval = 10 * time.Second
	}
	if cfg.ExpireInterval <= 0 {
		cfg.ExpireInterval = time.Hour
	}
	c := &TxnCoordinator{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	c.mu.shards = map[int32]*txnShard{}
	return c, nil
}

// Start loads every shard this node leads, if the topic exists.
func (c *TxnCoordinator) Start() {
	if t := c.cfg.Image().Topic(TxnTopic); t != nil {
		for p := range int32(len(t.Partitions)) {
			if t.Partitions[p].Leader == c.cfg.NodeID {
				c.shardFor(p)
			}
		}
	}
}

// Close stops every shard; waiting requests get NOT_COORDINATOR.
func (c *TxnCoordinator) Close() {
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

// PartitionFor is the partition of __transaction_state holding an id.
func (c *TxnCoordinator) PartitionFor(transactionalID string) int32 {
	return PartitionFor(transactionalID, c.cfg.NumPartitions)
}

// OffsetsPartitionFor is a group's partition of __consumer_offsets, the
// one AddOffsetsToTxn and TxnOffsetCommit add to a transaction.
func (c *TxnCoordinator) OffsetsPartitionFor(group string) int32 {
	return PartitionFor(group, c.cfg.OffsetsPartitions)
}

func (c *TxnCoordinator) shardFor(p int32) (*txnShard, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return nil, ErrClosed
	}
	if s := c.mu.shards[p]; s != nil {
		return s, nil
	}
	s := newTxnShard(c, p)
	c.mu.shards[p] = s
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		s.run()
	}()
	return s, nil
}

// Coordinator answers FindCoordinator(TRANSACTION): the node leading the
// id's partition, creating __transaction_state on first use.
func (c *TxnCoordinator) Coordinator(ctx context.Context, transactionalID string) (int32, error) {
	if c.cfg.Image().Topic(TxnTopic) == nil {
		c.create.Lock()
		if c.cfg.Image().Topic(TxnTopic) == nil {
			if err := c.cfg.CreateTopic(ctx); err != nil {
				c.log.Warn("creating "+TxnTopic, "err", err)
			}
		}
		c.create.Unlock()
	}
	t := c.cfg.Image().Topic(TxnTopic)
	p := c.PartitionFor(transactionalID)
	if t == nil || int(p) >= len(t.Partitions) || t.Partitions[p].Leader < 0 {
		return -1, fmt.Errorf("%w: %s partition %d is not available", kerr.CoordinatorNotAvailable, TxnTopic, p)
	}
	leader := t.Partitions[p].Leader
	if leader == c.cfg.NodeID {
		if _, err := c.shardFor(p); err != nil {
			return -1, fmt.Errorf("%w: %v", kerr.CoordinatorNotAvailable, err)
		}
	}
	return leader, nil
}

// txnFunc is one operation on a shard's state.
type txnFunc func(s *txn.Shard, now time.Time, h txn.Handle) txn.Effects

// do runs fn on the shard of an id and waits for its response.
func (c *TxnCoordinator) do(ctx context.Context, id string, req kmsg.Request, fn txnFunc) kmsg.Response {
	p := c.PartitionFor(id)
	t := c.cfg.Image().Topic(TxnTopic)
	if t == nil || int(p) >= len(t.Partitions) || t.Partitions[p].Leader != c.cfg.NodeID {
		return txnErrorResponse(req, kerr.NotCoordinator.Code)
	}
	s, err := c.shardFor(p)
	if err != nil {
		return txnErrorResponse(req, kerr.NotCoordinator.Code)
	}
	op := txnOp{fn: fn, req: req, resp: make(chan kmsg.Response, 1)}
	select {
	case s.ops <- op:
	case <-c.stop:
		return txnErrorResponse(req, kerr.NotCoordinator.Code)
	case <-ctx.Done():
		return txnErrorResponse(req, kerr.CoordinatorNotAvailable.Code)
	}
	select {
	case r := <-op.resp:
		return r
	case <-s.done:
		select {
		case r := <-op.resp:
			return r
		default:
			return txnErrorResponse(req, kerr.NotCoordinator.Code)
		}
	case <-ctx.Done():
		return txnErrorResponse(req, kerr.CoordinatorNotAvailable.Code)
	}
}
