package samsatest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
