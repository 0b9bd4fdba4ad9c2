package raft

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// tcpNet connects a cluster's nodes over TCP on 127.0.0.1. Each node has a
// listener that outlives the node's restarts, as a broker's does: it reads
// the Preface and hands the connection to the node running at the time.
type tcpNet struct {
	t     *testing.T
	cid   string
	addrs map[uint64]string
	srv   map[uint64]*server
	trs   map[uint64]*TCPTransport // the latest of each node
	logs  *syncBuffer
}

func newTCPNet(t *testing.T, cid string, ids []uint64) *tcpNet {
	tn := &tcpNet{
		t: t, cid: cid, addrs: map[uint64]string{}, srv: map[uint64]*server{},
		trs: map[uint64]*TCPTransport{}, logs: &syncBuffer{},
	}
	for _, id := range ids {
		s := newServer(t, cid)
		tn.srv[id], tn.addrs[id] = s, s.ln.Addr().String()
	}
	return tn
}

// newTCPCluster starts voters and learners over TCP, ticking every 10ms.
func newTCPCluster(t *testing.T, voters, learners []uint64) (*cluster, *tcpNet) {
	tn := newTCPNet(t, "test-cluster", append(append([]uint64(nil), voters...), learners...))
	return startCluster(t, voters, learners, tn, nil, 10*time.Millisecond), tn
}

func (tn *tcpNet) transport(id uint64) Transport {
	tr, err := NewTCPTransport(TCPConfig{
		ID: id, ClusterID: tn.cid, Peers: tn.addrs,
		DialTimeout: time.Second, WriteTimeout: 2 * time.Second, Logger: tn.logger(),
	})
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.trs[id] = tr
	return tr
}

func (tn *tcpNet) logger() *slog.Logger { return newTestLogger(tn.logs) }

// newTestLogger logs at Info and above to w, and to stderr too when
// RAFT_TEST_LOG is set.
func newTestLogger(w io.Writer) *slog.Logger {
	if os.Getenv("RAFT_TEST_LOG") != "" {
		w = io.MultiWriter(w, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func (tn *tcpNet) set(id uint64, n *Node) { tn.srv[id].set(n) }

func (tn *tcpNet) close() {
	for _, s := range tn.srv {
		s.close()
	}
}

// server is one node's quorum listener.
type server struct {
	t   testing.TB
	ln  net.Listener
	cid string
	wg  sync.WaitGroup

	mu    sync.Mutex
	node  *Node
	conns map[net.Conn]bool
}

func newServer(t testing.TB, cid string) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, ln: ln, cid: cid, conns: map[net.Conn]bool{}}
	s.wg.Go(s.accept)
	return s
}

func (s *server) accept() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.serve(conn) })
	}
}

// serve does what a broker's shared listener does: read the preface, then
// hand the connection over.
func (s *server) serve(conn net.Conn) {
	defer conn.Close()
	if err := ReadPreface(conn); err != nil {
		return
	}
	s.mu.Lock()
	n := s.node
	if n != nil {
		s.conns[conn] = true
	}
	s.mu.Unlock()
	if n == nil {
		return // as if the node were down
	}
	ServeConn(conn, n, s.cid)
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

func (s *server) set(n *Node) {
	s.mu.Lock()
	s.node = n
	s.mu.Unlock()
}

// cut closes every inbound connection, as a network fault would.
func (s *server) cut() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *server) close() {
	s.ln.Close()
	s.cut()
	s.wg.Wait()
}

// syncBuffer is a log sink for several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) contains(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Contains(b.buf.Bytes(), []byte(s))
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
