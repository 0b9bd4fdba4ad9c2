// Package samsatest starts a real Samsa node inside a Go test: on a
// temporary directory and a free loopback port, stopped when the test
// ends. Point any Kafka client at Addr.
//
//	func TestMyService(t *testing.T) {
//		node := samsatest.Start(t)
//		client, _ := kgo.NewClient(kgo.SeedBrokers(node.Addr()))
//		...
//	}
package samsatest

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/samsa-io/samsa/internal/broker"
)

// Node is a running Samsa node.
type Node struct {
	t    testing.TB
	cfg  broker.Config
	addr string
	// ctlAddr is the controller listener of a cluster's node.
	ctlAddr string
	// bound and ctlBound are a cluster node's listeners, bound before its
	// first start; later starts bind the same addresses again.
	bound, ctlBound net.Listener
	b               *broker.Broker
	// net is a cluster's fabric (faults.go), idx this node's place in it.
	net *fabric
	idx int
}

// Option changes the node's configuration.
type Option func(*Options)

// Options are the settings a test may change.
type Options struct {
	// Props are broker configs by Kafka name (log.retention.ms,
	// num.partitions, ...), as in server.properties; an unknown key or an
	// invalid value fails the test at Start.
	Props map[string]string
	// Dir is the data directory (default a new temporary one).
	Dir string
	// Metrics serves /metrics on a free port (see MetricsAddr).
	Metrics bool
	// Logger receives the node's logs (default: discarded).
	Logger *slog.Logger
	// Roles are a cluster's nodes' process.roles by node id; a node not
	// listed is broker,controller.
	Roles map[int]string
}

// WithRoles sets one cluster node's process.roles: "broker" (it follows
// the metadata quorum without voting) or "controller" (a voter that holds
// no partitions and serves no clients). StartCluster only.
func WithRoles(id int, roles string) Option {
	return func(o *Options) {
		if o.Roles == nil {
			o.Roles = map[int]string{}
		}
		o.Roles[id] = roles
	}
}

// WithProps sets broker configs by Kafka name.
func WithProps(props map[string]string) Option {
	return func(o *Options) { o.Props = props }
}

// WithMetrics serves /metrics on a free loopback port.
func WithMetrics() Option { return func(o *Options) { o.Metrics = true } }

// WithDir runs the node on dir, to restart a node on the data of another.
func WithDir(dir string) Option { return func(o *Options) { o.Dir = dir } }

// WithLogger sends the node's logs to l.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// Start starts a node and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Node {
	t.Helper()
	o := options(opts)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	props := map[string]string{}
	for k, v := range o.Props {
		props[k] = v
	}
	props["log.dirs"] = o.Dir
	props["listeners"] = "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0"
	cfg, err := broker.FromProperties(props)
	if err != nil {
		t.Fatalf("samsatest: %v", err)
	}
	cfg.Logger, cfg.MetricsAddr = o.Logger, ""
	if o.Metrics {
		cfg.MetricsAddr = "127.0.0.1:0"
	}
	n := &Node{t: t, cfg: cfg}
	n.start()
	t.Cleanup(n.Stop)
	return n
}

func options(opts []Option) Options {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

func (n *Node) start() {
	n.t.Helper()
	cfg := n.cfg
	if n.addr != "" {
		cfg.ListenAddr = n.addr // a restart keeps the port clients know
	}
	ln, ctl := n.bound, n.ctlBound
	n.bound, n.ctlBound = nil, nil
	var err error
	if ln == nil && cfg.Roles != (broker.Roles{Controller: true}) {
		if ln, err = net.Listen("tcp", cfg.ListenAddr); err != nil {
			n.t.Fatalf("samsatest: listen: %v", err)
		}
	}
	if ctl == nil && n.ctlAddr != "" {
		if ctl, err = net.Listen("tcp", n.ctlAddr); err != nil {
			closeAll(ln)
			n.t.Fatalf("samsatest: controller listen: %v", err)
		}
	}
	if n.net != nil {
		g := n.net.gates[n.idx]
		g.reset()
		ln, ctl = gated(ln, g), gated(ctl, g)
	}
	// Nil interfaces, not typed nils, for the listeners a node lacks.
	if ln != nil {
		cfg.Listener = ln
	}
	if ctl != nil {
		cfg.ControllerListener = ctl
	}
	b, err := broker.Start(cfg)
	if err != nil {
		closeAll(ln, ctl)
		n.t.Fatalf("samsatest: start: %v", err)
	}
	n.b = b
	if ln != nil {
		n.addr = ln.Addr().String()
	}
}

// closeAll closes the listeners that are not nil.
func closeAll(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
}

// Addr is the bootstrap address, host:port.
func (n *Node) Addr() string { return n.addr }

// Dir is the node's data directory.
func (n *Node) Dir() string { return n.cfg.DataDir }

// MetricsAddr is the metrics endpoint's host:port, with WithMetrics.
func (n *Node) MetricsAddr() string { return n.b.MetricsAddr() }

// ClusterID is the node's cluster id.
func (n *Node) ClusterID() string { return n.b.ClusterID() }

// Stop shuts the node down cleanly; stopping twice is harmless.
func (n *Node) Stop() {
	if n.b == nil {
		return
	}
	if n.net != nil {
		n.net.gates[n.idx].resume() // a paused process is continued, then stopped
	}
	if err := n.b.Close(); err != nil {
		n.t.Errorf("samsatest: stop: %v", err)
	}
	n.b = nil
}

// Restart stops the node cleanly, if it runs, and starts it again on the
// same data directory and ports; after Kill, the start recovers as after
// a crash.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.start()
}
