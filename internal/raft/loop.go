package raft

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// loop is the state owned by the node's goroutine: the raft state machine,
// its storage and the outstanding proposals.
type loop struct {
	n  *Node
	rn *etcdraft.RawNode
	ms *etcdraft.MemoryStorage // raft's view of the durable log
	w  *wal
	ps *proposals

	confState *raftpb.ConfState // as of applied
	snapIndex uint64            // the newest durable snapshot
	// confChanged is set when a proposed membership change (ConfChangeV2)
	// was applied since the last snapshot: the next maybeSnapshot takes one
	// at once, since raft sends a node that joined after the newest
	// snapshot that snapshot, and the node ignores a snapshot whose
	// configuration does not list it.
	confChanged bool
	applied     uint64
	replayTo    uint64 // the commit index found at Open
	replayed    bool
	campaigned  bool

	contact map[uint64]time.Time // as leader: last response from each peer
}

// maxPropBatch bounds how many queued proposals one Ready takes.
const maxPropBatch = 4096

func (l *loop) init(n *Node, rec *recovered) error {
	l.n, l.w, l.ps = n, rec.w, newProposals(n.nonce)
	l.ms = etcdraft.NewMemoryStorage()
	l.confState = &raftpb.ConfState{}
	if s := rec.snap; s != nil {
		if err := l.ms.ApplySnapshot(s); err != nil {
			return err
		}
		if err := n.sm.Restore(s.GetData()); err != nil {
			return fmt.Errorf("raft: restore snapshot: %w", err)
		}
		l.snapIndex, l.applied = s.GetMetadata().GetIndex(), s.GetMetadata().GetIndex()
		l.confState = proto.Clone(s.GetMetadata().GetConfState()).(*raftpb.ConfState)
	}
	if rec.hs != nil {
		l.ms.SetHardState(rec.hs)
		l.replayTo = rec.hs.GetCommit()
	}
	if err := l.ms.Append(rec.ents); err != nil {
		return err
	}
	if last, _ := l.ms.LastIndex(); last == 0 && len(n.cfg.Voters) > 0 {
		if err := l.bootstrap(); err != nil {
			return err
		}
	}
	n.applied.Store(l.applied)
	rn, err := newRawNode(n.cfg, l.ms, l.applied, n.log)
	if err != nil {
		return err
	}
	l.rn = rn
	l.refreshStatus()
	return nil
}

// bootstrap starts an empty log with one committed configuration entry per
// configured voter and learner, written to the WAL before raft starts, as
// if it had been recovered. raft learns the membership by applying them in
// the first Ready, as it does when a node restarts without a snapshot.
// (RawNode.Bootstrap cannot add learners.)
func (l *loop) bootstrap() error {
	cfg := l.n.cfg
	var ents []*raftpb.Entry
	add := func(id uint64, typ raftpb.ConfChangeType) error {
		data, err := proto.Marshal(&raftpb.ConfChange{Type: typ.Enum(), NodeId: new(id)})
		if err != nil {
			return err
		}
		ents = append(ents, &raftpb.Entry{
			Type: raftpb.EntryConfChange.Enum(), Term: new(uint64(1)),
			Index: new(uint64(len(ents) + 1)), Data: data,
		})
		return nil
	}
	// Sorted, so that every node writes the same entries whatever order its
	// configuration lists them in.
	for _, id := range slices.Sorted(slices.Values(cfg.Voters)) {
		if err := add(id, raftpb.ConfChangeAddNode); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(slices.Values(cfg.Learners)) {
		if err := add(id, raftpb.ConfChangeAddLearnerNode); err != nil {
			return err
		}
	}
	hs := &raftpb.HardState{Term: new(uint64(1)), Vote: new(uint64(0)), Commit: new(uint64(len(ents)))}
	if err := l.w.save(hs, ents); err != nil {
		return err
	}
	l.ms.SetHardState(hs)
	l.replayTo = hs.GetCommit()
	return l.ms.Append(ents)
}

// run is the node's goroutine.
func (n *Node) run() {
	err := n.lp.run()
	n.exit(err)
	n.lp.shutdown(n.stoppedErr())
	close(n.done)
}

func (l *loop) run() error {
	t := time.NewTicker(l.n.cfg.Tick)
	defer t.Stop()
	for {
		if err := l.settle(); err != nil {
			return err
		}
		select {
		case <-l.n.stop:
			return ErrClosed
		case <-t.C:
			l.rn.Tick()
			l.refreshStatus()
		case p := <-l.n.props:
			l.propose(p)
		case m := <-l.n.recv:
			l.step(m)
			l.drainRecv()
		case r := <-l.n.reports:
			l.handleReport(r)
			l.drainReports()
		}
	}
}

// settle handles Readys until raft has nothing more to do. Before each
// Ready it takes the queued proposals, so that under load one fsync
// persists new entries together with the commit of earlier ones.
func (l *loop) settle() error {
	for handled := false; ; handled = true {
		l.drainProps()
		if !l.rn.HasReady() {
			l.checkReplayed()
			if l.maybeCampaign() {
				continue
			}
			if handled {
				l.refreshStatus()
			}
			return nil
		}
		if err := l.handleReady(); err != nil {
			return err
		}
	}
}

func (l *loop) drainProps() {
	for range maxPropBatch {
		select {
		case p := <-l.n.props:
			l.propose(p)
		default:
			return
		}
	}
}

func (l *loop) drainRecv() {
	for range maxPropBatch {
		select {
		case m := <-l.n.recv:
			l.step(m)
		default:
			return
		}
	}
}

func (l *loop) propose(p *proposal) {
	var err error
	if p.cc != nil {
		err = l.rn.ProposeConfChange(p.cc)
	} else {
		err = l.rn.Propose(p.data)
	}
	if err == nil {
		l.ps.add(p)
		return
	}
	if errors.Is(err, etcdraft.ErrProposalDropped) {
		if st := l.rn.BasicStatus(); st.RaftState != etcdraft.StateLeader {
			err = &NotLeaderError{Leader: st.Lead}
		} else {
			err = ErrDropped
		}
	}
	p.finish(0, err)
}

func (l *loop) step(m *raftpb.Message) {
	l.noteContact(m)
	if err := l.rn.Step(m); err != nil {
		l.n.log.Debug("raft: message not stepped", "type", m.GetType(), "from", m.GetFrom(), "err", err)
	}
}

// handleReady follows raft's Ready contract: persist, then send, then
// apply, then Advance.
func (l *loop) handleReady() error {
	rd := l.rn.Ready()
	if rd.SoftState != nil {
		l.roleChanged(rd.SoftState.RaftState)
		l.refreshStatus() // before WaitLeader's callers wake
		l.n.setLeader(rd.SoftState.Lead)
	}
	if err := l.persist(rd); err != nil {
		return err
	}
	l.ps.place(rd.Entries)
	l.send(rd.Messages)
	if !etcdraft.IsEmptySnap(rd.Snapshot) {
		if err := l.restore(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := l.apply(rd.CommittedEntries); err != nil {
		return err
	}
	l.rn.Advance(rd)
	return l.maybeSnapshot()
}

// persist makes a Ready's snapshot, entries and hard state durable and
// mirrors them into the MemoryStorage raft reads.
func (l *loop) persist(rd etcdraft.Ready) error {
	if !etcdraft.IsEmptySnap(rd.Snapshot) {
		if err := l.saveSnapshot(rd.Snapshot, true); err != nil {
			return err
		}
		if err := l.ms.ApplySnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if err := l.w.save(rd.HardState, rd.Entries); err != nil {
		return err
	}
	if rd.HardState != nil {
		l.ms.SetHardState(rd.HardState)
	}
	return l.ms.Append(rd.Entries)
}

func (l *loop) send(msgs []*raftpb.Message) {
	if len(msgs) == 0 {
		return
	}
	if t := l.n.cfg.Transport; t != nil {
		t.Send(msgs)
		if l.transportReportsSnapshots() {
			return
		}
	}
	for _, m := range msgs {
		if m.GetType() == raftpb.MsgSnap {
			// The transport does not report delivery; if the snapshot is
			// lost the leader probes the follower again and resends.
			l.rn.ReportSnapshot(m.GetTo(), etcdraft.SnapshotFinish)
		}
	}
}

// restore replaces the state machine with a snapshot from the leader.
func (l *loop) restore(s *raftpb.Snapshot) error {
	if err := l.n.sm.Restore(s.GetData()); err != nil {
		return fmt.Errorf("raft: restore snapshot: %w", err)
	}
	md := s.GetMetadata()
	l.confState = proto.Clone(md.GetConfState()).(*raftpb.ConfState)
	l.snapIndex = md.GetIndex()
	l.setApplied(md.GetIndex())
	l.ps.restored(md.GetIndex())
	return nil
}

func (l *loop) apply(ents []*raftpb.Entry) error {
	for _, e := range ents {
		if e.GetIndex() <= l.applied {
			continue
		}
		if err := l.applyEntry(e); err != nil {
			return err
		}
		l.setApplied(e.GetIndex()) // before Propose returns the index
		l.ps.applied(e)
	}
	return nil
}

func (l *loop) applyEntry(e *raftpb.Entry) error {
	switch e.GetType() {
	case raftpb.EntryNormal:
		if len(e.GetData()) == 0 {
			return nil // a new leader's empty entry
		}
		_, _, payload, ok := decodeEnvelope(e.GetData())
		if !ok {
			return corruptf("entry %d has no envelope", e.GetIndex())
		}
		if err := l.n.sm.Apply(e.GetIndex(), payload); err != nil {
			return fmt.Errorf("raft: apply entry %d: %w", e.GetIndex(), err)
		}
	case raftpb.EntryConfChange:
		var cc raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return corruptf("conf change at %d: %v", e.GetIndex(), err)
		}
		l.confState = l.rn.ApplyConfChange(&cc)
	case raftpb.EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			return corruptf("conf change at %d: %v", e.GetIndex(), err)
		}
		l.confState = l.rn.ApplyConfChange(&cc)
		l.confChanged = true
	}
	return nil
}

func (l *loop) setApplied(i uint64) {
	l.applied = i
	l.n.applied.Store(i)
}

// maybeSnapshot snapshots the state machine every SnapshotEvery applied
// entries, then compacts the log behind it.
func (l *loop) maybeSnapshot() error {
	every := l.n.cfg.SnapshotEvery
	if l.applied-l.snapIndex < every && !(l.confChanged && l.applied > l.snapIndex) {
		return nil
	}
	l.confChanged = false
	data, err := l.n.sm.Snapshot()
	if err != nil {
		return fmt.Errorf("raft: state machine snapshot: %w", err)
	}
	s, err := l.ms.CreateSnapshot(l.applied, l.confState, data)
	if err != nil {
		return err
	}
	if err := l.saveSnapshot(s, false); err != nil {
		return err
	}
	l.snapIndex = l.applied
	// Keep some entries in memory for followers a little behind.
	if keep := min(every, maxCatchUpEntries); l.applied > keep {
		if first, _ := l.ms.FirstIndex(); l.applied-keep >= first {
			return l.ms.Compact(l.applied - keep)
		}
	}
	return nil
}

// saveSnapshot makes s durable, starts a new WAL segment, and then removes
// the files s makes unnecessary. A snapshot received from the leader
// replaces the log, so the new segment restarts the log at s.
func (l *loop) saveSnapshot(s *raftpb.Snapshot, received bool) error {
	md := s.GetMetadata()
	if err := writeSnapshot(l.n.cfg.FS, l.n.cfg.Dir, s); err != nil {
		return fmt.Errorf("raft: write snapshot: %w", err)
	}
	prevIndex, prevTerm := l.w.lastIndex, l.w.lastTerm
	if received {
		prevIndex, prevTerm = md.GetIndex(), md.GetTerm()
	}
	if err := l.w.roll(prevIndex, prevTerm); err != nil {
		return err
	}
	return l.removeOld(md.GetIndex())
}

// removeOld deletes the snapshots older than snapIndex and the WAL segments
// the snapshot at snapIndex covers; it runs only once that snapshot is
// durable.
func (l *loop) removeOld(snapIndex uint64) error {
	fsys, dir := l.n.cfg.FS, l.n.cfg.Dir
	snaps, _, err := listDir(fsys, dir)
	if err != nil {
		return err
	}
	removed := false
	for _, name := range snaps {
		if i, _ := parseSnapName(name); i < snapIndex {
			if err := fsys.Remove(path.Join(dir, name)); err != nil {
				return fmt.Errorf("raft: remove old snapshot: %w", err)
			}
			removed = true
		}
	}
	segs, err := l.w.compact(snapIndex)
	if err != nil {
		return err
	}
	if !removed && segs == 0 {
		return nil
	}
	return fsys.SyncDir(dir)
}

func (l *loop) checkReplayed() {
	if !l.replayed && l.applied >= l.replayTo {
		l.replayed = true
		close(l.n.replayed)
	}
}

// maybeCampaign makes a node that is the only voter campaign once, as soon
// as its log is replayed: it needs no election timeout to learn that no
// one else will. Other nodes wait for raft's randomized election timeout.
func (l *loop) maybeCampaign() bool {
	if l.campaigned || !l.replayed {
		return false
	}
	cs := l.confState
	if len(cs.GetVotersOutgoing()) != 0 || !slices.Equal(cs.GetVoters(), []uint64{l.n.cfg.ID}) {
		return false
	}
	l.campaigned = true
	if l.rn.BasicStatus().RaftState == etcdraft.StateLeader {
		return false
	}
	if err := l.rn.Campaign(); err != nil {
		l.n.log.Warn("raft: campaign failed", "err", err)
		return false
	}
	return true
}

// shutdown fails every outstanding proposal with err and closes the WAL.
func (l *loop) shutdown(err error) {
	l.ps.failAll(err)
	for {
		select {
		case p := <-l.n.props:
			p.finish(0, err)
		default:
			if cerr := l.w.close(); cerr != nil {
				l.n.log.Debug("raft: close WAL", "err", cerr)
			}
			return
		}
	}
}
