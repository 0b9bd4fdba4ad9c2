package samsatest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// createAssigned creates a one-partition topic on the given replicas.
func createAssigned(ctx context.Context, cl *kgo.Client, topic string, timeout time.Duration, replicas []int32, configs map[string]string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(timeout.Milliseconds())
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Partition, a.Replicas = 0, replicas
	t.ReplicaAssignment = append(t.ReplicaAssignment, a)
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}

func awaitBrokers(t *testing.T, ctx context.Context, cl *kgo.Client, n int) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf("%d unfenced brokers", n), func() bool { return len(freshMetadata(t, ctx, cl).Brokers) == n })
}

// With the controller quorum down to one voter of three, metadata changes
// fail with an error while the remaining leader keeps serving its
// partition; once the quorum is back the cluster takes changes again.
func TestClusterQuorumMinority(t *testing.T) {
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, _ := clusterClient(t, c, kgo.SeedBrokers(c.Node(3).Addr()), kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	awaitBrokers(t, ctx, cl, 3)
	if err := createAssigned(ctx, cl, "solo", 10*time.Second, []int32{3}, map[string]string{"min.insync.replicas": "1"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	waitFor(t, ctx, "solo led by node 3", func() bool {
		m := freshMetadata(t, ctx, cl, "solo")
		return len(m.Topics[0].Partitions) == 1 && m.Topics[0].Partitions[0].Leader == 3
	})
	produceRange(t, ctx, cl, "solo", 0, 100)

	var wg sync.WaitGroup
	wg.Go(c.Node(1).Stop)
	wg.Go(c.Node(2).Stop)
	wg.Wait()
	start := time.Now()
	err := createAssigned(ctx, cl, "refused", 3*time.Second, []int32{3}, nil)
	if err == nil {
		t.Fatal("a topic was created without a quorum")
	}
	t.Logf("CreateTopics without a quorum: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if !slices.Contains([]error{kerr.RequestTimedOut, kerr.NotController}, err) {
		t.Errorf("CreateTopics without a quorum: %v, want REQUEST_TIMED_OUT or NOT_CONTROLLER", err)
	}
	produceRange(t, ctx, cl, "solo", 100, 200) // the leader still takes writes

	c.Node(1).Restart()
	c.Node(2).Restart()
	waitFor(t, ctx, "a topic created once the quorum is back", func() bool {
		return createAssigned(ctx, cl, "after", 5*time.Second, []int32{1, 2, 3}, nil) == nil
	})
	awaitBrokers(t, ctx, cl, 3)
	reader, _ := clusterClient(t, c, kgo.ConsumeTopics("solo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := readN(t, ctx, reader, 200)
	for i := range 200 {
		if seen[fmt.Sprint(i)] != 1 {
			t.Errorf("record %d read %d times, want once", i, seen[fmt.Sprint(i)])
		}
	}
}

func readN(t *testing.T, ctx context.Context, cl *kgo.Client, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for total := 0; total < n && ctx.Err() == nil; {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++; total++ })
	}
	return seen
}

// A partition moved from brokers {1,2,3} to {2,3,4} while an idempotent
// producer writes to it with acks=all: the move completes, and every
// acknowledged record reads back once.
func TestClusterReassignmentUnderLoad(t *testing.T) {
	c := samsatest.StartCluster(t, 4, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, adm := clusterClient(t, c)
	awaitBrokers(t, ctx, cl, 4)
	if err := createAssigned(ctx, cl, "moving", 10*time.Second, []int32{1, 2, 3}, nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			cl.Produce(ctx, &kgo.Record{Topic: "moving", Value: []byte(fmt.Sprint(i))}, func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("record %d: %v", i, err)
					return
				}
				acked.Add(1)
			})
		}
	})
	waitFor(t, ctx, "some acknowledged records", func() bool { return acked.Load() > 200 })
	var req kadm.AlterPartitionAssignmentsReq
	req.Assign("moving", 0, []int32{2, 3, 4})
	resps, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := resps.Error(); err != nil {
		t.Fatalf("reassign: %v", err)
	}
	waitFor(t, ctx, "the move to {2,3,4} to complete", func() bool {
		p := partitionState(t, ctx, cl, "moving")
		r := slices.Sorted(slices.Values(p.Replicas))
		return slices.Equal(r, []int32{2, 3, 4}) && len(p.ISR) == 3 && p.Leader != 1
	})
	left, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{"moving": {0: {}}})
	if err != nil || len(left) > 0 && len(left["moving"]) > 0 {
		t.Errorf("reassignments still listed after completion: %v %v", left, err)
	}
	before := acked.Load()
	waitFor(t, ctx, "writes after the move", func() bool { return acked.Load() > before+200 })
	close(stop)
	wg.Wait()
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	n := int(acked.Load())
	reader, _ := clusterClient(t, c, kgo.ConsumeTopics("moving"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := readN(t, ctx, reader, n)
	for i := range n {
		if seen[fmt.Sprint(i)] != 1 {
			t.Errorf("record %d read %d times, want once", i, seen[fmt.Sprint(i)])
		}
	}
	t.Logf("%d records acknowledged across the move", n)
}

// DescribeQuorum (through any broker) names the quorum's leader and every
// voter's progress; ElectLeaders moves a partition back to its preferred
// replica once that replica has caught up.
func TestClusterDescribeQuorumAndElectLeaders(t *testing.T) {
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, adm := clusterClient(t, c)
	awaitBrokers(t, ctx, cl, 3)

	q := describeQuorum(t, ctx, cl)
	if q.ErrorCode != 0 || q.LeaderID < 1 || q.LeaderID > 3 || len(q.CurrentVoters) != 3 || q.HighWatermark <= 0 {
		t.Fatalf("DescribeQuorum partition: %+v", q)
	}
	for _, v := range q.CurrentVoters {
		if v.LogEndOffset <= 0 {
			t.Errorf("voter %d has log end %d", v.ReplicaID, v.LogEndOffset)
		}
	}

	if err := createAssigned(ctx, cl, "pref", 10*time.Second, []int32{1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	produceRange(t, ctx, cl, "pref", 0, 50)
	c.Node(1).Restart() // leadership moves to 2 and stays there
	waitFor(t, ctx, "node 1 back in the ISR, not leading", func() bool {
		p := partitionState(t, ctx, cl, "pref")
		return len(p.ISR) == 3 && p.Leader != 1
	})
	res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pref": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res["pref"][0]; r.Err != nil {
		t.Fatalf("preferred election: %v", r.Err)
	}
	waitFor(t, ctx, "node 1 leading again", func() bool { return partitionState(t, ctx, cl, "pref").Leader == 1 })
	res, err = adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{"pref": {0: {}}})
	if err != nil || res["pref"][0].Err != kerr.ElectionNotNeeded {
		t.Errorf("second preferred election: %v %v, want ELECTION_NOT_NEEDED", err, res["pref"][0].Err)
	}
}
