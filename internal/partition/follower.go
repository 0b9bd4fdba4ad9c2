package partition

// The follower's side of replication: applying the leader's answer to a
// replica Fetch to the local log, as Kafka's ReplicaFetcherThread
// (processPartitionData) and AbstractFetcherThread (truncation) do.
//
// Batches are appended verbatim (log.AppendReplicaDeferred keeps their
// offsets and leader epochs) and, with FsyncOnAck, fsynced before the next
// fetch reports the new log end: an in-sync replica's reported offset is
// durable. The follower's high watermark is min(leader's, own log end),
// and its log start follows the leader's.
//
// Truncation relies on diverging epochs (KIP-320, Fetch v12+): every fetch
// sends the epoch of the last local batch, and the leader answers a
// DivergingEpoch when this log holds batches the leader does not. The
// follower then truncates as AbstractFetcherThread.getOffsetTruncationState
// does (KIP-279): to where its own copy of that epoch ends, capped by the
// leader's end for it, and fetches again, which truncates further if
// needed. No offset the leader lacks is kept, and a follower never serves
// consumers (ReadFetch answers NOT_LEADER_OR_FOLLOWER).

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/record"
)

// becomeFollower makes this broker a follower of part's leader at its
// epoch. A leader stops leading: waiting acks=all produces answer
// NOT_LEADER_OR_FOLLOWER and long polls wake to find out.
func (p *Partition) becomeFollower(part metadata.Partition) {
	p.replicaMu.Lock() // a fetched append for the old epoch finishes first
	defer p.replicaMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	wasLeader := p.leader.Swap(false)
	p.leaderEpoch.Store(part.LeaderEpoch)
	p.leaderID = part.Leader
	p.ls = leaderState{}
	if leo := p.log.LogEndOffset(); p.hw.Load() > leo {
		p.hw.Store(leo)
	}
	if wasLeader {
		notifyAll(p.waiters)
		notifyAll(p.endWaiters)
	}
}

// followingAt reports whether this broker follows leader at epoch.
func (p *Partition) followingAt(leader, epoch int32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.leader.Load() && p.leaderID == leader && p.leaderEpoch.Load() == epoch
}

// fetchPosition is what the next fetch sends: the log end, the epoch of
// the last batch (-1 for none) and the log start.
func (p *Partition) fetchPosition() (offset int64, lastEpoch int32, logStart int64) {
	offset = p.log.LogEndOffset()
	lastEpoch = -1
	for _, e := range p.log.Epochs() {
		if e.StartOffset < offset {
			lastEpoch = e.Epoch
		}
	}
	return offset, lastEpoch, p.log.LogStartOffset()
}

// fetchOutcome is what the fetcher does next for a partition.
type fetchOutcome int

const (
	fetchOn    fetchOutcome = iota // fetch again at once
	fetchRetry                     // back off, then fetch again
	fetchPause                     // wait for the next image
)

// applyFetch applies one partition of the leader's answer to a fetch sent
// at offset while following leader at epoch. An answer the partition
// moved on from (new role, epoch or log end) is dropped.
func (p *Partition) applyFetch(leader, epoch int32, offset int64, rp *kmsg.FetchResponseTopicPartition, dir *log.Dir) (fetchOutcome, error) {
	p.replicaMu.Lock()
	defer p.replicaMu.Unlock()
	if !p.followingAt(leader, epoch) || p.log.LogEndOffset() != offset {
		return fetchOn, nil
	}
	err := kerr.ErrorForCode(rp.ErrorCode)
	switch {
	case err == nil && (rp.DivergingEpoch.Epoch >= 0 || rp.DivergingEpoch.EndOffset >= 0):
		err = p.truncateDiverging(rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset)
	case err == nil:
		err = p.appendFetched(rp, dir)
	case errors.Is(err, kerr.OffsetOutOfRange):
		err = p.resetOutOfRange(offset, rp.LogStartOffset, rp.HighWatermark)
	case errors.Is(err, kerr.FencedLeaderEpoch):
		return fetchPause, err // the leader is at a newer epoch than our image
	}
	if err != nil {
		return fetchRetry, err
	}
	return fetchOn, nil
}

// appendFetched appends the fetched batches, fsyncs them with FsyncOnAck,
// and takes the leader's high watermark and log start.
func (p *Partition) appendFetched(rp *kmsg.FetchResponseTopicPartition, dir *log.Dir) error {
	data, appended := rp.RecordBatches, false
	for len(data) > 0 {
		batch, h, rest, err := record.Next(data)
		if errors.Is(err, record.ErrShort) {
			break // a partial last batch: the next fetch starts at it
		}
		if err != nil {
			return fmt.Errorf("partition: fetched batch at %d: %w", p.log.LogEndOffset(), err)
		}
		data = rest
		ok, err := p.appendReplica(batch, &h)
		if err != nil {
			return err
		}
		appended = appended || ok
	}
	if appended && p.log.FsyncOnAck() {
		if err := p.log.Sync(p.log.LogEndOffset()); err != nil {
			return err
		}
	}
	return p.followLeaderMarks(rp.HighWatermark, rp.LogStartOffset, dir)
}

// appendReplica appends one fetched batch unless the log has it already.
// A batch holding the log end in an empty log starts the log at the batch
// (the leader's log start lies inside it after DeleteRecords), as Kafka's
// handling of UnexpectedAppendOffsetException does.
func (p *Partition) appendReplica(batch []byte, h *record.Header) (bool, error) {
	leo := p.log.LogEndOffset()
	if h.LastOffset() < leo {
		return false, nil
	}
	if h.BaseOffset < leo {
		if leo != p.log.LogStartOffset() {
			return false, fmt.Errorf("partition: fetched batch [%d, %d] overlaps the log end %d", h.BaseOffset, h.LastOffset(), leo)
		}
		if err := p.log.TruncateFullyAndStartAt(h.BaseOffset); err != nil {
			return false, err
		}
	}
	_, _, err := p.log.AppendReplicaDeferred(batch)
	return true, err
}

// followLeaderMarks sets the follower's high watermark to the leader's,
// capped at its own log end, and raises its log start to the leader's.
func (p *Partition) followLeaderMarks(leaderHW, leaderStart int64, dir *log.Dir) error {
	hw := min(leaderHW, p.log.LogEndOffset())
	if leaderHW >= 0 {
		p.mu.Lock()
		p.setHWLocked(hw)
		p.mu.Unlock()
	}
	if start := min(leaderStart, p.hw.Load()); start > p.log.LogStartOffset() {
		return dir.DeleteRecords(p.TP, start)
	}
	return nil
}

// truncateDiverging truncates where the leader says this log diverged
// (its epoch and where that epoch ends on the leader).
func (p *Partition) truncateDiverging(leaderEpoch int32, leaderEnd int64) error {
	leo := p.log.LogEndOffset()
	// The leader knows no epoch this log has: keep only what was committed.
	target := min(p.hw.Load(), leo)
	if leaderEnd >= 0 {
		target = min(leaderEnd, leo)
		if leaderEpoch >= 0 {
			if epoch, end := p.log.EndOffsetForEpoch(leaderEpoch); epoch >= 0 {
				// Where our copy of the epoch ends; when we do not know the
				// leader's epoch, where our largest one below it ends, and
				// the next fetch checks again.
				target = min(end, leo)
				if epoch == leaderEpoch {
					target = min(target, leaderEnd)
				}
			}
		}
	}
	return p.truncateTo(target)
}

// truncateTo truncates the log and lowers the high watermark with it.
func (p *Partition) truncateTo(offset int64) error {
	if err := p.log.TruncateTo(offset); err != nil {
		return err
	}
	p.capHW()
	return nil
}

func (p *Partition) capHW() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if leo := p.log.LogEndOffset(); p.hw.Load() > leo {
		p.setHWLocked(leo)
	}
}

// resetOutOfRange handles OFFSET_OUT_OF_RANGE for a fetch at offset: below
// the leader's log start, the log restarts empty there; past the leader's
// end (its high watermark then bounds it), the log truncates to that.
func (p *Partition) resetOutOfRange(offset, leaderStart, leaderHW int64) error {
	switch {
	case leaderStart >= 0 && offset < leaderStart:
		if err := p.log.TruncateFullyAndStartAt(leaderStart); err != nil {
			return err
		}
		p.mu.Lock()
		p.setHWLocked(leaderStart)
		p.mu.Unlock()
		return nil
	case leaderHW >= 0 && leaderHW < offset:
		return p.truncateTo(leaderHW)
	}
	return fmt.Errorf("%w: fetch at %d, leader's log start %d", kerr.OffsetOutOfRange, offset, leaderStart)
}
