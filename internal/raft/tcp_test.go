package raft

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

// electionTimeout is the TCP clusters' base election timeout (20 ticks).
const electionTimeout = 200 * time.Millisecond

// TestTCPThreeVoters: over TCP, three voters elect a leader and commit
// proposals; a follower refuses with the leader's id; when the leader is
// closed the other two elect a new one within a few election timeouts and
// keep committing; the old leader restarts from its directory and catches
// up by a snapshot, whose delivery the transport reports.
func TestTCPThreeVoters(t *testing.T) {
	c, _ := newTCPCluster(t, []uint64{1, 2, 3}, nil)
	first := c.leader()
	acked := c.proposeMany("a", 3, 10)
	c.converge(acked)
	c.checkFollowerRefuses()

	killed := time.Now()
	c.kill(first)
	second := c.leader()
	took := time.Since(killed)
	t.Logf("new leader %d after %v", second, took)
	if second == first {
		t.Fatalf("leader %d still leads after it was closed", second)
	}
	if took > 15*electionTimeout {
		t.Fatalf("new leader after %v, more than 15 election timeouts", took)
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
		t.Fatalf("%d entries applied, %d acknowledged", len(final), len(acked))
	}
	// The leader goes back to replicating to it: the snapshot was reported.
	acked = append(acked, smEntry{c.propose("after"), "after"})
	c.converge(acked)
}

// TestTCPConnectionsCut: closing the sockets between the nodes, on both
// sides and several times while proposals are in flight, loses nothing
// acknowledged; the writers dial again.
func TestTCPConnectionsCut(t *testing.T) {
	c, tn := newTCPCluster(t, []uint64{1, 2, 3}, nil)
	c.converge(c.proposeMany("a", 1, 5))
	dials := tn.trs[c.leader()].dials.Load()

	cut := func(i int) {
		for _, id := range c.ids {
			if i%2 == 0 {
				tn.trs[id].cutConns()
			} else {
				tn.srv[id].cut()
			}
		}
	}
	var acked []smEntry
	for round := range 6 {
		// One cut between rounds, and others while a round's proposals
		// are in flight.
		cut(round)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(3 * time.Millisecond):
					cut(i)
				}
			}
		})
		acked = append(acked, c.proposeMany(fmt.Sprintf("r%d", round), 3, 10)...)
		close(stop)
		wg.Wait()
	}
	c.converge(acked)
	if got := tn.trs[c.leader()].dials.Load(); got <= dials {
		t.Fatalf("leader dialled %d times in all, %d before the cuts: nothing was cut", got, dials)
	}
}

// TestTCPLearner: a learner receives the committed log and is listed as a
// learner in the leader's status; it does not count toward the quorum, and
// with the voters' quorum gone it never campaigns and its term stays put.
func TestTCPLearner(t *testing.T) {
	c, _ := newTCPCluster(t, []uint64{1, 2, 3}, []uint64{4})
	acked := c.proposeMany("a", 2, 10)
	c.converge(acked)

	l := c.leader()
	st := c.nodes[l].Status()
	if len(st.Voters) != 3 || len(st.Learners) != 1 || st.Learners[0].ID != 4 {
		t.Fatalf("leader's status lists voters %+v, learners %+v", st.Voters, st.Learners)
	}
	waitFor(t, 5*time.Second, "learner's match in the leader's status", func() bool {
		return c.nodes[l].Status().Learners[0].Match >= acked[len(acked)-1].index
	})

	for _, id := range []uint64{1, 2, 3}[:2] {
		c.kill(id)
	}
	learner := c.nodes[4]
	term := learner.Status().Term
	for end := time.Now().Add(10 * electionTimeout); time.Now().Before(end); {
		if st := learner.Status(); st.Role != "follower" || st.Term != term {
			t.Fatalf("learner became %s at term %d (was term %d)", st.Role, st.Term, term)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*electionTimeout)
	defer cancel()
	if _, err := c.nodes[3].Propose(ctx, []byte("no quorum")); err == nil {
		t.Fatal("one voter and a learner committed an entry")
	}
}

// TestTCPStatus: the leader's status shows each voter's match index and a
// recent contact; a follower's names the leader but knows no progress; a
// closed follower's contact ages.
func TestTCPStatus(t *testing.T) {
	c, _ := newTCPCluster(t, []uint64{1, 2, 3}, nil)
	acked := c.proposeMany("a", 1, 5)
	c.converge(acked)
	l := c.leader()
	last := acked[len(acked)-1].index
	waitFor(t, 5*time.Second, "every voter's match in the leader's status", func() bool {
		st := c.nodes[l].Status()
		for _, v := range st.Voters {
			if v.Match < last || v.SinceContact < 0 || v.SinceContact > electionTimeout {
				return false
			}
		}
		return st.Role == "leader" && st.Leader == l && st.Commit >= last && st.Applied >= last
	})
	for id, n := range c.nodes {
		if id == l {
			continue
		}
		st := n.Status()
		if st.Role != "follower" || st.Leader != l || st.Voters[0].SinceContact != -1 {
			t.Fatalf("follower %d's status: %+v", id, st)
		}
	}
	gone := c.ids[0]
	if gone == l {
		gone = c.ids[1]
	}
	c.kill(gone)
	waitFor(t, 5*time.Second, "the closed follower's contact to age", func() bool {
		for _, v := range c.nodes[l].Status().Voters {
			if v.ID == gone {
				return v.SinceContact > 2*electionTimeout
			}
		}
		return false
	})
}

// TestTCPWrongClusterRefused: a node of another cluster that dials a
// member is refused, both sides log why, and its messages never arrive.
func TestTCPWrongClusterRefused(t *testing.T) {
	logs := &syncBuffer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(vfs.NewMem())
	cfg.Logger = newTestLogger(logs)
	n, _ := openNode(t, cfg)
	defer n.Close()
	var wg sync.WaitGroup
	wg.Go(func() { Serve(ln, n, "ours") })
	defer wg.Wait()
	defer ln.Close()
	waitLeader(t, n)
	term := n.Status().Term

	// A raw hello: the refusal is answered before the connection closes.
	if status := rawHello(t, ln.Addr().String(), hello{from: 2, to: 1, clusterID: "theirs"}); status != helloWrongCluster {
		t.Fatalf("hello answered %d, want %d", status, helloWrongCluster)
	}
	if status := rawHello(t, ln.Addr().String(), hello{from: 2, to: 7, clusterID: "ours"}); status != helloWrongNode {
		t.Fatalf("misaddressed hello answered %d, want %d", status, helloWrongNode)
	}

	// A whole node of another cluster, campaigning toward node 1.
	tr, err := NewTCPTransport(TCPConfig{ID: 2, ClusterID: "theirs", Peers: map[uint64]string{1: ln.Addr().String()}, Logger: newTestLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	other := Config{ID: 2, Voters: []uint64{1, 2}, FS: vfs.NewMem(), Dir: "raft", Tick: 10 * time.Millisecond, Transport: tr, Logger: quietLogger()}
	foreign, _ := openNode(t, other)
	defer foreign.Close()
	waitFor(t, 5*time.Second, "refusals logged on both sides", func() bool {
		return logs.contains("peer_cluster=theirs") && logs.contains("refused: another cluster")
	})
	time.Sleep(5 * 10 * time.Millisecond)
	if st := n.Status(); st.Term != term || st.Role != "leader" {
		t.Fatalf("the foreign node disturbed node 1: %+v", st)
	}
	if d := tr.dials.Load(); d != 0 {
		t.Fatalf("the foreign node connected %d times", d)
	}
}

// rawHello dials addr, says h and returns the answer.
func rawHello(t *testing.T, addr string, h hello) byte {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := appendHello([]byte(Preface), h)
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	var ack [2]byte
	n, err := conn.Read(ack[:])
	if n != 1 {
		t.Fatalf("hello answered with %d bytes (%v)", n, err)
	}
	if _, err := conn.Read(ack[1:]); err == nil {
		t.Fatal("a refused connection stayed open")
	}
	return ack[0]
}

func TestNewTCPTransportRejectsBadConfig(t *testing.T) {
	if _, err := NewTCPTransport(TCPConfig{}); err == nil {
		t.Fatal("id 0 accepted")
	}
	long := string(make([]byte, maxClusterID+1))
	if _, err := NewTCPTransport(TCPConfig{ID: 1, ClusterID: long}); err == nil {
		t.Fatal("a 256-byte cluster id accepted")
	}
	if _, err := Open(Config{ID: 1, Learners: []uint64{2}, FS: vfs.NewMem(), Dir: "d"}, &listSM{}); err == nil {
		t.Fatal("learners without voters accepted")
	}
	if _, err := Open(Config{ID: 1, Voters: []uint64{1, 2}, Learners: []uint64{2}, FS: vfs.NewMem(), Dir: "d"}, &listSM{}); err == nil {
		t.Fatal("a voter listed as a learner accepted")
	}
}

// TestTCPTransportReportsSnapshots: a snapshot for a peer that cannot be
// reached is reported failed (and the peer unreachable); one written to a
// peer's connection is reported delivered.
func TestTCPTransportReportsSnapshots(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead.Close()
	live, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	go acceptAndDiscard(live)

	// A node that is only its report channel, to see what the transport says.
	n := &Node{reports: make(chan report, 16), done: make(chan struct{})}
	defer close(n.done)
	tr, err := NewTCPTransport(TCPConfig{
		ID: 1, ClusterID: "c", Peers: map[uint64]string{2: dead.Addr().String(), 3: live.Addr().String()},
		DialTimeout: time.Second, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.attach(n)
	snap := func(to uint64) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MsgSnap.Enum(), From: new(uint64(1)), To: new(to),
			Snapshot: &raftpb.Snapshot{Data: make([]byte, 1<<20), Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(5))}}}
	}
	tr.Send([]*raftpb.Message{snap(2), snap(3), snap(4)})
	want := map[report]int{
		{id: 2, kind: reportUnreachable}: 1, {id: 2, kind: reportSnapFailed}: 1,
		{id: 3, kind: reportSnapOK}:      1,
		{id: 4, kind: reportUnreachable}: 1, {id: 4, kind: reportSnapFailed}: 1, // no such peer
	}
	got := map[report]int{}
	timeout := time.After(5 * time.Second)
	for len(got) < len(want) {
		select {
		case r := <-n.reports:
			got[r]++
		case <-timeout:
			t.Fatalf("reports %v, want %v", got, want)
		}
	}
	if !maps.Equal(got, want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
}

// acceptAndDiscard accepts quorum connections and reads what they send.
func acceptAndDiscard(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			if ReadPreface(conn) != nil {
				return
			}
			if _, err := readHello(conn); err != nil {
				return
			}
			conn.Write([]byte{helloOK})
			io.Copy(io.Discard, conn)
		}()
	}
}

// TestTCPLearnerJoins: a node started with no members (a broker-only node)
// waits; once the leader adds it as a learner by a conf change, after the
// log was compacted, it catches up by a snapshot and then by appends. It
// never campaigns, and restarted from its directory it is still a learner
// and catches up again.
func TestTCPLearnerJoins(t *testing.T) {
	tn := newTCPNet(t, "test-cluster", []uint64{1, 2, 3, 4})
	c := startCluster(t, []uint64{1, 2, 3}, nil, tn, nil, 10*time.Millisecond)
	acked := c.proposeMany("a", 3, 20) // beyond SnapshotEvery: compacted

	cfg := c.config(4)
	cfg.Voters = nil
	c.fs[4] = vfs.NewMem()
	cfg.FS = c.fs[4]
	n, sm := openNode(t, cfg)
	tn.set(4, n)
	time.Sleep(10 * electionTimeout)
	if st := n.Status(); st.Role != "follower" || st.Applied != 0 || len(st.Voters) != 0 {
		t.Fatalf("before it was added, node 4 is %s, applied %d, voters %v", st.Role, st.Applied, st.Voters)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	add := &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: new(uint64(4))}}}
	if _, err := c.nodes[c.leader()].ProposeConfChange(ctx, add); err != nil {
		t.Fatal(err)
	}
	c.nodes[4], c.sms[4] = n, sm // from here on it names the leader too
	c.ids = append(c.ids, 4)
	acked = append(acked, c.proposeMany("b", 2, 5)...)
	c.converge(acked)
	if sm.restoreCount() == 0 {
		t.Fatal("node 4 caught up on a compacted log without a snapshot")
	}
	st := c.nodes[c.leader()].Status()
	if len(st.Voters) != 3 || len(st.Learners) != 1 || st.Learners[0].ID != 4 {
		t.Fatalf("leader's status: voters %+v, learners %+v", st.Voters, st.Learners)
	}
	if n.Status().Role != "follower" || n.Leader() != st.Leader {
		t.Fatalf("node 4 is %s and names leader %d, want follower of %d", n.Status().Role, n.Leader(), st.Leader)
	}

	c.kill(4)
	acked = append(acked, c.proposeMany("c", 2, 5)...)
	c.start(4) // its directory holds its membership: the voters given are ignored
	c.converge(acked)
	if got := c.nodes[4].Status(); got.Role != "follower" || len(got.Voters) != 3 {
		t.Fatalf("restarted node 4 is %s with voters %+v", got.Role, got.Voters)
	}
}
