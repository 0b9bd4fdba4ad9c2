package group

import (
	"container/heap"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Shard is the classic groups and offsets of one partition of
// __consumer_offsets. It is not safe for concurrent use: one goroutine (the
// shard runtime) owns it. See the package documentation for the contract.
type Shard struct {
	cfg    Config
	groups map[string]*Group

	// Deadlines: due holds each group's next deadline; the heap may also
	// hold stale entries, skipped when they do not match due.
	due       map[string]time.Time
	deadlines deadlineHeap

	// topics is the latest cluster topics a consumer group heartbeat
	// brought; what fences between heartbeats resolve subscriptions with.
	topics *Topics

	// pending holds transactional offset commits by producer id until
	// their transaction's marker (txn_offsets.go).
	pending map[int64][]pendingOffset
}

// NewShard returns an empty shard.
func NewShard(cfg Config) *Shard {
	return &Shard{cfg: cfg, groups: map[string]*Group{}, due: map[string]time.Time{}, pending: map[int64][]pendingOffset{}}
}

// Group returns a group, or nil. The group is for reading only.
func (s *Shard) Group(id string) *Group { return s.groups[id] }

// GroupIDs returns the ids of the shard's groups, sorted.
func (s *Shard) GroupIDs() []string {
	ids := make([]string, 0, len(s.groups))
	for id := range s.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// create adds a new Empty group.
func (s *Shard) create(id string, now time.Time) *Group {
	g := newGroup(id, &s.cfg, now)
	s.groups[id] = g
	return g
}

// track updates the deadline index after g changed, and forgets a Dead g.
func (s *Shard) track(g *Group) {
	if g == nil {
		return
	}
	if g.state == Dead {
		delete(s.groups, g.id)
		delete(s.due, g.id)
		return
	}
	at := g.NextDeadline()
	if at.IsZero() {
		delete(s.due, g.id)
		return
	}
	if cur, ok := s.due[g.id]; ok && cur.Equal(at) {
		return
	}
	s.due[g.id] = at
	heap.Push(&s.deadlines, deadline{at: at, group: g.id})
	if len(s.deadlines) > 2*len(s.due)+64 {
		s.deadlines = s.deadlines[:0]
		for id, at := range s.due {
			s.deadlines = append(s.deadlines, deadline{at: at, group: id})
		}
		heap.Init(&s.deadlines)
	}
}

// Join handles a JoinGroup. The response may come from a later operation:
// a joining member waits for the rest of the group.
func (s *Shard) Join(now time.Time, h Handle, c Client, req *kmsg.JoinGroupRequest) Effects {
	o := &op{now: now}
	r := newJoinReq(h, c, req)
	switch {
	case req.Group == "":
		r.fail(o, req.MemberID, kerr.InvalidGroupID.Code)
		return o.fx
	case ms(r.sessionMs) < s.cfg.MinSessionTimeout || ms(r.sessionMs) > s.cfg.MaxSessionTimeout:
		r.fail(o, req.MemberID, kerr.InvalidSessionTimeout.Code)
		return o.fx
	}
	g := s.groups[req.Group]
	if g != nil && g.consumer != nil && !s.joinConsumerGroup(o, r, g) {
		return o.fx
	}
	created := false
	if g == nil {
		if req.MemberID != "" {
			r.fail(o, req.MemberID, kerr.UnknownMemberID.Code)
			return o.fx
		}
		g, created = s.create(req.Group, now), true
	}
	g.join(o, r)
	if created && len(o.fx.Records) == 0 {
		o.record(g.emptyRecord())
	}
	s.track(g)
	return o.fx
}

// joinConsumerGroup handles a JoinGroup for a consumer group: an empty one
// is deleted so that a classic group takes its place (Kafka's
// maybeDeleteEmptyConsumerGroup); a non-empty one refuses the member with
// INCONSISTENT_GROUP_PROTOCOL (Kafka 4 would admit a classic member into it,
// KIP-848's migration path, which Samsa does not have). It reports whether
// the join goes on.
func (s *Shard) joinConsumerGroup(o *op, r *joinReq, g *Group) bool {
	if len(g.consumer.members) > 0 {
		r.fail(o, r.memberID, kerr.InconsistentGroupProtocol.Code)
		return false
	}
	o.record(consumerTombstones(g)...)
	g.consumer, g.protocolType = nil, ""
	return true
}

// Sync handles a SyncGroup; followers' responses wait for the leader's.
func (s *Shard) Sync(now time.Time, h Handle, req *kmsg.SyncGroupRequest) Effects {
	o := &op{now: now}
	g := s.groups[req.Group]
	code := int16(0)
	switch {
	case req.Group == "":
		code = kerr.InvalidGroupID.Code
	case g == nil || g.state == Empty:
		code = kerr.UnknownMemberID.Code
	}
	if code != 0 {
		resp := syncError(code)
		resp.Version = req.Version
		o.respond(h, resp)
		return o.fx
	}
	g.sync(o, h, req)
	s.track(g)
	return o.fx
}

// Heartbeat handles a Heartbeat.
func (s *Shard) Heartbeat(now time.Time, h Handle, req *kmsg.HeartbeatRequest) Effects {
	o := &op{now: now}
	g := s.groups[req.Group]
	switch {
	case req.Group == "":
		o.respond(h, heartbeatResponse(req.Version, kerr.InvalidGroupID.Code))
	case g == nil || g.consumer != nil: // a consumer group has no classic members
		o.respond(h, heartbeatResponse(req.Version, kerr.UnknownMemberID.Code))
	default:
		g.heartbeat(o, h, req)
		s.track(g)
	}
	return o.fx
}

// Leave handles a LeaveGroup: one member up to v2, a batch from v3 (KIP-345)
// with an error per member.
func (s *Shard) Leave(now time.Time, h Handle, req *kmsg.LeaveGroupRequest) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrLeaveGroupResponse()
	resp.Version = req.Version
	who := []leaveMember{{memberID: req.MemberID}}
	if req.Version >= 3 {
		who = who[:0]
		for _, m := range req.Members {
			who = append(who, leaveMember{memberID: m.MemberID, instance: m.InstanceID})
		}
	}
	switch g := s.groups[req.Group]; {
	case req.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
	case g == nil || g.consumer != nil: // as Kafka: every member unknown, not the request
		codes := make([]int16, len(who))
		for i := range codes {
			codes[i] = kerr.UnknownMemberID.Code
		}
		leaveResult(resp, who, codes)
	default:
		codes := g.leave(o, who)
		s.track(g)
		leaveResult(resp, who, codes)
	}
	o.respond(h, resp)
	return o.fx
}

func leaveResult(resp *kmsg.LeaveGroupResponse, who []leaveMember, codes []int16) {
	if resp.Version < 3 {
		resp.ErrorCode = codes[0]
		return
	}
	for i, w := range who {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = w.memberID, w.instance, codes[i]
		resp.Members = append(resp.Members, rm)
	}
}

// CommitOffsets handles an OffsetCommit. Topics are named: for v10+ the
// handler resolves topic ids to names first (and the response echoes both).
func (s *Shard) CommitOffsets(now time.Time, h Handle, req *kmsg.OffsetCommitRequest) Effects {
	o := &op{now: now}
	g := s.groups[req.Group]
	code := int16(0)
	switch {
	case g != nil && g.consumer != nil: // KIP-848: the generation is the member epoch
		code = g.consumer.validateCommit(req.MemberID, req.Generation, req.Version)
	case g != nil:
		code = g.validateOffsetCommit(req.MemberID, req.InstanceID, req.Generation)
	case req.Generation < 0: // a simple consumer: its group exists for its offsets
		g = s.create(req.Group, now)
	case req.Version >= 9:
		code = kerr.GroupIDNotFound.Code
	default:
		code = kerr.IllegalGeneration.Code
	}
	resp := commitResponse(req, code)
	if code == 0 {
		g.commit(o, req, resp, s.cfg.OffsetMetadataMaxBytes)
	}
	o.respond(h, resp)
	s.track(g)
	return o.fx
}

// FetchOffsets returns a group's committed offsets for topics, or all of
// them when topics is nil (OffsetFetch). An unknown group has none. A
// member of a consumer group names itself and its epoch (v9+, KIP-848):
// UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH if they are not current.
func (s *Shard) FetchOffsets(group string, topics []kmsg.OffsetFetchRequestGroupTopic, memberID *string, epoch int32) kmsg.OffsetFetchResponseGroup {
	resp := kmsg.NewOffsetFetchResponseGroup()
	resp.Group = group
	g := s.groups[group]
	if g != nil && g.consumer != nil {
		if resp.ErrorCode = g.consumer.validateFetch(memberID, epoch); resp.ErrorCode != 0 {
			return resp
		}
	}
	resp.Topics = g.fetch(topics)
	return resp
}

// DeleteOffsets handles an OffsetDelete (KIP-496).
func (s *Shard) DeleteOffsets(now time.Time, h Handle, req *kmsg.OffsetDeleteRequest) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrOffsetDeleteResponse()
	resp.Version = req.Version
	if g := s.groups[req.Group]; g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
	} else {
		g.deleteOffsets(o, req, resp)
	}
	o.respond(h, resp)
	return o.fx
}

// DeleteGroups deletes empty groups and their offsets; the response lists
// the groups named, which should all belong to this shard.
func (s *Shard) DeleteGroups(now time.Time, h Handle, req *kmsg.DeleteGroupsRequest) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrDeleteGroupsResponse()
	resp.Version = req.Version
	for _, id := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = id
		switch g := s.groups[id]; {
		case g == nil:
			rg.ErrorCode = kerr.GroupIDNotFound.Code
		case g.consumer != nil && len(g.consumer.members) > 0:
			rg.ErrorCode = kerr.NonEmptyGroup.Code
		case g.state != Empty:
			rg.ErrorCode = kerr.NonEmptyGroup.Code
		default:
			s.kill(o, g)
		}
		resp.Groups = append(resp.Groups, rg)
	}
	o.respond(h, resp)
	return o.fx
}

// kill tombstones an empty group and its offsets and makes it Dead.
func (s *Shard) kill(o *op, g *Group) {
	g.deleteAllOffsets(o)
	if g.consumer != nil {
		o.record(consumerTombstones(g)...)
	} else {
		o.record(groupTombstone(g.id))
	}
	g.transition(o, Dead)
	s.track(g)
}

// Cleanup expires offsets past retention and deletes empty groups left
// without offsets; call it every offsets.retention.check.interval.ms.
func (s *Shard) Cleanup(now time.Time) Effects {
	o := &op{now: now}
	for _, id := range s.GroupIDs() {
		g := s.groups[id]
		all := g.expireOffsets(o, s.cfg.OffsetsRetention.Milliseconds())
		if all && g.state == Empty && len(g.pending) == 0 && (g.consumer == nil || len(g.consumer.members) == 0) {
			s.kill(o, g)
		}
	}
	return o.fx
}

// Tick fires every deadline due by now.
func (s *Shard) Tick(now time.Time) Effects {
	o := &op{now: now}
	for len(s.deadlines) > 0 && !s.deadlines[0].at.After(now) {
		d := heap.Pop(&s.deadlines).(deadline)
		if cur, ok := s.due[d.group]; !ok || !cur.Equal(d.at) {
			continue
		}
		delete(s.due, d.group)
		switch g := s.groups[d.group]; {
		case g != nil && g.consumer != nil:
			s.tickConsumer(o, g)
			s.track(g)
		case g != nil:
			g.tick(o)
			s.track(g)
		}
	}
	return o.fx
}

// NextDeadline returns when Tick next has work, or the zero time.
func (s *Shard) NextDeadline() time.Time {
	for len(s.deadlines) > 0 {
		d := s.deadlines[0]
		if cur, ok := s.due[d.group]; ok && cur.Equal(d.at) {
			return d.at
		}
		heap.Pop(&s.deadlines)
	}
	return time.Time{}
}

// Loaded finishes a load: every replayed member's session starts now, and
// a group over group.max.size rebalances.
func (s *Shard) Loaded(now time.Time) Effects {
	o := &op{now: now}
	for _, id := range s.GroupIDs() {
		g := s.groups[id]
		if g.consumer != nil {
			s.loadedConsumer(o, g)
			s.track(g)
			continue
		}
		for _, m := range g.members {
			g.reschedule(o, m, ms(m.sessionMs))
		}
		if len(g.members) > s.cfg.MaxSize {
			g.prepareRebalance(o)
		}
		s.track(g)
	}
	return o.fx
}

// Unload gives the partition up: parked requests get NOT_COORDINATOR and
// every group is forgotten.
func (s *Shard) Unload(now time.Time) Effects {
	o := &op{now: now}
	for _, id := range s.GroupIDs() {
		g := s.groups[id]
		for _, mid := range g.order {
			m := g.members[mid]
			g.answerJoin(o, m, joinError(mid, kerr.NotCoordinator.Code))
			g.answerSync(o, m, syncError(kerr.NotCoordinator.Code))
		}
		g.transition(o, Dead)
	}
	clear(s.groups)
	clear(s.due)
	s.deadlines = nil
	return o.fx
}

// Describe returns a group as DescribeGroups shows it; found is false for
// an unknown group, shown as Dead (v6+ handlers answer GROUP_ID_NOT_FOUND).
func (s *Shard) Describe(id string) (d kmsg.DescribeGroupsResponseGroup, found bool) {
	g := s.groups[id]
	if g == nil {
		d = kmsg.NewDescribeGroupsResponseGroup()
		d.Group, d.State = id, Dead.String()
		return d, false
	}
	if g.consumer != nil { // Kafka 4: not a classic group, so Dead (and GROUP_ID_NOT_FOUND from v6)
		d = kmsg.NewDescribeGroupsResponseGroup()
		d.Group, d.State, d.ErrorMessage = id, Dead.String(), ptr("Group "+id+" is not a classic group.")
		return d, false
	}
	return g.Describe(), true
}

// Describe returns the group as DescribeGroups shows it: member metadata
// and assignments only when Stable.
func (g *Group) Describe() kmsg.DescribeGroupsResponseGroup {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group, d.State, d.ProtocolType = g.id, g.state.String(), g.protocolType
	stable := g.state == Stable
	if stable {
		d.Protocol = g.protocol
	}
	for _, id := range g.order {
		m := g.members[id]
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID = id, m.instance
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
		dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		if stable {
			dm.ProtocolMetadata, dm.MemberAssignment = m.metadata(g.protocol), m.assignment
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

// List returns the groups for ListGroups, filtered by state (v4+) and type
// (v5+), both case-insensitively; an empty filter keeps everything.
func (s *Shard) List(states, types []string) []kmsg.ListGroupsResponseGroup {
	in := func(filter []string, v string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, v) })
	}
	var out []kmsg.ListGroupsResponseGroup
	for _, id := range s.GroupIDs() {
		g := s.groups[id]
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = id, g.protocolType, g.state.String(), "classic"
		if g.consumer != nil {
			lg.GroupState, lg.GroupType = g.consumer.state().String(), "consumer"
		}
		if in(states, lg.GroupState) && in(types, lg.GroupType) {
			out = append(out, lg)
		}
	}
	return out
}

type deadline struct {
	at    time.Time
	group string
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}
