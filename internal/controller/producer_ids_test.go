package controller

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

func TestAllocateProducerIDsCommitsDisjointBlocks(t *testing.T) {
	c, store, prop := newController(t, 1, 2)
	ctx := context.Background()
	b1, err := c.AllocateProducerIDs(ctx, 1, 0)
	if err != nil || b1 != (ProducerIDBlock{First: 0, Size: 1000}) {
		t.Fatalf("first block %+v, %v", b1, err)
	}
	b2, err := c.AllocateProducerIDs(ctx, 2, 0)
	if err != nil || b2.First != 1000 {
		t.Fatalf("second block %+v, %v", b2, err)
	}
	if store.Image().NextProducerID() != 2000 {
		t.Fatalf("image next id %d", store.Image().NextProducerID())
	}
	if _, err := c.AllocateProducerIDs(ctx, 1, 7); code(err) != kerr.StaleBrokerEpoch {
		t.Fatalf("stale epoch: %v", err)
	}
	if _, err := c.AllocateProducerIDs(ctx, 9, 0); code(err) != kerr.BrokerIDNotRegistered {
		t.Fatalf("unknown broker: %v", err)
	}
	// A failed proposal hands out nothing, and the next block is still
	// the one after the last committed.
	prop.fail = errors.New("no quorum")
	if _, err := c.AllocateProducerIDs(ctx, 1, 0); err == nil {
		t.Fatal("allocation without a quorum succeeded")
	}
	prop.fail = nil
	if b, err := c.AllocateProducerIDs(ctx, 1, 0); err != nil || b.First != 2000 {
		t.Fatalf("after a failed proposal %+v, %v", b, err)
	}

	// A controller restarted on a replay of the same log continues after
	// the last committed block.
	snap, err := store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	store2 := metadata.NewStore()
	if err := store2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	c2 := New(Config{}, store2, &logProposer{store: store2, index: store.Image().Index})
	if b, err := c2.AllocateProducerIDs(ctx, 1, 0); err != nil || b.First != 3000 {
		t.Fatalf("after restart %+v, %v", b, err)
	}
}

func TestProducerIDsNeverRepeat(t *testing.T) {
	c, _, _ := newController(t, 1)
	calls := 0
	ids := NewProducerIDs(func(ctx context.Context) (ProducerIDBlock, error) {
		calls++
		return c.AllocateProducerIDs(ctx, 1, 0)
	})
	seen := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 600 {
				id, err := ids.Next()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("id %d given twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 2400 || calls != 3 {
		t.Fatalf("%d ids from %d blocks, want 2400 from 3", len(seen), calls)
	}
	// A new manager (a restarted broker) starts with a new block.
	ids2 := NewProducerIDs(func(ctx context.Context) (ProducerIDBlock, error) { return c.AllocateProducerIDs(ctx, 1, 0) })
	if id, err := ids2.Next(); err != nil || id != 3000 {
		t.Fatalf("restarted manager's first id %d, %v", id, err)
	}
}
