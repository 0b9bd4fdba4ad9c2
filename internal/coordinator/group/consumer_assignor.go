package group

// Server-side assignors of KIP-848 consumer groups, named as in Kafka's
// group.consumer.assignors: "uniform" (the default: balanced and sticky,
// Kafka's UniformAssignor) and "range" (Kafka's RangeAssignor: contiguous
// ranges of each topic's partitions over the members subscribed to it).
// Both are deterministic: members in id order, topics in id order,
// partitions ascending.

import (
	"slices"
)

// assignSpec is an assignor's input.
type assignSpec struct {
	members    []string                 // sorted member ids
	subs       map[string]map[uuid]bool // member → subscribed topic ids that exist
	current    map[string]assignment    // member → previous target assignment
	partitions map[uuid]int32           // topic id → partition count
}

type assignorFunc func(assignSpec) map[string]assignment

// assignors are the server assignors by name.
var assignors = map[string]assignorFunc{
	"uniform": uniformAssign,
	"range":   rangeAssign,
}

// KnownAssignor reports whether name is a server assignor Samsa has.
func KnownAssignor(name string) bool { return assignors[name] != nil }

func (sp assignSpec) topics() []uuid {
	ts := make([]uuid, 0, len(sp.partitions))
	for t := range sp.partitions {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, compareTopicIDs)
	return ts
}

func (sp assignSpec) subscribers(t uuid) []string {
	var out []string
	for _, m := range sp.members {
		if sp.subs[m][t] {
			out = append(out, m)
		}
	}
	return out
}

func emptyAssignments(members []string) map[string]assignment {
	out := make(map[string]assignment, len(members))
	for _, m := range members {
		out[m] = assignment{}
	}
	return out
}

// rangeAssign gives each member subscribed to a topic a contiguous range
// of its partitions; the first members (by id) get one more when the
// partitions do not divide evenly.
func rangeAssign(sp assignSpec) map[string]assignment {
	out := emptyAssignments(sp.members)
	for _, t := range sp.topics() {
		subs := sp.subscribers(t)
		if len(subs) == 0 {
			continue
		}
		n, k := sp.partitions[t], int32(len(subs))
		per, extra := n/k, n%k
		for i, m := range subs {
			i := int32(i)
			start := i*per + min(i, extra)
			count := per
			if i < extra {
				count++
			}
			for p := start; p < start+count; p++ {
				out[m].add(t, p)
			}
		}
	}
	return out
}

// uniform is the state of one uniform assignment.
type uniform struct {
	sp    assignSpec
	out   map[string]assignment
	load  map[string]int
	owner map[partKey]string
}

// uniformAssign balances partitions over the members subscribed to them
// while keeping each member's previous partitions where it can: members
// keep what they had (if still subscribed and still there), free
// partitions go to the least loaded subscriber, then partitions move from
// a member to a subscriber with at least two fewer until none can. When
// every member subscribes to the same topics the counts end within one.
func uniformAssign(sp assignSpec) map[string]assignment {
	u := &uniform{sp: sp, out: emptyAssignments(sp.members), load: map[string]int{}, owner: map[partKey]string{}}
	u.keepPrevious()
	u.assignFree()
	for u.balanceOnce() {
	}
	return u.out
}

func (u *uniform) give(m string, t uuid, p int32) {
	u.out[m].add(t, p)
	u.load[m]++
	u.owner[partKey{t, p}] = m
}

func (u *uniform) keepPrevious() {
	for _, m := range u.sp.members {
		prev := u.sp.current[m]
		for _, t := range prev.sortedTopics() {
			if !u.sp.subs[m][t] {
				continue
			}
			for _, p := range prev[t] {
				if _, taken := u.owner[partKey{t, p}]; p < u.sp.partitions[t] && !taken {
					u.give(m, t, p)
				}
			}
		}
	}
}

// leastLoaded returns the subscriber with the smallest load (first by id
// on ties), or "".
func (u *uniform) leastLoaded(subs []string) string {
	best := ""
	for _, m := range subs {
		if best == "" || u.load[m] < u.load[best] {
			best = m
		}
	}
	return best
}

func (u *uniform) assignFree() {
	for _, t := range u.sp.topics() {
		subs := u.sp.subscribers(t)
		if len(subs) == 0 {
			continue
		}
		for p := range u.sp.partitions[t] {
			if _, taken := u.owner[partKey{t, p}]; !taken {
				u.give(u.leastLoaded(subs), t, p)
			}
		}
	}
}

// balanceOnce moves one partition from the most loaded member that has a
// subscriber at least two partitions lighter to the lightest such
// subscriber; false if there is none. One move at a time keeps the moves
// few: each goes from a heaviest member to a lightest.
func (u *uniform) balanceOnce() bool {
	members := slices.Clone(u.sp.members)
	slices.SortStableFunc(members, func(a, b string) int { return u.load[b] - u.load[a] })
	for _, from := range members {
		a := u.out[from]
		for _, t := range a.sortedTopics() {
			to := u.leastLoaded(u.sp.subscribers(t))
			if u.load[from]-u.load[to] <= 1 {
				continue
			}
			p := a[t][len(a[t])-1]
			u.take(from, t, p)
			u.give(to, t, p)
			return true
		}
	}
	return false
}

func (u *uniform) take(m string, t uuid, p int32) {
	a := u.out[m]
	if i, ok := slices.BinarySearch(a[t], p); ok {
		a[t] = slices.Delete(a[t], i, i+1)
		if len(a[t]) == 0 {
			delete(a, t)
		}
	}
	u.load[m]--
	delete(u.owner, partKey{t, p})
}
