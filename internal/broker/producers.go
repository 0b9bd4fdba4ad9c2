package broker

// Idempotent producers (KIP-98): the broker's block of producer ids, taken
// from the controller through the metadata quorum; DescribeProducers over
// the partitions' producer state; and the expiry of idle producers
// (producer.id.expiration.ms, checked every
// producer.id.expiration.check.interval.ms).

import (
	"context"
	"fmt"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/internal/controller"
	"github.com/samsa-io/samsa/internal/partition"
)

// newProducerIDs allocates blocks for this node at its current broker
// epoch (the one its registration committed).
func (b *Broker) newProducerIDs() *controller.ProducerIDs {
	return controller.NewProducerIDs(func(ctx context.Context) (controller.ProducerIDBlock, error) {
		rec, ok := b.store.Image().Broker(b.cfg.NodeID)
		if !ok {
			return controller.ProducerIDBlock{}, fmt.Errorf("broker %d is not registered yet", b.cfg.NodeID)
		}
		return b.requestProducerIDs(ctx, rec.Epoch)
	})
}

// producers answers DescribeProducers for one partition.
func (b *Broker) producers(topic string, p int32) ([]api.ActiveProducer, error) {
	part, err := b.parts.Get(topic, p)
	if err != nil {
		return nil, err
	}
	if !part.IsLeader() {
		return nil, partition.ErrNotLeader
	}
	entries := part.Log().Producers()
	out := make([]api.ActiveProducer, len(entries))
	for i, e := range entries {
		out[i] = api.ActiveProducer{ProducerID: e.ProducerID, Epoch: e.Epoch, LastSequence: e.LastSeq(),
			LastTimestamp: e.LastTimestamp, CoordinatorEpoch: e.CoordinatorEpoch, CurrentTxnStartOffset: e.CurrentTxnFirstOffset}
	}
	return out, nil
}

// expireProducers forgets producers idle for producer.id.expiration.ms.
func (b *Broker) expireProducers() error {
	n := 0
	for _, p := range b.parts.Partitions() {
		n += p.Log().ExpireProducers(b.cfg.ProducerIDExpiration)
	}
	if n > 0 {
		b.log.Info("expired idle producer ids", "count", n)
	}
	return nil
}
