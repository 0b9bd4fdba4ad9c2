package main

// A fault-injecting TCP proxy for one directed node-to-node link. A node
// dials it (through SAMSA_TEST_DIAL_MAP) instead of the other node; the
// proxy forwards bytes both ways until it is cut. A cut proxy resets every
// live connection and resets each new one as soon as it is accepted, which
// the dialer sees as a refused or broken connection; heal accepts again.

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds the proxy's dial to its target (a stopped node).
const dialTimeout = 2 * time.Second

type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup // the accept loop and every forwarding goroutine

	accepted atomic.Int64 // connections forwarded since start
	refused  atomic.Int64 // connections reset on arrival while cut
	mu       struct {
		sync.Mutex
		cut, closed bool
		conns       map[net.Conn]struct{}
	}
}

// newProxy listens on a free loopback port and forwards to target.
func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target}
	p.mu.conns = map[net.Conn]struct{}{}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address a node dials instead of the target.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// Accepted counts the connections forwarded so far.
func (p *proxy) Accepted() int64 { return p.accepted.Load() }

// Refused counts the connections refused while cut.
func (p *proxy) Refused() int64 { return p.refused.Load() }

// Cut resets every live connection and refuses new ones until Heal.
func (p *proxy) Cut() {
	p.mu.Lock()
	p.mu.cut = true
	conns := p.mu.conns
	p.mu.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	for c := range conns {
		reset(c)
	}
}

// Heal lets new connections through again.
func (p *proxy) Heal() {
	p.mu.Lock()
	p.mu.cut = false
	p.mu.Unlock()
}

// Close stops listening, resets every connection and waits for the
// proxy's goroutines.
func (p *proxy) Close() {
	p.mu.Lock()
	p.mu.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// track registers a live connection; false when the proxy is cut or closed.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.cut || p.mu.closed {
		return false
	}
	p.mu.conns[c] = struct{}{}
	return true
}

func (p *proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.mu.conns, c)
	}
}

// forward copies both ways until either side ends, then closes both.
func (p *proxy) forward(down net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		p.untrack(down)
		reset(down)
		return
	}
	if !p.track(up) { // cut while dialing
		p.untrack(down)
		reset(down)
		reset(up)
		return
	}
	p.accepted.Add(1)
	done := make(chan struct{}, 2)
	go pipe(up, down, done)
	go pipe(down, up, done)
	<-done
	down.Close()
	up.Close()
	<-done
	p.untrack(down, up)
}

func pipe(dst, src net.Conn, done chan<- struct{}) {
	io.Copy(dst, src)
	done <- struct{}{}
}

// reset closes c with an RST rather than a FIN, as a broken link would.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
