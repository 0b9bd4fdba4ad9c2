package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/metadata"
)

// movingLeader is __consumer_offsets with one partition whose leader and
// epoch a test moves, shared by the coordinators of two nodes.
type movingLeader struct {
	id   metadata.UUID
	im   atomic.Pointer[metadata.Image]
	part *replPartition
}

func newMovingLeader(t *testing.T) *movingLeader {
	m := &movingLeader{id: metadata.NewUUID(), part: &replPartition{memPartition: &memPartition{}}}
	im, err := metadata.Empty().Apply(1, []metadata.Record{{Topic: &metadata.TopicRecord{Name: Topic, ID: m.id}}})
	if err != nil {
		t.Fatal(err)
	}
	m.im.Store(im)
	return m
}

// lead makes node the partition's leader at epoch.
func (m *movingLeader) lead(t *testing.T, node, epoch int32) {
	t.Helper()
	cur := m.im.Load()
	im, err := cur.Apply(cur.Index+1, []metadata.Record{{Partition: &metadata.PartitionRecord{
		TopicID: m.id, Partition: 0, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: node, LeaderEpoch: epoch}}})
	if err != nil {
		t.Fatal(err)
	}
	m.im.Store(im)
}

// coordinator is node's group coordinator; its partition is usable only
// at the epoch the image gives node.
func (m *movingLeader) coordinator(t *testing.T, node int32) *Coordinator {
	t.Helper()
	gc := group.DefaultConfig()
	gc.InitialRebalanceDelay = 0
	c, err := New(Config{
		NodeID: node, NumPartitions: 1, Group: gc, Image: m.im.Load,
		Partition: func(_, epoch int32) (Partition, error) {
			p := m.im.Load().Topic(Topic).Partitions[0]
			if p.Leader != node || p.LeaderEpoch != epoch {
				return nil, kerr.NotLeaderForPartition
			}
			return m.part, nil
		},
		CreateTopic: func(context.Context) error { return errors.New("exists") },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

// replPartition is a memPartition whose replication can fail.
type replPartition struct {
	*memPartition
	mu         sync.Mutex
	commitErrs []error // the next Commits' errors
}

func (r *replPartition) Commit(ctx context.Context, next int64) error {
	r.mu.Lock()
	var err error
	if len(r.commitErrs) > 0 {
		err, r.commitErrs = r.commitErrs[0], r.commitErrs[1:]
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return r.memPartition.Commit(ctx, next)
}

// eventually retries a request answered with a retriable code while a
// shard loads.
func eventually(t *testing.T, what string, try func() int16) int16 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code := try()
		if code != kerr.CoordinatorLoadInProgress.Code || time.Now().After(deadline) {
			return code
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A shard belongs to a leader epoch: when this node stops leading the
// partition its shard unloads and requests get NOT_COORDINATOR; when it
// leads again, at a newer epoch, a new shard loads what the other
// leader wrote meanwhile instead of serving its stale state.
func TestShardsFollowPartitionLeadership(t *testing.T) {
	m := newMovingLeader(t)
	m.lead(t, 1, 1)
	one, two := m.coordinator(t, 1), m.coordinator(t, 2)
	if code := eventually(t, "commit", func() int16 { return commit(t, one, "g", 5) }); code != 0 {
		t.Fatalf("commit on the leader: %v", kerr.ErrorForCode(code))
	}

	m.lead(t, 2, 2)
	one.Follow()
	two.Follow()
	if code := commit(t, one, "g", 6); code != kerr.NotCoordinator.Code {
		t.Fatalf("commit on the old leader: %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
	}
	if node, err := one.Coordinator(context.Background(), "g"); err != nil || node != 2 {
		t.Fatalf("FindCoordinator on the old leader: node %d, %v; want 2", node, err)
	}
	if code := eventually(t, "commit", func() int16 { return commit(t, two, "g", 7) }); code != 0 {
		t.Fatalf("commit on the new leader: %v", kerr.ErrorForCode(code))
	}

	m.lead(t, 1, 3)
	one.Follow()
	two.Follow()
	var got int64
	eventually(t, "fetch", func() int16 {
		g := one.OffsetFetch(context.Background(), "g", nil, nil, -1)
		if g.ErrorCode == 0 && len(g.Topics) > 0 {
			got = g.Topics[0].Partitions[0].Offset
		}
		return g.ErrorCode
	})
	if got != 7 {
		t.Fatalf("offset %d on node 1 leading again, want 7 (the other leader's commit)", got)
	}
}

// A partition without a leader has no coordinator: COORDINATOR_NOT_AVAILABLE.
func TestNoLeaderNoCoordinator(t *testing.T) {
	m := newMovingLeader(t)
	m.lead(t, -1, 1)
	c := m.coordinator(t, 1)
	if _, err := c.Coordinator(context.Background(), "g"); !errors.Is(err, kerr.CoordinatorNotAvailable) {
		t.Fatalf("coordinator of a leaderless partition: %v, want COORDINATOR_NOT_AVAILABLE", err)
	}
}

// A write the in-sync replicas did not take in time is answered as
// Kafka's coordinators answer it: COORDINATOR_NOT_AVAILABLE for too few
// replicas or a timeout, NOT_COORDINATOR for a lost leadership; the shard
// then reloads what is committed and takes the next write.
func TestReplicationFailuresAnswerAsKafka(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want int16
	}{
		{"isr-shrank", fmt.Errorf("%w: isr", kerr.NotEnoughReplicasAfterAppend), kerr.CoordinatorNotAvailable.Code},
		{"timeout", fmt.Errorf("%w: slow", kerr.RequestTimedOut), kerr.CoordinatorNotAvailable.Code},
		{"isr-small", kerr.NotEnoughReplicas, kerr.CoordinatorNotAvailable.Code},
		{"not-leader", kerr.NotLeaderForPartition, kerr.NotCoordinator.Code},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newMovingLeader(t)
			m.lead(t, 1, 1)
			co := m.coordinator(t, 1)
			if code := eventually(t, "commit", func() int16 { return commit(t, co, "g", 1) }); code != 0 {
				t.Fatal(kerr.ErrorForCode(code))
			}
			m.part.mu.Lock()
			m.part.commitErrs = []error{c.err}
			m.part.mu.Unlock()
			if code := commit(t, co, "g", 2); code != c.want {
				t.Fatalf("commit: %v, want %v", kerr.ErrorForCode(code), kerr.ErrorForCode(c.want))
			}
			if code := eventually(t, "commit", func() int16 { return commit(t, co, "g", 3) }); code != 0 {
				t.Fatalf("commit after the reload: %v", kerr.ErrorForCode(code))
			}
		})
	}
}
