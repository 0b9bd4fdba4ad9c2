package raft

import (
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

var (
	// ErrNotLeader is returned (as a *NotLeaderError) by Propose on a node
	// that is not the leader; nothing was appended.
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrDropped means the proposal will never be applied: raft refused it,
	// or a new leader overwrote its entry.
	ErrDropped = errors.New("raft: proposal dropped")
	// ErrOutcomeUnknown means the node can no longer tell whether the
	// proposal's entry was applied: a snapshot from the leader replaced the
	// log past it.
	ErrOutcomeUnknown = errors.New("raft: proposal outcome unknown")
	// ErrClosed is returned once Close has been called.
	ErrClosed = errors.New("raft: node closed")
	// ErrStopped wraps the error that stopped the node (a failed write or
	// fsync, a state machine error).
	ErrStopped = errors.New("raft: node stopped")
)

// NotLeaderError is ErrNotLeader with the leader this node knows of.
type NotLeaderError struct {
	Leader uint64 // 0 when no leader is known
}

func (e *NotLeaderError) Error() string {
	if e.Leader == 0 {
		return "raft: not the leader (no leader known)"
	}
	return fmt.Sprintf("raft: not the leader (leader is %d)", e.Leader)
}

func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Every entry this package proposes carries an envelope that names the
// proposal: [version u8][incarnation u64][sequence u64], then for a normal
// entry the caller's data. The incarnation is random per Open, so an entry
// proposed before a restart never completes a proposal made after it.
const (
	envVersion = 1
	envSize    = 17
)

func appendEnvelope(b []byte, incarnation, seq uint64) []byte {
	b = append(b, envVersion)
	b = binary.LittleEndian.AppendUint64(b, incarnation)
	return binary.LittleEndian.AppendUint64(b, seq)
}

func decodeEnvelope(b []byte) (incarnation, seq uint64, payload []byte, ok bool) {
	if len(b) < envSize || b[0] != envVersion {
		return 0, 0, nil, false
	}
	return binary.LittleEndian.Uint64(b[1:]), binary.LittleEndian.Uint64(b[9:]), b[envSize:], true
}

// proposal is one Propose or ProposeConfChange call. The loop owns it until
// it closes done; index and err are then final.
type proposal struct {
	seq   uint64
	data  []byte               // normal entry: envelope + payload
	cc    *raftpb.ConfChangeV2 // conf change: envelope in Context
	index uint64               // where its entry was appended, then applied
	err   error
	done  chan struct{}
}

func (p *proposal) finish(index uint64, err error) {
	p.index, p.err = index, err
	close(p.done)
}

// proposals tracks the loop's outstanding proposals.
type proposals struct {
	incarnation uint64
	bySeq       map[uint64]*proposal
	byIndex     map[uint64]*proposal // those whose entry was appended
	unplaced    []*proposal          // handed to raft, entry not yet seen
}

func newProposals(incarnation uint64) *proposals {
	return &proposals{incarnation: incarnation, bySeq: map[uint64]*proposal{}, byIndex: map[uint64]*proposal{}}
}

func (ps *proposals) add(p *proposal) {
	ps.bySeq[p.seq] = p
	ps.unplaced = append(ps.unplaced, p)
}

// entrySeq returns the proposal sequence an entry carries, if this
// incarnation proposed it.
func (ps *proposals) entrySeq(e *raftpb.Entry) (uint64, bool) {
	data := e.GetData()
	if e.GetType() == raftpb.EntryConfChangeV2 {
		var cc raftpb.ConfChangeV2
		if proto.Unmarshal(data, &cc) != nil {
			return 0, false
		}
		data = cc.GetContext()
	} else if e.GetType() != raftpb.EntryNormal {
		return 0, false
	}
	inc, seq, _, ok := decodeEnvelope(data)
	return seq, ok && inc == ps.incarnation
}

// place records where raft appended the entries of pending proposals, and
// fails those raft dropped without appending.
func (ps *proposals) place(ents []*raftpb.Entry) {
	if len(ps.unplaced) == 0 {
		return
	}
	for _, e := range ents {
		if seq, ok := ps.entrySeq(e); ok {
			if p := ps.bySeq[seq]; p != nil && p.index == 0 {
				p.index = e.GetIndex()
				ps.byIndex[p.index] = p
			}
		}
	}
	for _, p := range ps.unplaced {
		if p.index == 0 {
			ps.fail(p, ErrDropped)
		}
	}
	ps.unplaced = ps.unplaced[:0]
}

// applied settles the proposals an applied entry decides: the one it
// carries succeeds, and one whose entry it overwrote is dropped.
func (ps *proposals) applied(e *raftpb.Entry) {
	index := e.GetIndex()
	seq, mine := ps.entrySeq(e)
	if p := ps.byIndex[index]; p != nil && (!mine || p.seq != seq) {
		ps.fail(p, ErrDropped)
	}
	if p := ps.bySeq[seq]; mine && p != nil {
		delete(ps.byIndex, p.index)
		delete(ps.bySeq, seq)
		p.finish(index, nil)
	}
}

// restored fails the proposals whose entries a snapshot replaced.
func (ps *proposals) restored(snapIndex uint64) {
	for index, p := range ps.byIndex {
		if index <= snapIndex {
			ps.fail(p, ErrOutcomeUnknown)
		}
	}
}

func (ps *proposals) fail(p *proposal, err error) {
	if p.index != 0 && ps.byIndex[p.index] == p {
		delete(ps.byIndex, p.index)
	}
	delete(ps.bySeq, p.seq)
	p.finish(0, err)
}

func (ps *proposals) failAll(err error) {
	for _, p := range ps.bySeq {
		ps.fail(p, err)
	}
	ps.unplaced = nil
}
