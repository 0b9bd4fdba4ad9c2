package group

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// sync handles a SyncGroup. Followers park until the leader's assignment
// arrives; the leader's SyncGroup writes the group and makes it Stable.
func (g *Group) sync(o *op, h Handle, req *kmsg.SyncGroupRequest) {
	fail := func(code int16) {
		resp := syncError(code)
		resp.Version = req.Version
		o.respond(h, resp)
	}
	if code := g.validateSync(req); code != 0 {
		fail(code)
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		fail(kerr.RebalanceInProgress.Code)
	case CompletingRebalance:
		if m.sync != nil { // a retry on another connection replaces the parked one
			g.answerSync(o, m, syncError(kerr.RebalanceInProgress.Code))
		}
		m.sync = &waiter{h: h, version: req.Version}
		g.removePendingSync(m.id)
		if m.id == g.leader {
			assignment := leaderAssignment(req.GroupAssignment)
			for id := range g.members {
				if assignment[id] == nil {
					assignment[id] = []byte{}
				}
			}
			o.record(g.metadataRecord(assignment))
			g.setAndPropagate(o, assignment)
		}
	case Stable:
		g.removePendingSync(m.id)
		resp := g.syncResponse(m)
		resp.Version = req.Version
		o.respond(h, resp)
	default:
		fail(kerr.UnknownMemberID.Code)
	}
}

func leaderAssignment(as []kmsg.SyncGroupRequestGroupAssignment) map[string][]byte {
	out := make(map[string][]byte, len(as))
	for _, a := range as {
		out[a.MemberID] = bytes.Clone(a.MemberAssignment)
		if out[a.MemberID] == nil {
			out[a.MemberID] = []byte{}
		}
	}
	return out
}

func (g *Group) validateSync(req *kmsg.SyncGroupRequest) int16 {
	if g.state == Dead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return code
	}
	switch {
	case req.Generation != g.generation:
		return kerr.IllegalGeneration.Code
	case inconsistent(req.ProtocolType, g.protocolType), inconsistent(req.Protocol, g.protocol):
		return kerr.InconsistentGroupProtocol.Code
	}
	return 0
}

// inconsistent reports a SyncGroup v5+ protocol field (KIP-559) that
// disagrees with the group's.
func inconsistent(got *string, want string) bool {
	return got != nil && want != "" && *got != want
}

func (g *Group) removePendingSync(id string) {
	delete(g.pendingSync, id)
	if len(g.pendingSync) == 0 {
		g.syncAt = time.Time{}
	}
}

// heartbeat handles a Heartbeat: it keeps the session alive and tells the
// member to rejoin while a join phase is open.
func (g *Group) heartbeat(o *op, h Handle, req *kmsg.HeartbeatRequest) {
	code := g.heartbeatCode(o, req)
	o.respond(h, heartbeatResponse(req.Version, code))
}

func (g *Group) heartbeatCode(o *op, req *kmsg.HeartbeatRequest) int16 {
	if g.state == Dead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return code
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	m := g.members[req.MemberID]
	switch g.state {
	case PreparingRebalance:
		g.reschedule(o, m, ms(m.sessionMs))
		return kerr.RebalanceInProgress.Code
	case CompletingRebalance, Stable:
		g.reschedule(o, m, ms(m.sessionMs))
		return 0
	}
	return kerr.UnknownMemberID.Code
}

// leaveMember is one member of a LeaveGroup.
type leaveMember struct {
	memberID string
	instance *string
}

// leave removes members (LeaveGroup); it returns one error code per member.
// A member may be named by instance id alone (an administrator's removal).
func (g *Group) leave(o *op, who []leaveMember) []int16 {
	codes := make([]int16, len(who))
	left := false
	for i, w := range who {
		codes[i] = g.leaveOne(o, w)
		left = left || codes[i] == 0
	}
	if !left {
		return codes
	}
	switch g.state {
	case Stable, CompletingRebalance:
		g.maybePrepareRebalanceOrCompleteJoin(o)
	case PreparingRebalance:
		g.maybeCompleteJoinPhase(o)
	}
	return codes
}

func (g *Group) leaveOne(o *op, w leaveMember) int16 {
	if w.memberID == "" {
		if w.instance == nil {
			return kerr.UnknownMemberID.Code
		}
		id, ok := g.static[*w.instance]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		g.remove(o, id)
		return 0
	}
	if _, ok := g.pending[w.memberID]; ok {
		g.remove(o, w.memberID)
		return 0
	}
	if code := g.validateMember(w.memberID, w.instance); code != 0 {
		return code
	}
	g.remove(o, w.memberID)
	return 0
}
