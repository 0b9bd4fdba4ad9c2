package samsatest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// clusterWithTopic starts three nodes and creates topic on replicas 1, 2
// and 3; the context ends with the test, at most a minute from now.
func clusterWithTopic(t *testing.T, topic string) (*samsatest.Cluster, *kgo.Client, context.Context) {
	t.Helper()
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cl, _ := clusterClient(t, c)
	awaitBrokers(t, ctx, cl, 3)
	if err := createAssigned(ctx, cl, topic, 10*time.Second, []int32{1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	return c, cl, ctx
}

// KIP-951: a follower answers Produce and Fetch with NOT_LEADER_OR_FOLLOWER
// naming the leader and its epoch, and lists the leader's endpoint; the
// leader answers a fetch with a stale leader epoch FENCED_LEADER_EPOCH and
// the same hint.
func TestClusterLeaderHints(t *testing.T) {
	c, cl, ctx := clusterWithTopic(t, "hints")
	// A restart of the first leader moves leadership on, so the leader
	// epoch is past 0 and a stale one can be sent.
	waitFor(t, ctx, "the topic with its ISR full", func() bool {
		m := freshMetadata(t, ctx, cl, "hints")
		return m.Topics[0].ErrorCode == 0 && len(m.Topics[0].Partitions) == 1 && len(m.Topics[0].Partitions[0].ISR) == 3
	})
	c.Node(1).Restart()
	var state kmsg.MetadataResponseTopicPartition
	waitFor(t, ctx, "a new leader and the ISR full again", func() bool {
		state = partitionState(t, ctx, cl, "hints")
		return state.Leader != 1 && state.Leader > 0 && len(state.ISR) == 3
	})
	leader := c.Node(state.Leader)
	follower := pinnedClient(t, c.Node(1))
	checkHint := func(what string, code, wantCode int16, hintID, hintEpoch int32, ids []int32, addrs []string) {
		t.Helper()
		if code != wantCode || hintID != state.Leader || hintEpoch != state.LeaderEpoch {
			t.Errorf("%s: error %d, hint %d at epoch %d; want error %d naming %d at epoch %d", what, code, hintID, hintEpoch, wantCode, state.Leader, state.LeaderEpoch)
		}
		if len(ids) != 1 || ids[0] != state.Leader || addrs[0] != leader.Addr() {
			t.Errorf("%s: response brokers %v at %v, want node %d at %s", what, ids, addrs, state.Leader, leader.Addr())
		}
	}

	pr := produceRequest(t, ctx, follower, "hints", "x")
	pp := pr.Topics[0].Partitions[0]
	var ids []int32
	var addrs []string
	for _, b := range pr.Brokers {
		ids, addrs = append(ids, b.NodeID), append(addrs, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	checkHint("produce to a follower", pp.ErrorCode, kerr.NotLeaderForPartition.Code, pp.CurrentLeader.LeaderID, pp.CurrentLeader.LeaderEpoch, ids, addrs)

	for _, tc := range []struct {
		what  string
		cl    *kgo.Client
		epoch int32
		want  int16
	}{
		{"fetch from a follower", follower, -1, kerr.NotLeaderForPartition.Code},
		{"fetch with a stale leader epoch", pinnedClient(t, leader), state.LeaderEpoch - 1, kerr.FencedLeaderEpoch.Code},
	} {
		fp, brokers := fetchOnce(t, ctx, tc.cl, "hints", tc.epoch)
		ids, addrs = nil, nil
		for _, b := range brokers {
			ids, addrs = append(ids, b.NodeID), append(addrs, fmt.Sprintf("%s:%d", b.Host, b.Port))
		}
		checkHint(tc.what, fp.ErrorCode, tc.want, fp.CurrentLeader.LeaderID, fp.CurrentLeader.LeaderEpoch, ids, addrs)
	}
}

// fetchOnce sends one Fetch (v17, by topic id) for partition 0 of topic
// to cl's seed broker, with the given current leader epoch.
func fetchOnce(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, epoch int32) (kmsg.FetchResponseTopicPartition, []kmsg.FetchResponseBroker) {
	t.Helper()
	m := freshMetadata(t, ctx, cl, topic)
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = 17, 0, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, m.Topics[0].TopicID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 0, 1<<20, epoch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	fr := resp.(*kmsg.FetchResponse)
	if fr.ErrorCode != 0 || len(fr.Topics) != 1 || len(fr.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch response: %+v", fr)
	}
	return fr.Topics[0].Partitions[0], fr.Brokers
}

// A node that stops writes each replica's high watermark to
// replication-offset-checkpoint, from which it starts again.
func TestClusterCheckpointsHighWatermark(t *testing.T) {
	c, cl, ctx := clusterWithTopic(t, "hwcp")
	produceRange(t, ctx, cl, "hwcp", 0, 50) // acks=all: the leader's high watermark is 50
	leader := partitionState(t, ctx, cl, "hwcp").Leader
	c.Node(leader).Stop()
	data, err := os.ReadFile(filepath.Join(c.Node(leader).Dir(), "replication-offset-checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\nhwcp 0 50\n") {
		t.Fatalf("node %d's replication-offset-checkpoint lacks hwcp 0 50:\n%s", leader, data)
	}
}

// Eligible leader replicas (KIP-966), with one controller and brokers 2, 3
// and 4 holding a topic with min.insync.replicas 2: the brokers stop one by
// one, 2 last; 3 and 2 left the ISR while it was below 2, so they are
// eligible, and 3 coming back alone leads cleanly, with every acknowledged
// record up to its high watermark readable (the high watermark comes from
// its checkpoint, and stands still below min.insync.replicas). Without
// the ELR, 2, the last ISR member, would be the only possible leader.
func TestClusterEligibleLeaderReplicas(t *testing.T) {
	c := samsatest.StartCluster(t, 4, samsatest.WithProps(fastCluster), samsatest.WithRoles(1, "controller"),
		samsatest.WithRoles(2, "broker"), samsatest.WithRoles(3, "broker"), samsatest.WithRoles(4, "broker"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, _ := clusterClient(t, c)
	awaitBrokers(t, ctx, cl, 3)
	if err := createAssigned(ctx, cl, "elr", 10*time.Second, []int32{2, 3, 4}, map[string]string{"min.insync.replicas": "2"}); err != nil {
		t.Fatal(err)
	}
	produceRange(t, ctx, cl, "elr", 0, 50)
	// The fetch that brings the followers record 50 tells them the high
	// watermark 50 (a follower learns it from the fetch after the one
	// that raised it).
	produceRange(t, ctx, cl, "elr", 50, 51)
	for _, id := range []int32{4, 3, 2} {
		c.Node(id).Stop()
	}
	c.Node(3).Restart()
	probe := pinnedClient(t, c.Node(3))
	var p kmsg.DescribeTopicPartitionsResponseTopicPartition
	waitFor(t, ctx, "broker 3 leading from the ELR", func() bool {
		p = describeTopicPartition(t, ctx, probe, "elr")
		return p.LeaderID == 3
	})
	if !slices.Equal(p.ISR, []int32{3}) || !slices.Equal(p.EligibleLeaderReplicas, []int32{2}) {
		t.Fatalf("after the ELR election: ISR %v ELR %v, want [3] and [2]", p.ISR, p.EligibleLeaderReplicas)
	}
	cons := pinnedClient(t, c.Node(3), kgo.ConsumeTopics("elr"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := readN(t, ctx, cons, 50)
	for i := range 50 {
		if got[fmt.Sprint(i)] != 1 {
			t.Fatalf("record %d read %d times from broker 3, want once (read %d distinct)", i, got[fmt.Sprint(i)], len(got))
		}
	}
}

// describeTopicPartition asks DescribeTopicPartitions for partition 0 of
// topic.
func describeTopicPartition(t *testing.T, ctx context.Context, cl *kgo.Client, topic string) kmsg.DescribeTopicPartitionsResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
	rt.Topic = topic
	req.Topics = append(req.Topics, rt)
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.(*kmsg.DescribeTopicPartitionsResponse)
	if len(r.Topics) != 1 || r.Topics[0].ErrorCode != 0 || len(r.Topics[0].Partitions) == 0 {
		t.Fatalf("DescribeTopicPartitions: %+v", r.Topics)
	}
	return r.Topics[0].Partitions[0]
}

// A clean stop leaves the clean-shutdown marker with the node's broker
// epoch, which the next start takes (and removes, so that a crash leaves
// none): KIP-966's PreviousBrokerEpoch.
func TestCleanShutdownMarker(t *testing.T) {
	dir := t.TempDir()
	n := samsatest.Start(t, samsatest.WithDir(dir))
	n.Stop()
	data, err := os.ReadFile(filepath.Join(dir, "clean-shutdown"))
	if err != nil || !strings.Contains(string(data), `"brokerEpoch":`) || strings.Contains(string(data), `"brokerEpoch":-1`) {
		t.Fatalf("after a clean stop: %q, %v; want the broker epoch", data, err)
	}
	n = samsatest.Start(t, samsatest.WithDir(dir))
	if _, err := os.Stat(filepath.Join(dir, "clean-shutdown")); !os.IsNotExist(err) {
		t.Fatalf("the marker is still there after a start: %v", err)
	}
	n.Stop()
}
