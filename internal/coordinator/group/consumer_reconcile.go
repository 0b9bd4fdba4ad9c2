package group

// Reconciliation of a member's current assignment towards its target
// (Kafka 4.x's CurrentAssignmentBuilder, KIP-848): partitions the target no
// longer gives the member are revoked first, the member staying at its
// epoch until it stops reporting them; only then does it move to the
// target epoch and get new partitions, and only those no other member
// still holds (the rest wait, "unreleased").

import (
	"time"
)

// reconcile moves m one step towards the target assignment, records the
// change, and (re)schedules or cancels its revocation deadline. It returns
// the member as now stored.
func (s *Shard) reconcile(o *op, g *Group, m *cmember, owned assignment) *cmember {
	cg := g.consumer
	if m.reconciledTo(cg.assignmentEpoch) {
		return m
	}
	next := nextAssignment(cg, m, owned)
	if next.sameAssignment(m) {
		return m
	}
	cg.put(next)
	o.record(currentRecord(g.id, next))
	if next.state == memberUnrevoked {
		next.rebalanceAt, next.rebalanceEpoch = o.at(ms(max(next.rebalanceMs, 0))), next.epoch
	} else {
		next.rebalanceAt = time.Time{}
	}
	return next
}

// nextAssignment is CurrentAssignmentBuilder.build.
func nextAssignment(cg *consumerGroup, m *cmember, owned assignment) *cmember {
	switch m.state {
	case memberStable:
		if m.epoch == cg.assignmentEpoch {
			return m
		}
		return computeNext(cg, m, m.epoch)
	case memberUnrevoked:
		if ownsAny(owned, m.revoking) {
			return m
		}
		return computeNext(cg, m, m.epoch+1)
	case memberUnreleased:
		return computeNext(cg, m, m.epoch)
	}
	return computeNext(cg, m, cg.assignmentEpoch)
}

// ownsAny reports whether the member (owned nil: not reported, so assumed)
// still owns one of the partitions pending revocation.
func ownsAny(owned, revoking assignment) bool {
	if owned == nil {
		return true
	}
	for t, ps := range owned {
		for _, p := range ps {
			if revoking.has(t, p) {
				return true
			}
		}
	}
	return false
}

// computeNext is CurrentAssignmentBuilder.computeNextAssignment.
func computeNext(cg *consumerGroup, m *cmember, epoch int32) *cmember {
	target := cg.target[m.id]
	assigned, revoking, pending := assignment{}, assignment{}, assignment{}
	unreleased := false
	for t, ps := range m.assigned {
		for _, p := range ps {
			if target.has(t, p) {
				assigned.add(t, p)
			} else {
				revoking.add(t, p)
			}
		}
	}
	for t, ps := range target {
		for _, p := range ps {
			switch {
			case assigned.has(t, p):
			case cg.partitionEpoch(t, p) != -1 && !m.revoking.has(t, p):
				// Held by another member. One this member was revoking
				// and no longer owns is its own to take back.
				unreleased = true
			default:
				pending.add(t, p)
			}
		}
	}
	next := m.clone()
	next.prevEpoch, next.epoch = m.epoch, epoch // Kafka's updateMemberEpoch
	switch {
	case len(revoking) > 0:
		next.state, next.assigned, next.revoking = memberUnrevoked, assigned, revoking
		return next
	case len(pending) > 0:
		for t, ps := range pending {
			for _, p := range ps {
				assigned.add(t, p)
			}
		}
	}
	next.epoch, next.assigned, next.revoking = cg.assignmentEpoch, assigned, assignment{}
	next.state = memberStable
	if unreleased {
		next.state = memberUnreleased
	}
	return next
}
