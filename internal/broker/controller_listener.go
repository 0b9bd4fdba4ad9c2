package broker

// The controller listener (controller.listener.names) carries two
// protocols: the metadata quorum's Raft messages, on connections that open
// with raft.Preface, and Kafka requests for the controller APIs
// (registration, heartbeats, AlterPartition, forwarded admin requests). A
// broker-only node's Kafka listener carries both too: the voters send the
// metadata log to it there (learners.go).
// The preface's first byte makes it a negative Kafka frame size, so the
// two never mix up; the first bytes of a connection decide.

import (
	"context"
	"errors"
	"io"
	stdnet "net"
	"sync"
	"time"

	"github.com/samsa-io/samsa/internal/api"
	knet "github.com/samsa-io/samsa/internal/net"
	"github.com/samsa-io/samsa/internal/raft"
	"github.com/samsa-io/samsa/internal/wire"
)

// prefaceTimeout bounds how long a new controller connection may take to
// send its first bytes.
const prefaceTimeout = 10 * time.Second

// bindController opens the controller listener's socket, when there is one.
func (b *Broker) bindController() (func(), error) {
	ln := b.cfg.ControllerListener
	if ln == nil && b.cfg.ControllerAddr != "" {
		var err error
		if ln, err = stdnet.Listen("tcp", b.cfg.ControllerAddr); err != nil {
			return nil, err
		}
	}
	if ln == nil {
		return nil, nil
	}
	b.ctlListener = ln
	return func() { ln.Close() }, nil
}

// serveController answers on the controller listener: Raft connections go
// to the quorum, the others to a Kafka server with the controller APIs.
func (b *Broker) serveController() (func(), error) {
	ln := b.ctlListener
	if ln == nil {
		return nil, nil
	}
	mux := b.muxQuorum(ln)
	deps := b.apiDeps()
	deps.Admin = b.localController()
	h := api.NewController(deps, b.localController())
	b.ctlServer = knet.NewServer(knet.Config{
		ListenerName: "CONTROLLER", MaxRequestSize: b.cfg.MaxRequestSize,
		IdleTimeout: b.cfg.IdleTimeout, Logger: b.log, Release: wire.PutBuffer,
	}, knet.HandlerFunc(func(ctx context.Context, req *knet.Request) knet.Reply { return b.serveWith(h, ctx, req) }))
	go func() {
		if err := b.ctlServer.Serve(mux.kafka); err != nil && !errors.Is(err, knet.ErrServerClosed) && !errors.Is(err, stdnet.ErrClosed) {
			b.log.Error("controller listener stopped", "err", err)
		}
	}()
	var once sync.Once
	b.stopController = func() {
		once.Do(func() {
			mux.close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := b.ctlServer.Close(ctx); err != nil {
				b.log.Warn("closing the controller listener", "err", err)
			}
			mux.wait()
		})
	}
	return b.stopController, nil
}

// quorumMux accepts on a listener that carries both protocols: quorum
// connections go to the Raft node, Kafka connections to kafka.
type quorumMux struct {
	ln    stdnet.Listener
	kafka *connListener
	stop  chan struct{}
	conns sync.WaitGroup
	once  sync.Once
}

// muxQuorum starts accepting on ln.
func (b *Broker) muxQuorum(ln stdnet.Listener) *quorumMux {
	m := &quorumMux{ln: ln, kafka: newConnListener(ln.Addr()), stop: make(chan struct{})}
	m.conns.Go(func() { b.acceptMux(m) })
	return m
}

// close stops accepting; wait then waits for the connections it handed
// on to the quorum to end (they end when the Raft node stops).
func (m *quorumMux) close() {
	m.once.Do(func() {
		close(m.stop)
		m.ln.Close()
	})
}

func (m *quorumMux) wait() { m.conns.Wait() }

func (b *Broker) acceptMux(m *quorumMux) {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.stop:
			default:
				b.log.Error("listener accept", "listener", m.ln.Addr().String(), "err", err)
			}
			m.kafka.Close()
			return
		}
		m.conns.Go(func() { b.classify(c, m.kafka) })
	}
}

// classify reads a connection's first bytes and hands it on.
func (b *Broker) classify(c stdnet.Conn, kafka *connListener) {
	head := make([]byte, len(raft.Preface))
	c.SetReadDeadline(time.Now().Add(prefaceTimeout))
	if _, err := io.ReadFull(c, head); err != nil {
		b.log.Debug("controller connection closed before its first bytes", "remote", c.RemoteAddr(), "err", err)
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	if string(head) == raft.Preface {
		if err := raft.ServeConn(c, b.quorum, b.meta.ClusterID); err != nil {
			b.log.Debug("quorum connection ended", "remote", c.RemoteAddr(), "err", err)
		}
		return
	}
	if !kafka.deliver(&prefixConn{Conn: c, head: head}) {
		c.Close()
	}
}

// prefixConn gives back the bytes classify read before the rest.
type prefixConn struct {
	stdnet.Conn
	head []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// connListener is a net.Listener fed with connections by classify.
type connListener struct {
	addr   stdnet.Addr
	conns  chan stdnet.Conn
	done   chan struct{}
	closed sync.Once
}

func newConnListener(addr stdnet.Addr) *connListener {
	return &connListener{addr: addr, conns: make(chan stdnet.Conn), done: make(chan struct{})}
}

func (l *connListener) deliver(c stdnet.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *connListener) Accept() (stdnet.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, stdnet.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() stdnet.Addr { return l.addr }
