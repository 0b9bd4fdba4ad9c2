// Package e2e runs the samsa binary as a real process and tests it from
// the outside: what a user and a Kafka client see, through crashes.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/testport"
)

var samsaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "samsa-e2e")
	if err != nil {
		panic(err)
	}
	samsaBin = filepath.Join(dir, "samsa")
	out, err := exec.Command("go", "build", "-o", samsaBin, "../cmd/samsa").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building samsa: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a samsa server process.
type server struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
	logs *bytes.Buffer
	// args are extra server arguments (a cluster node's settings).
	args []string
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := testport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newServer(t *testing.T) *server {
	return &server{t: t, dir: t.TempDir(), port: freePort(t)}
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// start runs the server and waits until it accepts connections.
func (s *server) start() {
	s.t.Helper()
	s.logs = &bytes.Buffer{}
	args := []string{"server",
		"--override", "log.dirs=" + filepath.Join(s.dir, "data"),
		"--override", fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:0", s.port),
		"--override", "metrics.listen=127.0.0.1:0"}
	s.cmd = exec.Command(samsaBin, append(args, s.args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	started := time.Now()
	for {
		if c, err := net.Dial("tcp", s.addr()); err == nil {
			c.Close()
			s.t.Logf("samsa server accepting after %v", time.Since(started).Round(time.Millisecond))
			break
		}
		if time.Since(started) > 10*time.Second {
			s.kill()
			s.t.Fatalf("server did not start:\n%s", s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Cleanup(s.kill)
}

// kill sends SIGKILL: no flush, no checkpoint.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("server exited with %v:\n%s", err, s.logs)
		}
	case <-time.After(10 * time.Second):
		s.kill()
		s.t.Fatalf("server did not stop on SIGINT:\n%s", s.logs)
	}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
