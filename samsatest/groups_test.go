package samsatest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

// groupProps make groups quick to form in tests: a few offsets partitions
// and no initial rebalance delay.
var groupProps = map[string]string{
	"offsets.topic.num.partitions":     "4",
	"group.initial.rebalance.delay.ms": "0",
}

// tally counts how often each record was processed.
type tally struct {
	mu   sync.Mutex
	seen map[string]int
}

func (t *tally) add(r *kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[fmt.Sprintf("%d/%d", r.Partition, r.Offset)]++
}

func (t *tally) counts() (distinct, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range t.seen {
		distinct++
		total += n
	}
	return distinct, total
}

// groupMember is one consumer of a group that commits what it processed
// after each poll.
type groupMember struct {
	cl   *kgo.Client
	done chan struct{}
}

func startMember(t *testing.T, addr, group, topic string, tl *tally, opts ...kgo.Opt) *groupMember {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.HeartbeatInterval(300 * time.Millisecond), kgo.FetchMaxWait(200 * time.Millisecond),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m := &groupMember{cl: cl, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			fs.EachRecord(tl.add)
			if err := cl.CommitUncommittedOffsets(context.Background()); err != nil && err != context.Canceled {
				t.Logf("commit: %v", err)
			}
		}
	}()
	return m
}

func (m *groupMember) close() {
	m.cl.Close()
	<-m.done
}

func produceN(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestGroupConsumersShareAndTakeOver(t *testing.T) {
	node := samsatest.Start(t, samsatest.WithProps(groupProps))
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	if _, err := adm.CreateTopic(ctx, 6, 1, nil, "g6"); err != nil {
		t.Fatal(err)
	}
	produceN(t, ctx, admCl, "g6", 0, 600)

	tl := &tally{seen: map[string]int{}}
	var members []*groupMember
	for range 3 {
		members = append(members, startMember(t, node.Addr(), "g", "g6", tl))
	}
	waitFor(t, ctx, "three members sharing six partitions", func() bool {
		d, err := adm.DescribeGroups(ctx, "g")
		if err != nil {
			return false
		}
		g := d["g"]
		if g.State != "Stable" || len(g.Members) != 3 {
			return false
		}
		for _, m := range g.Members {
			ca, _ := m.Assigned.AsConsumer()
			if ca == nil || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 2 {
				return false
			}
		}
		return true
	})
	waitFor(t, ctx, "the first 600 records", func() bool { d, _ := tl.counts(); return d == 600 })

	members[0].close()
	produceN(t, ctx, admCl, "g6", 600, 600)
	waitFor(t, ctx, "every record after a member left", func() bool { d, _ := tl.counts(); return d == 1200 })
	waitFor(t, ctx, "two members", func() bool {
		d, err := adm.DescribeGroups(ctx, "g")
		return err == nil && d["g"].State == "Stable" && len(d["g"].Members) == 2
	})
	for _, m := range members[1:] {
		m.close()
	}
	_, total := tl.counts()
	t.Logf("1200 records, %d processed (%d duplicates)", total, total-1200)

	committed, err := adm.FetchOffsets(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "g6")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		c, ok := committed.Lookup("g6", e.Partition)
		if !ok || c.At != e.Offset {
			t.Errorf("partition %d: committed %+v, end %d", e.Partition, c, e.Offset)
		}
	})
}
