package coordinator

// The transaction coordinator's runtime: one single-owner shard per
// partition of __transaction_state led by this node, each a goroutine that
// owns a txn.Shard, appends its records, delivers responses and sends
// markers once those records are committed, and rebuilds its state by
// replay when it loads or an append fails (the group coordinator's model,
// sharing its shard runtime, committer, Partition and PartitionFor). See
// package txn for what the API layer must call.

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
	// Partition returns partition p of __transaction_state if this node
	// leads it at leader epoch epoch (NOT_LEADER_OR_FOLLOWER otherwise).
	Partition func(p, epoch int32) (Partition, error)
	// CreateTopic creates __transaction_state.
	CreateTopic func(ctx context.Context) error
	Markers     MarkerWriter
	Logger      *slog.Logger
	Now         func() time.Time
}

// TxnCoordinator routes transaction requests to shards.
type TxnCoordinator struct {
	cfg TxnConfig
	log *slog.Logger
	rt  *runtime[*txnShard]

	create sync.Mutex // one topic creation at a time
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
	c := &TxnCoordinator{cfg: cfg, log: cfg.Logger}
	c.rt = newRuntime(TxnTopic, cfg.NodeID, cfg.Image, func(p, epoch int32, ctx context.Context) *txnShard { return newTxnShard(c, p, epoch, ctx) })
	return c, nil
}

// Start loads every shard this node leads, if the topic exists.
func (c *TxnCoordinator) Start() {
	c.rt.follow()
}

// Follow loads the shards of the partitions this node has become leader
// of and unloads the others; the broker calls it on every metadata image.
func (c *TxnCoordinator) Follow() {
	c.rt.follow()
}

// Close stops every shard; waiting requests get NOT_COORDINATOR.
func (c *TxnCoordinator) Close() {
	c.rt.close()
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
	return c.rt.coordinator(c.PartitionFor(transactionalID))
}

// txnFunc is one operation on a shard's state.
type txnFunc func(s *txn.Shard, now time.Time, h txn.Handle) txn.Effects

// do runs fn on the shard of an id and waits for its response.
func (c *TxnCoordinator) do(ctx context.Context, id string, req kmsg.Request, fn txnFunc) kmsg.Response {
	s, ok := c.rt.ledShard(c.PartitionFor(id))
	if !ok {
		return txnErrorResponse(req, kerr.NotCoordinator.Code)
	}
	op := txnOp{call: newCall(req), fn: fn}
	r, err := s.submit(ctx, c.rt.stop, op, op.resp)
	if err != nil {
		return txnErrorResponse(req, submitCode(err))
	}
	return r
}
