package raft

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/samsa-io/samsa/internal/vfs"
)

// network is an in-memory transport between nodes of one process: a
// buffered inbox per node, drained by a goroutine that calls Step. A full
// inbox, a stopped node or an isolated link drops the message, as a real
// network may.
type network struct {
	mu       sync.Mutex
	nodes    map[uint64]*Node
	isolated map[uint64]bool
	inbox    map[uint64]chan *raftpb.Message
	stop     chan struct{}
	wg       sync.WaitGroup
}

func newNetwork(ids []uint64) *network {
	nw := &network{
		nodes: map[uint64]*Node{}, isolated: map[uint64]bool{},
		inbox: map[uint64]chan *raftpb.Message{}, stop: make(chan struct{}),
	}
	for _, id := range ids {
		ch := make(chan *raftpb.Message, 4096)
		nw.inbox[id] = ch
		nw.wg.Go(func() { nw.deliver(id, ch) })
	}
	return nw
}

func (nw *network) deliver(id uint64, ch chan *raftpb.Message) {
	for {
		select {
		case <-nw.stop:
			return
		case m := <-ch:
			nw.mu.Lock()
			n := nw.nodes[id]
			nw.mu.Unlock()
			if n != nil {
				n.Step(context.Background(), m) // fails only if n stopped
			}
		}
	}
}

type netSender struct {
	nw   *network
	from uint64
}

func (s netSender) Send(msgs []*raftpb.Message) {
	nw := s.nw
	nw.mu.Lock()
	defer nw.mu.Unlock()
	for _, m := range msgs {
		to := m.GetTo()
		if nw.isolated[s.from] || nw.isolated[to] || nw.inbox[to] == nil {
			continue
		}
		select {
		case nw.inbox[to] <- proto.Clone(m).(*raftpb.Message):
		default:
		}
	}
}

func (nw *network) set(id uint64, n *Node) {
	nw.mu.Lock()
	nw.nodes[id] = n
	nw.mu.Unlock()
}

func (nw *network) isolate(id uint64, on bool) {
	nw.mu.Lock()
	nw.isolated[id] = on
	nw.mu.Unlock()
}

func (nw *network) close() {
	close(nw.stop)
	nw.wg.Wait()
}

func (nw *network) transport(id uint64) Transport { return netSender{nw, id} }

// clusterNet connects a cluster's nodes: the in-memory network or TCP.
type clusterNet interface {
	transport(id uint64) Transport // for a node about to start
	set(id uint64, n *Node)        // the node now running as id, or nil
	close()
}

// cluster runs voters and learners in one process, each on its own MemFS.
type cluster struct {
	t        *testing.T
	ids      []uint64 // voters and learners
	voters   []uint64
	learners []uint64
	net      clusterNet
	nw       *network      // the in-memory network, if net is one
	tick     time.Duration // 5ms unless set before nodes start
	fs       map[uint64]*vfs.MemFS
	nodes    map[uint64]*Node
	sms      map[uint64]*listSM
}

func newCluster(t *testing.T, ids ...uint64) *cluster {
	nw := newNetwork(ids)
	return startCluster(t, ids, nil, nw, nw, 5*time.Millisecond)
}

func startCluster(t *testing.T, voters, learners []uint64, net clusterNet, nw *network, tick time.Duration) *cluster {
	ids := slices.Concat(voters, learners)
	c := &cluster{
		t: t, ids: ids, voters: voters, learners: learners, net: net, nw: nw, tick: tick,
		fs: map[uint64]*vfs.MemFS{}, nodes: map[uint64]*Node{}, sms: map[uint64]*listSM{},
	}
	for _, id := range ids {
		c.fs[id] = vfs.NewMem()
		c.start(id)
	}
	t.Cleanup(c.close)
	return c
}

func (c *cluster) config(id uint64) Config {
	return Config{
		ID: id, Voters: c.voters, Learners: c.learners, FS: c.fs[id], Dir: "raft",
		Tick: c.tick, ElectionTicks: 20, HeartbeatTicks: 2,
		SnapshotEvery: 20, Transport: c.net.transport(id), Logger: quietLogger(),
	}
}

func (c *cluster) start(id uint64) {
	n, sm := openNode(c.t, c.config(id))
	c.nodes[id], c.sms[id] = n, sm
	c.net.set(id, n)
}

func (c *cluster) kill(id uint64) {
	c.net.set(id, nil)
	if err := c.nodes[id].Close(); err != nil {
		c.t.Fatalf("close %d: %v", id, err)
	}
	delete(c.nodes, id)
}

func (c *cluster) close() {
	for id := range c.nodes {
		c.kill(id)
	}
	c.net.close()
}

// leader waits until every running node names the same running leader.
func (c *cluster) leader() uint64 {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var ids []uint64
		for _, n := range c.nodes {
			ids = append(ids, n.Leader())
		}
		l := ids[0]
		if l != 0 && c.nodes[l] != nil && !slices.ContainsFunc(ids, func(id uint64) bool { return id != l }) {
			return l
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.t.Fatal("no agreed leader in 10s")
	return 0
}

// propose proposes data on the current leader, retrying when the node it
// asked turned out not to lead or the entry was dropped by a leadership
// change: in both cases the entry will never be applied.
func (c *cluster) propose(data string) uint64 {
	c.t.Helper()
	for range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		idx, err := c.nodes[c.leader()].Propose(ctx, []byte(data))
		cancel()
		if err == nil {
			return idx
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrDropped) {
			c.t.Fatalf("propose %q: %v", data, err)
		}
	}
	c.t.Fatalf("propose %q: no stable leader", data)
	return 0
}

func (c *cluster) proposeMany(prefix string, workers, each int) []smEntry {
	var mu sync.Mutex
	var acked []smEntry
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				data := fmt.Sprintf("%s-w%d-%d", prefix, w, i)
				idx := c.propose(data)
				mu.Lock()
				acked = append(acked, smEntry{idx, data})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked
}

// converge waits until every running node's state machine holds the same
// list, containing every entry of want, and returns it.
func (c *cluster) converge(want []smEntry) []smEntry {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var lists [][]smEntry
		for _, id := range c.ids {
			if c.nodes[id] != nil {
				lists = append(lists, c.sms[id].list())
			}
		}
		same := true
		for _, l := range lists[1:] {
			same = same && slices.Equal(l, lists[0])
		}
		all := true
		for _, e := range want {
			all = all && containsEntry(lists[0], e)
		}
		if same && all {
			return lists[0]
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("state machines did not converge in 10s (same %v, all acknowledged %v)", same, all)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestThreeVoters: a leader is elected; its proposals are applied on all
// three in the same order; a follower refuses with the leader's id; after
// the leader is killed the other two elect a new one and proposals
// continue; the old leader restarts and catches up (by snapshot, as the
// new leader's log was compacted past it).
func TestThreeVoters(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	first := c.leader()
	acked := c.proposeMany("a", 3, 10)
	c.converge(acked)

	c.checkFollowerRefuses()

	c.kill(first)
	second := c.leader()
	if second == first {
		t.Fatalf("leader %d still leads after it was killed", second)
	}
	acked = append(acked, c.proposeMany("b", 3, 20)...)
	c.converge(acked)

	c.start(first)
	restoresAtOpen := c.sms[first].restoreCount()
	final := c.converge(acked)
	if c.sms[first].restoreCount() == restoresAtOpen {
		t.Fatalf("node %d caught up without the leader's snapshot", first)
	}
	if len(final) != len(acked) {
		t.Fatalf("%d entries applied, %d acknowledged: something was applied twice or unasked", len(final), len(acked))
	}
}

// checkFollowerRefuses: Propose on a follower fails with ErrNotLeader
// naming the leader, and appends nothing.
func (c *cluster) checkFollowerRefuses() {
	c.t.Helper()
	for range 20 {
		l := c.leader()
		for id, n := range c.nodes {
			if id == l {
				continue
			}
			_, err := n.Propose(context.Background(), []byte("refused"))
			var nle *NotLeaderError
			if !errors.As(err, &nle) || !errors.Is(err, ErrNotLeader) {
				c.t.Fatalf("follower %d: %v, want *NotLeaderError", id, err)
			}
			if nle.Leader == l {
				return
			}
		}
	}
	c.t.Fatal("followers never named the leader")
}

// TestOverwrittenProposalFails: a leader cut off from the others appends a
// proposal it cannot commit; the others elect a new leader and commit
// their own entries at that index. When the old leader rejoins, its
// proposal fails with ErrDropped and is applied nowhere.
func TestOverwrittenProposalFails(t *testing.T) {
	c := newCluster(t, 1, 2, 3)
	acked := c.proposeMany("a", 1, 5)
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			t.Fatal("could not propose on an isolated leader")
		}
		old := c.leader()
		c.nw.isolate(old, true)
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := c.nodes[old].Propose(ctx, []byte("orphan"))
			errc <- err
		}()
		b := fmt.Sprintf("b%d", attempt)
		acked = append(acked, smEntry{c.proposeExcept(old, b), b})
		c.nw.isolate(old, false)
		err := <-errc
		if errors.Is(err, ErrNotLeader) {
			continue // it had already stepped down; try again
		}
		if !errors.Is(err, ErrDropped) {
			t.Fatalf("orphaned proposal: %v, want ErrDropped", err)
		}
		break
	}
	for _, e := range c.converge(acked) {
		if e.data == "orphan" {
			t.Fatalf("the overwritten proposal was applied at %d", e.index)
		}
	}
}

// leaderExcept waits until the nodes other than old agree on a leader.
func (c *cluster) leaderExcept(old uint64) uint64 {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var ls []uint64
		for id, n := range c.nodes {
			if id != old {
				ls = append(ls, n.Leader())
			}
		}
		if ls[0] != 0 && ls[0] != old && slices.Equal(ls, []uint64{ls[0], ls[0]}) {
			return ls[0]
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.t.Fatal("the others elected no leader")
	return 0
}

// proposeExcept proposes on the leader of the nodes other than old.
func (c *cluster) proposeExcept(old uint64, data string) uint64 {
	c.t.Helper()
	for range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		idx, err := c.nodes[c.leaderExcept(old)].Propose(ctx, []byte(data))
		cancel()
		if err == nil {
			return idx
		}
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrDropped) {
			c.t.Fatalf("propose %q: %v", data, err)
		}
	}
	c.t.Fatalf("propose %q: no stable leader", data)
	return 0
}
