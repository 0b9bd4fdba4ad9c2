package group

import (
	"fmt"
	"slices"
	"testing"
)

func spec(members int, topics map[uuid]int32, subscribe func(m int, t uuid) bool) assignSpec {
	sp := assignSpec{subs: map[string]map[uuid]bool{}, current: map[string]assignment{}, partitions: topics}
	for i := range members {
		id := fmt.Sprintf("m%02d", i)
		sp.members = append(sp.members, id)
		sp.subs[id] = map[uuid]bool{}
		for t := range topics {
			if subscribe == nil || subscribe(i, t) {
				sp.subs[id][t] = true
			}
		}
	}
	return sp
}

// checkComplete fails unless every partition of a subscribed topic goes to
// exactly one of its subscribers.
func checkComplete(t *testing.T, sp assignSpec, out map[string]assignment) {
	t.Helper()
	seen := map[partKey]string{}
	for m, a := range out {
		for tp, ps := range a {
			if !sp.subs[m][tp] {
				t.Errorf("%s got topic %v it does not subscribe to", m, tp[0])
			}
			for _, p := range ps {
				if other, dup := seen[partKey{tp, p}]; dup {
					t.Errorf("partition %v/%d given to %s and %s", tp[0], p, other, m)
				}
				seen[partKey{tp, p}] = m
			}
		}
	}
	for tp, n := range sp.partitions {
		if len(sp.subscribers(tp)) == 0 {
			continue
		}
		for p := range n {
			if _, ok := seen[partKey{tp, p}]; !ok {
				t.Errorf("partition %v/%d unassigned", tp[0], p)
			}
		}
	}
}

func spread(out map[string]assignment) (lo, hi int) {
	lo = 1 << 30
	for _, a := range out {
		lo, hi = min(lo, a.size()), max(hi, a.size())
	}
	return lo, hi
}

func TestAssignorsBalanceWithinOne(t *testing.T) {
	for _, name := range []string{"uniform", "range"} {
		for _, c := range []struct{ members, a, b int32 }{{1, 4, 0}, {3, 6, 0}, {4, 7, 3}, {5, 3, 1}, {7, 50, 13}} {
			topics := map[uuid]int32{{1}: c.a}
			if c.b > 0 {
				topics[uuid{2}] = c.b
			}
			sp := spec(int(c.members), topics, nil)
			out := assignors[name](sp)
			checkComplete(t, sp, out)
			lo, hi := spread(out)
			// Range balances each topic on its own, so over two topics
			// the first members may get one more of each.
			limit := 1
			if name == "range" && c.b > 0 {
				limit = 2
			}
			if hi-lo > limit {
				t.Errorf("%s, %d members, topics %v: sizes from %d to %d", name, c.members, topics, lo, hi)
			}
			if again := assignors[name](sp); fmt.Sprint(again) != fmt.Sprint(out) {
				t.Errorf("%s is not deterministic", name)
			}
		}
	}
}

func TestRangeAssignsContiguousRanges(t *testing.T) {
	sp := spec(3, map[uuid]int32{{1}: 8}, nil)
	out := rangeAssign(sp)
	want := [][]int32{{0, 1, 2}, {3, 4, 5}, {6, 7}}
	for i, m := range sp.members {
		if got := out[m][uuid{1}]; !slices.Equal(got, want[i]) {
			t.Errorf("%s: %v, want %v", m, got, want[i])
		}
	}
}

func TestUniformIsStickyAndHeterogeneous(t *testing.T) {
	topics := map[uuid]int32{{1}: 12}
	sp := spec(3, topics, nil)
	first := uniformAssign(sp)
	// A fourth member joins: only three partitions move, one from each.
	sp4 := spec(4, topics, nil)
	sp4.current = first
	second := uniformAssign(sp4)
	checkComplete(t, sp4, second)
	moved := 0
	for _, m := range sp.members {
		for _, p := range first[m][uuid{1}] {
			if !second[m].has(uuid{1}, p) {
				moved++
			}
		}
	}
	if moved != 3 || second["m03"].size() != 3 {
		t.Errorf("%d partitions moved for a fourth member (it got %d), want 3", moved, second["m03"].size())
	}
	// Members subscribed to different topics: each topic's partitions go
	// to its own subscribers, balanced over them.
	het := spec(3, map[uuid]int32{{1}: 4, {2}: 6}, func(m int, t uuid) bool { return t == uuid{2} || m == 0 })
	out := uniformAssign(het)
	checkComplete(t, het, out)
	if lo, hi := spread(out); hi-lo > 1 {
		t.Errorf("heterogeneous: sizes %d to %d: %v", lo, hi, out)
	}
}
