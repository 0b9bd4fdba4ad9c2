package samsatest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
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
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, admCl, adm := groupNode(t, ctx, groupProps, "g6", 6)
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
	if d, err := adm.DescribeGroups(ctx, "g"); err != nil || d["g"].Members[0].ClientHost != "/127.0.0.1" || d["g"].Protocol != "cooperative-sticky" {
		t.Errorf("DescribeGroups: %+v, %v; want client host /127.0.0.1 as Kafka shows it", d["g"], err)
	}
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

func TestGroupOffsetsSurviveRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, admCl, adm := groupNode(t, ctx, groupProps, "rs", 3)
	produceN(t, ctx, admCl, "rs", 0, 300)
	tl := &tally{seen: map[string]int{}}
	m := startMember(t, node.Addr(), "rg", "rs", tl)
	waitFor(t, ctx, "300 records", func() bool { d, _ := tl.counts(); return d == 300 })
	m.close()
	before, err := adm.FetchOffsets(ctx, "rg")
	if err != nil || before.Error() != nil {
		t.Fatal(err, before.Error())
	}

	node.Restart()
	after, err := adm.FetchOffsets(ctx, "rg")
	if err != nil || after.Error() != nil {
		t.Fatal(err, after.Error())
	}
	total := int64(0)
	before.Each(func(o kadm.OffsetResponse) {
		a, ok := after.Lookup(o.Topic, o.Partition)
		if !ok || a.At != o.At {
			t.Errorf("%s/%d: committed %d before the restart, %+v after", o.Topic, o.Partition, o.At, a)
		}
		total += o.At
	})
	if total != 300 {
		t.Errorf("committed offsets sum to %d, want 300", total)
	}

	// The group resumes from its offsets: only the new records come.
	produceN(t, ctx, admCl, "rs", 300, 30)
	tl2 := &tally{seen: map[string]int{}}
	m = startMember(t, node.Addr(), "rg", "rs", tl2)
	defer m.close()
	waitFor(t, ctx, "the 30 new records", func() bool { d, _ := tl2.counts(); return d == 30 })
	time.Sleep(300 * time.Millisecond)
	if d, n := tl2.counts(); d != 30 || n != 30 {
		t.Errorf("after the restart the group read %d records (%d distinct), want the 30 new ones", n, d)
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil || len(groups) != 1 || groups["rg"].State != "Stable" {
		t.Errorf("ListGroups after the restart: %v %v", groups, err)
	}
}

func TestGroupStaticMemberKeepsPartitions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, admCl, adm := groupNode(t, ctx, groupProps, "st", 4)
	var mu sync.Mutex
	revokedB := 0
	tl := &tally{seen: map[string]int{}}
	static := func(id string) []kgo.Opt {
		return []kgo.Opt{kgo.InstanceID(id), kgo.SessionTimeout(10 * time.Second)}
	}
	a := startMember(t, node.Addr(), "sg", "st", tl, static("a")...)
	changed := func(context.Context, *kgo.Client, map[string][]int32) {
		mu.Lock()
		revokedB++
		mu.Unlock()
	}
	b := startMember(t, node.Addr(), "sg", "st", tl, append(static("b"),
		kgo.OnPartitionsRevoked(changed), kgo.OnPartitionsAssigned(changed))...)
	defer b.close()
	assigned := func() map[string][]int32 {
		d, err := adm.DescribeGroups(ctx, "sg")
		if err != nil || d["sg"].State != "Stable" || len(d["sg"].Members) != 2 {
			return nil
		}
		out := map[string][]int32{}
		for _, m := range d["sg"].Members {
			ca, _ := m.Assigned.AsConsumer()
			if ca == nil || len(ca.Topics) != 1 || m.InstanceID == nil {
				return nil
			}
			out[*m.InstanceID] = ca.Topics[0].Partitions
		}
		return out
	}
	var first map[string][]int32
	waitFor(t, ctx, "two static members", func() bool {
		first = assigned()
		return len(first["a"]) == 2 && len(first["b"]) == 2
	})
	time.Sleep(200 * time.Millisecond) // b's callbacks for its first assignment
	mu.Lock()
	revokedBefore := revokedB
	mu.Unlock()

	a.close() // a static member does not leave the group on close
	a = startMember(t, node.Addr(), "sg", "st", tl, static("a")...)
	defer a.close()
	produceN(t, ctx, admCl, "st", 0, 40)
	waitFor(t, ctx, "40 records", func() bool { d, _ := tl.counts(); return d == 40 })
	again := assigned()
	if fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("assignment changed across the static restart: %v, then %v", first, again)
	}
	mu.Lock()
	defer mu.Unlock()
	if revokedB != revokedBefore {
		t.Errorf("the other member saw %d assignment changes during the static restart", revokedB-revokedBefore)
	}
}

// TestGroupSessionExpiryHandsOverPartitions: a member that vanishes
// without leaving (a static member closing, as a crashed one would) is
// removed when its session times out, and the survivor takes its
// partitions and reads what it left uncommitted.
func TestGroupSessionExpiryHandsOverPartitions(t *testing.T) {
	props := map[string]string{"group.min.session.timeout.ms": "500"}
	for k, v := range groupProps {
		props[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, admCl, adm := groupNode(t, ctx, props, "se", 4)
	tl := &tally{seen: map[string]int{}}
	session := kgo.SessionTimeout(1500 * time.Millisecond)
	gone := startMember(t, node.Addr(), "seg", "se", tl, session, kgo.InstanceID("gone"))
	stay := startMember(t, node.Addr(), "seg", "se", tl, session)
	defer stay.close()
	waitFor(t, ctx, "two members", func() bool {
		d, err := adm.DescribeGroups(ctx, "seg")
		return err == nil && d["seg"].State == "Stable" && len(d["seg"].Members) == 2
	})
	produceN(t, ctx, admCl, "se", 0, 100)
	waitFor(t, ctx, "100 records", func() bool { d, _ := tl.counts(); return d == 100 })
	gone.close()
	start := time.Now()
	produceN(t, ctx, admCl, "se", 100, 100)
	waitFor(t, ctx, "the vanished member's partitions taken over", func() bool {
		d, err := adm.DescribeGroups(ctx, "seg")
		if err != nil || d["seg"].State != "Stable" || len(d["seg"].Members) != 1 {
			return false
		}
		ca, _ := d["seg"].Members[0].Assigned.AsConsumer()
		return ca != nil && len(ca.Topics) == 1 && len(ca.Topics[0].Partitions) == 4
	})
	waitFor(t, ctx, "all 200 records", func() bool { d, _ := tl.counts(); return d == 200 })
	if took := time.Since(start); took < time.Second {
		t.Errorf("the member was removed after %v, before its 1.5 s session timed out", took)
	}
}

// TestGroupChurn: four consumers on twelve partitions while records keep
// coming; each consumer in turn is closed and replaced. Every record is
// processed at least once; duplicates (records processed again after a
// rebalance moved their partition before a commit) are counted.
func TestGroupChurn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, admCl, adm := groupNode(t, ctx, groupProps, "churn", 12, kgo.ProducerLinger(5*time.Millisecond))
	tl := &tally{seen: map[string]int{}}
	members := make([]*groupMember, 4)
	for i := range members {
		members[i] = startMember(t, node.Addr(), "cg", "churn", tl)
	}
	produced := make(chan int)
	go func() {
		n := 0
		for ctx.Err() == nil && n < 4000 {
			for i := n; i < n+100; i++ {
				admCl.Produce(ctx, &kgo.Record{Topic: "churn", Value: []byte(fmt.Sprint(i))}, nil)
			}
			if err := admCl.Flush(ctx); err != nil {
				t.Error(err)
				break
			}
			n += 100
			time.Sleep(20 * time.Millisecond)
		}
		produced <- n
	}()
	for i := range members {
		time.Sleep(400 * time.Millisecond)
		members[i].close()
		members[i] = startMember(t, node.Addr(), "cg", "churn", tl)
	}
	n := <-produced
	waitFor(t, ctx, fmt.Sprintf("all %d records", n), func() bool { d, _ := tl.counts(); return d == n })
	for _, m := range members {
		m.close()
	}
	_, total := tl.counts()
	t.Logf("%d records, %d processed: %d duplicates over 4 replacements", n, total, total-n)
	checkCommittedToEnd(t, ctx, adm, "cg", "churn")
}
