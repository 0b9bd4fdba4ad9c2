// Package net serves Kafka's wire protocol to TCP clients: it accepts
// connections, reads size-prefixed request frames, hands each request to a
// Handler in order and writes the responses back in that same order.
//
// Each connection has two goroutines. The reader reads a frame (refusing
// one over socket.request.max.bytes before allocating it), parses its
// header and calls the Handler, which does the order-sensitive part of the
// work and returns a Reply. The writer takes the Replies in request order,
// waits for each one's bytes and writes them, sending the responses that
// are ready together in one write. At most Config.MaxInFlight requests per
// connection are between the two: when that many wait for their responses
// the reader stops reading, and TCP pushes back on the client.
//
// Anything wrong with one connection (a protocol violation, an error
// Reply, a peer gone, idleness) is logged with the remote address and the
// reason, and closes that connection only.
//
// Inside this package "net" is the standard library's package; callers
// that need both import this one under another name.
package net

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

// Defaults, as in Kafka.
const (
	DefaultMaxRequestSize = 104857600        // socket.request.max.bytes
	DefaultIdleTimeout    = 10 * time.Minute // connections.max.idle.ms
	DefaultMaxInFlight    = 100              // per connection; compare queued.max.requests
	DefaultListenerName   = "PLAINTEXT"
)

// ErrServerClosed is returned by Serve after Close, and is the reason
// given to Hooks.ConnClosed for a connection closed by Close.
var ErrServerClosed = errors.New("net: server closed")

// Config configures a Server. Zero values take the defaults.
type Config struct {
	// ListenerName is the Kafka listener served, for ConnInfo and logs.
	ListenerName string
	// MaxRequestSize is socket.request.max.bytes: a frame declaring more
	// bytes, or a negative size, closes its connection.
	MaxRequestSize int32
	// IdleTimeout is connections.max.idle.ms: a connection with no request
	// in flight that receives nothing for this long is closed, and so is
	// one whose peer accepts no byte of a response for this long. Negative:
	// never.
	IdleTimeout time.Duration
	// MaxInFlight bounds, per connection, the requests handed to the
	// Handler whose responses are not written yet. Reaching it stops the
	// connection's reading until a response is written.
	MaxInFlight int
	// Logger receives connection errors; slog.Default() if nil.
	Logger *slog.Logger
	Hooks  Hooks
	// Release, if set, gets the buffers the connection is done with: each
	// response once written (or failed to be), and the request frames of
	// Releasable keys once their response is written, or at once when
	// there is none.
	Release func(buf []byte)
	// Releasable, if set, names the API keys whose handler keeps no
	// reference to the request once its reply is given.
	Releasable func(key int16) bool
}

// Hooks are optional callbacks for metrics. They run on connection
// goroutines, concurrently for different connections, and must be quick.
type Hooks struct {
	ConnOpened func(c *ConnInfo)
	// ConnClosed gets the reason the connection closed: io.EOF when the
	// client closed it between requests, ErrServerClosed when Close did.
	ConnClosed func(c *ConnInfo, reason error)
	// RequestRead gets the bytes of a request frame, size prefix included.
	RequestRead func(c *ConnInfo, h *wire.RequestHeader, bytes int)
	// ResponseSent gets the bytes of a response, size prefix included, and
	// the time since its request was received, when the response is handed
	// to the connection's write buffer.
	ResponseSent func(c *ConnInfo, h *wire.RequestHeader, bytes int, took time.Duration)
}

func (cfg Config) withDefaults() Config {
	if cfg.ListenerName == "" {
		cfg.ListenerName = DefaultListenerName
	}
	if cfg.MaxRequestSize <= 0 {
		cfg.MaxRequestSize = DefaultMaxRequestSize
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// Server serves the connections of one Kafka listener. Serve may be called
// for several net.Listeners (IPv4 and IPv6 sockets of the listener, say).
type Server struct {
	cfg     Config
	handler Handler
	// ctx is the parent of every connection's context; cancelled when
	// Close stops waiting for replies.
	ctx    context.Context
	cancel context.CancelFunc
	nextID atomic.Uint64
	// closing is closed when Close starts.
	closing   chan struct{}
	closeOnce sync.Once
	// conns counts connection goroutines still running (serve).
	conns sync.WaitGroup
	mu    struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
	}
}

// NewServer returns a Server passing requests to h.
func NewServer(cfg Config, h Handler) *Server {
	s := &Server{cfg: cfg.withDefaults(), handler: h, closing: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	return s
}

// Serve accepts connections on ln until Close, then returns
// ErrServerClosed. It closes ln. Accept errors other than ln being closed
// are logged and retried with a backoff (running out of file descriptors
// must not stop the listener).
func (s *Server) Serve(ln net.Listener) error {
	if !s.addListener(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.removeListener(ln)
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			backoff = 0
			s.start(nc)
			continue
		}
		if s.isClosing() {
			return ErrServerClosed
		}
		if errors.Is(err, net.ErrClosed) {
			return err
		}
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		s.cfg.Logger.Warn("net: accept failed; retrying", "listener", s.cfg.ListenerName, "addr", ln.Addr(), "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-s.closing:
			return ErrServerClosed
		}
	}
}

func (s *Server) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func (s *Server) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.mu.listeners[ln] = struct{}{}
	return true
}

func (s *Server) removeListener(ln net.Listener) {
	s.mu.Lock()
	delete(s.mu.listeners, ln)
	s.mu.Unlock()
	ln.Close()
}

// start registers and starts a connection, or closes it when Close has
// begun. The WaitGroup is added to under mu, so never after Close's Wait.
func (s *Server) start(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.mu.conns[c] = struct{}{}
	s.conns.Add(1)
	s.mu.Unlock()
	go c.serve()
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.mu.conns, c)
	s.mu.Unlock()
}

// NumConnections returns the number of open connections.
func (s *Server) NumConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}

// Close stops accepting and stops every connection reading. Connections
// write the responses to the requests they have read, then close. When ctx
// ends first, Close cancels the contexts given to Handle and Wait, closes
// the connections at once and returns ctx.Err(). Either way, Close returns
// after every connection goroutine has exited; a Handler or Reply that
// ignores its context's cancellation holds it up.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(s.beginClose)
	drained := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	cs := s.connections()
	s.cfg.Logger.Warn("net: closing connections before their replies drained", "listener", s.cfg.ListenerName, "connections", len(cs), "err", ctx.Err())
	for _, c := range cs {
		c.abort(fmt.Errorf("%w, replies not drained: %w", ErrServerClosed, ctx.Err()))
	}
	<-drained
	return ctx.Err()
}

// beginClose closes the listeners and tells every connection to drain.
func (s *Server) beginClose() {
	close(s.closing)
	s.mu.Lock()
	s.mu.closed = true
	for ln := range s.mu.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	for _, c := range s.connections() {
		c.drain()
	}
}

func (s *Server) connections() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		cs = append(cs, c)
	}
	return cs
}
