package cli_test

// `samsa group` on consumer groups of the KIP-848 protocol: franz-go
// consumers with a server-side assignor, and raw ConsumerGroupHeartbeat
// members where a state (reconciling) must hold still to be looked at.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// quick848 makes consumer groups quick: members heartbeat every 200 ms.
func quick848() samsatest.Option {
	return samsatest.WithProps(map[string]string{
		"group.consumer.heartbeat.interval.ms":     "200",
		"group.consumer.min.heartbeat.interval.ms": "100",
		"group.consumer.session.timeout.ms":        "6000",
		"group.consumer.min.session.timeout.ms":    "1000",
	})
}

// Shape of a consumer group in `samsa group describe --format json`: the
// classic fields and what KIP-848 adds.
type (
	described848 struct {
		Group           string        `json:"group"`
		State           string        `json:"state"`
		Type            string        `json:"type"`
		ProtocolType    string        `json:"protocol_type"`
		Protocol        string        `json:"protocol"`
		GroupEpoch      *int32        `json:"group_epoch"`
		AssignmentEpoch *int32        `json:"assignment_epoch"`
		Assignor        string        `json:"assignor"`
		Members         []member848   `json:"members"`
		Offsets         []groupOffset `json:"offsets"`
		TotalLag        int64         `json:"total_lag"`
	}
	member848 struct {
		MemberID    string         `json:"member_id"`
		InstanceID  *string        `json:"instance_id"`
		ClientID    string         `json:"client_id"`
		Host        string         `json:"host"`
		MemberEpoch *int32         `json:"member_epoch"`
		Assigned    []topicAssigns `json:"assigned"`
		Target      []topicAssigns `json:"target_assigned"`
		HasTarget   bool           `json:"-"`
	}
	topicAssigns struct {
		Topic      string  `json:"topic"`
		Partitions []int32 `json:"partitions"`
	}
)

// describe848 runs `group describe --format json` on one group; ok is
// false if the command failed (the group may not exist yet). It records
// which members carry a target_assigned key.
func (c *cli) describe848(group string) (described848, bool) {
	c.t.Helper()
	r := c.exec("", "group", "describe", group, "--format", "json")
	if r.err != nil {
		return described848{}, false
	}
	var ds []described848
	var raw []struct {
		Members []map[string]json.RawMessage `json:"members"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil || len(ds) != 1 || ds[0].Group != group {
		c.t.Fatalf("group describe %s --format json: %v\n%s", group, err, r.stdout)
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		c.t.Fatal(err)
	}
	for i, m := range raw[0].Members {
		_, ds[0].Members[i].HasTarget = m["target_assigned"]
	}
	return ds[0], true
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// consumer848 is a franz-go consumer of the KIP-848 protocol that commits
// everything it reads; stop leaves the group.
type consumer848 struct {
	cl   *kgo.Client
	done chan struct{}
	once sync.Once
}

func startConsumer848(t *testing.T, brokers, group, topic, clientID string) *consumer848 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID(clientID), kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer()))
	if err != nil {
		t.Fatal(err)
	}
	c := &consumer848{cl: cl, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			if err := cl.CommitUncommittedOffsets(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
				t.Logf("commit: %v", err)
			}
		}
	}()
	t.Cleanup(c.stop)
	return c
}

func (c *consumer848) stop() {
	c.once.Do(func() {
		c.cl.Close()
		<-c.done
	})
}

// partitionsOf lists the partitions of a member's assignment, sorted.
func partitionsOf(as []topicAssigns) []int32 {
	var out []int32
	for _, a := range as {
		out = append(out, a.Partitions...)
	}
	slices.Sort(out)
	return out
}

// offsets848 prints a describe's offsets as "topic/p:committed/end/lag".
func offsets848(d described848) string {
	var got []string
	for _, o := range d.Offsets {
		got = append(got, fmt.Sprintf("%s/%d:%s", o.Topic, o.Partition, offsetString(o)))
	}
	return strings.Join(got, " ")
}

func TestGroup848DescribeListDeleteReset(t *testing.T) {
	_, c := start(t, quick848())
	adm := c.admin()
	c.ok("", "topic", "create", "events", "-p", "4")
	c.ok("a\nb\nc\n", "produce", "events", "--partition", "0")
	c.ok("d\ne\n", "produce", "events", "--partition", "1")
	c.ok("f\n", "produce", "events", "--partition", "2")
	// Partition 3 stays empty: nobody commits there.
	members := []*consumer848{
		startConsumer848(t, c.brokers, "g848", "events", "reader-a"),
		startConsumer848(t, c.brokers, "g848", "events", "reader-b"),
	}
	var d described848
	waitUntil(t, "two reconciled members that committed what they read", func() bool {
		var ok bool
		if d, ok = c.describe848("g848"); !ok || d.State != "Stable" || len(d.Members) != 2 {
			return false
		}
		for _, m := range d.Members {
			if m.HasTarget || m.MemberEpoch == nil || *m.MemberEpoch != *d.GroupEpoch || len(partitionsOf(m.Assigned)) != 2 {
				return false
			}
		}
		return offsets848(d) == "events/0:3/3/0 events/1:2/2/0 events/2:1/1/0 events/3:-/0/-"
	})
	if d.Type != "consumer" || d.ProtocolType != "consumer" || d.Assignor != "uniform" || d.Protocol != "uniform" ||
		d.GroupEpoch == nil || d.AssignmentEpoch == nil || *d.GroupEpoch < 2 || *d.AssignmentEpoch != *d.GroupEpoch || d.TotalLag != 0 {
		t.Errorf("describe g848: %+v, want a uniform consumer group at group epoch = assignment epoch >= 2 (two joins), lag 0", d)
	}
	owner := map[int32]member848{}
	for _, m := range d.Members {
		if m.MemberID == "" || m.Host == "" || m.InstanceID != nil || !strings.HasPrefix(m.ClientID, "reader-") {
			t.Errorf("member %+v: want an id, a host, no instance id and a reader's client id", m)
		}
		for _, a := range m.Assigned {
			if a.Topic != "events" {
				t.Errorf("member %s is assigned topic %s", m.MemberID, a.Topic)
			}
			for _, p := range a.Partitions {
				owner[p] = m
			}
		}
	}
	if len(owner) != 4 || d.Members[0].ClientID == d.Members[1].ClientID {
		t.Errorf("members %+v: want both readers, owning the four partitions between them", d.Members)
	}
	for _, o := range d.Offsets {
		if m := owner[o.Partition]; o.MemberID != m.MemberID || o.ClientID != m.ClientID {
			t.Errorf("partition %d is shown owned by %q (%q), want %q (%q)", o.Partition, o.MemberID, o.ClientID, m.MemberID, m.ClientID)
		}
	}

	// Text: the epochs and the assignor instead of the classic protocol,
	// each member's epoch, no target column while no one reconciles.
	text := c.ok("", "group", "describe", "g848")
	epoch := fmt.Sprint(*d.GroupEpoch)
	for _, re := range []string{
		`(?m)^STATE\s+Stable$`, `(?m)^TYPE\s+consumer$`, `(?m)^GROUP-EPOCH\s+` + epoch + `$`,
		`(?m)^ASSIGNMENT-EPOCH\s+` + epoch + `$`, `(?m)^ASSIGNOR\s+uniform$`, `(?m)^MEMBERS\s+2$`, `(?m)^TOTAL-LAG\s+0$`,
		`(?m)^MEMBER-ID\s+INSTANCE-ID\s+CLIENT-ID\s+HOST\s+MEMBER-EPOCH\s+ASSIGNED$`,
		`(?m)^` + regexp.QuoteMeta(d.Members[0].MemberID) + `\s+-\s+reader-\S\s+\S+\s+` + epoch + `\s+events:\d,\d$`,
		`(?m)^events\s+0\s+3\s+3\s+0\s+` + regexp.QuoteMeta(owner[0].MemberID) + `\s+` + owner[0].ClientID + `\s`,
		`(?m)^events\s+3\s+-\s+0\s+-\s+` + regexp.QuoteMeta(owner[3].MemberID) + `\s`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("group describe text does not match %s:\n%s", re, text)
		}
	}
	if strings.Contains(text, "TARGET") || strings.Contains(text, "PROTOCOL") {
		t.Errorf("group describe text of a stable consumer group has a target or protocol:\n%s", text)
	}

	// A classic group beside it keeps its shape: no type, no epochs.
	commit(t, adm, "idle", "events", map[int32]int64{0: 1})
	out := c.ok("", "group", "describe", "g848", "idle", "--format", "json")
	var both []map[string]any
	if err := json.Unmarshal([]byte(out), &both); err != nil || len(both) != 2 {
		t.Fatalf("describe g848 idle: %v\n%s", err, out)
	}
	if both[0]["type"] != "consumer" || both[1]["group"] != "idle" || both[1]["state"] != "Empty" {
		t.Errorf("describe g848 idle: %v", both)
	}
	for _, k := range []string{"type", "group_epoch", "assignment_epoch", "assignor"} {
		if _, ok := both[1][k]; ok {
			t.Errorf("the classic group's describe has %q: %v", k, both[1])
		}
	}
	if text := c.ok("", "group", "describe", "idle"); !strings.Contains(text, "PROTOCOL-TYPE") || strings.Contains(text, "EPOCH") {
		t.Errorf("classic describe text changed:\n%s", text)
	}

	var listed []listedGroup
	c.jsonOf(&listed, "group", "list")
	if len(listed) != 2 || listed[0] != (listedGroup{Group: "g848", State: "Stable", ProtocolType: "consumer", Type: "consumer", Members: 2}) {
		t.Errorf("group list: %+v, want g848 Stable, type consumer, 2 members", listed)
	}
	if text := c.ok("", "group", "list"); !regexp.MustCompile(`(?m)^g848\s+Stable\s+consumer\s+consumer\s+2$`).MatchString(text) {
		t.Errorf("group list text:\n%s", text)
	}

	// With members: delete and reset are refused, a dry run warns.
	before := committed(t, adm, "g848", "events")
	if _, out := c.fails("", "group", "delete", "g848"); !regexp.MustCompile(`(?m)^g848\s+NON_EMPTY_GROUP`).MatchString(out) {
		t.Errorf("delete of a consumer group with members:\n%s", out)
	}
	msg, _ := c.fails("", "group", "reset-offsets", "g848", "--all-topics", "--to-earliest")
	if !strings.Contains(msg, "group g848 is Stable with 2 member(s)") {
		t.Errorf("reset of a consumer group with members: %s", msg)
	}
	r := c.exec("", "group", "reset-offsets", "g848", "--all-topics", "--to-earliest", "--dry-run")
	if r.err != nil || !strings.Contains(r.stderr, "warning: group g848 is Stable") || !strings.Contains(r.stdout, "dry run") {
		t.Errorf("dry run on a consumer group with members: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if got := committed(t, adm, "g848", "events"); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Errorf("offsets %v after the refusals, were %v", got, before)
	}

	// Without members: Empty, lag from what arrived since, and the reset
	// and the delete go through.
	for _, m := range members {
		m.stop()
	}
	c.ok("g\nh\n", "produce", "events", "--partition", "0")
	waitUntil(t, "the group empty once both readers left", func() bool {
		d, _ = c.describe848("g848")
		return d.State == "Empty" && len(d.Members) == 0
	})
	if got := offsets848(d); got != "events/0:3/5/2 events/1:2/2/0 events/2:1/1/0 events/3:-/0/-" || d.TotalLag != 2 || d.Type != "consumer" {
		t.Errorf("describe of the empty group: %+v, offsets %s", d, got)
	}
	for _, o := range d.Offsets {
		if o.MemberID != "" {
			t.Errorf("partition %d of an empty group is owned by %q", o.Partition, o.MemberID)
		}
	}
	if text := c.ok("", "group", "describe", "g848"); !regexp.MustCompile(`(?m)^STATE\s+Empty$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^MEMBERS\s+0$`).MatchString(text) || strings.Contains(text, "MEMBER-EPOCH") {
		t.Errorf("describe text of the empty group:\n%s", text)
	}
	c.jsonOf(&listed, "group", "list", "--state", "empty")
	if len(listed) != 2 || listed[0] != (listedGroup{Group: "g848", State: "Empty", ProtocolType: "consumer", Type: "consumer"}) {
		t.Errorf("group list --state empty: %+v", listed)
	}
	text = c.ok("", "group", "reset-offsets", "g848", "--topic", "events", "--to-earliest")
	if n := strings.Count(text, " OK\n"); n != 4 {
		t.Errorf("reset of the empty group: %d partitions OK, want 4:\n%s", n, text)
	}
	if got := committed(t, adm, "g848", "events"); fmt.Sprint(got) != "map[0:0 1:0 2:0 3:0]" {
		t.Errorf("after the reset to the earliest: %v", got)
	}
	if d, _ = c.describe848("g848"); d.TotalLag != 8 || d.Type != "consumer" {
		t.Errorf("after the reset the group lags %d (type %q), want all 8 records", d.TotalLag, d.Type)
	}
	if out := c.ok("", "group", "delete", "g848"); !regexp.MustCompile(`(?m)^g848\s+OK$`).MatchString(out) {
		t.Errorf("delete of the empty consumer group:\n%s", out)
	}
	if msg, _ := c.fails("", "group", "describe", "g848"); !strings.Contains(msg, `group "g848" does not exist`) {
		t.Errorf("describe after the delete: %s", msg)
	}
}

// rawMember drives ConsumerGroupHeartbeat by hand, so that it answers
// (and acknowledges a revocation) only when told.
type rawMember struct {
	cl    *kgo.Client
	group string
	id    string
	epoch int32
	owned []kmsg.ConsumerGroupHeartbeatRequestTopic
}

func (m *rawMember) heartbeat(t *testing.T, topic string) {
	t.Helper()
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = m.group, m.id, m.epoch
	req.RebalanceTimeoutMillis = 5000
	req.SubscribedTopicNames = []string{topic}
	req.Topics = m.owned
	if req.Topics == nil {
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	}
	resp, err := req.RequestWith(ctxFor(t), m.cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("heartbeat of %s: %v", m.id, err)
	}
	m.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		m.owned = nil
		for _, at := range resp.Assignment.Topics {
			rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			rt.TopicID, rt.Partitions = at.TopicID, at.Partitions
			m.owned = append(m.owned, rt)
		}
	}
}

func TestGroup848DescribeReconciling(t *testing.T) {
	_, c := start(t, quick848())
	c.ok("", "topic", "create", "events", "-p", "4")
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// a takes all four partitions; then b joins, and its half stays with
	// a until a heartbeats again: b is reconciling towards its target.
	a := &rawMember{cl: cl, group: "rec", id: "member-a"}
	a.heartbeat(t, "events")
	a.heartbeat(t, "events")
	d, ok := c.describe848("rec")
	if !ok || d.State != "Stable" || len(d.Members) != 1 || fmt.Sprint(partitionsOf(d.Members[0].Assigned)) != "[0 1 2 3]" || d.Members[0].HasTarget {
		t.Fatalf("describe with one member: %+v", d)
	}
	b := &rawMember{cl: cl, group: "rec", id: "member-b"}
	b.heartbeat(t, "events")
	d, _ = c.describe848("rec")
	if len(d.Members) != 2 || d.Members[0].MemberID != "member-a" || d.Members[1].MemberID != "member-b" {
		t.Fatalf("describe with two members: %+v", d)
	}
	// As in Kafka, a's current assignment changes only when it heartbeats:
	// until then it still holds all four, its target is half.
	ma, mb := d.Members[0], d.Members[1]
	if d.State != "Reconciling" || !ma.HasTarget || fmt.Sprint(partitionsOf(ma.Assigned)) != "[0 1 2 3]" || len(partitionsOf(ma.Target)) != 2 ||
		!mb.HasTarget || len(mb.Assigned) != 0 || len(partitionsOf(mb.Target)) != 2 || *mb.MemberEpoch != *d.GroupEpoch || *ma.MemberEpoch >= *d.GroupEpoch {
		t.Errorf("right after b joined: group %s at epoch %d, a %+v, b %+v; want Reconciling, a at its old epoch holding all four "+
			"with a target of two, b at the group's epoch owning nothing with a target of the other two", d.State, *d.GroupEpoch, ma, mb)
	}
	if both := partitionsOf(append(slices.Clone(ma.Target), mb.Target...)); fmt.Sprint(both) != "[0 1 2 3]" {
		t.Errorf("targets %v and %v do not share the four partitions", ma.Target, mb.Target)
	}
	text := c.ok("", "group", "describe", "rec")
	if !regexp.MustCompile(`(?m)^MEMBER-ID\s+INSTANCE-ID\s+CLIENT-ID\s+HOST\s+MEMBER-EPOCH\s+ASSIGNED\s+TARGET$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^member-a\s+-\s+\S+\s+\S+\s+\d+\s+events:0,1,2,3\s+events:\d,\d$`).MatchString(text) ||
		!regexp.MustCompile(`(?m)^member-b\s+-\s+\S+\s+\S+\s+\d+\s+-\s+events:\d,\d$`).MatchString(text) {
		t.Errorf("describe text while b reconciles:\n%s", text)
	}

	var listed []listedGroup
	c.jsonOf(&listed, "group", "list", "--state", "reconciling")
	if len(listed) != 1 || listed[0] != (listedGroup{Group: "rec", State: "Reconciling", ProtocolType: "consumer", Type: "consumer", Members: 2}) {
		t.Errorf("group list --state reconciling: %+v", listed)
	}

	// a learns its new target, then acknowledges giving up b's half; b
	// takes it and acknowledges: both own their targets.
	a.heartbeat(t, "events")
	a.heartbeat(t, "events")
	b.heartbeat(t, "events")
	b.heartbeat(t, "events")
	d, _ = c.describe848("rec")
	if d.State != "Stable" || len(d.Members) != 2 {
		t.Fatalf("after the handover: %+v", d)
	}
	for _, m := range d.Members {
		if m.HasTarget || len(partitionsOf(m.Assigned)) != 2 || *m.MemberEpoch != *d.GroupEpoch {
			t.Errorf("after the handover member %+v of group at epoch %d: want two partitions, the group's epoch, no target", m, *d.GroupEpoch)
		}
	}
	if text := c.ok("", "group", "describe", "rec"); strings.Contains(text, "TARGET") {
		t.Errorf("describe text after the handover still has a target column:\n%s", text)
	}
}
