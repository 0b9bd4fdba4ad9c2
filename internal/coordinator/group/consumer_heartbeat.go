package group

// ConsumerGroupHeartbeat (KIP-848), as Kafka 4.x's
// GroupMetadataManager.consumerGroupHeartbeat: a member joins with epoch 0,
// heartbeats with its current epoch, and leaves with -1 (or -2, a static
// member leaving for now, KIP-345 style). Each heartbeat may bump the group
// epoch (new member, changed subscription, changed topic metadata), compute
// a new target assignment, and move the member one step towards it.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cgErr is an error answered to a consumer group request.
type cgErr struct {
	code int16
	msg  string
}

func (e *cgErr) Error() string { return e.msg }

func cgFail(k *kerr.Error, format string, args ...any) *cgErr {
	return &cgErr{code: k.Code, msg: fmt.Sprintf(format, args...)}
}

// hbReq is a heartbeat's fields, copied out of the wire message.
type hbReq struct {
	version     int16
	group       string
	memberID    string
	epoch       int32
	instance    *string
	rack        *string
	rebalanceMs int32
	names       []string // nil: unchanged
	regex       *string  // nil: unchanged
	assignor    *string
	owned       assignment // nil: not reported
	client      Client
}

func newHBReq(c Client, req *kmsg.ConsumerGroupHeartbeatRequest) *hbReq {
	r := &hbReq{
		version: req.Version, group: req.Group, memberID: req.MemberID, epoch: req.MemberEpoch,
		instance: req.InstanceID, rack: req.RackID, rebalanceMs: req.RebalanceTimeoutMillis,
		regex: req.SubscribedTopicRegex, assignor: req.ServerAssignor, client: c,
	}
	if req.SubscribedTopicNames != nil {
		r.names = slices.Sorted(slices.Values(req.SubscribedTopicNames))
		r.names = slices.Compact(r.names)
	}
	if req.Topics != nil {
		r.owned = assignment{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				r.owned.add(t.TopicID, p)
			}
		}
	}
	return r
}

// validate is Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid.
func (s *Shard) validateHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) *cgErr {
	invalid := func(msg string) *cgErr { return cgFail(kerr.InvalidRequest, "%s", msg) }
	switch {
	case blank(&req.MemberID) && (req.Version >= 1 || req.MemberEpoch > 0 || req.MemberEpoch == leaveEpoch):
		return invalid("MemberId can't be empty.")
	case blank(&req.Group):
		return invalid("GroupId can't be empty.")
	case blank(req.InstanceID):
		return invalid("InstanceId can't be empty.")
	case blank(req.RackID):
		return invalid("RackId can't be empty.")
	}
	switch {
	case req.MemberEpoch == 0 && req.RebalanceTimeoutMillis == -1:
		return invalid("RebalanceTimeoutMs must be provided in first request.")
	case req.MemberEpoch == 0 && (req.Topics == nil || len(req.Topics) > 0):
		return invalid("TopicPartitions must be empty when (re-)joining.")
	case req.MemberEpoch == 0 && req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
		return invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
	case req.MemberEpoch == staticLeaveEpoch && req.InstanceID == nil:
		return invalid("InstanceId can't be null.")
	case req.MemberEpoch < staticLeaveEpoch:
		return invalid("MemberEpoch is invalid.")
	}
	if a := req.ServerAssignor; a != nil && !slices.Contains(s.cfg.ConsumerAssignors, *a) {
		return cgFail(kerr.UnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %v.", *a, s.cfg.ConsumerAssignors)
	}
	if re := req.SubscribedTopicRegex; re != nil && *re != "" {
		if _, err := regexp.Compile(*re); err != nil {
			return cgFail(kerr.InvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %v.", *re, err)
		}
	}
	return nil
}

// blank reports whether s is set but empty once trimmed, as Kafka's
// throwIfEmptyString (Java's trim drops every character up to ' ').
func blank(s *string) bool {
	return s != nil && strings.TrimFunc(*s, func(r rune) bool { return r <= ' ' }) == ""
}

// ConsumerHeartbeat handles a ConsumerGroupHeartbeat. topics is the
// cluster's current topics, which subscriptions resolve against.
func (s *Shard) ConsumerHeartbeat(now time.Time, h Handle, c Client, topics *Topics, req *kmsg.ConsumerGroupHeartbeatRequest) Effects {
	o := &op{now: now}
	if topics != nil && (s.topics == nil || topics.index >= s.topics.index) {
		s.topics = topics // never an older image than one already seen
	}
	resp, err := s.consumerHeartbeat(o, c, req)
	if err != nil {
		resp = kmsg.NewPtrConsumerGroupHeartbeatResponse()
		resp.ErrorCode, resp.ErrorMessage = err.code, &err.msg
	}
	resp.Version = req.Version
	o.respond(h, resp)
	return o.fx
}

func (s *Shard) consumerHeartbeat(o *op, c Client, req *kmsg.ConsumerGroupHeartbeatRequest) (*kmsg.ConsumerGroupHeartbeatResponse, *cgErr) {
	if !s.cfg.ConsumerProtocol {
		return nil, cgFail(kerr.UnsupportedVersion, "The consumer group protocol is not enabled (group.coordinator.rebalance.protocols).")
	}
	if err := s.validateHeartbeat(req); err != nil {
		return nil, err
	}
	r := newHBReq(c, req)
	if r.epoch == leaveEpoch || r.epoch == staticLeaveEpoch {
		return s.consumerLeave(o, r)
	}
	g, err := s.consumerGroupFor(o, r.group, r.epoch == 0)
	if err != nil {
		return nil, err
	}
	defer s.track(g)
	return s.heartbeatMember(o, g, r)
}

// consumerGroupFor is Kafka's getOrMaybeCreateConsumerGroup: a join may
// create the group or replace an empty classic one (tombstoning its
// metadata; offsets stay); anything else must already be a consumer group.
func (s *Shard) consumerGroupFor(o *op, id string, create bool) (*Group, *cgErr) {
	g := s.groups[id]
	switch {
	case g == nil && !create:
		return nil, cgFail(kerr.GroupIDNotFound, "Consumer group %s not found.", id)
	case g == nil:
		g = s.create(id, o.now)
	case g.consumer != nil:
		return g, nil
	case create && g.state == Empty && len(g.members) == 0:
		o.record(groupTombstone(id)) // Kafka's maybeDeleteEmptyClassicGroup
	case create:
		// Kafka upgrades a non-empty classic group online
		// (group.consumer.migration.policy); Samsa does not, and answers
		// as Kafka does when the upgrade is not allowed.
		return nil, cgFail(kerr.GroupIDNotFound, "Cannot upgrade classic group %s to consumer group because the online upgrade is not supported.", id)
	default:
		return nil, cgFail(kerr.GroupIDNotFound, "Group %s is not a consumer group.", id)
	}
	g.makeConsumer(o.now)
	return g, nil
}

// makeConsumer turns an empty group into an empty consumer group.
func (g *Group) makeConsumer(now time.Time) {
	g.consumer = newConsumerGroup()
	g.protocolType, g.protocol, g.generation = consumerProtocol, "", 0
	g.stateTime = now
}

func (s *Shard) heartbeatMember(o *op, g *Group, r *hbReq) (*kmsg.ConsumerGroupHeartbeatResponse, *cgErr) {
	cg := g.consumer
	if len(cg.members) >= s.cfg.ConsumerMaxSize && (r.memberID == "" || cg.members[r.memberID] == nil) {
		return nil, cgFail(kerr.GroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", s.cfg.ConsumerMaxSize)
	}
	if r.memberID == "" { // v0: the coordinator names the member
		r.memberID = s.cfg.randomID()
	}
	old, err := s.subscribeMember(o, g, r)
	if err != nil {
		return nil, err
	}
	m := old.clone()
	r.update(m)
	bump := cg.epoch == 0
	if !m.sameMetadata(old) {
		o.record(memberRecord(g.id, m))
		bump = bump || !slices.Equal(m.names, old.names) || !eqStr(m.regex, old.regex)
	}
	cg.put(m)
	s.maybeBumpEpoch(o, g, bump)
	if cg.epoch > cg.assignmentEpoch {
		s.updateTarget(o, g)
	}
	m = s.reconcile(o, g, m, r.owned)
	m.sessionAt = o.at(s.cfg.ConsumerSessionTimeout)

	resp := kmsg.NewPtrConsumerGroupHeartbeatResponse()
	resp.MemberID, resp.MemberEpoch = &m.id, m.epoch
	resp.HeartbeatIntervalMillis = int32(s.cfg.ConsumerHeartbeatInterval.Milliseconds())
	full := r.epoch == 0 || r.rebalanceMs != -1 && (r.names != nil || r.regex != nil) && r.owned != nil
	if full || !old.assigned.equal(m.assigned) {
		resp.Assignment = responseAssignment(m.assigned)
	}
	return resp, nil
}

// update applies the request's fields to m (Kafka's maybeUpdate...).
func (r *hbReq) update(m *cmember) {
	if r.instance != nil {
		m.instance = r.instance
	}
	if r.rack != nil {
		m.rack = r.rack
	}
	if r.rebalanceMs != -1 {
		m.rebalanceMs = r.rebalanceMs
	}
	if r.assignor != nil {
		m.assignor = r.assignor
	}
	if r.names != nil {
		m.names = r.names
	}
	if r.regex != nil {
		m.regex = r.regex
		if *r.regex == "" {
			m.regex = nil
		}
	}
	m.clientID, m.clientHost = r.client.ID, r.client.Host
}

// maybeBumpEpoch bumps the group epoch when asked to or when the metadata
// of the subscribed topics changed (KIP-1101's hash), recording it.
func (s *Shard) maybeBumpEpoch(o *op, g *Group, bump bool) {
	cg := g.consumer
	hash := cg.metadataHash
	if s.topics != nil { // unknown until the first heartbeat after a load
		cg.subscribed = cg.subscribedNames(s.topics, nil, "")
		hash = metadataHash(cg.subscribed, s.topics)
	}
	if !bump && hash == cg.metadataHash {
		return
	}
	cg.epoch++
	cg.metadataHash = hash
	o.record(epochRecord(g.id, cg))
}

// subscribeMember finds or creates the member the heartbeat is from,
// validating its epoch (Kafka's getOrMaybeSubscribe{Dynamic,Static}
// ConsumerGroupMember); a static member rejoining under a new id replaces
// its old self.
func (s *Shard) subscribeMember(o *op, g *Group, r *hbReq) (*cmember, *cgErr) {
	cg := g.consumer
	if r.instance == nil {
		m := cg.members[r.memberID]
		if m == nil {
			if r.epoch != 0 {
				return nil, cgFail(kerr.UnknownMemberID, "Member %s is not a member of group %s.", r.memberID, g.id)
			}
			return &cmember{id: r.memberID, assigned: assignment{}, revoking: assignment{}, rebalanceMs: -1}, nil
		}
		return m, checkMemberEpoch(m, r)
	}
	existing := cg.members[cg.static[*r.instance]]
	if r.epoch == 0 {
		if existing == nil {
			if m := cg.members[r.memberID]; m != nil {
				return m, checkMemberEpoch(m, r)
			}
			return &cmember{id: r.memberID, assigned: assignment{}, revoking: assignment{}, rebalanceMs: -1}, nil
		}
		if existing.epoch != staticLeaveEpoch {
			return nil, cgFail(kerr.UnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.",
				r.memberID, *r.instance, existing.id)
		}
		return s.replaceStatic(o, g, existing, r.memberID), nil
	}
	switch {
	case existing == nil:
		return nil, cgFail(kerr.UnknownMemberID, "Instance id %s is unknown.", *r.instance)
	case existing.id != r.memberID:
		return nil, cgFail(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", r.memberID, *r.instance, existing.id)
	}
	return existing, checkMemberEpoch(existing, r)
}

// checkMemberEpoch is Kafka's throwIfConsumerGroupMemberEpochIsInvalid: the
// previous epoch is accepted with a subset of the assignment, since the
// response that bumped it may have been lost.
func checkMemberEpoch(m *cmember, r *hbReq) *cgErr {
	switch {
	case r.epoch > m.epoch:
		return cgFail(kerr.FencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", r.epoch, m.epoch)
	case r.epoch < m.epoch && (r.epoch != m.prevEpoch || !isSubset(r.owned, m.assigned)):
		return cgFail(kerr.FencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", r.epoch, m.epoch)
	}
	return nil
}

// isSubset reports whether owned (nil: unknown) is within assigned.
func isSubset(owned, assigned assignment) bool {
	if owned == nil {
		return false
	}
	for t, ps := range owned {
		for _, p := range ps {
			if !assigned.has(t, p) {
				return false
			}
		}
	}
	return true
}

// replaceStatic is Kafka's replaceMember: the static member's state moves
// to its new member id at epoch 0, keeping its partitions.
func (s *Shard) replaceStatic(o *op, g *Group, old *cmember, newID string) *cmember {
	cg := g.consumer
	target := cg.target[old.id]
	o.record(currentTombstone(g.id, old.id), targetTombstone(g.id, old.id), memberTombstone(g.id, old.id))
	cg.drop(old.id)
	m := old.clone()
	m.id, m.epoch, m.prevEpoch = newID, 0, 0
	m.sessionAt, m.rebalanceAt = time.Time{}, time.Time{}
	cg.put(m)
	if target != nil {
		cg.target[newID] = target
	}
	o.record(memberRecord(g.id, m), targetRecord(g.id, newID, target), currentRecord(g.id, m))
	return m
}

// updateTarget computes the target assignment of the current group epoch
// with the preferred server assignor and records what changed (Kafka's
// TargetAssignmentBuilder).
func (s *Shard) updateTarget(o *op, g *Group) {
	cg := g.consumer
	sp := assignSpec{
		members: cg.memberIDs(), subs: map[string]map[uuid]bool{},
		current: cg.target, partitions: map[uuid]int32{},
	}
	for _, id := range sp.members {
		sp.subs[id] = memberTopics(cg.members[id], s.topics)
		for t := range sp.subs[id] {
			sp.partitions[t] = s.topics.byName[s.topics.byID[t]].Partitions
		}
	}
	result := assignors[cg.preferredAssignor(s.cfg.ConsumerAssignors)](sp)
	for _, id := range sp.members {
		if old, had := cg.target[id]; !had || !result[id].equal(old) {
			o.record(targetRecord(g.id, id, result[id]))
		}
		cg.target[id] = result[id]
	}
	cg.assignmentEpoch = cg.epoch
	o.record(targetEpochRecord(g.id, cg.assignmentEpoch))
}

// responseAssignment is a member's assignment as the heartbeat returns it.
func responseAssignment(a assignment) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	ra := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
	ra.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	for _, t := range a.sortedTopics() {
		rt := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		rt.TopicID, rt.Partitions = t, slices.Clone(a[t])
		ra.Topics = append(ra.Topics, rt)
	}
	return &ra
}

// consumerLeave handles epochs -1 and -2 (Kafka's consumerGroupLeave).
func (s *Shard) consumerLeave(o *op, r *hbReq) (*kmsg.ConsumerGroupHeartbeatResponse, *cgErr) {
	g, err := s.consumerGroupFor(o, r.group, false)
	if err != nil {
		return nil, err
	}
	defer s.track(g)
	cg := g.consumer
	resp := kmsg.NewPtrConsumerGroupHeartbeatResponse()
	resp.MemberID, resp.MemberEpoch = &r.memberID, r.epoch
	if r.instance == nil {
		m := cg.members[r.memberID]
		if m == nil {
			return nil, cgFail(kerr.UnknownMemberID, "Member %s is not a member of group %s.", r.memberID, g.id)
		}
		s.fence(o, g, m)
		return resp, nil
	}
	m := cg.members[cg.static[*r.instance]]
	switch {
	case m == nil:
		return nil, cgFail(kerr.UnknownMemberID, "Instance id %s is unknown.", *r.instance)
	case m.id != r.memberID:
		return nil, cgFail(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", r.memberID, *r.instance, m.id)
	case r.epoch == staticLeaveEpoch:
		// The member keeps its partitions until its session ends or it
		// rejoins (KIP-848's static membership).
		left := m.clone()
		left.epoch, left.revoking = staticLeaveEpoch, assignment{}
		left.rebalanceAt = time.Time{}
		cg.put(left)
		o.record(currentRecord(g.id, left))
		return resp, nil
	}
	s.fence(o, g, m)
	return resp, nil
}

// fence removes a member and bumps the group epoch (Kafka's
// consumerGroupFenceMember).
func (s *Shard) fence(o *op, g *Group, m *cmember) {
	cg := g.consumer
	o.record(currentTombstone(g.id, m.id), targetTombstone(g.id, m.id), memberTombstone(g.id, m.id))
	cg.drop(m.id)
	if len(cg.members) == 0 {
		g.stateTime = o.now
	}
	s.maybeBumpEpoch(o, g, true)
}
