package group

import (
	"fmt"
	"maps"
	"slices"
)

// checkInvariants verifies the bookkeeping of every group of s.
func checkInvariants(s *Shard) error {
	for _, id := range s.GroupIDs() {
		g := s.groups[id]
		if err := g.check(); err != nil {
			return fmt.Errorf("group %q (%v gen %d): %w", id, g.state, g.generation, err)
		}
		if at := g.NextDeadline(); !at.IsZero() && !s.due[id].Equal(at) {
			return fmt.Errorf("group %q: next deadline %v not indexed (have %v)", id, at, s.due[id])
		}
	}
	return nil
}

func (g *Group) check() error {
	checks := []func() error{g.checkMembers, g.checkLeader, g.checkCounts, g.checkState, g.checkWaiters}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

func (g *Group) checkMembers() error {
	if len(g.order) != len(g.members) {
		return fmt.Errorf("order %v vs %d members", g.order, len(g.members))
	}
	for _, id := range g.order {
		m := g.members[id]
		if m == nil || m.id != id {
			return fmt.Errorf("member %q missing or misnamed", id)
		}
		if m.instance != nil && g.static[*m.instance] != id {
			return fmt.Errorf("static member %q not mapped", id)
		}
		if _, ok := g.pending[id]; ok {
			return fmt.Errorf("member %q also pending", id)
		}
	}
	for inst, id := range g.static {
		if m := g.members[id]; m == nil || m.instance == nil || *m.instance != inst {
			return fmt.Errorf("instance %q maps to %q, not its member", inst, id)
		}
	}
	for id := range g.pendingSync {
		if g.members[id] == nil {
			return fmt.Errorf("pending sync %q is not a member", id)
		}
	}
	return nil
}

func (g *Group) checkLeader() error {
	if (len(g.members) == 0) != (g.leader == "") {
		return fmt.Errorf("leader %q with %d members", g.leader, len(g.members))
	}
	if g.leader != "" && g.members[g.leader] == nil {
		return fmt.Errorf("leader %q is not a member", g.leader)
	}
	return nil
}

func (g *Group) checkCounts() error {
	want := map[string]int{}
	joins := 0
	for _, m := range g.members {
		for _, p := range m.protocols {
			want[p.name]++
		}
		if m.join != nil {
			joins++
		}
	}
	if !maps.Equal(want, g.supported) {
		return fmt.Errorf("supported %v, want %v", g.supported, want)
	}
	if joins != g.awaitingJoin {
		return fmt.Errorf("awaitingJoin %d, want %d", g.awaitingJoin, joins)
	}
	return nil
}

func (g *Group) checkState() error {
	switch g.state {
	case Empty:
		if len(g.members) > 0 || g.protocol != "" {
			return fmt.Errorf("empty group with %d members, protocol %q", len(g.members), g.protocol)
		}
	case PreparingRebalance:
		if g.joinAt.IsZero() {
			return fmt.Errorf("preparing a rebalance with no join deadline")
		}
	case CompletingRebalance, Stable:
		if g.protocol == "" || g.supported[g.protocol] != len(g.members) || len(g.members) == 0 {
			return fmt.Errorf("protocol %q not supported by all %d members", g.protocol, len(g.members))
		}
	case Dead:
		return fmt.Errorf("dead group still held")
	}
	if g.state != PreparingRebalance && !g.joinAt.IsZero() {
		return fmt.Errorf("join deadline outside a join phase")
	}
	for _, m := range g.members {
		if g.state == Stable && m.assignment == nil {
			return fmt.Errorf("stable member %q without assignment", m.id)
		}
		if m.protocolType != g.protocolType {
			return fmt.Errorf("member %q of type %q in a %q group", m.id, m.protocolType, g.protocolType)
		}
	}
	return nil
}

func (g *Group) checkWaiters() error {
	for _, id := range g.order {
		m := g.members[id]
		if m.join != nil && g.state != PreparingRebalance {
			return fmt.Errorf("member %q parked in JoinGroup while %v", id, g.state)
		}
		if m.sync != nil && g.state != CompletingRebalance {
			return fmt.Errorf("member %q parked in SyncGroup while %v", id, g.state)
		}
	}
	if slices.Contains(g.order, "") {
		return fmt.Errorf("empty member id")
	}
	return nil
}
