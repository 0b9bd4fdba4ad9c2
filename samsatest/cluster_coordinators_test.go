package samsatest_test

// The group and transaction coordinators in a 3-node cluster: their
// internal topics replicated three ways, their writes acknowledged once
// the ISR has them (acks=-1, KIP-98's transaction log, the group
// coordinator's offsets), markers sent to the leaders of other nodes'
// partitions, and coordinators that move with the leadership of their
// partitions (KIP-848's and KIP-890's clients re-find them).

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// coordinatorCluster is fastCluster with replicated internal topics of a
// few partitions each, as the brief of these tests asks.
func coordinatorCluster(t *testing.T) (*samsatest.Cluster, *kgo.Client, context.Context) {
	t.Helper()
	props := maps.Clone(fastCluster)
	maps.Copy(props, map[string]string{
		"offsets.topic.replication.factor": "3", "offsets.topic.num.partitions": "3",
		"transaction.state.log.replication.factor": "3", "transaction.state.log.num.partitions": "3",
		"transaction.state.log.min.isr": "2", "group.initial.rebalance.delay.ms": "0",
	})
	opts := []samsatest.Option{samsatest.WithProps(props)}
	if os.Getenv("SAMSA_TEST_LOG") != "" {
		opts = append(opts, samsatest.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c := samsatest.StartCluster(t, 3, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	cl, _ := clusterClient(t, c)
	waitFor(t, ctx, "three unfenced brokers", func() bool { return len(freshMetadata(t, ctx, cl).Brokers) == 3 })
	return c, cl, ctx
}

// createReplicated creates topic with partitions of 3 replicas and waits
// until every partition has a leader and a full ISR.
func createReplicated(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, partitions int32) []kmsg.MetadataResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 3
	req.Topics, req.TimeoutMillis = append(req.Topics, rt), 20000
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	var parts []kmsg.MetadataResponseTopicPartition
	waitFor(t, ctx, topic+" led with a full ISR", func() bool {
		m := freshMetadata(t, ctx, cl, topic)
		if len(m.Topics) != 1 || len(m.Topics[0].Partitions) != int(partitions) {
			return false
		}
		parts = m.Topics[0].Partitions
		for _, p := range parts {
			if p.Leader < 0 || len(p.ISR) != 3 {
				return false
			}
		}
		return true
	})
	return parts
}

// coordinatorOf asks the cluster for a group's (typ 0) or transactional
// id's (typ 1) coordinator until one answers.
func coordinatorOf(t *testing.T, ctx context.Context, cl *kgo.Client, typ int8, key string) int32 {
	t.Helper()
	node := int32(-1)
	waitFor(t, ctx, "the coordinator of "+key, func() bool {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorType, req.CoordinatorKey, req.CoordinatorKeys = typ, key, []string{key}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return false
		}
		code, id := resp.ErrorCode, resp.NodeID
		if len(resp.Coordinators) > 0 {
			code, id = resp.Coordinators[0].ErrorCode, resp.Coordinators[0].NodeID
		}
		node = id
		return code == 0
	})
	return node
}

// consumerClient is a group member that commits by hand; the caller
// closes it.
func consumerClient(t *testing.T, c *samsatest.Cluster, group, topic string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond), kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// A group's committed offsets survive the loss of its coordinator: they
// were acknowledged only once every in-sync replica of the group's
// __consumer_offsets partition had them, the partition's new leader loads
// them, and a consumer resumes exactly after the last commit.
func TestClusterGroupOffsetsSurviveCoordinatorLoss(t *testing.T) {
	c, cl, ctx := coordinatorCluster(t)
	const topic, group, total = "cg", "cg-failover", 300
	createReplicated(t, ctx, cl, topic, 3)
	produceRange(t, ctx, cl, topic, 0, total)

	first := consumerClient(t, c, group, topic)
	processed := map[string]bool{}
	var done []*kgo.Record
	for len(done) < total/2 && ctx.Err() == nil {
		first.PollRecords(ctx, 40).EachRecord(func(r *kgo.Record) {
			processed[string(r.Value)] = true
			done = append(done, r)
		})
	}
	if err := first.CommitRecords(ctx, done...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	first.Close() // leaves the group; nothing more is committed
	want := map[int32]int64{}
	for _, r := range done {
		want[r.Partition] = max(want[r.Partition], r.Offset+1)
	}

	coord := coordinatorOf(t, ctx, cl, 0, group)
	c.Node(coord).Stop()
	moved := coordinatorOf(t, ctx, cl, 0, group)
	if moved == coord {
		t.Fatalf("the coordinator is still the stopped node %d", coord)
	}

	second := consumerClient(t, c, group, topic)
	defer second.Close()
	fetchOffsets(t, ctx, second, group, topic, want)
	again := 0
	for len(processed) < total && ctx.Err() == nil {
		second.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if processed[string(r.Value)] {
				again++
			}
			processed[string(r.Value)] = true
		})
	}
	if len(processed) != total || again != 0 {
		t.Fatalf("after moving the coordinator from node %d to %d: %d of %d records seen, %d processed again (want none)",
			coord, moved, len(processed), total, again)
	}
}

// fetchOffsets checks the group's committed offsets, as its current
// coordinator answers them, against want.
func fetchOffsets(t *testing.T, ctx context.Context, cl *kgo.Client, group, topic string, want map[int32]int64) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{0, 1, 2}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("OffsetFetch: %v", err)
	}
	got := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.Offset >= 0 {
				got[p.Partition] = p.Offset
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("committed offsets on the new coordinator %v, want %v", got, want)
	}
}

// clientLog logs a client's work at debug level with SAMSA_TEST_LOG set.
func clientLog() kgo.Opt {
	if os.Getenv("SAMSA_TEST_LOG") == "" {
		return kgo.WithLogger(nil)
	}
	return kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil))
}

// txnProducer is a transactional producer writing where each record says.
func txnProducer(t *testing.T, c *samsatest.Cluster, id, topic string) *kgo.Client {
	t.Helper()
	p, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RetryTimeout(30*time.Second), clientLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// runTxn writes n records to every partition in one transaction, named
// name, and commits or aborts it.
func runTxn(t *testing.T, ctx context.Context, p *kgo.Client, name string, partitions int32, n int, commit bool) {
	t.Helper()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for part := range partitions {
			r := &kgo.Record{Partition: part, Value: fmt.Appendf(nil, "%s-%d-%d", name, part, i)}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("%s: produce: %v", name, err)
			}
		}
	}
	if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("%s: end (commit %v): %v", name, commit, err)
	}
}

// readCommitted reads topic from the start, read_committed, until want
// records came, and fails on a duplicate or a record of an aborted
// transaction (named "abort...").
func readCommitted(t *testing.T, ctx context.Context, c *samsatest.Cluster, topic string, want int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]int{}
	n := 0
	for n < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			n++
		})
	}
	for v, k := range seen {
		if k != 1 || strings.HasPrefix(v, "abort") {
			t.Errorf("read_committed saw %q %d times", v, k)
		}
	}
	if n != want {
		t.Fatalf("read_committed saw %d records, want %d", n, want)
	}
}

// A transaction over partitions led by different nodes commits through
// markers sent to the other leaders; an aborted one stays invisible to
// read_committed consumers.
func TestClusterTransactionsAcrossLeaders(t *testing.T) {
	c, cl, ctx := coordinatorCluster(t)
	const topic, id = "txs", "tx-across"
	parts := createReplicated(t, ctx, cl, topic, 3)
	leaders := map[int32]bool{}
	for _, p := range parts {
		leaders[p.Leader] = true
	}
	if len(leaders) < 2 {
		t.Fatalf("leaders %v: want partitions led by at least two nodes", leaders)
	}
	p := txnProducer(t, c, id, topic)
	runTxn(t, ctx, p, "one", 3, 10, true)
	runTxn(t, ctx, p, "abort", 3, 10, false)
	runTxn(t, ctx, p, "three", 3, 10, true)
	readCommitted(t, ctx, c, topic, 60)
}

// The transaction coordinator's node stops between two transactions: the
// producer finds the partition's new leader as its coordinator, which
// loaded the id's state, and its next transaction commits.
func TestClusterTransactionCoordinatorMoves(t *testing.T) {
	c, cl, ctx := coordinatorCluster(t)
	const topic, id = "txm", "tx-moves"
	createReplicated(t, ctx, cl, topic, 3)
	p := txnProducer(t, c, id, topic)
	runTxn(t, ctx, p, "before", 3, 10, true)
	coord := coordinatorOf(t, ctx, cl, 1, id)
	c.Node(coord).Stop()
	moved := coordinatorOf(t, ctx, cl, 1, id)
	if moved == coord {
		t.Fatalf("the transaction coordinator is still the stopped node %d", coord)
	}
	runTxn(t, ctx, p, "abort", 3, 5, false)
	runTxn(t, ctx, p, "after", 3, 10, true)
	readCommitted(t, ctx, c, topic, 60)
}
