package net

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

// patience bounds every wait for something that should happen. It is
// long, so that a shared machine's stalls do not fail the tests; it is
// only spent when something is wrong.
const patience = 15 * time.Second

// testServer is a Server on a free loopback port. At the end of the test
// it is closed, and none of its goroutines may be left.
type testServer struct {
	*Server
	addr      string
	logs      *syncBuffer
	serveDone chan struct{}
	serveErr  error
}

func startServer(t testing.TB, cfg Config, h Handler) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, ln, cfg, h)
}

func serveOn(t testing.TB, ln net.Listener, cfg Config, h Handler) *testServer {
	ts := &testServer{addr: ln.Addr().String(), logs: &syncBuffer{}, serveDone: make(chan struct{})}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ts.Server = NewServer(cfg, h)
	go func() {
		defer close(ts.serveDone)
		ts.serveErr = ts.Serve(ln)
	}()
	t.Cleanup(func() { ts.shutdown(t) })
	return ts
}

func (ts *testServer) shutdown(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Errorf("Close at the end of the test: %v", err)
	}
	select {
	case <-ts.serveDone:
		if !errors.Is(ts.serveErr, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", ts.serveErr)
		}
	case <-time.After(patience):
		t.Error("Serve did not return after Close")
	}
	checkNoGoroutines(t)
}

// logLine returns the first log line containing every one of parts.
func (ts *testServer) logLine(parts ...string) (string, bool) {
	for line := range strings.SplitSeq(ts.logs.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return line, true
		}
	}
	return "", false
}

// checkNoGoroutines fails unless every goroutine running this package's
// server code has exited.
func checkNoGoroutines(t testing.TB) {
	t.Helper()
	var left []string
	deadline := time.Now().Add(patience)
	for {
		left = serverGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d server goroutines left:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "samsa/internal/net.(*conn)") || strings.Contains(g, "samsa/internal/net.(*Server)") {
			found = append(found, g)
		}
	}
	return found
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// request returns a request frame: a v1 header (client id "test") and body.
func request(key, version int16, corr int32, body string) []byte {
	b := make([]byte, 4, 4+14+len(body))
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// metadata returns a Metadata v1 request frame, a key kmsg knows.
func metadata(corr int32, body string) []byte { return request(3, 1, corr, body) }

// echo is the response the test handlers give: the correlation id, then
// the request's body.
func echo(req *Request) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(req.Header.CorrelationID)), req.Body...)
}

var echoHandler = HandlerFunc(func(_ context.Context, req *Request) Reply { return Respond(echo(req)) })

type client struct {
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{nc: nc, br: bufio.NewReader(nc)}
}

func (c *client) send(t testing.TB, frames ...[]byte) {
	t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(patience))
	if _, err := c.nc.Write(bytes.Join(frames, nil)); err != nil {
		t.Fatalf("sending: %v", err)
	}
}

// recv reads one response and splits it into correlation id and body.
func (c *client) recv() (int32, []byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(patience))
	resp, err := wire.ReadFrame(c.br, 1<<30, nil)
	if err != nil {
		return 0, nil, err
	}
	if len(resp) < 4 {
		return 0, nil, errors.New("response without a correlation id")
	}
	return int32(binary.BigEndian.Uint32(resp)), resp[4:], nil
}

// expect reads one response and fails unless it is corr's, with body.
func (c *client) expect(t testing.TB, corr int32, body string) {
	t.Helper()
	got, b, err := c.recv()
	if err != nil {
		t.Fatalf("waiting for the response to %d: %v\nserver goroutines:\n%s", corr, err, strings.Join(serverGoroutines(), "\n\n"))
	}
	if got != corr || string(b) != body {
		t.Fatalf("response %d %q, want %d %q", got, b, corr, body)
	}
}

// expectClosed fails unless the server closes the connection, without
// sending anything more.
func (c *client) expectClosed(t testing.TB) {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(patience))
	n, err := c.br.Read(make([]byte, 1))
	switch {
	case n > 0:
		t.Fatal("got bytes, want the connection closed")
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatal("the connection is still open")
	case err == nil:
		t.Fatal("read nothing and no error")
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// bystander is a second client doing round trips in a loop, to show that
// one connection's trouble leaves the others alone.
type bystander struct {
	ok   atomic.Int64
	err  error // set before done closes
	stop chan struct{}
	done chan struct{}
}

func startBystander(t testing.TB, addr string) *bystander {
	c := dial(t, addr)
	b := &bystander{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for corr := int32(0); ; corr++ {
			select {
			case <-b.stop:
				return
			default:
			}
			if b.err = b.roundTrip(c, corr); b.err != nil {
				return
			}
			b.ok.Add(1)
		}
	}()
	t.Cleanup(func() { b.finish(t) })
	return b
}

func (b *bystander) roundTrip(c *client, corr int32) error {
	c.nc.SetWriteDeadline(time.Now().Add(patience))
	if _, err := c.nc.Write(metadata(corr, "bystander")); err != nil {
		return err
	}
	got, body, err := c.recv()
	if err == nil && (got != corr || string(body) != "bystander") {
		err = errors.New("bystander got a wrong response")
	}
	return err
}

// progressing waits for more round trips to complete.
func (b *bystander) progressing(t testing.TB) {
	t.Helper()
	n := b.ok.Load()
	waitFor(t, "the bystander's round trips", func() bool {
		select {
		case <-b.done:
			t.Fatalf("bystander failed after %d round trips: %v", b.ok.Load(), b.err)
		default:
		}
		return b.ok.Load() >= n+20
	})
}

func (b *bystander) finish(t testing.TB) {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	if b.err != nil {
		t.Errorf("bystander failed after %d round trips: %v", b.ok.Load(), b.err)
	}
}
