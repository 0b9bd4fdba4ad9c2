package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client identifies the connection a request came on: the header's client
// id and the peer's host (Kafka shows it as "/1.2.3.4").
type Client struct {
	ID, Host string
}

// joinReq is a JoinGroup request, copied out of the wire message.
type joinReq struct {
	w            waiter
	memberID     string
	instance     *string
	client       Client
	protocolType string
	protocols    []protocol
	sessionMs    int32
	rebalanceMs  int32
}

func newJoinReq(h Handle, c Client, req *kmsg.JoinGroupRequest) *joinReq {
	r := &joinReq{
		w:            waiter{h: h, version: req.Version},
		memberID:     req.MemberID,
		client:       c,
		protocolType: req.ProtocolType,
		protocols:    protocolsOf(req.Protocols),
		sessionMs:    req.SessionTimeoutMillis,
		rebalanceMs:  req.RebalanceTimeoutMillis,
	}
	if req.Version == 0 { // v0 has no rebalance timeout: the session timeout serves
		r.rebalanceMs = r.sessionMs
	}
	if req.InstanceID != nil {
		id := *req.InstanceID
		r.instance = &id
	}
	return r
}

func (r *joinReq) fail(o *op, memberID string, code int16) {
	resp := joinError(memberID, code)
	resp.Version = r.w.version
	o.respond(r.w.h, resp)
}

func (r *joinReq) answer(o *op, resp *kmsg.JoinGroupResponse) {
	resp.Version = r.w.version
	o.respond(r.w.h, resp)
}

// join handles a JoinGroup for this group (created by the Shard if needed).
func (g *Group) join(o *op, r *joinReq) {
	switch {
	case !g.acceptJoiningMember(r.memberID):
		g.remove(o, r.memberID)
		r.fail(o, "", kerr.GroupMaxSizeReached.Code)
	case r.memberID == "":
		g.joinNewMember(o, r)
	default:
		g.joinExistingMember(o, r)
	}
}

// acceptJoiningMember enforces group.max.size. While preparing a rebalance
// the members awaiting the join count (the group may be over a lowered
// limit); otherwise known members always get in.
func (g *Group) acceptJoiningMember(memberID string) bool {
	m := g.members[memberID]
	switch g.state {
	case PreparingRebalance:
		return m != nil && m.join != nil || g.awaitingJoin < g.cfg.MaxSize
	case CompletingRebalance, Stable:
		return m != nil || len(g.members) < g.cfg.MaxSize
	}
	return true
}

func (g *Group) joinNewMember(o *op, r *joinReq) {
	if g.state == Dead {
		r.fail(o, "", kerr.CoordinatorNotAvailable.Code)
		return
	}
	if !g.supportsProtocols(r.protocolType, r.protocols) {
		r.fail(o, "", kerr.InconsistentGroupProtocol.Code)
		return
	}
	prefix := r.client.ID
	if r.instance != nil {
		prefix = *r.instance
	}
	newID := prefix + "-" + g.cfg.randomID()
	switch {
	case r.instance != nil:
		if oldID, ok := g.static[*r.instance]; ok {
			g.rejoinStaticMember(o, r, oldID, newID)
		} else {
			g.addMemberAndRebalance(o, r, newID)
		}
	case r.w.version >= 4: // KIP-394: hand out an id and make the client rejoin with it
		g.pending[newID] = o.at(ms(r.sessionMs))
		r.fail(o, newID, kerr.MemberIDRequired.Code)
	default:
		g.addMemberAndRebalance(o, r, newID)
	}
}

func (g *Group) joinExistingMember(o *op, r *joinReq) {
	id := r.memberID
	if g.state == Dead {
		r.fail(o, id, kerr.CoordinatorNotAvailable.Code)
		return
	}
	if !g.supportsProtocols(r.protocolType, r.protocols) {
		r.fail(o, id, kerr.InconsistentGroupProtocol.Code)
		return
	}
	if _, ok := g.pending[id]; ok && r.instance == nil {
		g.addMemberAndRebalance(o, r, id)
		return
	}
	if code := g.validateMember(id, r.instance); code != 0 {
		r.fail(o, id, code)
		return
	}
	m := g.members[id]
	switch g.state {
	case PreparingRebalance:
		g.updateMemberAndRebalance(o, m, r)
	case CompletingRebalance:
		if !m.matches(r.protocols) {
			g.updateMemberAndRebalance(o, m, r)
			return
		}
		// A retry of a JoinGroup whose answer was lost: answer it again.
		resp := g.joinResponse(id, false)
		if id == g.leader {
			resp.Members = g.joinMembers()
		}
		r.answer(o, resp)
	case Stable:
		// The leader rejoining forces a rebalance (it may have seen topic
		// metadata change); so does a follower with new metadata.
		if id == g.leader || !m.matches(r.protocols) {
			g.updateMemberAndRebalance(o, m, r)
			return
		}
		r.answer(o, g.joinResponse(id, false))
	default:
		r.fail(o, id, kerr.UnknownMemberID.Code)
	}
}

func (g *Group) updateMemberAndRebalance(o *op, m *member, r *joinReq) {
	g.updateMember(o, m, r)
	g.maybePrepareRebalanceOrCompleteJoin(o)
}

func (g *Group) addMemberAndRebalance(o *op, r *joinReq, id string) {
	m := &member{
		id: id, instance: r.instance,
		clientID: r.client.ID, clientHost: r.client.Host,
		rebalanceMs: r.rebalanceMs, sessionMs: r.sessionMs,
		protocolType: r.protocolType, protocols: r.protocols,
		assignment: []byte{}, isNew: true,
	}
	if g.state == PreparingRebalance && g.prev == Empty {
		g.newMemberAdded = true // extends the initial delay
	}
	g.add(m, &r.w)
	// A new member cannot heartbeat until it has its id, so its JoinGroup is
	// bounded by the new-member timeout instead of its session.
	g.reschedule(o, m, g.cfg.NewMemberJoinTimeout)
	g.maybePrepareRebalanceOrCompleteJoin(o)
}

// rejoinStaticMember handles a static member that rejoins without its
// member id (KIP-345): the new id replaces the old one, fencing it. In a
// Stable group whose selected protocol would not change, the member keeps
// its assignment and nobody else rebalances.
func (g *Group) rejoinStaticMember(o *op, r *joinReq, oldID, newID string) {
	oldLeader := g.leader
	m := g.replaceStatic(o, *r.instance, oldID, newID)
	g.reschedule(o, m, ms(m.sessionMs))
	g.updateMember(o, m, r)
	switch g.state {
	case Stable:
		if g.selectProtocol() != g.protocol {
			g.maybePrepareRebalanceOrCompleteJoin(o)
			return
		}
		o.record(g.metadataRecord(g.assignments()))
		var resp *kmsg.JoinGroupResponse
		if r.w.version >= 9 { // KIP-814: a returning leader learns the members but keeps the assignment
			isLeader := g.leader == newID
			resp = g.joinResponse(newID, isLeader)
			if isLeader {
				resp.Members = g.joinMembers()
			}
		} else { // older clients see the old leader id, so act as followers and just sync
			resp = g.joinResponse(newID, false)
			resp.LeaderID = oldLeader
		}
		g.answerJoin(o, m, resp)
	case CompletingRebalance:
		// The leader may be assigning to the old id: rebalance so that the
		// new id gets an assignment.
		g.prepareRebalance(o)
	default:
		g.maybeCompleteJoinPhase(o)
	}
}
