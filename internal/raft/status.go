package raft

import (
	"slices"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// Status is a node's view of the quorum, what DescribeQuorum reports
// (KIP-595, KIP-853): raft's term is KRaft's leader epoch, the commit index
// its high watermark, a peer's match index its log end offset. The loop
// refreshes it on every tick and after every batch of Readys, so it may be
// one tick old.
type Status struct {
	ID      uint64
	Role    string // "leader", "follower", "candidate", "pre-candidate"
	Leader  uint64 // 0 when no leader is known
	Term    uint64
	Commit  uint64
	Applied uint64
	// Voters and Learners, by id, as of the applied configuration (both
	// sides of a joint configuration).
	Voters   []PeerStatus
	Learners []PeerStatus
}

// PeerStatus is one member as the leader sees it. Only a leader knows Match
// and contact times; elsewhere they are zero and SinceContact is -1.
type PeerStatus struct {
	ID uint64
	// Match is the highest index known to be in the member's log; for the
	// leader itself, its last index.
	Match uint64
	// RecentActive is raft's view: the member was heard from within the
	// last election timeout.
	RecentActive bool
	// LastContact is when the leader last received an append or heartbeat
	// response from the member (Kafka's last fetch timestamp); zero if
	// never during this leadership. The leader's own is the refresh time.
	LastContact time.Time
	// SinceContact is the time from LastContact to the Status call, -1 when
	// LastContact is zero.
	SinceContact time.Duration
}

// Status returns the node's latest view of the quorum. The slices are the
// caller's.
func (n *Node) Status() Status {
	p := n.status.Load()
	if p == nil {
		return Status{ID: n.cfg.ID}
	}
	st := *p
	now := time.Now()
	st.Voters = sinceContact(slices.Clone(st.Voters), now)
	st.Learners = sinceContact(slices.Clone(st.Learners), now)
	return st
}

func sinceContact(ps []PeerStatus, now time.Time) []PeerStatus {
	for i := range ps {
		ps[i].SinceContact = -1
		if !ps[i].LastContact.IsZero() {
			ps[i].SinceContact = now.Sub(ps[i].LastContact)
		}
	}
	return ps
}

// noteContact records when the leader hears back from a peer.
func (l *loop) noteContact(m *raftpb.Message) {
	switch m.GetType() {
	case raftpb.MsgAppResp, raftpb.MsgHeartbeatResp:
		if l.contact == nil {
			l.contact = map[uint64]time.Time{}
		}
		l.contact[m.GetFrom()] = time.Now()
	}
}

// roleChanged forgets contact times from an earlier leadership.
func (l *loop) roleChanged(s etcdraft.StateType) {
	if s != etcdraft.StateLeader {
		clear(l.contact)
	}
}

// refreshStatus publishes the node's status for Node.Status.
func (l *loop) refreshStatus() {
	bs := l.rn.BasicStatus()
	now := time.Now()
	st := &Status{
		ID: l.n.cfg.ID, Role: roleName(bs.RaftState), Leader: bs.Lead,
		Term: bs.HardState.GetTerm(), Commit: bs.HardState.GetCommit(), Applied: l.applied,
	}
	progress := map[uint64]tracker.Progress{}
	if bs.RaftState == etcdraft.StateLeader {
		l.rn.WithProgress(func(id uint64, _ etcdraft.ProgressType, pr tracker.Progress) {
			progress[id] = pr
		})
	}
	peer := func(id uint64) PeerStatus {
		ps := PeerStatus{ID: id, LastContact: l.contact[id]}
		if pr, ok := progress[id]; ok {
			ps.Match, ps.RecentActive = pr.Match, pr.RecentActive
		}
		if id == l.n.cfg.ID && bs.RaftState == etcdraft.StateLeader {
			ps.LastContact, ps.RecentActive = now, true
		}
		return ps
	}
	cs := l.confState
	for _, id := range union(cs.GetVoters(), cs.GetVotersOutgoing()) {
		st.Voters = append(st.Voters, peer(id))
	}
	for _, id := range union(cs.GetLearners(), cs.GetLearnersNext()) {
		st.Learners = append(st.Learners, peer(id))
	}
	l.n.status.Store(st)
}

func union(a, b []uint64) []uint64 {
	ids := slices.Concat(a, b)
	slices.Sort(ids)
	return slices.Compact(ids)
}

func roleName(s etcdraft.StateType) string {
	switch s {
	case etcdraft.StateLeader:
		return "leader"
	case etcdraft.StateCandidate:
		return "candidate"
	case etcdraft.StatePreCandidate:
		return "pre-candidate"
	default:
		return "follower"
	}
}
