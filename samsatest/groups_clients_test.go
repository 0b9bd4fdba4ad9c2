package samsatest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

// groupNode starts a node with props, creates topic with partitions, and
// returns the node with a client (opts added) and its admin client.
func groupNode(t *testing.T, ctx context.Context, props map[string]string, topic string, partitions int32, opts ...kgo.Opt) (*samsatest.Node, *kgo.Client, *kadm.Client) {
	t.Helper()
	node := samsatest.Start(t, samsatest.WithProps(props))
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(node.Addr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	return node, cl, adm
}

// groupTopic is groupNode with n records produced to topic.
func groupTopic(t *testing.T, ctx context.Context, topic string, partitions int32, n int) (*samsatest.Node, *kadm.Client) {
	t.Helper()
	node, cl, adm := groupNode(t, ctx, groupProps, topic, partitions)
	produceN(t, ctx, cl, topic, 0, n)
	return node, adm
}

// checkCommittedToEnd fails unless group committed every non-empty
// partition of topic up to its end.
func checkCommittedToEnd(t *testing.T, ctx context.Context, adm *kadm.Client, group, topic string) {
	t.Helper()
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil || committed.Error() != nil {
		t.Fatal(err, committed.Error())
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		if e.Err != nil {
			t.Errorf("%s partition %d: end offset: %v", topic, e.Partition, e.Err)
		}
		c, ok := committed.Lookup(topic, e.Partition)
		if !ok && e.Offset == 0 {
			return // nothing to consume, nothing committed
		}
		if !ok || c.At != e.Offset {
			t.Errorf("%s partition %d: committed %+v, end %d", group, e.Partition, c, e.Offset)
		}
	})
}

// saramaHandler processes claims; sarama commits what it marked every
// 100 ms and when a session ends. (A synchronous session.Commit takes about
// Consumer.MaxWaitTime: sarama sends it on the connection its long-polling
// Fetch is waiting on, and responses come back in request order, as they
// do from Kafka; compat/README.md has the measurement.)
type saramaHandler struct{ tl *tally }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.tl.add(&kgo.Record{Partition: m.Partition, Offset: m.Offset})
		s.MarkMessage(m, "")
	}
	return nil
}

func TestGroupSaramaConsumers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, adm := groupTopic(t, ctx, "sa", 4, 200)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	tl := &tally{seen: map[string]int{}}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 2 {
		g, err := sarama.NewConsumerGroup([]string{node.Addr()}, "sg", cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer g.Close()
			for runCtx.Err() == nil {
				if err := g.Consume(runCtx, []string{"sa"}, saramaHandler{tl}); err != nil && runCtx.Err() == nil {
					t.Logf("sarama consume: %v", err)
				}
			}
		}()
	}
	waitFor(t, ctx, "200 records through sarama", func() bool { d, _ := tl.counts(); return d == 200 })
	waitFor(t, ctx, "two sarama members", func() bool {
		d, err := adm.DescribeGroups(ctx, "sg")
		return err == nil && d["sg"].State == "Stable" && len(d["sg"].Members) == 2
	})
	stop()
	wg.Wait()
	checkCommittedToEnd(t, ctx, adm, "sg", "sa")
}

func TestGroupKafkaGoReader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, adm := groupTopic(t, ctx, "kg", 4, 200)
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers: []string{node.Addr()}, GroupID: "kgg", Topic: "kg",
		MaxWait: 200 * time.Millisecond, HeartbeatInterval: 300 * time.Millisecond,
		StartOffset: kafkago.FirstOffset,
	})
	tl := &tally{seen: map[string]int{}}
	for d := 0; d < 200; d, _ = tl.counts() {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("kafka-go fetch after %d records: %v", d, err)
		}
		tl.add(&kgo.Record{Partition: int32(m.Partition), Offset: m.Offset})
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	checkCommittedToEnd(t, ctx, adm, "kgg", "kg")
}

func TestGroupAdmin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, adm := groupTopic(t, ctx, "ad", 2, 20)
	tl := &tally{seen: map[string]int{}}
	m := startMember(t, node.Addr(), "live", "ad", tl)
	waitFor(t, ctx, "20 records", func() bool { d, _ := tl.counts(); return d == 20 })
	// A simple consumer's commits make an Empty group.
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "ad", Partition: 0, At: 7, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "ad", Partition: 1, At: 3, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(ctx, "simple", offs); err != nil || resp.Error() != nil {
		t.Fatal(err, resp.Error())
	}
	// A topic that does not exist is refused, as in Kafka.
	noTopic := kadm.Offsets{}
	noTopic.Add(kadm.Offset{Topic: "absent", Partition: 0, At: 1, LeaderEpoch: -1})
	if resp, err := adm.CommitOffsets(ctx, "simple", noTopic); err != nil || !errors.Is(resp.Error(), kerr.UnknownTopicOrPartition) {
		t.Errorf("commit to a missing topic: %v %v, want UNKNOWN_TOPIC_OR_PARTITION", err, resp.Error())
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(listed.Groups()); got != "[live simple]" || listed["simple"].State != "Empty" {
		t.Errorf("ListGroups: %v", listed)
	}
	// OffsetDelete: a partition the live group consumes is refused.
	del, err := adm.DeleteOffsets(ctx, "live", kadm.TopicsSet{"ad": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if err, ok := del.Lookup("ad", 0); !ok || !errors.Is(err, kerr.GroupSubscribedToTopic) {
		t.Errorf("OffsetDelete on a subscribed topic: %v, want GROUP_SUBSCRIBED_TO_TOPIC", err)
	}
	if del, err = adm.DeleteOffsets(ctx, "simple", kadm.TopicsSet{"ad": {0: {}}}); err != nil || del["ad"][0] != nil {
		t.Fatal(err, del)
	}
	if fo, err := adm.FetchOffsets(ctx, "simple"); err != nil || len(fo.Offsets().Sorted()) != 1 || fo.Offsets().Sorted()[0].Partition != 1 {
		t.Errorf("offsets after OffsetDelete: %v %v", fo.Offsets().Sorted(), err)
	}
	// DeleteGroups: a group with members is not deleted, an empty one is.
	dg, err := adm.DeleteGroups(ctx, "live", "simple", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	for g, want := range map[string]error{"live": kerr.NonEmptyGroup, "simple": nil, "nobody": kerr.GroupIDNotFound} {
		if got := dg[g].Err; !errors.Is(got, want) && got != want {
			t.Errorf("DeleteGroups %s: %v, want %v", g, got, want)
		}
	}
	if fo, err := adm.FetchOffsets(ctx, "simple"); err != nil || len(fo) != 0 {
		t.Errorf("offsets of a deleted group: %v %v", fo, err)
	}
	m.close()
	d, err := adm.DescribeGroups(ctx, "live", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if d["live"].State != "Empty" || !errors.Is(d["nobody"].Err, kerr.GroupIDNotFound) {
		t.Errorf("DescribeGroups after the member left: live %s, nobody %v", d["live"].State, d["nobody"].Err)
	}
}
