package main

// Three (or more) real `samsa server` processes forming one cluster, each
// node's node-to-node dials redirected through the mesh of proxies.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/samsa-io/samsa/internal/testport"
)

// clusterProps are the settings every node gets beside its own addresses:
// short timeouts, so that a failure is noticed and repaired in seconds.
var clusterProps = []string{
	"broker.session.timeout.ms=3000",
	"broker.heartbeat.interval.ms=500",
	"replica.lag.time.max.ms=5000",
	"controller.quorum.election.timeout.ms=1000",
	"metrics.listen=127.0.0.1:0",
}

// node is one samsa server process, restartable at the same addresses
// and data directory.
type node struct {
	id         int
	kafka, ctl string // real listener addresses
	dir        string // log.dirs
	logPath    string // stdout and stderr, appended across restarts
	args       []string
	env        []string
	cmd        *exec.Cmd
	exited     chan struct{} // closed when cmd has been waited for
	paused     bool
}

type cluster struct {
	bin   string
	nodes []*node
	mesh  *mesh
}

// startCluster picks addresses, starts the proxies and then n nodes under
// workDir, and waits until each accepts connections.
func startCluster(ctx context.Context, bin, workDir string, n int) (*cluster, error) {
	c := &cluster{bin: bin}
	ids := make([]int, n)
	var voters []string
	for i := range n {
		kafka, err1 := testport.Addr()
		ctl, err2 := testport.Addr()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		ids[i] = i + 1
		c.nodes = append(c.nodes, &node{id: i + 1, kafka: kafka, ctl: ctl,
			dir:     filepath.Join(workDir, fmt.Sprintf("node%d", i+1)),
			logPath: filepath.Join(workDir, fmt.Sprintf("node%d.log", i+1))})
		voters = append(voters, fmt.Sprintf("%d@%s", i+1, ctl))
	}
	m, err := newMesh(ids, func(id int) (string, string) { return c.node(id).kafka, c.node(id).ctl })
	if err != nil {
		return nil, err
	}
	c.mesh = m
	for _, nd := range c.nodes {
		nd.args = nodeArgs(nd, strings.Join(voters, ","))
		nd.env = append(os.Environ(), dialMapEnv+"="+m.DialMap(nd.id))
	}
	for _, nd := range c.nodes {
		if err := c.start(ctx, nd); err != nil {
			c.shutdown()
			return nil, err
		}
	}
	return c, nil
}

func nodeArgs(nd *node, voters string) []string {
	args := []string{"server"}
	for _, kv := range append([]string{
		fmt.Sprintf("node.id=%d", nd.id),
		"log.dirs=" + nd.dir,
		fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://%s", nd.kafka, nd.ctl),
		"controller.quorum.voters=" + voters,
	}, clusterProps...) {
		args = append(args, "--override", kv)
	}
	return args
}

func (c *cluster) node(id int) *node { return c.nodes[id-1] }

func (c *cluster) ids() []int {
	out := make([]int, len(c.nodes))
	for i, nd := range c.nodes {
		out[i] = nd.id
	}
	return out
}

// Addrs are the nodes' Kafka addresses, for clients.
func (c *cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		out[i] = nd.kafka
	}
	return out
}

// start runs the node's process and waits until its Kafka listener
// accepts connections.
func (c *cluster) start(ctx context.Context, nd *node) error {
	out, err := os.OpenFile(nd.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Fprintf(out, "\n===== chaos: starting node %d at %s\n", nd.id, time.Now().Format(time.RFC3339Nano))
	nd.cmd = exec.Command(c.bin, nd.args...)
	nd.cmd.Env, nd.cmd.Stdout, nd.cmd.Stderr = nd.env, out, out
	// The node dies with the suite, even when the suite is killed.
	nd.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := nd.cmd.Start(); err != nil {
		return err
	}
	nd.exited, nd.paused = make(chan struct{}), false
	go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(nd.cmd, nd.exited)
	return waitListening(ctx, nd, 30*time.Second)
}

func waitListening(ctx context.Context, nd *node, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if conn, err := net.DialTimeout("tcp", nd.kafka, time.Second); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-nd.exited:
			return fmt.Errorf("node %d exited while starting (%s); see %s", nd.id, nd.cmd.ProcessState, nd.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %d not accepting on %s after %v; see %s", nd.id, nd.kafka, limit, nd.logPath)
		}
	}
}

func (nd *node) running() bool {
	if nd.exited == nil {
		return false
	}
	select {
	case <-nd.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL: no flush, no controlled shutdown.
func (nd *node) kill() {
	if !nd.running() {
		return
	}
	nd.cmd.Process.Kill()
	<-nd.exited
}

// stop is a clean shutdown (SIGTERM), with SIGKILL after limit; the error
// says the node had to be killed or exited with a failure.
func (nd *node) stop(limit time.Duration) error {
	if !nd.running() {
		return nil
	}
	if nd.paused {
		nd.resume()
	}
	nd.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-nd.exited:
		if !nd.cmd.ProcessState.Success() {
			return fmt.Errorf("node %d exited with %s on SIGTERM", nd.id, nd.cmd.ProcessState)
		}
		return nil
	case <-time.After(limit):
		nd.kill()
		return fmt.Errorf("node %d did not stop within %v of SIGTERM; killed", nd.id, limit)
	}
}

// pause stops the process (SIGSTOP) without closing its connections.
func (nd *node) pause() {
	if nd.running() && !nd.paused {
		nd.cmd.Process.Signal(syscall.SIGSTOP)
		nd.paused = true
	}
}

func (nd *node) resume() {
	if nd.running() && nd.paused {
		nd.cmd.Process.Signal(syscall.SIGCONT)
		nd.paused = false
	}
}

// shutdown kills every node and closes the proxies.
func (c *cluster) shutdown() {
	for _, nd := range c.nodes {
		nd.resume()
		nd.kill()
	}
	if c.mesh != nil {
		c.mesh.Close()
	}
}

// buildSamsa builds the samsa binary into dir.
func buildSamsa(dir string) (string, error) {
	bin := filepath.Join(dir, "samsa")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/samsa-io/samsa/cmd/samsa").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building samsa: %v\n%s", err, out)
	}
	return bin, nil
}
