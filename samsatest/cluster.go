package samsatest

// A cluster of real Samsa nodes inside one test process, on loopback ports
// fixed for the cluster's life, so a stopped node comes back at the same
// addresses. Every node is a broker and a voter of the metadata quorum
// unless WithRoles makes it a broker only or a controller only.

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/samsa-io/samsa/internal/broker"
	"github.com/samsa-io/samsa/internal/testport"
)

// Cluster is several nodes of one cluster.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
}

// StartCluster starts n nodes (node ids 1..n) forming one cluster and stops
// them when the test ends. The options apply to every node (WithDir is
// ignored: each node gets its own directory).
func StartCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	o := options(opts)
	// The listeners stay bound from here to the nodes' first start, so no
	// other test process can take their ports in between.
	kafka, ctl := make([]string, n), make([]string, n)
	kafkaLn, ctlLn := make([]net.Listener, n), make([]net.Listener, n)
	roles, listeners := make([]string, n), make([][]string, n)
	var voters []string
	f := newFabric(n)
	for i := range n {
		roles[i] = "broker,controller"
		if r, ok := o.Roles[i+1]; ok {
			roles[i] = r
		}
		if strings.Contains(roles[i], "broker") {
			kafkaLn[i] = listenLoopback(t)
			kafka[i] = kafkaLn[i].Addr().String()
			f.owner[kafka[i]] = i
			listeners[i] = append(listeners[i], "PLAINTEXT://"+kafka[i])
		}
		if strings.Contains(roles[i], "controller") {
			ctlLn[i] = listenLoopback(t)
			ctl[i] = ctlLn[i].Addr().String()
			f.owner[ctl[i]] = i
			listeners[i] = append(listeners[i], "CONTROLLER://"+ctl[i])
			voters = append(voters, fmt.Sprintf("%d@%s", i+1, ctl[i]))
		}
	}
	c := &Cluster{t: t}
	for i := range n {
		props := map[string]string{}
		for k, v := range o.Props {
			props[k] = v
		}
		props["node.id"] = fmt.Sprint(i + 1)
		props["log.dirs"] = t.TempDir()
		props["process.roles"] = roles[i]
		props["listeners"] = strings.Join(listeners[i], ",")
		props["controller.quorum.voters"] = strings.Join(voters, ",")
		cfg, err := broker.FromProperties(props)
		if err != nil {
			t.Fatalf("samsatest: node %d: %v", i+1, err)
		}
		cfg.Logger, cfg.MetricsAddr = o.Logger, ""
		cfg.Dial = f.dialer(i)
		node := &Node{t: t, cfg: cfg, addr: kafka[i], ctlAddr: ctl[i], net: f, idx: i, bound: kafkaLn[i], ctlBound: ctlLn[i]}
		c.Nodes = append(c.Nodes, node)
	}
	for _, node := range c.Nodes {
		node.start()
	}
	t.Cleanup(c.Stop)
	return c
}

// Stop stops every node: the brokers that are not controllers first, so
// that the quorum grants their controlled shutdowns, then the others at
// once (one by one, the last ones would wait for a controlled shutdown
// with no quorum left to grant it).
func (c *Cluster) Stop() {
	var brokers, others sync.WaitGroup
	for _, n := range c.Nodes {
		if n.cfg.Roles.Controller {
			continue
		}
		brokers.Go(n.Stop)
	}
	brokers.Wait()
	for _, n := range c.Nodes {
		others.Go(n.Stop)
	}
	others.Wait()
}

// Addrs are the brokers' bootstrap addresses (a controller-only node has
// none).
func (c *Cluster) Addrs() []string {
	var out []string
	for _, n := range c.Nodes {
		if n.Addr() != "" {
			out = append(out, n.Addr())
		}
	}
	return out
}

// Node returns the node with node.id id.
func (c *Cluster) Node(id int32) *Node { return c.Nodes[id-1] }

// listenLoopback binds a free loopback port outside the ephemeral range,
// so that no outgoing connection takes it while Kill or Stop has released
// it and Restart has not bound it again.
func listenLoopback(t testing.TB) net.Listener {
	var err error
	for range 10 {
		var addr string
		if addr, err = testport.Addr(); err != nil {
			break
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
	}
	t.Fatalf("samsatest: %v", err)
	return nil
}
