package samsatest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// Three controller-only voters and two broker-only nodes: only the brokers
// appear in Metadata and hold replicas; DescribeQuorum lists them as
// observers. A broker killed and restarted catches up on the metadata and
// on its partition, and serves it alone once the other broker stops. The
// active controller's loss stops neither broker.
func TestClusterDedicatedRoles(t *testing.T) {
	c := samsatest.StartCluster(t, 5, samsatest.WithProps(fastCluster),
		samsatest.WithRoles(1, "controller"), samsatest.WithRoles(2, "controller"), samsatest.WithRoles(3, "controller"),
		samsatest.WithRoles(4, "broker"), samsatest.WithRoles(5, "broker"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if got := c.Addrs(); len(got) != 2 || got[0] != c.Node(4).Addr() || got[1] != c.Node(5).Addr() {
		t.Fatalf("bootstrap addresses %v: want nodes 4 and 5's", got)
	}
	cl, _ := clusterClient(t, c, kgo.RequiredAcks(kgo.AllISRAcks()))
	awaitBrokers(t, ctx, cl, 2)
	var ids []int32
	for _, b := range freshMetadata(t, ctx, cl).Brokers {
		ids = append(ids, b.NodeID)
	}
	if slices.Sort(ids); !slices.Equal(ids, []int32{4, 5}) {
		t.Fatalf("Metadata lists brokers %v, want [4 5]", ids)
	}
	q := describeQuorum(t, ctx, cl)
	if voters, observers := replicaIDs(q.CurrentVoters), replicaIDs(q.Observers); !slices.Equal(voters, []int32{1, 2, 3}) || !slices.Equal(observers, []int32{4, 5}) {
		t.Fatalf("DescribeQuorum: voters %v observers %v, want [1 2 3] and [4 5]", voters, observers)
	}

	if err := createAssigned(ctx, cl, "roles", 10*time.Second, []int32{4, 5}, map[string]string{"min.insync.replicas": "1"}); err != nil {
		t.Fatal(err)
	}
	produceRange(t, ctx, cl, "roles", 0, 100)

	c.Node(4).Kill()
	produceRange(t, ctx, cl, "roles", 100, 200) // on node 5 alone
	c.Node(4).Restart()
	waitFor(t, ctx, "node 4 back in the ISR", func() bool { return len(partitionState(t, ctx, cl, "roles").ISR) == 2 })

	leader := quorumLeader(t, ctx, cl)
	c.Node(leader).Kill()
	if err := createAssigned(ctx, cl, "after-failover", 10*time.Second, []int32{4, 5}, nil); err != nil {
		t.Fatalf("creating a topic after the active controller %d died: %v", leader, err)
	}
	if l := quorumLeader(t, ctx, cl); l == leader || l < 1 || l > 3 {
		t.Fatalf("quorum leader %d after %d died", l, leader)
	}

	c.Node(5).Stop()
	waitFor(t, ctx, "node 4 leading alone", func() bool { return partitionState(t, ctx, cl, "roles").Leader == 4 })
	cons, _ := clusterClient(t, c, kgo.ConsumeTopics("roles"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if got := readN(t, ctx, cons, 200); len(got) != 200 {
		t.Fatalf("read %d distinct records from node 4, want 200", len(got))
	}
}

func replicaIDs(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) []int32 {
	var out []int32
	for _, r := range rs {
		out = append(out, r.ReplicaID)
	}
	slices.Sort(out)
	return out
}
