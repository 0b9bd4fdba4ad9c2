package samsatest_test

// KIP-848 consumer groups against a real node over TCP: franz-go
// consumers with a server-side assignor (kgo.ServerSideBalancer), raw
// ConsumerGroupHeartbeat members for exact control, ConsumerGroupDescribe,
// restarts, and the admin APIs (ListGroups, DescribeGroups, DeleteGroups).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// props848 make consumer groups quick: members heartbeat every 200 ms.
var props848 = map[string]string{
	"offsets.topic.num.partitions":             "4",
	"group.consumer.heartbeat.interval.ms":     "200",
	"group.consumer.min.heartbeat.interval.ms": "100",
	"group.consumer.session.timeout.ms":        "6000",
	"group.consumer.min.session.timeout.ms":    "1000",
}

func uniform848() []kgo.Opt {
	return []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer())}
}

// owners checks, across a group's consumers, that no partition is owned by
// two members at once (revoke before assign).
type owners struct {
	t  *testing.T
	mu sync.Mutex
	by map[int32]string
}

func (o *owners) opts(name string) []kgo.Opt {
	assigned := func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, ps := range m {
			for _, p := range ps {
				if cur, ok := o.by[p]; ok && cur != name {
					o.t.Errorf("partition %d assigned to %s while %s still owns it", p, name, cur)
				}
				o.by[p] = name
			}
		}
	}
	released := func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, ps := range m {
			for _, p := range ps {
				if o.by[p] == name {
					delete(o.by, p)
				}
			}
		}
	}
	return []kgo.Opt{kgo.OnPartitionsAssigned(assigned), kgo.OnPartitionsRevoked(released), kgo.OnPartitionsLost(released)}
}

// describe848 returns the group's ConsumerGroupDescribe, or false.
func describe848(ctx context.Context, adm *kadm.Client, group string) (kadm.DescribedConsumerGroup, bool) {
	ds, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return kadm.DescribedConsumerGroup{}, false
	}
	d, ok := ds[group]
	return d, ok && d.Err == nil
}

// stableWith reports whether the group is Stable with n members, each
// owning its target and the given number of partitions (want nil: any).
func stableWith(d kadm.DescribedConsumerGroup, n int, want func(i, partitions int) bool) bool {
	if d.State != "Stable" || len(d.Members) != n || d.Epoch != d.AssignmentEpoch {
		return false
	}
	for i, m := range d.Members {
		if !slices.Equal(parts(m.Assignment), parts(m.TargetAssignment)) || m.MemberEpoch != d.Epoch {
			return false
		}
		if want != nil && !want(i, len(parts(m.Assignment))) {
			return false
		}
	}
	return true
}

func TestConsumerGroup848ShareReconcileAndCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	node, admCl, adm := groupNode(t, ctx, props848, "k6", 6)
	produceN(t, ctx, admCl, "k6", 0, 600)

	tl := &tally{seen: map[string]int{}}
	own := &owners{t: t, by: map[int32]string{}}
	var members []*groupMember
	for i := range 3 {
		opts := append(uniform848(), own.opts(fmt.Sprint("m", i))...)
		members = append(members, startMember(t, node.Addr(), "k", "k6", tl, opts...))
	}
	var d kadm.DescribedConsumerGroup
	waitFor(t, ctx, "three members with two partitions each", func() bool {
		d, _ = describe848(ctx, adm, "k")
		return stableWith(d, 3, func(_, n int) bool { return n == 2 })
	})
	if d.AssignorName != "uniform" || d.Epoch < 3 {
		t.Errorf("described %+v; want assignor uniform and an epoch bumped by each of three joins", d)
	}
	for _, m := range d.Members {
		if m.MemberType != 1 || m.ClientHost != "/127.0.0.1" || !slices.Equal(m.SubscribedTopics, []string{"k6"}) {
			t.Errorf("member %+v: want type 1 (consumer), host /127.0.0.1, subscribed to k6", m)
		}
	}
	waitFor(t, ctx, "the first 600 records", func() bool { n, _ := tl.counts(); return n == 600 })

	members[0].close()
	produceN(t, ctx, admCl, "k6", 600, 600)
	waitFor(t, ctx, "every record after a member left", func() bool { n, _ := tl.counts(); return n == 1200 })
	waitFor(t, ctx, "two members with three partitions each", func() bool {
		d, _ = describe848(ctx, adm, "k")
		return stableWith(d, 2, func(_, n int) bool { return n == 3 })
	})
	members = append(members[1:], startMember(t, node.Addr(), "k", "k6", tl, append(uniform848(), own.opts("m3")...)...))
	waitFor(t, ctx, "a third member again", func() bool {
		d, _ = describe848(ctx, adm, "k")
		return stableWith(d, 3, func(_, n int) bool { return n == 2 })
	})
	produceN(t, ctx, admCl, "k6", 1200, 300)
	waitFor(t, ctx, "all 1500 records", func() bool { n, _ := tl.counts(); return n == 1500 })
	for _, m := range members {
		m.close()
	}
	_, total := tl.counts()
	t.Logf("1500 records, %d processed (%d duplicates)", total, total-1500)
	checkCommittedToEnd(t, ctx, adm, "k", "k6")
	waitFor(t, ctx, "the group empty once everyone left", func() bool {
		d, _ = describe848(ctx, adm, "k")
		return d.State == "Empty" && len(d.Members) == 0
	})
}

func TestConsumerGroup848RangeAssignor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	node, _, adm := groupNode(t, ctx, props848, "r4", 4)
	tl := &tally{seen: map[string]int{}}
	rng := []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer())}
	for range 2 {
		m := startMember(t, node.Addr(), "rg", "r4", tl, rng...)
		defer m.close()
	}
	var d kadm.DescribedConsumerGroup
	waitFor(t, ctx, "two range members", func() bool {
		d, _ = describe848(ctx, adm, "rg")
		return stableWith(d, 2, func(_, n int) bool { return n == 2 })
	})
	if d.AssignorName != "range" {
		t.Errorf("assignor %q, want range", d.AssignorName)
	}
	// Range gives contiguous ranges in member id order.
	byID := slices.Clone(d.Members)
	slices.SortFunc(byID, func(a, b kadm.ConsumerGroupMember) int { return cmpStr(a.MemberID, b.MemberID) })
	if a, b := parts(byID[0].Assignment), parts(byID[1].Assignment); !slices.Equal(a, []int32{0, 1}) || !slices.Equal(b, []int32{2, 3}) {
		t.Errorf("range assignment %v and %v, want [0 1] and [2 3]", a, b)
	}
}

// parts lists a set's partitions (of all topics), sorted.
func parts(s kadm.TopicsSet) []int32 {
	var out []int32
	for _, ps := range s {
		for p := range ps {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rawMember drives ConsumerGroupHeartbeat by hand.
type rawMember struct {
	cl       *kgo.Client
	group    string
	id       string
	epoch    int32
	instance *string
	owned    map[[16]byte][]int32
}

func (m *rawMember) heartbeat(ctx context.Context, topics ...string) (*kmsg.ConsumerGroupHeartbeatResponse, error) {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch, req.InstanceID = m.group, m.id, m.epoch, m.instance
	req.RebalanceTimeoutMillis = 5000
	req.SubscribedTopicNames = topics
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for id, ps := range m.owned {
		rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		rt.TopicID, rt.Partitions = id, ps
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return resp, err
	}
	m.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		m.owned = map[[16]byte][]int32{}
		for _, t := range resp.Assignment.Topics {
			m.owned[t.TopicID] = t.Partitions
		}
	}
	return resp, nil
}

func TestConsumerGroup848SurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, cl, adm := groupNode(t, ctx, props848, "rs848", 5)
	a := &rawMember{cl: cl, group: "rsg", id: "member-a"}
	b := &rawMember{cl: cl, group: "rsg", id: "member-b"}
	var before kadm.DescribedConsumerGroup
	waitFor(t, ctx, "two reconciled raw members", func() bool {
		for _, m := range []*rawMember{a, b} {
			if _, err := m.heartbeat(ctx, "rs848"); err != nil {
				t.Logf("heartbeat: %v", err)
			}
		}
		before, _ = describe848(ctx, adm, "rsg")
		return stableWith(before, 2, nil)
	})
	if n := len(parts(before.AssignedPartitions())); n != 5 {
		t.Fatalf("%d partitions assigned, want 5: %+v", n, before)
	}

	node.Restart()
	after, ok := describe848(ctx, adm, "rsg")
	if !ok {
		t.Fatal("the group is gone after the restart")
	}
	if after.Epoch != before.Epoch || after.AssignmentEpoch != before.AssignmentEpoch || after.State != before.State || fmt.Sprint(after.Members) != fmt.Sprint(before.Members) {
		t.Errorf("after the restart:\n%+v\nbefore:\n%+v", after, before)
	}
	// The members carry on with their epochs, unaware of the restart.
	for _, m := range []*rawMember{a, b} {
		if _, err := m.heartbeat(ctx, "rs848"); err != nil {
			t.Errorf("%s heartbeat after the restart: %v", m.id, err)
		}
	}
	if after2, _ := describe848(ctx, adm, "rsg"); after2.Epoch != before.Epoch {
		t.Errorf("epoch %d after heartbeats following the restart, want %d", after2.Epoch, before.Epoch)
	}
}

func TestConsumerGroup848AdminAPIs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, cl, adm := groupNode(t, ctx, props848, "ad", 2)
	m := &rawMember{cl: cl, group: "adg", id: "only"}
	if _, err := m.heartbeat(ctx, "ad"); err != nil {
		t.Fatal(err)
	}
	// A classic group beside it.
	if _, err := adm.CommitOffsets(ctx, "simple", kadm.OffsetsFromRecords(kgo.Record{Topic: "ad", Partition: 0, Offset: 4})); err != nil {
		t.Fatal(err)
	}

	list := func(types ...string) []kmsg.ListGroupsResponseGroup {
		req := kmsg.NewPtrListGroupsRequest()
		req.TypesFilter = types
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Groups
	}
	if gs := list("consumer"); len(gs) != 1 || gs[0].Group != "adg" || gs[0].GroupType != "consumer" || gs[0].ProtocolType != "consumer" || gs[0].GroupState != "Stable" {
		t.Errorf("ListGroups(type consumer): %+v", gs)
	}
	if gs := list("Classic"); len(gs) != 1 || gs[0].Group != "simple" || gs[0].GroupType != "classic" {
		t.Errorf("ListGroups(type classic): %+v", gs)
	}
	if gs := list(); len(gs) != 2 {
		t.Errorf("ListGroups: %+v, want both groups", gs)
	}

	// DescribeGroups is for classic groups: Kafka 4 answers
	// GROUP_ID_NOT_FOUND (v6) for a consumer group.
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{"adg"}
	dresp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if g := dresp.Groups[0]; g.ErrorCode != kerr.GroupIDNotFound.Code || g.State != "Dead" {
		t.Errorf("DescribeGroups of a consumer group: %+v, want GROUP_ID_NOT_FOUND and Dead", g)
	}

	deleted, err := adm.DeleteGroups(ctx, "adg")
	if err != nil || !errors.Is(deleted["adg"].Err, kerr.NonEmptyGroup) {
		t.Errorf("DeleteGroups of a group with a member: %+v %v, want NON_EMPTY_GROUP", deleted, err)
	}
	m.epoch = -1
	if _, err := m.heartbeat(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if d, _ := describe848(ctx, adm, "adg"); d.State != "Empty" {
		t.Errorf("after the leave the group is %q, want Empty", d.State)
	}
	deleted, err = adm.DeleteGroups(ctx, "adg")
	if err != nil || deleted["adg"].Err != nil {
		t.Fatalf("DeleteGroups of the empty group: %+v %v", deleted, err)
	}
	ds, err := adm.DescribeConsumerGroups(ctx, "adg")
	if err == nil {
		err = ds["adg"].Err
	}
	if !errors.Is(err, kerr.GroupIDNotFound) {
		t.Errorf("ConsumerGroupDescribe after DeleteGroups: %v, want GROUP_ID_NOT_FOUND", err)
	}
}
