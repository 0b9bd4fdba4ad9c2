package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// prepareRebalance starts a join phase: parked SyncGroups are told to
// rejoin, and an empty group waits the initial delay before completing.
func (g *Group) prepareRebalance(o *op) {
	if g.state == CompletingRebalance {
		g.resetAndPropagate(o, kerr.RebalanceInProgress.Code)
	}
	g.cancelPendingSync()
	initial := g.state == Empty
	if initial {
		g.newMemberAdded = false // (Kafka keeps a stale flag from an earlier initial phase)
		delay := g.cfg.InitialRebalanceDelay
		g.setJoinTimer(o, delay, true)
		g.initialDelay = delay
		g.initialRemaining = max(g.rebalanceTimeout()-delay, 0)
	}
	g.transition(o, PreparingRebalance)
	if !initial {
		g.maybeCompleteJoinElseSchedule(o)
	}
}

func (g *Group) setJoinTimer(o *op, d time.Duration, initial bool) {
	g.joinAt, g.joinInitial = o.at(d), initial
}

func (g *Group) cancelPendingSync() {
	clear(g.pendingSync)
	g.syncAt = time.Time{}
}

// maybePrepareRebalanceOrCompleteJoin is what most membership changes call.
func (g *Group) maybePrepareRebalanceOrCompleteJoin(o *op) {
	if g.canRebalance() {
		g.prepareRebalance(o)
	} else {
		g.maybeCompleteJoinPhase(o)
	}
}

// maybeCompleteJoinPhase completes the join phase once every member has
// rejoined, except during the initial delay, which only its timer ends.
func (g *Group) maybeCompleteJoinPhase(o *op) {
	if g.state == PreparingRebalance && g.prev != Empty && g.hasAllMembersJoined() {
		g.completeJoinPhase(o)
	}
}

func (g *Group) maybeCompleteJoinElseSchedule(o *op) {
	if g.hasAllMembersJoined() {
		g.completeJoinPhase(o)
		return
	}
	g.setJoinTimer(o, g.rebalanceTimeout(), false)
}

// initialDelayFired extends the initial delay while new members keep
// joining (bounded by the rebalance timeout), else completes the join phase.
func (g *Group) initialDelayFired(o *op) {
	if g.newMemberAdded && g.initialRemaining != 0 {
		g.newMemberAdded = false
		delay := min(g.cfg.InitialRebalanceDelay, g.initialRemaining)
		g.initialRemaining = max(g.initialRemaining-g.initialDelay, 0)
		g.initialDelay = delay
		g.setJoinTimer(o, delay, true)
		return
	}
	g.completeJoinPhase(o)
}

// completeJoinPhase ends the join phase: dynamic members that did not
// rejoin are removed (static ones stay), then the next generation starts.
func (g *Group) completeJoinPhase(o *op) {
	if g.state != PreparingRebalance {
		return
	}
	g.joinAt = time.Time{}
	for _, id := range slices.Clone(g.order) {
		if m := g.members[id]; m.join == nil && !m.static() {
			g.remove(o, id)
		}
	}
	if !g.electJoinedLeader() && len(g.members) > 0 {
		// Only static members that did not rejoin are left: wait another
		// rebalance timeout for their sessions to expire or for a rejoin.
		g.setJoinTimer(o, g.rebalanceTimeout(), false)
		return
	}
	g.initNextGeneration(o)
	if g.state == Empty {
		o.record(g.metadataRecord(nil))
		return
	}
	members := g.joinMembers()
	for _, id := range g.order {
		m := g.members[id]
		resp := g.joinResponse(id, false)
		if id == g.leader {
			resp.Members = members
		}
		g.answerJoin(o, m, resp)
		g.reschedule(o, m, ms(m.sessionMs))
		m.isNew = false
		g.pendingSync[id] = true
	}
	g.syncAt, g.syncGeneration = o.at(g.rebalanceTimeout()), g.generation
}

// electJoinedLeader keeps the leader if it rejoined, else makes the first
// rejoined member leader; false if there is no leader or no one rejoined.
func (g *Group) electJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if g.members[g.leader].join != nil {
		return true
	}
	for _, id := range g.order {
		if g.members[id].join != nil {
			g.leader = id
			return true
		}
	}
	return false
}

func (g *Group) initNextGeneration(o *op) {
	g.generation++
	if len(g.members) > 0 {
		g.protocol = g.selectProtocol()
		g.transition(o, CompletingRebalance)
	} else {
		g.protocol = ""
		g.transition(o, Empty)
	}
	clear(g.pendingSync)
}

// resetAndPropagate clears every assignment and answers parked SyncGroups
// with code.
func (g *Group) resetAndPropagate(o *op, code int16) {
	for _, m := range g.members {
		m.assignment = []byte{}
	}
	g.propagate(o, code)
}

// setAndPropagate installs the leader's assignment (empty for members it
// left out), answers parked SyncGroups and makes the group Stable.
func (g *Group) setAndPropagate(o *op, assignment map[string][]byte) {
	for id, m := range g.members {
		m.assignment = assignment[id]
		if m.assignment == nil {
			m.assignment = []byte{}
		}
	}
	g.propagate(o, 0)
	g.transition(o, Stable)
}

func (g *Group) propagate(o *op, code int16) {
	for _, id := range g.order {
		m := g.members[id]
		resp := syncError(code)
		if code == 0 {
			resp = g.syncResponse(m)
		}
		if g.answerSync(o, m, resp) {
			g.reschedule(o, m, ms(m.sessionMs))
		}
	}
}

// removeMemberAndUpdate removes a member that left or timed out and moves
// the group on: a rebalance if it was settled, the end of the join phase if
// the member was the last one awaited.
func (g *Group) removeMemberAndUpdate(o *op, m *member) {
	g.remove(o, m.id)
	switch g.state {
	case Stable, CompletingRebalance:
		g.maybePrepareRebalanceOrCompleteJoin(o)
	case PreparingRebalance:
		if g.hasAllMembersJoined() {
			g.completeJoinPhase(o)
		}
	}
}

// expirePendingSync removes the members that have not sent SyncGroup within
// the rebalance timeout of the generation's start, and rebalances.
func (g *Group) expirePendingSync(o *op, generation int32) {
	if generation != g.generation || (g.state != CompletingRebalance && g.state != Stable) {
		return
	}
	if len(g.pendingSync) == 0 {
		return
	}
	for _, id := range slices.Clone(g.order) {
		if g.pendingSync[id] {
			g.remove(o, id)
		}
	}
	g.prepareRebalance(o)
}
