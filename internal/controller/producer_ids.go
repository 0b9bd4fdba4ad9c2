package controller

// Producer id blocks (KIP-98 producer ids, KIP-730 allocation through the
// controller). The controller hands a broker a block of ProducerIDBlockSize
// ids by committing a ProducerIdsRecord that moves the cluster's next id
// past the block, as Kafka's ProducerIdControlManager does; the broker
// gives ids out of its block locally and asks for the next block when the
// block runs out (Kafka's RPCProducerIdManager). Because the record is
// committed before any id of its block is used, an id is never handed out
// twice, across controller and broker restarts included: a restarted
// broker's unused ids are skipped, never reused.

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// ProducerIDBlockSize is the ids in one block (Kafka's
// ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE).
const ProducerIDBlockSize = 1000

// ProducerIDBlock is the ids [First, First+Size).
type ProducerIDBlock struct {
	First int64
	Size  int32
}

// AllocateProducerIDs answers Kafka's AllocateProducerIds: the next block
// for a registered broker at its current epoch (STALE_BROKER_EPOCH
// otherwise), committed before it returns.
func (c *Controller) AllocateProducerIDs(ctx context.Context, brokerID int32, brokerEpoch int64) (ProducerIDBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	im := c.store.Image()
	b, ok := im.Broker(brokerID)
	switch {
	case !ok:
		return ProducerIDBlock{}, errorf(kerr.BrokerIDNotRegistered, "broker %d is not registered", brokerID)
	case b.Epoch != brokerEpoch:
		return ProducerIDBlock{}, errorf(kerr.StaleBrokerEpoch, "broker %d is at epoch %d, not %d", brokerID, b.Epoch, brokerEpoch)
	}
	first := im.NextProducerID()
	if first > math.MaxInt64-ProducerIDBlockSize {
		return ProducerIDBlock{}, errorf(kerr.UnknownServerError, "exhausted all producer ids")
	}
	rec := metadata.ProducerIDsRecord{BrokerID: brokerID, BrokerEpoch: brokerEpoch, NextProducerID: first + ProducerIDBlockSize}
	if err := c.propose(ctx, []metadata.Record{{ProducerIDs: &rec}}); err != nil {
		return ProducerIDBlock{}, err
	}
	return ProducerIDBlock{First: first, Size: ProducerIDBlockSize}, nil
}

// ProducerIDs gives out a broker's producer ids one at a time from its
// current block, fetching the next block when the current one is used up.
// Safe for concurrent use; a fetch runs under the lock, so callers wait for
// it rather than racing to allocate two blocks.
type ProducerIDs struct {
	allocate func(ctx context.Context) (ProducerIDBlock, error)

	mu    sync.Mutex
	next  int64
	limit int64 // next == limit: the block is used up
}

// NewProducerIDs takes blocks from allocate (a call to the controller's
// AllocateProducerIDs with this broker's id and epoch).
func NewProducerIDs(allocate func(ctx context.Context) (ProducerIDBlock, error)) *ProducerIDs {
	return &ProducerIDs{allocate: allocate}
}

// allocateTimeout bounds a block's allocation: a caller that gets no id
// answers a retriable error, and the client asks again.
const allocateTimeout = 5 * time.Second

// Next returns an id never returned before by any broker. Its errors are
// the controller's (wrapping kerr codes); callers answer any other error
// with COORDINATOR_LOAD_IN_PROGRESS, as Kafka does while it waits for a
// block. The shape matches the transaction coordinator's ProducerIDs.
func (p *ProducerIDs) Next() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == p.limit {
		ctx, cancel := context.WithTimeout(context.Background(), allocateTimeout)
		b, err := p.allocate(ctx)
		cancel()
		if err != nil {
			return -1, err
		}
		p.next, p.limit = b.First, b.First+int64(b.Size)
	}
	id := p.next
	p.next++
	return id, nil
}
