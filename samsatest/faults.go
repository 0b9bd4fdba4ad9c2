package samsatest

// Faults for a Cluster's nodes: Kill (a crash), Cut and Heal (a network
// partition between a node and the others), Pause and Resume (a stopped
// process). Every connection a node opens to another node goes through
// the cluster's fabric (broker.Config.Dial), and every connection a node
// accepts through a gated listener, so the fabric can refuse, close and
// freeze them while clients' own connections are left alone.

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/samsa-io/samsa/internal/broker"
)

// errCut is what a dial across a cut link fails with.
var errCut = errors.New("samsatest: link cut")

// fabric is a cluster's network between its nodes.
type fabric struct {
	owner map[string]int // listener address -> node index; fixed at start
	gates []*gate        // per node index: its process running, paused or dead
	d     net.Dialer

	mu    sync.Mutex
	cut   []bool
	links map[*gatedConn]link // open node-to-node connections, by dialer side
}

type link struct{ from, to int }

func newFabric(n int) *fabric {
	f := &fabric{owner: map[string]int{}, cut: make([]bool, n), links: map[*gatedConn]link{}}
	for range n {
		f.gates = append(f.gates, newGate())
	}
	return f
}

// dialer is node from's broker.Config.Dial.
func (f *fabric) dialer(from int) broker.DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		g := f.gates[from]
		if err := g.wait(ctx.Done()); err != nil { // a paused process dials nothing
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		to, known := f.owner[addr]
		if !known {
			to = -1
		}
		if f.isCut(from, to) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errCut}
		}
		c, err := f.d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		gc := newGatedConn(c, g)
		gc.onClose = func() {
			f.mu.Lock()
			delete(f.links, gc)
			f.mu.Unlock()
		}
		f.mu.Lock()
		if f.cut[from] || to >= 0 && f.cut[to] { // cut while dialing
			f.mu.Unlock()
			gc.Close()
			return nil, &net.OpError{Op: "dial", Net: network, Err: errCut}
		}
		f.links[gc] = link{from, to}
		f.mu.Unlock()
		return gc, nil
	}
}

func (f *fabric) isCut(from, to int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cut[from] || to >= 0 && f.cut[to]
}

// setCut cuts node i off (or heals it), closing its live links on a cut.
func (f *fabric) setCut(i int, cut bool) {
	f.mu.Lock()
	f.cut[i] = cut
	var doomed []*gatedConn
	if cut {
		for c, l := range f.links {
			if l.from == i || l.to == i {
				doomed = append(doomed, c)
			}
		}
	}
	f.mu.Unlock()
	for _, c := range doomed {
		c.Close()
	}
}

// gate is one node's process state as its connections see it.
type gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while running, open while paused
	dead chan struct{} // closed once killed, until the next start
}

func newGate() *gate {
	g := &gate{open: make(chan struct{}), dead: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

func (g *gate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) paused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		return false
	default:
		return true
	}
}

// kill makes every wait fail: the process is gone.
func (g *gate) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.dead:
	default:
		close(g.dead)
	}
}

// reset is a fresh start: running, alive.
func (g *gate) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.dead:
		g.dead = make(chan struct{})
	default:
	}
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// wait blocks while the node is paused; an error once it is killed or
// done is closed.
func (g *gate) wait(done <-chan struct{}) error {
	g.mu.Lock()
	open, dead := g.open, g.dead
	g.mu.Unlock()
	select {
	case <-dead:
		return net.ErrClosed
	default:
	}
	select {
	case <-open:
		return nil
	case <-dead:
		return net.ErrClosed
	case <-done:
		return net.ErrClosed
	}
}

// gatedConn is one end of a connection, owned by the node of its gate:
// while that node is paused it neither reads nor writes (data that
// arrives meanwhile waits in the socket, as for a stopped process).
type gatedConn struct {
	net.Conn
	g       *gate
	closed  chan struct{}
	once    sync.Once
	onClose func()
}

func newGatedConn(c net.Conn, g *gate) *gatedConn {
	return &gatedConn{Conn: c, g: g, closed: make(chan struct{})}
}

func (c *gatedConn) Read(p []byte) (int, error) {
	if err := c.g.wait(c.closed); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	// A read already blocked when the pause began hands nothing over
	// before the node resumes.
	if werr := c.g.wait(c.closed); werr != nil {
		return 0, werr
	}
	return n, err
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if err := c.g.wait(c.closed); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *gatedConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		if c.onClose != nil {
			c.onClose()
		}
	})
	return c.Conn.Close()
}

// gated gates ln's connections by g; nil stays nil.
func gated(ln net.Listener, g *gate) net.Listener {
	if ln == nil {
		return nil
	}
	return gatedListener{ln, g}
}

// gatedListener hands out connections gated by its node's state.
type gatedListener struct {
	net.Listener
	g *gate
}

func (l gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newGatedConn(c, l.g), nil
}

// Kill stops the node abruptly, as a crash would: listeners and
// connections close at once, with no controlled shutdown, no final
// checkpoint, and the logs' files released without a sync or snapshot
// (broker.Broker.Abort). In-process, what the node wrote stays in the OS
// page cache, so a kill loses no written byte as a power loss could.
// Restart brings the node back on the same data and ports, recovering as
// after a crash. Killing a stopped node is harmless; a paused node dies
// paused.
func (n *Node) Kill() {
	if n.b == nil {
		return
	}
	if n.net != nil {
		n.net.gates[n.idx].kill()
	}
	n.b.Abort()
	n.b = nil
}

// Cut cuts a cluster's node off from the other nodes, in both directions:
// its dials to them and theirs to it fail, and the connections between
// them close. Clients still reach it and every node. The cut outlasts
// Stop, Kill and Restart, as a network partition would; Heal ends it.
// Two nodes cut at once are cut off from each other too.
func (n *Node) Cut() {
	n.mustCluster("Cut")
	n.net.setCut(n.idx, true)
}

// Heal reconnects a node cut off by Cut.
func (n *Node) Heal() {
	n.mustCluster("Heal")
	n.net.setCut(n.idx, false)
}

// Pause freezes a cluster's node as SIGSTOP would, as closely as one
// process allows: on every connection it accepted (clients' and other
// nodes') and every connection it opened to another node, it neither
// reads nor writes until Resume, and it dials no other node; the
// connections stay open, so peers see a silent node, not a closed one.
// Unlike a stopped process, its goroutines and timers keep running
// inside (election and session timers expire, and it may write to its
// own disk), but nothing reaches the network until Resume. Stop, Kill
// and Restart end a pause.
func (n *Node) Pause() {
	n.mustCluster("Pause")
	n.net.gates[n.idx].pause()
}

// Resume lets a paused node run on: what waited in its sockets is read.
func (n *Node) Resume() {
	n.mustCluster("Resume")
	n.net.gates[n.idx].resume()
}

func (n *Node) mustCluster(what string) {
	if n.net == nil {
		n.t.Fatalf("samsatest: %s needs a node of StartCluster", what)
	}
}
