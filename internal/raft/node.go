// Package raft is the metadata quorum's node: a loop around etcd raft's
// RawNode that owns the durable state (a WAL and snapshot files on vfs),
// applies committed entries to a StateMachine, and exchanges messages
// through a Transport.
//
// One code path serves every cluster size; a cluster of one is a single
// voter that campaigns as soon as it starts rather than after an election
// timeout. docs/format/raft.md describes the files.
//
// Durability: the loop follows raft's Ready contract. Every hard state,
// entry and snapshot in a Ready is fsynced (with the directory, for new
// files) before the Ready's messages are sent and before any entry is
// applied, and a proposal is acknowledged only once its entry is applied.
// So an acknowledged entry is committed in the durable log of this node and
// of a quorum, and is applied again (exactly once, after the snapshot) when
// the node restarts.
package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Node is one member of a raft group. Its methods are safe for concurrent
// use.
type Node struct {
	cfg Config
	sm  StateMachine
	log *slog.Logger

	props   chan *proposal
	recv    chan *raftpb.Message
	reports chan report // from the transport, for raft
	stop    chan struct{}
	done    chan struct{} // closed when the loop has exited

	replayed  chan struct{} // closed once the log at Open is applied
	closeOnce sync.Once
	tr        io.Closer // an attached transport, closed by Close

	status atomic.Pointer[Status] // published by the loop

	nonce   uint64 // this incarnation, in every proposal's envelope
	nextSeq atomic.Uint64
	leader  atomic.Uint64
	applied atomic.Uint64

	mu struct {
		sync.Mutex
		err      error         // why the loop stopped, once it has
		leaderCh chan struct{} // closed and replaced when the leader changes
	}

	lp loop // owned by the loop goroutine
}

// Open recovers the node's state from cfg.Dir, bootstrapping an empty
// directory with cfg.Voters, restores the latest snapshot into sm and
// applies the committed entries after it, then starts the node. sm must be
// empty when there is no snapshot.
func Open(cfg Config, sm StateMachine) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rec, err := openStorage(cfg.FS, cfg.Dir, cfg.SegmentBytes, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("raft: open %s: %w", cfg.Dir, err)
	}
	n := &Node{
		cfg:      cfg,
		sm:       sm,
		log:      cfg.Logger.With("raft_id", cfg.ID),
		props:    make(chan *proposal, 1024),
		recv:     make(chan *raftpb.Message, 1024),
		reports:  make(chan report, 256),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		replayed: make(chan struct{}),
		nonce:    rand.Uint64(),
	}
	n.mu.leaderCh = make(chan struct{})
	if err := n.lp.init(n, rec); err != nil {
		rec.w.close()
		return nil, err
	}
	if a, ok := cfg.Transport.(attacher); ok {
		n.tr = a.attach(n)
	}
	go n.run()
	select {
	case <-n.replayed:
		return n, nil
	case <-n.done:
		n.Close()
		return nil, n.stoppedErr()
	}
}

// Propose appends data to the log and returns its index once the entry is
// committed and applied to the state machine. On a follower it fails at
// once with a *NotLeaderError. With ErrDropped the entry will never be
// applied; with ErrClosed, ErrStopped, ErrOutcomeUnknown or a context error
// it may still have been.
func (n *Node) Propose(ctx context.Context, data []byte) (uint64, error) {
	p := n.newProposal()
	p.data = appendEnvelope(make([]byte, 0, envSize+len(data)), n.nonce, p.seq)
	p.data = append(p.data, data...)
	return n.submit(ctx, p)
}

// ProposeConfChange proposes a membership change and returns its index once
// it is applied. Its Context is replaced by the node's own envelope.
func (n *Node) ProposeConfChange(ctx context.Context, cc *raftpb.ConfChangeV2) (uint64, error) {
	p := n.newProposal()
	p.cc = proto.Clone(cc).(*raftpb.ConfChangeV2)
	p.cc.Context = appendEnvelope(nil, n.nonce, p.seq)
	return n.submit(ctx, p)
}

func (n *Node) newProposal() *proposal {
	return &proposal{seq: n.nextSeq.Add(1), done: make(chan struct{})}
}

func (n *Node) submit(ctx context.Context, p *proposal) (uint64, error) {
	select {
	case n.props <- p:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.done:
		return 0, n.stoppedErr()
	}
	select {
	case <-p.done:
		return p.index, p.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.done:
		select {
		case <-p.done: // the loop settled it on its way out
			return p.index, p.err
		default:
			return 0, n.stoppedErr()
		}
	}
}

// Step hands the node a message from another node.
func (n *Node) Step(ctx context.Context, m *raftpb.Message) error {
	select {
	case n.recv <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.done:
		return n.stoppedErr()
	}
}

// ID returns the node's raft id.
func (n *Node) ID() uint64 { return n.cfg.ID }

// Leader returns the current leader's id, or 0 if none is known.
func (n *Node) Leader() uint64 { return n.leader.Load() }

// Applied returns the index of the last entry applied to the state machine.
func (n *Node) Applied() uint64 { return n.applied.Load() }

// WaitLeader waits until a leader is known and returns its id.
func (n *Node) WaitLeader(ctx context.Context) (uint64, error) {
	for {
		n.mu.Lock()
		ch := n.mu.leaderCh
		n.mu.Unlock()
		if id := n.leader.Load(); id != 0 {
			return id, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-n.done:
			return 0, n.stoppedErr()
		}
	}
}

func (n *Node) setLeader(id uint64) {
	if n.leader.Swap(id) == id {
		return
	}
	n.mu.Lock()
	close(n.mu.leaderCh)
	n.mu.leaderCh = make(chan struct{})
	n.mu.Unlock()
}

// Close stops the node: outstanding proposals fail with ErrClosed. It
// returns the error that had stopped the node, if one did.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.stop)
		<-n.done
		if n.tr != nil {
			n.tr.Close()
		}
	})
	<-n.done
	n.mu.Lock()
	defer n.mu.Unlock()
	if errors.Is(n.mu.err, ErrClosed) {
		return nil
	}
	return n.mu.err
}

// stopped reports whether the loop has exited.
func (n *Node) stopped() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

func (n *Node) stoppedErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mu.err
}

// exit records why the loop stopped; called by the loop before it closes
// done.
func (n *Node) exit(err error) {
	if !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("%w: %w", ErrStopped, err)
		n.log.Error("raft: node stopped", "err", err)
	}
	n.mu.Lock()
	n.mu.err = err
	n.mu.Unlock()
	n.setLeader(0)
}

// newRawNode builds the raft state machine over the in-memory mirror of
// the recovered storage.
func newRawNode(cfg Config, ms *etcdraft.MemoryStorage, applied uint64, log *slog.Logger) (*etcdraft.RawNode, error) {
	return etcdraft.NewRawNode(&etcdraft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   ms,
		Applied:                   applied,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		Logger:                    raftLogger{log},
	})
}
