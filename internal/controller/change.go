package controller

// Partition changes, after Kafka's PartitionChangeBuilder (KIP-631 for the
// record, KIP-455 for reassignment completion, KIP-704 for leader recovery
// after unclean elections). Every change of a partition's ISR, replicas or
// leader goes through one change: it completes a reassignment once the ISR
// allows, elects a leader, and bumps the epochs as Kafka does:
//   - the partition epoch on every change;
//   - the leader epoch when the leader changes (to -1 included) and when a
//     reassignment removes replicas; not on an ISR shrink alone (Kafka
//     dropped that bump with metadata version 3.6, KAFKA-15021).
//
// Eligible leader replicas (KIP-966, as Kafka 4.1+ runs new clusters): the
// high watermark does not advance while the ISR is below min.insync.replicas
// (partition.leader.go), so a replica that leaves the ISR then holds every
// committed record. Such replicas are kept in the ELR; the ISR may become
// empty, and then an active ELR member is elected cleanly and becomes the
// ISR. The ELR is cleared once the ISR is back to min.insync.replicas, and
// by an unclean election. A change built without minISR (newChange alone)
// keeps an ISR's last member instead and leaves the ELR as it is.
// A replica restarted after an unclean shutdown leaves the ELR (for the
// last known ELR) while another replica remains eligible: its page cache
// may have lost records (page-cache mode; by default Samsa's replicas
// fsync what they fetch before they report it).

import (
	"slices"

	"github.com/samsa-io/samsa/internal/metadata"
)

// election is how a change picks a leader.
type election int

const (
	// electOnline keeps the leader if it is still valid, else takes the
	// first valid replica (in the ISR and acceptable).
	electOnline election = iota
	// electPreferred takes the first replica when valid, else as online.
	electPreferred
	// electUnclean is online, then the first acceptable replica outside
	// the ISR, which becomes the whole ISR (data may be lost).
	electUnclean
)

// change is one partition's next state being built.
type change struct {
	cur        metadata.Partition
	isr        []int32
	replicas   []int32
	adding     []int32
	removing   []int32
	recovery   int8
	election   election
	acceptable func(int32) bool // may lead: unfenced, not shutting down
	// minISR is the topic's effective min.insync.replicas, 0 for a change
	// that does not track the ELR; elr and lastKnown are the next ELR and
	// last known ELR.
	minISR         int
	elr, lastKnown []int32
	// uncleanShutdown is a replica restarted after an unclean shutdown, -1
	// for none: it stays eligible only when no other replica is.
	uncleanShutdown int32
}

func newChange(p metadata.Partition, acceptable func(int32) bool) *change {
	return &change{
		cur: p, isr: p.ISR, replicas: p.Replicas, adding: p.AddingReplicas, removing: p.RemovingReplicas,
		recovery: p.LeaderRecoveryState, acceptable: acceptable, elr: p.ELR, lastKnown: p.LastKnownELR,
		uncleanShutdown: -1,
	}
}

// build returns the partition's next state, or false when nothing changes.
func (ch *change) build() (metadata.Partition, bool) {
	ch.completeReassignment()
	ch.trackELR()
	next := ch.cur
	leader, unclean := ch.elect()
	leaderBump := leader != ch.cur.Leader
	if leaderBump {
		next.Leader = leader
		switch {
		case unclean:
			ch.isr = []int32{leader}
			ch.recovery = 1
			ch.elr, ch.lastKnown = nil, nil
		case slices.Contains(ch.elr, leader):
			ch.isr, ch.elr = []int32{leader}, without(ch.elr, leader)
		}
	}
	// A reassignment that drops replicas bumps the leader epoch so that the
	// removed replicas stop fetching.
	if !containsAll(ch.replicas, ch.cur.Replicas) {
		leaderBump = true
	}
	if len(ch.isr) > 0 || ch.minISR > 0 {
		next.ISR = ch.isr
	}
	next.ELR, next.LastKnownELR = nonEmpty(ch.elr), nonEmpty(ch.lastKnown)
	next.Replicas, next.AddingReplicas, next.RemovingReplicas = ch.replicas, ch.adding, ch.removing
	next.LeaderRecoveryState = ch.recovery
	if !leaderBump && samePartition(next, ch.cur) {
		return ch.cur, false
	}
	next.PartitionEpoch++
	if leaderBump {
		next.LeaderEpoch++
	}
	return next, true
}

// trackELR computes the next ELR (Kafka's maybePopulateTargetElr): empty
// while the ISR is at least min.insync.replicas; below it, every replica
// that was in the ISR or the ELR and is not in the next ISR. The last
// known ELR keeps the former ELR members that are neither.
func (ch *change) trackELR() {
	if ch.minISR == 0 {
		return
	}
	if len(ch.isr) >= ch.minISR {
		ch.elr, ch.lastKnown = nil, nil
		return
	}
	var elr, lastKnown []int32
	for _, r := range ch.replicas {
		switch {
		case slices.Contains(ch.isr, r):
		case slices.Contains(ch.cur.ISR, r) || slices.Contains(ch.cur.ELR, r):
			elr = append(elr, r)
		case slices.Contains(ch.cur.LastKnownELR, r):
			lastKnown = append(lastKnown, r)
		}
	}
	// A replica that crashed may have lost records; it is dropped while
	// another replica can lead cleanly (Kafka drops it even when none can,
	// which leaves the partition without a leader until an unclean
	// election; here it stays, as the last ISR member did before ELR).
	if u := ch.uncleanShutdown; slices.Contains(elr, u) && (len(elr) > 1 || len(ch.isr) > 0) {
		elr, lastKnown = without(elr, u), append(lastKnown, u)
	}
	ch.elr, ch.lastKnown = elr, lastKnown
}

// nonEmpty is s, or nil when s is empty.
func nonEmpty(s []int32) []int32 {
	if len(s) == 0 {
		return nil
	}
	return s
}

// elect picks the leader, and whether the pick is unclean.
func (ch *change) elect() (int32, bool) {
	valid := func(r int32) bool {
		return (slices.Contains(ch.isr, r) || len(ch.isr) == 0 && slices.Contains(ch.elr, r)) && ch.acceptable(r)
	}
	if ch.election == electPreferred && len(ch.replicas) > 0 && valid(ch.replicas[0]) {
		return ch.replicas[0], false
	}
	if ch.cur.Leader != metadata.NoLeader && valid(ch.cur.Leader) {
		return ch.cur.Leader, false
	}
	if i := slices.IndexFunc(ch.replicas, valid); i >= 0 {
		return ch.replicas[i], false
	}
	if ch.election == electUnclean {
		if i := slices.IndexFunc(ch.replicas, ch.acceptable); i >= 0 {
			return ch.replicas[i], true
		}
	}
	return metadata.NoLeader, false
}

// completeReassignment finishes a reassignment whose target replicas are
// all in the ISR (Kafka's PartitionReassignmentReplicas): the removed
// replicas leave the replicas and the ISR.
func (ch *change) completeReassignment() {
	if len(ch.adding) == 0 && len(ch.removing) == 0 {
		return
	}
	isr, replicas := ch.isr, ch.replicas
	if len(ch.removing) > 0 {
		isr = without(isr, ch.removing...)
		replicas = without(replicas, ch.removing...)
		if len(isr) == 0 || len(replicas) == 0 {
			return
		}
	}
	if !containsAll(isr, replicas) {
		return
	}
	ch.isr, ch.replicas, ch.adding, ch.removing = isr, replicas, nil, nil
}

func samePartition(a, b metadata.Partition) bool {
	return a.Leader == b.Leader && slices.Equal(a.ISR, b.ISR) && slices.Equal(a.Replicas, b.Replicas) &&
		slices.Equal(a.AddingReplicas, b.AddingReplicas) && slices.Equal(a.RemovingReplicas, b.RemovingReplicas) &&
		a.LeaderRecoveryState == b.LeaderRecoveryState && slices.Equal(a.ELR, b.ELR) && slices.Equal(a.LastKnownELR, b.LastKnownELR)
}

// without returns s minus the given ids, in s's order, as a new slice.
func without(s []int32, ids ...int32) []int32 {
	out := make([]int32, 0, len(s))
	for _, r := range s {
		if !slices.Contains(ids, r) {
			out = append(out, r)
		}
	}
	return out
}

func containsAll(s, of []int32) bool {
	for _, r := range of {
		if !slices.Contains(s, r) {
			return false
		}
	}
	return true
}
