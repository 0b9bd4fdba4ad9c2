package group

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cgHarness drives a Shard's consumer groups with injected time, keeping
// every record written so that replay can be checked.
type cgHarness struct {
	t       *testing.T
	s       *Shard
	now     time.Time
	topics  *Topics
	records []Record
	next    Handle
}

var (
	topicA = uuid{1}
	topicB = uuid{2}
)

func newCGHarness(t *testing.T, mutate func(*Config)) *cgHarness {
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelay = 0
	n := 0
	cfg.RandomID = func() string { n++; return fmt.Sprint(n) }
	if mutate != nil {
		mutate(&cfg)
	}
	return &cgHarness{
		t: t, s: NewShard(cfg), now: time.UnixMilli(1_700_000_000_000),
		topics: NewTopics([]TopicMeta{{Name: "a", ID: topicA, Partitions: 4}, {Name: "b", ID: topicB, Partitions: 2}}),
	}
}

func (h *cgHarness) apply(fx Effects) []Response {
	h.records = append(h.records, fx.Records...)
	h.checkOwnership()
	return fx.Responses
}

func (h *cgHarness) hb(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	h.next++
	rs := h.apply(h.s.ConsumerHeartbeat(h.now, h.next, Client{ID: "cl", Host: "/10.0.0.1"}, h.topics, req))
	if len(rs) != 1 || rs[0].Handle != h.next {
		h.t.Fatalf("heartbeat answered %d times", len(rs))
	}
	return rs[0].Msg.(*kmsg.ConsumerGroupHeartbeatResponse)
}

// ok is hb that must succeed.
func (h *cgHarness) ok(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	h.t.Helper()
	resp := h.hb(req)
	if resp.ErrorCode != 0 {
		h.t.Fatalf("heartbeat of %s at epoch %d: %v (%s)", req.MemberID, req.MemberEpoch, kerr.ErrorForCode(resp.ErrorCode), deref(resp.ErrorMessage))
	}
	return resp
}

func (h *cgHarness) fails(req *kmsg.ConsumerGroupHeartbeatRequest, want *kerr.Error) {
	h.t.Helper()
	if resp := h.hb(req); resp.ErrorCode != want.Code {
		h.t.Errorf("heartbeat of %q at epoch %d: %v, want %v", req.MemberID, req.MemberEpoch, kerr.ErrorForCode(resp.ErrorCode), want)
	}
}

func (h *cgHarness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	h.apply(h.s.Tick(h.now))
}

// checkOwnership fails if a partition is held (assigned or pending
// revocation) by two members of a group at once.
func (h *cgHarness) checkOwnership() {
	h.t.Helper()
	for _, id := range h.s.GroupIDs() {
		cg := h.s.groups[id].consumer
		if cg == nil {
			continue
		}
		seen := map[partKey]string{}
		for _, mid := range cg.memberIDs() {
			m := cg.members[mid]
			for _, a := range []assignment{m.assigned, m.revoking} {
				for t, ps := range a {
					for _, p := range ps {
						if other, dup := seen[partKey{t, p}]; dup {
							h.t.Fatalf("group %s: partition %v/%d held by %s and %s", id, t[0], p, other, mid)
						}
						seen[partKey{t, p}] = mid
					}
				}
			}
		}
	}
}

func (h *cgHarness) group(id string) *consumerGroup { return h.s.groups[id].consumer }

// join is a first heartbeat (epoch 0) subscribing to topics.
func join(group, member string, topics ...string) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version, req.Group, req.MemberID = 1, group, member
	req.RebalanceTimeoutMillis = 1000
	req.SubscribedTopicNames = append([]string{}, topics...)
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return req
}

// beat is a heartbeat at epoch reporting owned (nil: a keepalive).
func beat(group, member string, epoch int32, owned map[uuid][]int32) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version, req.Group, req.MemberID, req.MemberEpoch = 1, group, member, epoch
	req.RebalanceTimeoutMillis = -1
	if owned != nil {
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		for _, t := range slices.SortedFunc(func(yield func(uuid) bool) {
			for t := range owned {
				if !yield(t) {
					return
				}
			}
		}, compareTopicIDs) {
			rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			rt.TopicID, rt.Partitions = t, owned[t]
			req.Topics = append(req.Topics, rt)
		}
	}
	return req
}

func owned(resp *kmsg.ConsumerGroupHeartbeatResponse) map[uuid][]int32 {
	if resp.Assignment == nil {
		return nil
	}
	out := map[uuid][]int32{}
	for _, t := range resp.Assignment.Topics {
		out[t.TopicID] = t.Partitions
	}
	return out
}

func count(a map[uuid][]int32) int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func TestConsumerJoinHeartbeatAndEpochErrors(t *testing.T) {
	h := newCGHarness(t, nil)
	resp := h.ok(join("g", "m1", "a"))
	if resp.MemberEpoch != 1 || *resp.MemberID != "m1" || resp.HeartbeatIntervalMillis != 5000 {
		t.Errorf("join: epoch %d id %s interval %d, want epoch 1, m1, 5000", resp.MemberEpoch, *resp.MemberID, resp.HeartbeatIntervalMillis)
	}
	if got := owned(resp); !slices.Equal(got[topicA], []int32{0, 1, 2, 3}) {
		t.Errorf("join assigned %v, want all four partitions of a", got)
	}
	if resp = h.ok(beat("g", "m1", 1, nil)); resp.Assignment != nil || resp.MemberEpoch != 1 {
		t.Errorf("keepalive: %+v, want epoch 1 and no assignment", resp)
	}
	full := beat("g", "m1", 1, map[uuid][]int32{topicA: {0, 1, 2, 3}})
	full.RebalanceTimeoutMillis, full.SubscribedTopicNames = 1000, []string{"a"}
	if resp = h.ok(full); resp.Assignment == nil {
		t.Error("a full heartbeat gets its assignment back, as in Kafka")
	}
	h.fails(beat("g", "m1", 2, nil), kerr.FencedMemberEpoch)
	h.fails(beat("g", "nobody", 1, nil), kerr.UnknownMemberID)
	h.fails(beat("nogroup", "m1", 1, nil), kerr.GroupIDNotFound)
	if d := h.s.ConsumerDescribe("g", h.topics); d.State != "Stable" || d.Epoch != 1 || d.AssignmentEpoch != 1 || d.AssignorName != "uniform" {
		t.Errorf("describe: %+v", d)
	}
}

func TestConsumerRequestValidation(t *testing.T) {
	h := newCGHarness(t, func(c *Config) { c.ConsumerAssignors = []string{"range", "uniform"} })
	noTopics := join("g", "m", "a")
	noTopics.Topics = nil
	owning := join("g", "m", "a")
	owning.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: topicA, Partitions: []int32{0}}}
	noSub := join("g", "m")
	noSub.SubscribedTopicNames = nil
	noRebalance := join("g", "m", "a")
	noRebalance.RebalanceTimeoutMillis = -1
	sticky := join("g", "m", "a")
	sticky.ServerAssignor = ptr("sticky")
	badRegex := join("g", "m")
	badRegex.SubscribedTopicNames, badRegex.SubscribedTopicRegex = nil, ptr("a(")
	for _, c := range []struct {
		name string
		req  *kmsg.ConsumerGroupHeartbeatRequest
		want *kerr.Error
	}{
		{"v1 without a member id", join("g", "", "a"), kerr.InvalidRequest},
		{"no group", join("", "m", "a"), kerr.InvalidRequest},
		{"null owned partitions on join", noTopics, kerr.InvalidRequest},
		{"owned partitions on join", owning, kerr.InvalidRequest},
		{"no subscription on join", noSub, kerr.InvalidRequest},
		{"no rebalance timeout on join", noRebalance, kerr.InvalidRequest},
		{"static leave without an instance", beat("g", "m", -2, nil), kerr.InvalidRequest},
		{"epoch below -2", beat("g", "m", -3, nil), kerr.InvalidRequest},
		{"unknown assignor", sticky, kerr.UnsupportedAssignor},
		{"bad regex", badRegex, kerr.InvalidRegularExpression},
	} {
		h.fails(c.req, c.want)
	}
	if len(h.s.groups) != 0 || len(h.records) != 0 {
		t.Errorf("rejected requests created %d groups and %d records", len(h.s.groups), len(h.records))
	}
	v0 := join("g", "", "a")
	v0.Version = 0
	if resp := h.ok(v0); resp.MemberID == nil || *resp.MemberID == "" {
		t.Error("v0: the coordinator names a member joining without an id")
	}
	h.s.cfg.ConsumerProtocol = false
	h.fails(join("g", "m", "a"), kerr.UnsupportedVersion)
}

// TestConsumerRevokeBeforeAssign: a second member gets partitions only
// once the first has stopped reporting them; the first stays at its epoch
// meanwhile.
func TestConsumerRevokeBeforeAssign(t *testing.T) {
	h := newCGHarness(t, nil)
	a := h.ok(join("g", "ma", "a"))
	b := h.ok(join("g", "mb", "a"))
	if b.MemberEpoch != 2 || count(owned(b)) != 0 {
		t.Fatalf("b joined at epoch %d with %v; want epoch 2 and nothing yet (a holds it all)", b.MemberEpoch, owned(b))
	}
	if st := h.group("g").members["mb"].state; st != memberUnreleased {
		t.Errorf("b is in state %d, want unreleased partitions", st)
	}
	if d := h.s.ConsumerDescribe("g", h.topics); d.State != "Reconciling" {
		t.Errorf("group %s, want Reconciling", d.State)
	}
	all := owned(a)
	a = h.ok(beat("g", "ma", 1, all))
	if a.MemberEpoch != 1 || count(owned(a)) != 2 {
		t.Fatalf("a told to revoke: epoch %d, assignment %v; want epoch 1 and two partitions", a.MemberEpoch, owned(a))
	}
	kept := owned(a)
	if resp := h.ok(beat("g", "ma", 1, all)); resp.MemberEpoch != 1 {
		t.Errorf("a still owning what it must revoke moved to epoch %d", resp.MemberEpoch)
	}
	if resp := h.ok(beat("g", "mb", 2, map[uuid][]int32{})); count(owned(resp)) != 0 {
		t.Errorf("b got %v before a revoked", owned(resp))
	}
	if a = h.ok(beat("g", "ma", 1, kept)); a.MemberEpoch != 2 {
		t.Errorf("a after revoking: epoch %d, want 2", a.MemberEpoch)
	}
	b = h.ok(beat("g", "mb", 2, map[uuid][]int32{}))
	if count(owned(b)) != 2 || b.MemberEpoch != 2 {
		t.Errorf("b after a revoked: %v at epoch %d, want two partitions at 2", owned(b), b.MemberEpoch)
	}
	if d := h.s.ConsumerDescribe("g", h.topics); d.State != "Stable" {
		t.Errorf("group %s, want Stable", d.State)
	}
	// The previous epoch is accepted with a subset of the assignment (a
	// lost response); anything older is fenced.
	h.ok(beat("g", "ma", 1, kept))
	h.fails(beat("g", "ma", 1, all), kerr.FencedMemberEpoch)

	// b leaves: the epoch moves on and a takes everything back.
	if resp := h.ok(beat("g", "mb", -1, nil)); resp.MemberEpoch != -1 {
		t.Errorf("leave answered epoch %d, want -1", resp.MemberEpoch)
	}
	if a = h.ok(beat("g", "ma", 2, kept)); a.MemberEpoch != 3 || count(owned(a)) != 4 {
		t.Errorf("a after b left: %v at epoch %d, want all four at 3", owned(a), a.MemberEpoch)
	}
	h.fails(beat("g", "mb", 2, nil), kerr.UnknownMemberID)
}

func TestConsumerStaticMembers(t *testing.T) {
	h := newCGHarness(t, nil)
	static := func(req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatRequest {
		req.InstanceID = ptr("i1")
		return req
	}
	s1 := h.ok(static(join("g", "s1", "a")))
	h.ok(join("g", "d1", "a"))
	s1 = h.ok(static(beat("g", "s1", s1.MemberEpoch, owned(s1))))
	s1 = h.ok(static(beat("g", "s1", s1.MemberEpoch, owned(s1))))
	kept := map[uuid][]int32(h.group("g").members["s1"].assigned)
	if count(kept) != 2 {
		t.Fatalf("static member holds %v, want two partitions", kept)
	}
	h.fails(static(join("g", "s2", "a")), kerr.UnreleasedInstanceID)
	h.fails(static(beat("g", "s2", s1.MemberEpoch, nil)), kerr.FencedInstanceID)
	other := beat("g", "s1", -2, nil)
	other.InstanceID = ptr("other")
	h.fails(other, kerr.UnknownMemberID)
	epoch := h.group("g").epoch
	if resp := h.ok(static(beat("g", "s1", -2, nil))); resp.MemberEpoch != -2 {
		t.Errorf("static leave answered epoch %d, want -2", resp.MemberEpoch)
	}
	if h.group("g").epoch != epoch || h.group("g").members["s1"].epoch != -2 {
		t.Error("a static member leaving for now must keep its place without a new group epoch")
	}
	s2 := h.ok(static(join("g", "s2", "a")))
	if !mapsEqual(owned(s2), kept) || h.group("g").epoch != epoch || h.group("g").members["s1"] != nil {
		t.Errorf("the returning instance got %v at group epoch %d; want its partitions %v back without a rebalance", owned(s2), h.group("g").epoch, kept)
	}
	h.checkReplay()
}

func mapsEqual(a, b map[uuid][]int32) bool {
	return assignment(a).equal(assignment(b))
}

func TestConsumerSessionAndRebalanceTimeouts(t *testing.T) {
	h := newCGHarness(t, func(c *Config) { c.ConsumerSessionTimeout = 10 * time.Second })
	a := h.ok(join("g", "ma", "a"))
	h.ok(join("g", "mb", "a"))
	// a keeps heartbeating but never revokes: fenced after its 1 s
	// rebalance timeout, and b gets everything.
	h.ok(beat("g", "ma", 1, owned(a)))
	h.advance(900 * time.Millisecond)
	h.ok(beat("g", "ma", 1, owned(a)))
	if h.group("g").members["ma"] == nil {
		t.Fatal("fenced before the rebalance timeout")
	}
	h.advance(200 * time.Millisecond)
	if h.group("g").members["ma"] != nil {
		t.Fatal("a member that did not revoke within its rebalance timeout is still there")
	}
	h.fails(beat("g", "ma", 1, nil), kerr.UnknownMemberID)
	b := h.ok(beat("g", "mb", 2, map[uuid][]int32{}))
	if count(owned(b)) != 4 {
		t.Errorf("b has %v after a was fenced, want all four", owned(b))
	}
	// b stops heartbeating: its session ends and the group is empty.
	epoch := h.group("g").epoch
	h.advance(9 * time.Second)
	if h.group("g").members["mb"] == nil {
		t.Fatal("removed before its session timeout")
	}
	h.advance(2 * time.Second)
	if cg := h.group("g"); len(cg.members) != 0 || cg.epoch != epoch+1 || cg.state() != ConsumerEmpty {
		t.Errorf("after the session timeout: %d members, epoch %d (want %d), state %v", len(cg.members), cg.epoch, epoch+1, cg.state())
	}
	h.checkReplay()
}

func TestConsumerGroupMaxSize(t *testing.T) {
	h := newCGHarness(t, func(c *Config) { c.ConsumerMaxSize = 2 })
	h.ok(join("g", "m1", "a"))
	h.ok(join("g", "m2", "a"))
	h.fails(join("g", "m3", "a"), kerr.GroupMaxSizeReached)
	h.ok(beat("g", "m1", 1, nil)) // members already in still heartbeat
}

func TestConsumerRegexAndMetadataChanges(t *testing.T) {
	h := newCGHarness(t, nil)
	req := join("g", "m", "")
	req.SubscribedTopicNames, req.SubscribedTopicRegex = nil, ptr("a|b")
	resp := h.ok(req)
	if got := owned(resp); len(got[topicA]) != 4 || len(got[topicB]) != 2 {
		t.Fatalf("regex a|b assigned %v, want a's 4 and b's 2 partitions", got)
	}
	epoch := resp.MemberEpoch
	// A new partition of a subscribed topic bumps the group epoch.
	h.topics = NewTopics([]TopicMeta{{Name: "a", ID: topicA, Partitions: 6}, {Name: "b", ID: topicB, Partitions: 2}})
	resp = h.ok(beat("g", "m", epoch, owned(resp)))
	if resp.MemberEpoch != epoch+1 || len(owned(resp)[topicA]) != 6 {
		t.Errorf("after a grew to 6 partitions: epoch %d, %v", resp.MemberEpoch, owned(resp))
	}
	// A new topic the regex matches bumps it too; one it does not, not.
	epoch = resp.MemberEpoch
	h.topics = NewTopics([]TopicMeta{{Name: "a", ID: topicA, Partitions: 6}, {Name: "b", ID: topicB, Partitions: 2},
		{Name: "bb", ID: uuid{3}, Partitions: 1}})
	if resp = h.ok(beat("g", "m", epoch, owned(resp))); resp.MemberEpoch != epoch {
		t.Errorf("a topic the regex does not match (it must match the whole name) moved the epoch to %d", resp.MemberEpoch)
	}
	h.topics = NewTopics([]TopicMeta{{Name: "a", ID: topicA, Partitions: 6}, {Name: "b", ID: topicB, Partitions: 3}})
	if resp = h.ok(beat("g", "m", epoch, owned(resp))); resp.MemberEpoch != epoch+1 || len(owned(resp)[topicB]) != 3 {
		t.Errorf("after b grew: epoch %d, %v", resp.MemberEpoch, owned(resp))
	}
	// Changing the subscription bumps the epoch and revokes.
	sub := beat("g", "m", resp.MemberEpoch, owned(resp))
	sub.SubscribedTopicNames, sub.SubscribedTopicRegex = []string{"b"}, ptr("")
	resp = h.ok(sub)
	if got := owned(resp); len(got[topicA]) != 0 || len(got[topicB]) != 3 {
		t.Errorf("after subscribing to b only: %v", got)
	}
}

func TestConsumerAndClassicGroupsCoexist(t *testing.T) {
	h := newCGHarness(t, nil)
	jreq := kmsg.NewPtrJoinGroupRequest()
	jreq.Version, jreq.Group, jreq.ProtocolType = 3, "classic", "consumer"
	jreq.SessionTimeoutMillis, jreq.RebalanceTimeoutMillis = 10000, 10000
	jreq.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0}}}
	h.apply(h.s.Join(h.now, 100, Client{}, jreq))
	h.fails(join("classic", "m", "a"), kerr.GroupIDNotFound)

	h.ok(join("cg", "m", "a"))
	jreq.Group = "cg"
	rs := h.apply(h.s.Join(h.now, 101, Client{}, jreq))
	if resp := rs[0].Msg.(*kmsg.JoinGroupResponse); resp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Errorf("JoinGroup to a consumer group with members: %v, want INCONSISTENT_GROUP_PROTOCOL", kerr.ErrorForCode(resp.ErrorCode))
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID = "cg", "m"
	if resp := h.apply(h.s.Heartbeat(h.now, 102, hb))[0].Msg.(*kmsg.HeartbeatResponse); resp.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("classic Heartbeat to a consumer group: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	// Once empty, a JoinGroup turns it into a classic group.
	h.ok(beat("cg", "m", -1, nil))
	h.apply(h.s.Join(h.now, 103, Client{}, jreq))
	if g := h.s.groups["cg"]; g.consumer != nil || len(g.members) != 1 {
		t.Errorf("the empty consumer group did not become a classic group")
	}
	// And an empty classic group (here: one that only has offsets) becomes
	// a consumer group on a heartbeat.
	h.apply(h.s.CommitOffsets(h.now, 104, simpleCommit("simple", 9, -1, "")))
	h.ok(join("simple", "m", "a"))
	if g := h.s.groups["simple"]; g.consumer == nil || len(g.offsets) != 1 {
		t.Errorf("the simple group did not become a consumer group keeping its offsets")
	}
	h.checkReplay()
}

func simpleCommit(group string, version int16, epoch int32, member string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation, req.MemberID = version, group, epoch, member
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "a"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, 7
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func TestConsumerOffsetCommitAndFetchUseMemberEpochs(t *testing.T) {
	h := newCGHarness(t, nil)
	h.ok(join("g", "m", "a"))
	commit := func(req *kmsg.OffsetCommitRequest) int16 {
		h.next++
		rs := h.apply(h.s.CommitOffsets(h.now, h.next, req))
		return rs[0].Msg.(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
	}
	for _, c := range []struct {
		name string
		req  *kmsg.OffsetCommitRequest
		want int16
	}{
		{"the member at its epoch", simpleCommit("g", 9, 1, "m"), 0},
		{"a stale epoch", simpleCommit("g", 9, 0, "m"), kerr.StaleMemberEpoch.Code},
		{"an unknown member", simpleCommit("g", 9, 1, "x"), kerr.UnknownMemberID.Code},
		{"a simple commit to a group with members", simpleCommit("g", 9, -1, ""), kerr.UnknownMemberID.Code},
		{"a member on v8", simpleCommit("g", 8, 1, "m"), kerr.UnsupportedVersion.Code},
	} {
		if got := commit(c.req); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, kerr.ErrorForCode(got), kerr.ErrorForCode(c.want))
		}
	}
	m := "m"
	if g := h.s.FetchOffsets("g", nil, &m, 0); g.ErrorCode != kerr.StaleMemberEpoch.Code {
		t.Errorf("fetch at a stale epoch: %v", kerr.ErrorForCode(g.ErrorCode))
	}
	if g := h.s.FetchOffsets("g", nil, &m, 1); g.ErrorCode != 0 || len(g.Topics) != 1 || g.Topics[0].Partitions[0].Offset != 7 {
		t.Errorf("fetch at the member's epoch: %+v", g)
	}
	if g := h.s.FetchOffsets("g", nil, nil, -1); g.ErrorCode != 0 || len(g.Topics) != 1 {
		t.Errorf("an admin fetch: %+v", g)
	}
	h.ok(beat("g", "m", -1, nil))
	if got := commit(simpleCommit("g", 9, -1, "")); got != 0 {
		t.Errorf("a simple commit to the empty group: %v", kerr.ErrorForCode(got))
	}
}

func TestConsumerListDescribeDelete(t *testing.T) {
	h := newCGHarness(t, nil)
	h.ok(join("g", "m", "a"))
	h.apply(h.s.CommitOffsets(h.now, 50, simpleCommit("g", 9, 1, "m")))
	if l := h.s.List(nil, []string{"Consumer"}); len(l) != 1 || l[0].GroupType != "consumer" || l[0].GroupState != "Stable" {
		t.Errorf("List(consumer): %+v", l)
	}
	if l := h.s.List(nil, []string{"classic"}); len(l) != 0 {
		t.Errorf("List(classic): %+v", l)
	}
	if l := h.s.List([]string{"empty"}, nil); len(l) != 0 {
		t.Errorf("List(state Empty): %+v", l)
	}
	if d, found := h.s.Describe("g"); found || d.State != "Dead" {
		t.Errorf("DescribeGroups of a consumer group: %+v found=%v, want Dead and not found", d, found)
	}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"g"}
	deleteCode := func() int16 {
		return h.apply(h.s.DeleteGroups(h.now, 60, del))[0].Msg.(*kmsg.DeleteGroupsResponse).Groups[0].ErrorCode
	}
	if code := deleteCode(); code != kerr.NonEmptyGroup.Code {
		t.Errorf("delete with a member: %v", kerr.ErrorForCode(code))
	}
	h.ok(beat("g", "m", -1, nil))
	if code := deleteCode(); code != 0 {
		t.Fatalf("delete of the empty group: %v", kerr.ErrorForCode(code))
	}
	if d := h.s.ConsumerDescribe("g", h.topics); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Errorf("describe after delete: %v", kerr.ErrorForCode(d.ErrorCode))
	}
	h.checkReplay()
	replayed := h.replayed()
	if replayed.groups["g"] != nil {
		t.Error("the deleted group came back on replay")
	}
}

// describeBytes encodes a description, pointers followed.
func describeBytes(d kmsg.ConsumerGroupDescribeResponseGroup) []byte {
	resp := kmsg.NewPtrConsumerGroupDescribeResponse()
	resp.Version, resp.Groups = 1, []kmsg.ConsumerGroupDescribeResponseGroup{d}
	return resp.AppendTo(nil)
}

// replayed rebuilds a shard from every record written so far.
func (h *cgHarness) replayed() *Shard {
	h.t.Helper()
	s := NewShard(h.s.cfg)
	for _, r := range h.records {
		if err := s.Replay(r.Key, r.Value); err != nil {
			h.t.Fatalf("replay: %v", err)
		}
	}
	s.Loaded(h.now)
	return s
}

// checkReplay checks that replay rebuilds every consumer group as it is.
func (h *cgHarness) checkReplay() {
	h.t.Helper()
	s := h.replayed()
	consumerGroups := func(s *Shard) []string {
		return slices.DeleteFunc(s.GroupIDs(), func(id string) bool { return s.groups[id].consumer == nil })
	}
	if a, b := consumerGroups(h.s), consumerGroups(s); !slices.Equal(a, b) {
		h.t.Fatalf("consumer groups %v after replay, want %v", b, a)
	}
	for _, id := range consumerGroups(h.s) {
		want, got := h.s.ConsumerDescribe(id, h.topics), s.ConsumerDescribe(id, h.topics)
		if !bytes.Equal(describeBytes(got), describeBytes(want)) {
			h.t.Errorf("group %s after replay:\n%+v\nwant\n%+v", id, got, want)
		}
		a, b := h.s.groups[id].consumer, s.groups[id].consumer
		if fmt.Sprint(a.owners) != fmt.Sprint(b.owners) || fmt.Sprint(a.target) != fmt.Sprint(b.target) || a.metadataHash != b.metadataHash {
			h.t.Errorf("group %s after replay: owners %v targets %v hash %x, want %v %v %x", id, b.owners, b.target, b.metadataHash, a.owners, a.target, a.metadataHash)
		}
		for _, mid := range a.memberIDs() {
			if got, want := b.members[mid], a.members[mid]; got == nil || !got.sameMetadata(want) || !got.sameAssignment(want) {
				h.t.Errorf("group %s member %s after replay: %+v, want %+v", id, mid, got, want)
			}
		}
		if a.epoch != b.epoch || a.assignmentEpoch != b.assignmentEpoch || fmt.Sprint(a.static) != fmt.Sprint(b.static) {
			h.t.Errorf("group %s after replay: epochs %d/%d static %v, want %d/%d %v", id, b.epoch, b.assignmentEpoch, b.static, a.epoch, a.assignmentEpoch, a.static)
		}
		if fmt.Sprint(h.s.groups[id].offsets) != fmt.Sprint(s.groups[id].offsets) {
			h.t.Errorf("group %s: offsets %v after replay, want %v", id, s.groups[id].offsets, h.s.groups[id].offsets)
		}
	}
}

func TestConsumerReplayRebuildsAChurningGroup(t *testing.T) {
	h := newCGHarness(t, nil)
	resp := map[string]*kmsg.ConsumerGroupHeartbeatResponse{}
	epochs := map[string]int32{}
	step := func(id string) {
		r := join("g", id, "a", "b")
		if resp[id] != nil {
			r = beat("g", id, epochs[id], owned(resp[id]))
		}
		out := h.ok(r)
		if out.Assignment != nil || resp[id] == nil {
			resp[id] = out
		}
		epochs[id] = out.MemberEpoch
	}
	for round := range 6 {
		for _, id := range []string{"m1", "m2", "m3"}[:1+round%3] {
			step(id)
		}
		if round == 3 {
			h.ok(beat("g", "m2", -1, nil))
			delete(resp, "m2")
			delete(epochs, "m2")
		}
		h.checkReplay()
	}
}
