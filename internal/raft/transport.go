package raft

// TCPTransport is Samsa's own transport for etcd raft, which leaves
// networking to its user. The quorum's behaviour is modelled on KRaft
// (KIP-595: a static voter set, learners as observers, DescribeQuorum's
// view in Node.Status); the wire format is in wire.go.
//
// Each peer has one bounded queue and one writer goroutine. The writer
// dials lazily, when it has something to send, and backs off (capped) after
// a failed dial; while it cannot connect, what it is given is dropped and
// reported unreachable, and raft sends again. Snapshots are reported as
// delivered once written to the connection, failed otherwise.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// TCPConfig configures a TCPTransport.
type TCPConfig struct {
	ID        uint64            // this node's raft id
	ClusterID string            // sent in every hello; at most 255 bytes
	Peers     map[uint64]string // id -> "host:port" of the quorum listener
	// DialTimeout bounds a dial and the hello exchange. Default 2s.
	DialTimeout time.Duration
	// WriteTimeout bounds writing one batch of messages. Default 10s.
	WriteTimeout time.Duration
	// QueueSize is how many messages wait for each peer. Default 1024.
	QueueSize int
	// Dial opens connections to peers; nil is a net.Dialer with
	// DialTimeout. (The broker passes its own, whose address map is the
	// chaos suite's fault-injection seam.)
	Dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger *slog.Logger // default slog.Default()
}

const (
	defaultDialTimeout  = 2 * time.Second
	defaultWriteTimeout = 10 * time.Second
	defaultQueueSize    = 1024

	minRedial = 20 * time.Millisecond // first backoff after a failed dial
	maxRedial = time.Second
	maxBatch  = 64      // messages per write
	keepBuf   = 4 << 20 // a larger write buffer is not kept
)

var errBackingOff = errors.New("raft: peer unreachable, backing off")

// TCPTransport carries a node's messages to its peers over TCP. Give it to
// Open as Config.Transport: Open attaches it to the node, and the node's
// Close closes it. Inbound connections are served by ServeConn or Serve.
type TCPTransport struct {
	cfg    TCPConfig
	log    *slog.Logger
	node   atomic.Pointer[Node]
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	dials  atomic.Int64 // accepted handshakes, for tests

	mu struct {
		sync.RWMutex
		peers  map[uint64]*peer
		closed bool
	}
}

// NewTCPTransport starts a writer for each peer; nothing is dialled until
// there is a message to send.
func NewTCPTransport(cfg TCPConfig) (*TCPTransport, error) {
	if cfg.ID == 0 {
		return nil, errors.New("raft: transport for node id 0")
	}
	if len(cfg.ClusterID) > maxClusterID {
		return nil, fmt.Errorf("raft: cluster id longer than %d bytes", maxClusterID)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultWriteTimeout
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueueSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &TCPTransport{cfg: cfg, log: cfg.Logger.With("raft_id", cfg.ID)}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.mu.peers = map[uint64]*peer{}
	for id, addr := range maps.Clone(cfg.Peers) {
		t.SetPeer(id, addr)
	}
	return t, nil
}

func (t *TCPTransport) attach(n *Node) io.Closer {
	t.node.Store(n)
	return t
}

// ReportsSnapshots is true: every MsgSnap is reported to the node.
func (t *TCPTransport) ReportsSnapshots() bool { return true }

// Send queues each message for its peer. It never blocks: a message for an
// unknown peer or a full queue is dropped and the peer reported
// unreachable.
func (t *TCPTransport) Send(msgs []*raftpb.Message) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.mu.closed {
		return
	}
	for _, m := range msgs {
		p := t.mu.peers[m.GetTo()]
		if p == nil {
			t.log.Debug("raft: message for unknown peer dropped", "to", m.GetTo(), "type", m.GetType())
			t.dropped(m)
			continue
		}
		select {
		case p.q <- m:
		default:
			t.dropped(m)
		}
	}
}

// dropped reports a message Send could not queue. It runs on the loop, so
// a snapshot's failure is reported from a goroutine of its own.
func (t *TCPTransport) dropped(m *raftpb.Message) {
	n := t.node.Load()
	if n == nil {
		return
	}
	n.ReportUnreachable(m.GetTo())
	if m.GetType() == raftpb.MsgSnap {
		t.wg.Go(func() { n.ReportSnapshot(m.GetTo(), false) })
	}
}

// SetPeer adds a peer or changes its address; a connection to an old
// address is closed.
func (t *TCPTransport) SetPeer(id uint64, addr string) {
	if id == t.cfg.ID {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.closed {
		return
	}
	if p := t.mu.peers[id]; p != nil {
		p.setAddr(addr)
		return
	}
	p := newPeer(t, id, addr)
	t.mu.peers[id] = p
	t.wg.Go(p.run)
}

// RemovePeer stops sending to a peer.
func (t *TCPTransport) RemovePeer(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.mu.peers[id]; p != nil {
		p.cancel()
		delete(t.mu.peers, id)
	}
}

// Close stops the writers and closes their connections. It is idempotent.
func (t *TCPTransport) Close() error {
	t.mu.Lock()
	t.mu.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	return nil
}

// cutConns closes every outbound connection, as a network fault would.
func (t *TCPTransport) cutConns() {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, p := range t.mu.peers {
		p.disconnect()
	}
}

// peer is the writer for one peer.
type peer struct {
	t      *TCPTransport
	id     uint64
	q      chan *raftpb.Message
	ctx    context.Context
	cancel context.CancelFunc
	log    *slog.Logger

	mu struct {
		sync.Mutex
		addr string
		conn net.Conn // nil when not connected
	}

	// Owned by the writer goroutine.
	buf     []byte
	backoff time.Duration
	retryAt time.Time
	failing bool // the last dial or write failed; logged once
}

func newPeer(t *TCPTransport, id uint64, addr string) *peer {
	p := &peer{t: t, id: id, q: make(chan *raftpb.Message, t.cfg.QueueSize), log: t.log.With("peer", id)}
	p.ctx, p.cancel = context.WithCancel(t.ctx)
	p.mu.addr = addr
	return p
}

func (p *peer) setAddr(addr string) {
	p.mu.Lock()
	changed := p.mu.addr != addr
	p.mu.addr = addr
	p.mu.Unlock()
	if changed {
		p.disconnect()
	}
}

func (p *peer) run() {
	defer p.disconnect()
	batch := make([]*raftpb.Message, 0, maxBatch)
	for {
		select {
		case <-p.ctx.Done():
			return
		case m := <-p.q:
			batch = append(batch[:0], m)
		}
		batch = p.more(batch)
		p.deliver(batch)
		clear(batch)
	}
}

// more adds what else is queued, up to maxBatch.
func (p *peer) more(batch []*raftpb.Message) []*raftpb.Message {
	for len(batch) < maxBatch {
		select {
		case m := <-p.q:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

func (p *peer) deliver(batch []*raftpb.Message) {
	conn, err := p.connection()
	if err == nil {
		if err = p.write(conn, batch); err != nil {
			p.disconnect()
			p.noteFailure("write", err)
		}
	}
	if err != nil {
		p.report(batch, false)
		return
	}
	p.report(batch, true)
}

// report tells the node how a batch fared: a failure makes the peer
// unreachable, and each snapshot in it is reported either way.
func (p *peer) report(batch []*raftpb.Message, ok bool) {
	n := p.t.node.Load()
	if n == nil {
		return
	}
	if !ok {
		n.ReportUnreachable(p.id)
	}
	for _, m := range batch {
		if m != nil && m.GetType() == raftpb.MsgSnap {
			n.ReportSnapshot(p.id, ok)
		}
	}
}

// write frames the batch into one write. A message too large to send is
// dropped (and reported, if a snapshot), and removed from the batch.
func (p *peer) write(conn net.Conn, batch []*raftpb.Message) error {
	buf := p.buf[:0]
	for i, m := range batch {
		next, err := appendFrame(buf, m)
		if err != nil {
			p.log.Error("raft: message dropped", "type", m.GetType(), "err", err)
			p.report([]*raftpb.Message{m}, false)
			batch[i] = nil
			continue
		}
		buf = next
	}
	p.buf = buf
	if cap(p.buf) > keepBuf {
		p.buf = nil
	}
	if len(buf) == 0 {
		return nil
	}
	if err := conn.SetWriteDeadline(time.Now().Add(p.t.cfg.WriteTimeout)); err != nil {
		return err
	}
	_, err := conn.Write(buf)
	return err
}

// connection returns the open connection, or dials one unless a recent
// failure says to wait.
func (p *peer) connection() (net.Conn, error) {
	p.mu.Lock()
	conn, addr := p.mu.conn, p.mu.addr
	p.mu.Unlock()
	if conn != nil {
		return conn, nil
	}
	if time.Now().Before(p.retryAt) {
		return nil, errBackingOff
	}
	conn, err := p.dial(addr)
	if err != nil {
		p.noteFailure("dial "+addr, err)
		return nil, err
	}
	p.mu.Lock()
	p.mu.conn = conn
	p.mu.Unlock()
	p.backoff, p.retryAt = 0, time.Time{}
	if p.failing {
		p.log.Info("raft: connected to peer", "addr", addr)
	}
	p.failing = false
	p.t.dials.Add(1)
	return conn, nil
}

// dial connects and says hello.
func (p *peer) dial(addr string) (net.Conn, error) {
	dial := p.t.cfg.Dial
	if dial == nil {
		d := net.Dialer{Timeout: p.t.cfg.DialTimeout}
		dial = d.DialContext
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.t.cfg.DialTimeout)
	defer cancel()
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := p.handshake(conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// refusedError is a peer's refusal of our hello.
type refusedError struct{ status byte }

func (e refusedError) Error() string { return "raft: peer " + helloStatusText(e.status) }

func (p *peer) handshake(conn net.Conn) error {
	if err := conn.SetDeadline(time.Now().Add(p.t.cfg.DialTimeout)); err != nil {
		return err
	}
	b, err := appendHello([]byte(Preface), hello{from: p.t.cfg.ID, to: p.id, clusterID: p.t.cfg.ClusterID})
	if err != nil {
		return err
	}
	if _, err := conn.Write(b); err != nil {
		return err
	}
	var ack [1]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil {
		return fmt.Errorf("raft: read hello ack: %w", err)
	}
	if ack[0] != helloOK {
		return refusedError{ack[0]}
	}
	return conn.SetDeadline(time.Time{})
}

// noteFailure logs the first of a run of failures and sets the backoff:
// doubling from minRedial up to maxRedial, and straight to maxRedial when
// the peer refused us.
func (p *peer) noteFailure(what string, err error) {
	if !p.failing {
		p.log.Warn("raft: peer unreachable", "op", what, "err", err)
	} else {
		p.log.Debug("raft: peer still unreachable", "op", what, "err", err)
	}
	p.failing = true
	p.backoff = min(max(2*p.backoff, minRedial), maxRedial)
	if errors.As(err, new(refusedError)) {
		p.backoff = maxRedial
	}
	p.retryAt = time.Now().Add(p.backoff)
}

// disconnect closes the connection, if any; the writer dials again when it
// next has something to send. Safe from any goroutine.
func (p *peer) disconnect() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.conn != nil {
		p.mu.conn.Close()
		p.mu.conn = nil
	}
}
