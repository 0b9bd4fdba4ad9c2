package samsatest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

func TestClusterFormsAndPlacesReplicas(t *testing.T) {
	c := samsatest.StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, adm := clusterClient(t, c)
	waitFor(t, ctx, "three unfenced brokers", func() bool { return len(freshMetadata(t, ctx, cl).Brokers) == 3 })
	resp, err := adm.CreateTopic(ctx, 3, 3, nil, "replicated")
	if err != nil || resp.Err != nil {
		t.Fatalf("create: %v %v", err, resp.Err)
	}
	var parts []kmsg.MetadataResponseTopicPartition
	waitFor(t, ctx, "the topic in every broker's metadata", func() bool {
		parts = freshMetadata(t, ctx, cl, "replicated").Topics[0].Partitions
		return len(parts) == 3
	})
	leaders := map[int32]int{}
	for _, p := range parts {
		if len(p.Replicas) != 3 || len(p.ISR) != 3 {
			t.Errorf("partition %d: replicas %v isr %v, want 3 of each", p.Partition, p.Replicas, p.ISR)
		}
		if p.Leader != p.Replicas[0] {
			t.Errorf("partition %d: leader %d is not the preferred replica %v", p.Partition, p.Leader, p.Replicas)
		}
		leaders[p.Leader]++
	}
	if len(leaders) != 3 {
		t.Errorf("leaders %v: want the 3 partitions led by 3 different brokers", leaders)
	}
}

var fastCluster = map[string]string{
	"min.insync.replicas": "2", "replica.lag.time.max.ms": "3000",
	"broker.session.timeout.ms": "3000", "broker.heartbeat.interval.ms": "500",
}

func clusterClient(t *testing.T, c *samsatest.Cluster, opts ...kgo.Opt) (*kgo.Client, *kadm.Client) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Addrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl, kadm.NewClient(cl)
}

// freshMetadata asks a broker, not the client's cache (kadm answers from
// a cache up to 5 s old, and its broker list only from refreshes).
func freshMetadata(t *testing.T, ctx context.Context, cl *kgo.Client, topics ...string) *kmsg.MetadataResponse {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func partitionState(t *testing.T, ctx context.Context, cl *kgo.Client, topic string) kmsg.MetadataResponseTopicPartition {
	t.Helper()
	m := freshMetadata(t, ctx, cl, topic)
	if len(m.Topics) != 1 || len(m.Topics[0].Partitions) == 0 {
		t.Fatalf("metadata for %s: %+v", topic, m.Topics)
	}
	return m.Topics[0].Partitions[0]
}

func produceRange(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("record %d: %v", i, err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// With replication factor 3 and acks=all, stopping the leader moves the
// partition to a follower that has every acknowledged record; the old
// leader comes back as a follower and rejoins the ISR.
func TestClusterReplicatesAndFailsOver(t *testing.T) {
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, adm := clusterClient(t, c)
	waitFor(t, ctx, "three unfenced brokers", func() bool { return len(freshMetadata(t, ctx, cl).Brokers) == 3 })
	if r, err := adm.CreateTopic(ctx, 1, 3, nil, "r"); err != nil || r.Err != nil {
		t.Fatalf("create: %v %v", err, r.Err)
	}
	produceRange(t, ctx, cl, "r", 0, 500)
	first := partitionState(t, ctx, cl, "r")
	if len(first.ISR) != 3 {
		t.Fatalf("ISR %v after acks=all writes, want all 3", first.ISR)
	}
	old := c.Node(first.Leader)
	old.Stop()
	produceRange(t, ctx, cl, "r", 500, 1000)
	moved := partitionState(t, ctx, cl, "r")
	if moved.Leader == first.Leader || moved.LeaderEpoch <= first.LeaderEpoch {
		t.Fatalf("leader %d epoch %d after stopping leader %d (epoch %d)", moved.Leader, moved.LeaderEpoch, first.Leader, first.LeaderEpoch)
	}
	old.Restart()
	waitFor(t, ctx, "the old leader back in the ISR", func() bool {
		return len(partitionState(t, ctx, cl, "r").ISR) == 3
	})
	reader, _ := clusterClient(t, c, kgo.ConsumeTopics("r"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]int{}
	for len(seen) < 1000 && ctx.Err() == nil {
		reader.PollFetches(ctx).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++ })
	}
	for i := range 1000 {
		if n := seen[fmt.Sprint(i)]; n != 1 {
			t.Errorf("record %d read %d times, want once", i, n)
		}
	}
}
