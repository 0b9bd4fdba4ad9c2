package partition

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/log"
)

// settle lets fake time pass so that fetchers back off, retry and long
// poll, then waits for every goroutine to block.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func wantISR(t *testing.T, c *cluster, want ...int32) {
	t.Helper()
	if got := c.state().ISR; !slices.Equal(got, want) {
		t.Fatalf("ISR %v, want %v", got, want)
	}
}

func logBytes(t *testing.T, p *Partition) []byte {
	t.Helper()
	l := p.Log()
	b, err := l.Read(l.LogStartOffset(), 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The high watermark waits for every ISR member; a member that stops
// fetching leaves the ISR after replica.lag.time.max.ms (then the high
// watermark moves), and joins again once it caught up.
func TestISRShrinksAfterLagAndExpandsOnCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2, 3)
		synctest.Wait()
		c.partitionNet(1, 3, true)
		next := c.produce(1, "a", "b")
		settle(time.Second)
		leader := c.partition(1)
		if hw := leader.HighWatermark(); hw != 0 {
			t.Fatalf("high watermark %d without broker 3, an ISR member", hw)
		}
		if leo := c.partition(2).Log().LogEndOffset(); leo != next {
			t.Fatalf("broker 2 log end %d, want %d", leo, next)
		}
		c.manager(1).CheckISR(time.Now())
		synctest.Wait()
		wantISR(t, c, 1, 2, 3) // not lagging long enough yet
		settle(testLag)
		c.manager(1).CheckISR(time.Now())
		synctest.Wait()
		wantISR(t, c, 1, 2)
		if hw := leader.HighWatermark(); hw != next {
			t.Fatalf("high watermark %d after the shrink, want %d", hw, next)
		}
		c.partitionNet(1, 3, false)
		settle(time.Second)
		wantISR(t, c, 1, 2, 3)
		if leo := c.partition(3).Log().LogEndOffset(); leo != next {
			t.Fatalf("broker 3 log end %d, want %d", leo, next)
		}
	})
}

// acks=all returns once every ISR member has the batch, and times out
// (REQUEST_TIMED_OUT) while one cannot fetch.
func TestAcksAllWaitsForEveryISRMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2, 3)
		synctest.Wait()
		next := c.produce(1, "a")
		if err := c.partition(1).WaitReplicated(context.Background(), next); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int32{2, 3} {
			if leo := c.partition(id).Log().LogEndOffset(); leo < next {
				t.Fatalf("acknowledged before broker %d had it (log end %d)", id, leo)
			}
		}
		c.partitionNet(1, 3, true)
		next = c.produce(1, "b")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := c.partition(1).WaitReplicated(ctx, next); !errors.Is(err, kerr.RequestTimedOut) {
			t.Fatalf("got %v, want REQUEST_TIMED_OUT", err)
		}
	})
}

// min.insync.replicas: below it, acks=all is refused before the append;
// an acks=all batch appended with enough replicas whose ISR then shrinks
// below it times out as Kafka's does (REQUEST_TIMED_OUT), since the high
// watermark does not move while under it (KIP-966).
func TestMinInsyncReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2, 3)
		c.setMinISR(3)
		synctest.Wait()
		leader := c.partition(1)
		c.partitionNet(1, 3, true)
		a, err := leader.AppendAcks(batch(t, 1, "a"), -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := leader.Commit(a.Next); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*testLag)
			defer cancel()
			errc <- leader.WaitReplicated(ctx, a.Next)
		}()
		settle(testLag + time.Second)
		c.manager(1).CheckISR(time.Now())
		synctest.Wait()
		wantISR(t, c, 1, 2)
		if err := <-errc; !errors.Is(err, kerr.RequestTimedOut) {
			t.Fatalf("got %v, want REQUEST_TIMED_OUT", err)
		}
		if hw := leader.HighWatermark(); hw != 0 {
			t.Fatalf("high watermark %d under min ISR", hw)
		}
		leo := leader.Log().LogEndOffset()
		if _, err := leader.AppendAcks(batch(t, 1, "b"), -1); !errors.Is(err, kerr.NotEnoughReplicas) {
			t.Fatalf("got %v, want NOT_ENOUGH_REPLICAS", err)
		}
		if got := leader.Log().LogEndOffset(); got != leo {
			t.Fatalf("refused batch appended: log end %d -> %d", leo, got)
		}
		c.produce(1, "c") // acks=1 is still taken
	})
}

// KIP-101: leader A writes two batches at epoch 1, follower B has the
// first; A dies, B leads at epoch 2 and writes; A comes back, truncates its
// unreplicated batch (diverging epoch, KIP-320) and takes B's.
func TestKIP101RestartedLeaderTruncatesUnreplicatedBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2)
		synctest.Wait()
		c.produce(1, "m1")
		settle(time.Second)
		c.partitionNet(1, 2, true)
		c.produce(1, "m2")
		fsA := c.kill(1)
		c.elect(2, 2)
		next := c.produce(2, "m3")
		c.partitionNet(1, 2, false)
		c.boot(1, fsA)
		settle(time.Second)
		a, b := c.partition(1), c.partition(2)
		if !bytes.Equal(logBytes(t, a), logBytes(t, b)) || a.Log().LogEndOffset() != next {
			t.Fatalf("broker 1 log end %d differs from the leader's (%d)", a.Log().LogEndOffset(), next)
		}
		if got, want := a.Log().Epochs(), []log.EpochEntry{{Epoch: 1, StartOffset: 0}, {Epoch: 2, StartOffset: 1}}; !slices.Equal(got, want) {
			t.Fatalf("broker 1 epochs %v, want %v", got, want)
		}
		if a.HighWatermark() != next {
			t.Fatalf("broker 1 high watermark %d, want %d", a.HighWatermark(), next)
		}
		wantISR(t, c, 2, 1)
	})
}

// A leader that loses leadership fails its waiting acks=all produces
// (NOT_LEADER_OR_FOLLOWER), refuses appends, and as a follower truncates
// the batch no one else has; clients at the old epoch are fenced.
func TestLeadershipMoveFailsWaitersAndTruncates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2)
		synctest.Wait()
		c.partitionNet(1, 2, true)
		next := c.produce(1, "lost")
		errc := make(chan error, 1)
		go func() { errc <- c.partition(1).WaitReplicated(context.Background(), next) }()
		synctest.Wait()
		c.elect(2, 2)
		if err := <-errc; !errors.Is(err, ErrNotLeader) {
			t.Fatalf("waiting acks=all: got %v, want NOT_LEADER_OR_FOLLOWER", err)
		}
		if _, err := c.partition(1).Append(batch(t, 1, "x")); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("append on the old leader: %v", err)
		}
		if err := c.partition(2).CheckEpoch(1); !errors.Is(err, ErrFenced) {
			t.Fatalf("epoch 1 on the new leader: %v", err)
		}
		c.partitionNet(1, 2, false)
		settle(time.Second)
		if leo := c.partition(1).Log().LogEndOffset(); leo != 0 {
			t.Fatalf("broker 1 kept the unreplicated batch: log end %d", leo)
		}
		next = c.produce(2, "kept")
		settle(time.Second)
		if !bytes.Equal(logBytes(t, c.partition(1)), logBytes(t, c.partition(2))) {
			t.Fatal("broker 1's log differs from the leader's")
		}
	})
}

// A follower whose log end is below the leader's log start (OFFSET_OUT_OF_
// RANGE) restarts its log there, even inside a batch, and catches up.
func TestFollowerBelowLeaderLogStartRestartsThere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2)
		synctest.Wait()
		c.partitionNet(1, 2, true)
		var next int64
		for range 5 {
			next = c.produce(1, "x", "y")
		}
		settle(testLag + time.Second)
		c.manager(1).CheckISR(time.Now())
		synctest.Wait()
		wantISR(t, c, 1)
		c.mu.Lock()
		dir := c.nodes[1].dir
		c.mu.Unlock()
		if err := dir.DeleteRecords(c.partition(1).TP, 5); err != nil {
			t.Fatal(err)
		}
		c.partitionNet(1, 2, false)
		settle(time.Second)
		f := c.partition(2)
		if start, leo, hw := f.Log().LogStartOffset(), f.Log().LogEndOffset(), f.HighWatermark(); start != 5 || leo != next || hw != next {
			t.Fatalf("follower log start %d, end %d, high watermark %d; want 5, %d, %d", start, leo, hw, next, next)
		}
		wantISR(t, c, 1, 2)
	})
}

// A follower has batches above the leader's high watermark but reports the
// leader's high watermark, and serves no consumer.
func TestFollowerNeverExposesAboveLeaderHighWatermark(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2, 3)
		synctest.Wait()
		c.partitionNet(1, 3, true)
		next := c.produce(1, "a")
		settle(time.Second)
		f := c.partition(2)
		if leo, hw := f.Log().LogEndOffset(), f.HighWatermark(); leo != next || hw != 0 {
			t.Fatalf("follower log end %d, high watermark %d; want %d and 0", leo, hw, next)
		}
		if _, err := f.ReadFetch(0, 1<<20, true); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("consumer read on a follower: %v", err)
		}
		if _, err := f.ListOffset(Latest, false); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("ListOffsets on a follower: %v", err)
		}
		c.partitionNet(1, 3, false)
		settle(2 * time.Second)
		if hw := f.HighWatermark(); hw != next {
			t.Fatalf("follower high watermark %d, want %d", hw, next)
		}
	})
}

// A replica that is not assigned gets NOT_LEADER_OR_FOLLOWER, or
// UNKNOWN_LEADER_EPOCH when it names the current epoch (Kafka's
// followerReplicaOrThrow); a follower whose last fetched epoch ended
// earlier on the leader gets a diverging epoch and no records.
func TestReadReplicaChecks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2)
		synctest.Wait()
		next := c.produce(1, "a", "b")
		p := c.partition(1)
		if _, err := p.ReadReplica(ReplicaFetch{ReplicaID: 9, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1}); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("unassigned replica: %v", err)
		}
		if _, err := p.ReadReplica(ReplicaFetch{ReplicaID: 9, CurrentLeaderEpoch: 1, LastFetchedEpoch: -1}); !errors.Is(err, ErrStaleEpoch) {
			t.Fatalf("unassigned replica naming the epoch: %v", err)
		}
		res, err := p.ReadReplica(ReplicaFetch{ReplicaID: 2, BrokerEpoch: brokerEpoch(2), CurrentLeaderEpoch: 1,
			Offset: next + 3, LastFetchedEpoch: 1, LogStartOffset: 0, MaxBytes: 1 << 20})
		if err != nil || res.DivergingEpoch != 1 || res.DivergingEnd != next || res.Records != nil {
			t.Fatalf("diverging: %v, epoch %d end %d, %d bytes", err, res.DivergingEpoch, res.DivergingEnd, len(res.Records))
		}
		if _, err := c.partition(2).ReadReplica(ReplicaFetch{ReplicaID: 1, LastFetchedEpoch: -1}); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("replica fetch from a follower: %v", err)
		}
	})
}

// replication-offset-checkpoint: a leader restarted while its follower
// cannot fetch (so fetches cannot raise the high watermark) starts at the
// checkpointed high watermark, not at the log start; a checkpoint beyond
// the log end (a log cut by a crash) is lowered to it.
func TestHighWatermarkCheckpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, 2)
		synctest.Wait()
		next := c.produce(1, "a", "b", "c")
		settle(time.Second)
		if hw := c.partition(1).HighWatermark(); hw != next {
			t.Fatalf("high watermark %d before the restart, want %d", hw, next)
		}
		c.partitionNet(1, 2, true)
		c.manager(1).RecordHighWatermarks()
		fs := c.kill(1) // closing the directory writes the checkpoints
		c.boot(1, fs)
		if hw := c.partition(1).HighWatermark(); hw != next {
			t.Fatalf("restarted leader's high watermark %d, want the checkpointed %d", hw, next)
		}

		c.partition(1).Log().SetHighWatermark(next + 100)
		fs = c.kill(1)
		c.boot(1, fs)
		if hw := c.partition(1).HighWatermark(); hw != next {
			t.Fatalf("a checkpoint past the log end %d gave high watermark %d", next, hw)
		}
	})
}
