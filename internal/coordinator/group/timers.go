package group

import (
	"slices"
	"time"
)

// timer names one of a group's deadlines.
type timer struct {
	kind timerKind
	id   string // member id for member and pending timers
	at   time.Time
}

type timerKind int8

const (
	joinTimer    timerKind = iota // end of the join phase or of the initial delay
	syncTimer                     // members that have not sent SyncGroup
	memberTimer                   // a member's session (heartbeat) deadline
	pendingTimer                  // a MEMBER_ID_REQUIRED id not yet used
)

// NextDeadline returns the earliest time at which Tick has work for this
// group, or the zero time if none.
func (g *Group) NextDeadline() time.Time {
	if g.consumer != nil {
		return g.consumer.nextDeadline()
	}
	if t, ok := g.nextTimer(); ok {
		return t.at
	}
	return time.Time{}
}

// nextTimer returns the earliest deadline; ties go to the join timer, the
// sync timer, members in join order, then pending ids in order.
func (g *Group) nextTimer() (timer, bool) {
	var best timer
	found := false
	consider := func(kind timerKind, id string, at time.Time) {
		if !at.IsZero() && (!found || at.Before(best.at)) {
			best, found = timer{kind: kind, id: id, at: at}, true
		}
	}
	consider(joinTimer, "", g.joinAt)
	consider(syncTimer, "", g.syncAt)
	for _, id := range g.order {
		consider(memberTimer, id, g.members[id].deadline)
	}
	pending := make([]string, 0, len(g.pending))
	for id := range g.pending {
		pending = append(pending, id)
	}
	slices.Sort(pending)
	for _, id := range pending {
		consider(pendingTimer, id, g.pending[id])
	}
	return best, found
}

// tick fires every deadline due by o.now, earliest first. Deadlines set
// while firing lie at least a millisecond ahead, so this ends.
func (g *Group) tick(o *op) {
	for g.state != Dead {
		t, ok := g.nextTimer()
		if !ok || t.at.After(o.now) {
			return
		}
		g.fire(o, t)
	}
}

func (g *Group) fire(o *op, t timer) {
	switch t.kind {
	case joinTimer:
		g.joinAt = time.Time{}
		if g.state != PreparingRebalance {
			return
		}
		if g.joinInitial {
			g.initialDelayFired(o)
		} else {
			g.completeJoinPhase(o)
		}
	case syncTimer:
		g.syncAt = time.Time{}
		g.expirePendingSync(o, g.syncGeneration)
	case memberTimer:
		m := g.members[t.id]
		m.deadline = time.Time{}
		g.expireSession(o, m)
	case pendingTimer:
		g.remove(o, t.id)
		if g.state == PreparingRebalance && g.hasAllMembersJoined() {
			g.completeJoinPhase(o)
		}
	}
}

// expireSession removes a member whose session ran out. A member parked in
// JoinGroup or SyncGroup is waiting on the group, not failing to heartbeat
// (its deadline is set again when its wait ends), unless it is new: a new
// member's JoinGroup is bounded by the new-member timeout.
func (g *Group) expireSession(o *op, m *member) {
	if !m.isNew && (m.join != nil || m.sync != nil) {
		return
	}
	g.removeMemberAndUpdate(o, m)
}
