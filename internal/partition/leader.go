package partition

// The leader's side of Kafka's ISR replication (Partition.scala).
//
// The leader keeps a state per follower, updated by each replica Fetch:
// its log end (the fetch offset), log start, last fetch time, and the last
// time it was caught up (Replica.updateFetchStateOrThrow: at the leader's
// log end, or at the log end the leader had at its previous fetch). With
// Fetch v15+ the follower also sends its broker epoch (KIP-903), and a
// replica whose epoch differs from the image's is not eligible for the ISR.
//
// High watermark (maybeIncrementLeaderHW): the smallest log end among the
// "maximal" ISR (KIP-497: the committed ISR plus a pending addition; a
// pending removal still counts), the leader's own being its committed end,
// and among eligible replicas that are caught up though not yet in the ISR.
// It moves only up, and not at all while the committed ISR is smaller than
// min(min.insync.replicas, replication factor) (KIP-966, isUnderMinIsr).
//
// ISR changes go to the controller as AlterPartition proposals (KIP-497),
// one in flight per partition: a follower outside the ISR whose log end
// reached the high watermark and the current epoch's start offset is
// added (maybeExpandIsr); a member not caught up within
// replica.lag.time.max.ms is removed (maybeShrinkIsr, on CheckISR). The
// controller's answer, or a newer image, replaces the committed ISR.
//
// Replica fetches (ReadReplica) read up to the log end, not the high
// watermark, and carry KIP-320's diverging epoch when the follower's last
// fetched epoch and offset disagree with this leader's epoch cache.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
)

// alterRetryBackoff is how long a failed ISR proposal waits before it is
// sent again.
const alterRetryBackoff = 500 * time.Millisecond

// follower is the leader's view of one other replica (Kafka's
// ReplicaState). A log end of -1 is unknown: not fetched since this broker
// became leader.
type follower struct {
	leo, logStart int64
	lastFetch     time.Time
	// lastFetchLeaderLEO is the leader's log end at the last fetch.
	lastFetchLeaderLEO int64
	lastCaughtUp       time.Time
	brokerEpoch        int64 // -1: not sent (Fetch before v15)
}

// caughtUp is Kafka's ReplicaState.isCaughtUp.
func (f *follower) caughtUp(leaderLEO int64, now time.Time, lagMax time.Duration) bool {
	return f.leo == leaderLEO || f.lastCaughtUp.After(now.Add(-lagMax))
}

// isrChange is an ISR proposal in flight (or failed, to be sent again).
type isrChange struct {
	isr                         []int32
	leaderEpoch, partitionEpoch int32 // the state it was proposed from
	failed                      bool
	retryAt                     time.Time
}

// leaderState is the replication state while this broker leads; p.mu
// guards it.
type leaderState struct {
	self           int32
	replicas       []int32
	isr            []int32 // committed: from the image or AlterPartition
	partitionEpoch int32
	pending        *isrChange
	followers      map[int32]*follower
	epochStart     int64 // where this leader epoch starts in the log
	minISR         int
	lagMax         time.Duration
	// brokers are the unfenced brokers of the image and their epochs: the
	// replicas eligible for the ISR.
	brokers map[int32]int64
}

// leaderConfig is what becoming or staying leader takes from the image
// and the broker's configs.
type leaderConfig struct {
	self    int32
	minISR  int
	lagMax  time.Duration
	brokers map[int32]int64
}

// effectiveMinISR is min.insync.replicas capped at the replication factor
// (Kafka's effectiveMinIsr).
func (ls *leaderState) effectiveMinISR() int {
	return max(1, min(ls.minISR, len(ls.replicas)))
}

// inMaximal reports whether id counts for the high watermark as an ISR
// member: committed, or in the pending proposal.
func (ls *leaderState) inMaximal(id int32) bool {
	return slices.Contains(ls.isr, id) || (ls.pending != nil && slices.Contains(ls.pending.isr, id))
}

func (ls *leaderState) maximalSize() int {
	n := len(ls.isr)
	if ls.pending != nil {
		for _, id := range ls.pending.isr {
			if !slices.Contains(ls.isr, id) {
				n++
			}
		}
	}
	return n
}

// eligible is Kafka's isReplicaIsrEligible: a registered broker, neither
// fenced nor shutting down (KIP-841), whose fetches carry its current
// broker epoch (KIP-903).
func (ls *leaderState) eligible(id int32, f *follower) bool {
	epoch, ok := ls.brokers[id]
	return ok && (f.brokerEpoch < 0 || f.brokerEpoch == epoch)
}

// becomeLeader makes this broker the leader at part's epoch, or updates
// the replicas, ISR and configs of the epoch it leads. A new epoch is
// recorded in the log at its end (KIP-101) and resets every follower's
// state, as Kafka's makeLeader does.
func (p *Partition) becomeLeader(part metadata.Partition, lc leaderConfig) {
	p.replicaMu.Lock() // a fetched append in flight finishes first
	defer p.replicaMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	ls := &p.ls
	newEpoch := !p.leader.Load() || part.LeaderEpoch != p.leaderEpoch.Load()
	if newEpoch || part.PartitionEpoch >= ls.partitionEpoch {
		// The image is as new as what AlterPartition answered: it wins,
		// and a proposal in flight is forgotten (its answer is ignored).
		ls.isr, ls.partitionEpoch, ls.pending = slices.Clone(part.ISR), part.PartitionEpoch, nil
	}
	ls.self, ls.replicas, ls.minISR, ls.lagMax, ls.brokers = lc.self, slices.Clone(part.Replicas), lc.minISR, lc.lagMax, lc.brokers
	if newEpoch {
		// A failure fails the log: appends report it.
		_ = p.log.AssignEpoch(part.LeaderEpoch)
		ls.epochStart = p.log.LogEndOffset()
		ls.followers = map[int32]*follower{}
		p.leaderEpoch.Store(part.LeaderEpoch)
		p.leader.Store(true)
		p.leaderID = -1
	}
	p.syncFollowersLocked(now)
	p.maybeIncrementHWLocked(now)
}

// syncFollowersLocked gives every other replica a state and drops those of
// replicas no longer assigned. A new one counts as caught up now when it
// is in the ISR (Kafka's resetReplicaState), so it has the lag time to
// fetch before it is removed.
func (p *Partition) syncFollowersLocked(now time.Time) {
	ls := &p.ls
	for id := range ls.followers {
		if !slices.Contains(ls.replicas, id) {
			delete(ls.followers, id)
		}
	}
	for _, id := range ls.replicas {
		if id == ls.self || ls.followers[id] != nil {
			continue
		}
		f := &follower{leo: -1, logStart: -1, lastFetchLeaderLEO: -1, brokerEpoch: -1}
		if slices.Contains(ls.isr, id) {
			f.lastCaughtUp = now
		}
		ls.followers[id] = f
	}
}

// maybeIncrementHWLocked raises the leader's high watermark as far as the
// (maximal) ISR allows.
func (p *Partition) maybeIncrementHWLocked(now time.Time) {
	if !p.leader.Load() {
		return
	}
	ls := &p.ls
	if len(ls.isr) < ls.effectiveMinISR() {
		return // KIP-966: not while under min ISR
	}
	hw, leo := p.committedEnd(), p.log.LogEndOffset()
	for id, f := range ls.followers {
		if f.leo < hw && (ls.inMaximal(id) || (f.caughtUp(leo, now, ls.lagMax) && ls.eligible(id, f))) {
			hw = f.leo
		}
	}
	if hw > p.hw.Load() {
		p.setHWLocked(hw)
	}
}

// checkMinISR answers NOT_ENOUGH_REPLICAS when the committed ISR is below
// min.insync.replicas: an acks=all batch is refused before its append.
func (p *Partition) checkMinISR() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.leader.Load() {
		return ErrNotLeader
	}
	if n, want := len(p.ls.isr), p.ls.effectiveMinISR(); n < want {
		return fmt.Errorf("%w: %d in-sync replicas, min.insync.replicas %d", ErrNotEnoughReplicas, n, want)
	}
	return nil
}

// WaitReplicated waits, for acks=all, until every offset below next is
// below the high watermark: every in-sync replica has it (call Commit
// first). It answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR is
// below min.insync.replicas then (Kafka's checkEnoughReplicasReachOffset),
// REQUEST_TIMED_OUT when ctx ends first, as Kafka's expired delayed
// produce does (the high watermark stands still while the ISR is below
// min.insync.replicas, KIP-966, so that is how a shrunk ISR usually
// ends), and NOT_LEADER_OR_FOLLOWER when this broker stops leading.
func (p *Partition) WaitReplicated(ctx context.Context, next int64) error {
	wake := make(chan struct{}, 1)
	defer p.Watch(func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})()
	for {
		if done, err := p.replicated(next); done {
			return err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for the in-sync replicas: %w", ErrTimedOut, ctx.Err())
		}
	}
}

func (p *Partition) replicated(next int64) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.leader.Load():
		return true, ErrNotLeader
	case p.hw.Load() < next:
		return false, nil
	case p.ls.maximalSize() < p.ls.effectiveMinISR():
		return true, ErrNotEnoughReplicasAfterAppend
	}
	return true, nil
}

// ISR returns the in-sync replicas as the leader counts them (the
// committed ISR) and whether a change is in flight; nil when not leading.
func (p *Partition) ISR() (isr []int32, pending bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.leader.Load() {
		return nil, false
	}
	return slices.Clone(p.ls.isr), p.ls.pending != nil
}

// ReplicaFetch is one partition of a follower's Fetch.
type ReplicaFetch struct {
	ReplicaID   int32
	BrokerEpoch int64 // -1 before Fetch v15
	// CurrentLeaderEpoch is the epoch the follower believes current, -1
	// when it sent none.
	CurrentLeaderEpoch int32
	Offset             int64
	// LastFetchedEpoch is the epoch of the follower's last batch (Fetch
	// v12+, KIP-320), -1 when unknown.
	LastFetchedEpoch int32
	LogStartOffset   int64
	MaxBytes         int
	MinOne           bool
}

// ReplicaRead is the answer to a ReplicaFetch.
type ReplicaRead struct {
	ReadResult
	// DivergingEpoch and DivergingEnd, when not -1, tell the follower its
	// log diverged: the largest epoch at most its last fetched one and
	// where that epoch ends here (KIP-320). Nothing was read then.
	DivergingEpoch int32
	DivergingEnd   int64
}

// ReadReplica serves a follower's fetch as the leader: batches up to the
// log end, and records the follower's position (high watermark, ISR).
func (p *Partition) ReadReplica(f ReplicaFetch) (ReplicaRead, error) {
	res := ReplicaRead{ReadResult: p.notLeaderResult(), DivergingEpoch: -1, DivergingEnd: -1}
	if err := p.checkReplica(f); err != nil {
		return res, err
	}
	res.HighWatermark, res.LastStable, res.LogStartOffset = p.hw.Load(), p.LastStableOffset(), p.log.LogStartOffset()
	if f.LastFetchedEpoch >= 0 {
		epoch, end := p.EndOffsetForEpoch(f.LastFetchedEpoch)
		if epoch < f.LastFetchedEpoch || end < f.Offset {
			res.DivergingEpoch, res.DivergingEnd = epoch, end
			return res, nil
		}
	}
	leo := p.log.LogEndOffset()
	if f.Offset < res.LogStartOffset || f.Offset > leo {
		return res, ErrOutOfRange
	}
	if err := p.readReplicaBatches(&res.ReadResult, f); err != nil {
		return res, err
	}
	p.updateFollower(f, leo)
	res.HighWatermark = p.hw.Load()
	res.LastStable = min(p.LastStableOffset(), res.HighWatermark)
	return res, nil
}

// checkReplica refuses a fetch unless this broker leads and the fetcher is
// an assigned replica: NOT_LEADER_OR_FOLLOWER, or UNKNOWN_LEADER_EPOCH when
// the fetcher named the current epoch (a replica this leader has not
// learned of yet, as in Kafka's followerReplicaOrThrow).
func (p *Partition) checkReplica(f ReplicaFetch) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.leader.Load() {
		return ErrNotLeader
	}
	if p.ls.followers[f.ReplicaID] == nil {
		if f.CurrentLeaderEpoch >= 0 {
			return fmt.Errorf("%w: broker %d is not a replica", ErrStaleEpoch, f.ReplicaID)
		}
		return fmt.Errorf("%w: broker %d is not a replica", ErrNotLeader, f.ReplicaID)
	}
	return nil
}

func (p *Partition) readReplicaBatches(res *ReadResult, f ReplicaFetch) (err error) {
	if p.log.VerifyOnRead() {
		res.Records, err = p.log.Read(f.Offset, f.MaxBytes, -1, f.MinOne)
	} else {
		res.Region, err = p.log.ReadRegion(f.Offset, f.MaxBytes, -1, f.MinOne)
	}
	switch {
	case err == nil:
		return nil
	case isOutOfRange(err):
		return ErrOutOfRange
	}
	return readError(err)
}

// updateFollower records a follower's fetch (Kafka's
// updateFollowerFetchState), then expands the ISR and raises the high
// watermark as it allows.
func (p *Partition) updateFollower(rf ReplicaFetch, leaderLEO int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.ls.followers[rf.ReplicaID]
	if !p.leader.Load() || f == nil {
		return
	}
	now := p.now()
	switch {
	case rf.Offset >= leaderLEO:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, now)
	case rf.Offset >= f.lastFetchLeaderLEO:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, f.lastFetch)
	}
	f.leo, f.logStart, f.lastFetch, f.lastFetchLeaderLEO, f.brokerEpoch = rf.Offset, rf.LogStartOffset, now, leaderLEO, rf.BrokerEpoch
	p.retryAlterLocked(now)
	p.maybeExpandISRLocked(rf.ReplicaID, f)
	p.maybeIncrementHWLocked(now)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// maybeExpandISRLocked proposes adding a follower that caught up: its log
// end reached the high watermark and this epoch's start (Kafka's
// isFollowerInSync), no other change is in flight, and it is eligible.
func (p *Partition) maybeExpandISRLocked(id int32, f *follower) {
	ls := &p.ls
	if ls.pending != nil || slices.Contains(ls.isr, id) || !ls.eligible(id, f) {
		return
	}
	if f.leo < p.hw.Load() || f.leo < ls.epochStart {
		return
	}
	p.proposeLocked(append(slices.Clone(ls.isr), id))
}

// checkISR removes the ISR members that have not caught up within
// replica.lag.time.max.ms (Kafka's maybeShrinkIsr), sends a failed
// proposal again, and raises the high watermark (replicas waited on for
// being caught up may have stopped counting).
func (p *Partition) checkISR(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.leader.Load() {
		return
	}
	p.retryAlterLocked(now)
	ls := &p.ls
	if ls.pending == nil {
		leo := p.log.LogEndOffset()
		keep := slices.DeleteFunc(slices.Clone(ls.isr), func(id int32) bool {
			if id == ls.self {
				return false
			}
			f := ls.followers[id]
			return f == nil || !f.caughtUp(leo, now, ls.lagMax)
		})
		if len(keep) < len(ls.isr) {
			p.proposeLocked(keep)
		}
	}
	p.maybeIncrementHWLocked(now)
}

// proposeLocked sends a new ISR to the controller; until it answers, the
// high watermark counts both the old and the new members.
func (p *Partition) proposeLocked(isr []int32) {
	if p.alter == nil {
		return
	}
	c := &isrChange{isr: isr, leaderEpoch: p.leaderEpoch.Load(), partitionEpoch: p.ls.partitionEpoch}
	p.ls.pending = c
	p.alter(p, c)
}

// retryAlterLocked sends a failed proposal again once its backoff passed.
func (p *Partition) retryAlterLocked(now time.Time) {
	c := p.ls.pending
	if c == nil || !c.failed || now.Before(c.retryAt) || p.alter == nil {
		return
	}
	c.failed = false
	p.alter(p, c)
}

// alterDone applies the controller's answer to proposal c, unless a newer
// image replaced it meanwhile. A failure keeps c pending (the controller
// may have applied it: the maximal ISR stays safe) to be sent again.
func (p *Partition) alterDone(c *isrChange, res metadata.Partition, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ls := &p.ls
	if ls.pending != c || !p.leader.Load() {
		return
	}
	now := p.now()
	if err != nil {
		c.failed, c.retryAt = true, now.Add(alterRetryBackoff)
		return
	}
	if res.LeaderEpoch != p.leaderEpoch.Load() {
		return // a newer leadership: its image will settle the ISR
	}
	if res.PartitionEpoch >= ls.partitionEpoch {
		ls.isr, ls.partitionEpoch = slices.Clone(res.ISR), res.PartitionEpoch
	}
	ls.pending = nil
	p.maybeIncrementHWLocked(now)
}

// isOutOfRange reports a log read below its start or past its end.
func isOutOfRange(err error) bool { return errors.Is(err, log.ErrOffsetOutOfRange) }
