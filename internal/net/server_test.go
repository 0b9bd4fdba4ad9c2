package net

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

// laterReply completes a Future with resp after a random delay of up to
// max, so that replies become ready out of request order.
func laterReply(resp []byte, max time.Duration) *Future {
	f := NewFuture()
	time.AfterFunc(rand.N(max), func() { f.Complete(resp, nil) })
	return f
}

// writeInPieces writes b in chunks of random sizes, so that frames are
// split across writes and several share one.
func writeInPieces(nc net.Conn, b []byte) error {
	for len(b) > 0 {
		n := min(len(b), 1+rand.IntN(300))
		if _, err := nc.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func TestPipelinedResponsesComeInRequestOrder(t *testing.T) {
	const n = 1000
	var mu sync.Mutex
	kept := map[int32][]byte{} // bodies the handler keeps, as a produce would
	var info *ConnInfo
	ts := startServer(t, Config{ListenerName: "INTERNAL"}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		mu.Lock()
		kept[req.Header.CorrelationID] = req.Body
		info = req.Conn
		mu.Unlock()
		return laterReply(echo(req), 2*time.Millisecond)
	}))
	c := dial(t, ts.addr)
	var all [][]byte
	for i := range n {
		all = append(all, metadata(int32(i), fmt.Sprintf("request %d %s", i, strings.Repeat("x", i%50))))
	}
	sent := make(chan error, 1)
	go func() { sent <- writeInPieces(c.nc, bytes.Join(all, nil)) }()
	for i := range n {
		c.expect(t, int32(i), fmt.Sprintf("request %d %s", i, strings.Repeat("x", i%50)))
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if want := fmt.Sprintf("request %d %s", i, strings.Repeat("x", i%50)); string(kept[int32(i)]) != want {
			t.Fatalf("kept body %d is %q, want %q: a later read overwrote it", i, kept[int32(i)], want)
		}
	}
	if info.Listener != "INTERNAL" || info.Remote.String() != c.nc.LocalAddr().String() || info.Local.String() != ts.addr {
		t.Fatalf("conn info %+v, client %s", info, c.nc.LocalAddr())
	}
}

func TestNilReplySendsNoResponse(t *testing.T) {
	const n = 300
	var calls atomic.Int32
	ts := startServer(t, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		calls.Add(1)
		if string(req.Body) == "acks=0" {
			return nil
		}
		return laterReply(echo(req), time.Millisecond)
	}))
	c := dial(t, ts.addr)
	var frames [][]byte
	for i := range int32(n) {
		body := "acks=1"
		if i%3 == 1 {
			body = "acks=0"
		}
		frames = append(frames, metadata(i, body))
	}
	c.send(t, frames...)
	for i := range int32(n) {
		if i%3 != 1 {
			c.expect(t, i, "acks=1")
		}
	}
	waitFor(t, "every request handled", func() bool { return calls.Load() == n })
	c.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if k, err := c.br.Read(make([]byte, 1)); k > 0 || errTimeout(err) == nil {
		t.Fatalf("after the last response: read %d bytes, %v; want nothing", k, err)
	}
}

// errTimeout returns err when it is a timeout, nil otherwise.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return nil
}

func TestViolationsCloseOnlyTheirConnection(t *testing.T) {
	ts := startServer(t, Config{MaxRequestSize: 1024}, echoHandler)
	by := startBystander(t, ts.addr)
	be32 := func(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
	longID := metadata(1, "")
	binary.BigEndian.PutUint16(longID[12:], 300) // client id length past the frame's end
	for _, tc := range []struct {
		name   string
		send   []byte
		half   bool // then close the client's writing side
		reason string
	}{
		{"frame over socket.request.max.bytes", be32(1025), false, "frame larger than socket.request.max.bytes: 1025 bytes, limit 1024"},
		{"negative size", be32(-2), false, "negative size -2"},
		{"truncated frame then EOF", append(be32(100), "0123456789"...), true, "unexpected EOF"},
		{"header too short", append(be32(3), "abc"...), false, "a request header needs at least 10"},
		{"client id past the frame", longID, false, "client id of 300 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			c.send(t, metadata(7, "fine so far"))
			c.expect(t, 7, "fine so far")
			c.send(t, tc.send)
			if tc.half {
				c.nc.(*net.TCPConn).CloseWrite()
			}
			c.expectClosed(t)
			by.progressing(t)
			waitFor(t, "the log line", func() bool {
				_, ok := ts.logLine("closing connection", "remote="+c.nc.LocalAddr().String(), tc.reason)
				return ok
			})
		})
	}
	by.progressing(t)
	waitFor(t, "only the bystander connected", func() bool { return ts.NumConnections() == 1 })
}

func TestUnknownKeyReachesTheHandler(t *testing.T) {
	var mu sync.Mutex
	var unknown []int16
	ts := startServer(t, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		if !req.Header.Known {
			mu.Lock()
			unknown = append(unknown, req.Header.Key)
			mu.Unlock()
			return Fail(fmt.Errorf("unsupported api key %d", req.Header.Key))
		}
		return Respond(echo(req))
	}))
	c := dial(t, ts.addr)
	c.send(t, metadata(1, "before"), request(999, 0, 2, "?"), metadata(3, "after"))
	c.expect(t, 1, "before") // written although the next reply fails
	c.expectClosed(t)
	mu.Lock()
	got := fmt.Sprint(unknown)
	mu.Unlock()
	if got != "[999]" {
		t.Fatalf("handler saw unknown keys %s, want [999]", got)
	}
	if _, ok := ts.logLine("level=WARN", "unsupported api key 999", "correlation id 2"); !ok {
		t.Fatalf("no log line for the failed reply in:\n%s", ts.logs)
	}
}

func TestWrongCorrelationIDClosesTheConnection(t *testing.T) {
	ts := startServer(t, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		return Respond(binary.BigEndian.AppendUint32(nil, uint32(req.Header.CorrelationID+1)))
	}))
	c := dial(t, ts.addr)
	c.send(t, metadata(5, ""))
	c.expectClosed(t)
	if _, ok := ts.logLine("response has correlation id 6", "correlation id 5"); !ok {
		t.Fatalf("no log line in:\n%s", ts.logs)
	}
}

// A ready response goes out while a later one is still waited for: the
// writer flushes before it waits.
func TestReadyResponseIsNotHeldBehindASlowOne(t *testing.T) {
	slow := NewFuture()
	ts := startServer(t, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		if req.Header.CorrelationID == 2 {
			return slow
		}
		return Respond(echo(req))
	}))
	c := dial(t, ts.addr)
	c.send(t, metadata(1, "quick"), metadata(2, "slow"))
	c.expect(t, 1, "quick")
	slow.Complete(binary.BigEndian.AppendUint32(nil, 2), nil)
	c.expect(t, 2, "")
}

// gateReply is ready when gate is closed: many replies turn ready at once.
type gateReply struct {
	gate chan struct{}
	resp []byte
}

func (g gateReply) Ready() bool {
	select {
	case <-g.gate:
		return true
	default:
		return false
	}
}

func (g gateReply) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-g.gate:
		return g.resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// countingConn counts the write calls on the server's side of a connection.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{nc, l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func TestReadyResponsesShareOneWrite(t *testing.T) {
	const n = 100
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	var calls atomic.Int32
	gate := make(chan struct{})
	ts := serveOn(t, countingListener{ln, &writes}, Config{MaxInFlight: n}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		calls.Add(1)
		return gateReply{gate, echo(req)}
	}))
	c := dial(t, ts.addr)
	var frames [][]byte
	for i := range int32(n) {
		frames = append(frames, metadata(i, "r"))
	}
	c.send(t, frames...)
	waitFor(t, "every request handled", func() bool { return calls.Load() == n })
	time.Sleep(10 * time.Millisecond) // let the last one reach the queue
	close(gate)
	for i := range int32(n) {
		c.expect(t, i, "r")
	}
	// One write when the last reply was queued before the gate opened;
	// two when it came just after.
	if w := writes.Load(); w > 2 {
		t.Fatalf("%d responses took %d writes, want 1 or 2", n, w)
	}
}

func TestLargeResponseToASlowReader(t *testing.T) {
	ts := startServer(t, Config{}, echoHandler)
	c := dial(t, ts.addr)
	big := strings.Repeat("0123456789abcdef", 3<<16) // 3 MiB
	c.send(t, metadata(1, big))
	time.Sleep(50 * time.Millisecond) // the response fills the socket buffers first
	c.expect(t, 1, big)
}

func TestIdleTimeout(t *testing.T) {
	const idle = 200 * time.Millisecond
	type closed struct {
		info   *ConnInfo
		at     time.Time
		reason error
	}
	var mu sync.Mutex
	closes := map[string]closed{}
	cfg := Config{IdleTimeout: idle, Hooks: Hooks{ConnClosed: func(c *ConnInfo, reason error) {
		mu.Lock()
		closes[c.Remote.String()] = closed{c, time.Now(), reason}
		mu.Unlock()
	}}}
	ts := startServer(t, cfg, HandlerFunc(func(_ context.Context, req *Request) Reply {
		if string(req.Body) != "slow" {
			return Respond(echo(req))
		}
		f := NewFuture()
		time.AfterFunc(3*idle, func() { f.Complete(echo(req), nil) })
		return f
	}))
	idleC, slowC, activeC := dial(t, ts.addr), dial(t, ts.addr), dial(t, ts.addr)
	slowC.send(t, metadata(1, "slow"))
	for i, start := int32(0), time.Now(); time.Since(start) < 3*idle; i++ {
		activeC.send(t, metadata(i, "active")) // requests keep it open
		activeC.expect(t, i, "active")
		time.Sleep(5 * time.Millisecond)
	}
	slowC.expect(t, 1, "slow") // three timeouts in flight, still open
	idleC.expectClosed(t)
	slowC.expectClosed(t)
	closeOf := func(c *client) closed {
		mu.Lock()
		defer mu.Unlock()
		return closes[c.nc.LocalAddr().String()]
	}
	waitFor(t, "the close hooks", func() bool { return closeOf(slowC).info != nil && closeOf(idleC).info != nil })
	for _, tc := range []struct {
		name string
		c    closed
		min  time.Duration // since the connection opened
	}{{"idle", closeOf(idleC), idle}, {"slow", closeOf(slowC), 4 * idle}} {
		if !errors.Is(tc.c.reason, errIdle) {
			t.Errorf("%s connection closed for %v, want idleness", tc.name, tc.c.reason)
		}
		if took := tc.c.at.Sub(tc.c.info.Opened); took < tc.min {
			t.Errorf("%s connection closed %v after it opened, want at least %v", tc.name, took, tc.min)
		}
	}
}

func TestBackPressureStopsReading(t *testing.T) {
	const n = 10
	var calls, sent, maxInFlight atomic.Int32
	futures := make(chan func(), n)
	cfg := Config{MaxInFlight: 2, Hooks: Hooks{ResponseSent: func(*ConnInfo, *wire.RequestHeader, int, time.Duration) { sent.Add(1) }}}
	ts := startServer(t, cfg, HandlerFunc(func(_ context.Context, req *Request) Reply {
		inFlight := calls.Add(1) - sent.Load()
		for m := maxInFlight.Load(); inFlight > m && !maxInFlight.CompareAndSwap(m, inFlight); m = maxInFlight.Load() {
		}
		f, resp := NewFuture(), echo(req)
		futures <- func() { f.Complete(resp, nil) }
		return f
	}))
	c := dial(t, ts.addr)
	var frames [][]byte
	for i := range int32(n) {
		frames = append(frames, metadata(i, ""))
	}
	c.send(t, frames...)
	waitFor(t, "two requests handled", func() bool { return calls.Load() == 2 })
	time.Sleep(100 * time.Millisecond)
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d requests handled with 2 replies pending, want 2", got)
	}
	(<-futures)()
	c.expect(t, 0, "")
	waitFor(t, "a third request handled", func() bool { return calls.Load() == 3 })
	time.Sleep(50 * time.Millisecond)
	if got := calls.Load(); got != 3 {
		t.Fatalf("%d requests handled after one reply, want 3", got)
	}
	go func() {
		for range n - 1 {
			(<-futures)()
		}
	}()
	for i := range int32(n - 1) {
		c.expect(t, i+1, "")
	}
	if m := maxInFlight.Load(); m > 2 {
		t.Fatalf("%d requests were in flight at once, limit 2", m)
	}
}

// With the reader stopped, TCP stops the client: its writes stall once the
// socket buffers are full, and resume when replies drain.
func TestBackPressureStallsTheClient(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	ts := startServer(t, Config{MaxInFlight: 2}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		calls.Add(1)
		return gateReply{release, binary.BigEndian.AppendUint32(nil, uint32(req.Header.CorrelationID))}
	}))
	c := dial(t, ts.addr)
	frame := metadata(0, strings.Repeat("p", 64<<10))
	var rest []byte // what is left to write of the current frame
	frames, written := 0, 0
	// Stalled: two write timeouts in a row without a byte written. (A
	// pause of the machine could fake one; the rest of the test holds
	// then too.)
	for stalls := 0; stalls < 2; {
		if written > 256<<20 {
			t.Fatalf("wrote %d bytes without stalling", written)
		}
		if len(rest) == 0 {
			binary.BigEndian.PutUint32(frame[8:], uint32(frames))
			frames++
			rest = frame
		}
		c.nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		k, err := c.nc.Write(rest)
		written += k
		rest = rest[k:]
		switch {
		case err != nil && errTimeout(err) == nil:
			t.Fatal(err)
		case k > 0:
			stalls = 0
		default:
			stalls++
		}
	}
	waitFor(t, "two requests handled", func() bool { return calls.Load() >= 2 })
	if got := calls.Load(); got != 2 {
		t.Fatalf("%d requests handled, want 2", got)
	}
	t.Logf("the client stalled after %d frames, %d bytes", frames, written)
	close(release)
	c.nc.SetWriteDeadline(time.Now().Add(patience))
	finished := make(chan error, 1)
	go func() { _, err := c.nc.Write(rest); finished <- err }()
	for i := range int32(frames) {
		c.expect(t, i, "")
	}
	if err := <-finished; err != nil {
		t.Fatal(err)
	}
}

func TestCloseDrainsInFlightReplies(t *testing.T) {
	const n = 5
	var calls atomic.Int32
	ts := startServer(t, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		calls.Add(1)
		f := NewFuture()
		time.AfterFunc(100*time.Millisecond, func() { f.Complete(echo(req), nil) })
		return f
	}))
	c := dial(t, ts.addr)
	var frames [][]byte
	for i := range int32(n) {
		frames = append(frames, metadata(i, "drained"))
	}
	c.send(t, frames...)
	waitFor(t, "every request handled", func() bool { return calls.Load() == n })
	if g := len(serverGoroutines()); g != 3 {
		t.Fatalf("the leak check sees %d server goroutines, want 3: Serve, a reader, a writer", g)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := range int32(n) {
		c.expect(t, i, "drained")
	}
	c.expectClosed(t)
	<-ts.serveDone
	if !errors.Is(ts.serveErr, ErrServerClosed) || ts.NumConnections() != 0 {
		t.Fatalf("after Close: Serve returned %v, %d connections", ts.serveErr, ts.NumConnections())
	}
	if nc, err := net.Dial("tcp", ts.addr); err == nil {
		nc.Close()
		t.Fatal("the listener still accepts")
	}
	checkNoGoroutines(t)
}

func TestCloseGivesUpAtItsDeadline(t *testing.T) {
	var mu sync.Mutex
	var ctxs []context.Context
	ts := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, _ *Request) Reply {
		mu.Lock()
		ctxs = append(ctxs, ctx)
		mu.Unlock()
		return NewFuture() // never completed
	}))
	c := dial(t, ts.addr)
	c.send(t, metadata(1, ""), metadata(2, ""))
	waitFor(t, "both requests handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(ctxs) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := ts.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > patience/2 {
		t.Fatalf("Close took %v with a 200ms deadline", took)
	}
	c.expectClosed(t)
	mu.Lock()
	defer mu.Unlock()
	for _, ctx := range ctxs {
		if ctx.Err() == nil {
			t.Fatal("the handler's context is not cancelled")
		}
	}
	checkNoGoroutines(t)
}

func TestPeerGoneCancelsPendingReplies(t *testing.T) {
	got := make(chan context.Context, 1)
	ts := startServer(t, Config{}, HandlerFunc(func(ctx context.Context, _ *Request) Reply {
		got <- ctx
		return NewFuture() // never completed
	}))
	c := dial(t, ts.addr)
	c.send(t, metadata(1, ""))
	ctx := <-got
	c.nc.Close()
	select {
	case <-ctx.Done():
	case <-time.After(patience):
		t.Fatal("the connection's context outlived its peer")
	}
	waitFor(t, "no connections", func() bool { return ts.NumConnections() == 0 })
}

func TestHooksCountBytes(t *testing.T) {
	var opened, closedN, in, out atomic.Int64
	cfg := Config{Hooks: Hooks{
		ConnOpened:   func(*ConnInfo) { opened.Add(1) },
		ConnClosed:   func(*ConnInfo, error) { closedN.Add(1) },
		RequestRead:  func(_ *ConnInfo, _ *wire.RequestHeader, n int) { in.Add(int64(n)) },
		ResponseSent: func(_ *ConnInfo, _ *wire.RequestHeader, n int, _ time.Duration) { out.Add(int64(n)) },
	}}
	ts := startServer(t, cfg, echoHandler)
	c := dial(t, ts.addr)
	req := metadata(1, "hello")
	c.send(t, req)
	c.expect(t, 1, "hello")
	c.nc.Close()
	waitFor(t, "the close hook", func() bool { return closedN.Load() == 1 })
	if opened.Load() != 1 || in.Load() != int64(len(req)) || out.Load() != 4+4+5 {
		t.Fatalf("opened %d, bytes in %d (want %d), out %d (want 13)", opened.Load(), in.Load(), len(req), out.Load())
	}
}

// Release gets every response once the connection is done with it: a
// release that scribbles over the buffer (as its reuse would) never
// reaches the client, pipelined or not, and each response is released once.
func TestReleaseComesAfterTheResponseIsWritten(t *testing.T) {
	const n = 50
	var released atomic.Int32
	cfg := Config{Release: func(b []byte) {
		released.Add(1)
		for i := range b {
			b[i] = 0xee
		}
	}}
	ts := startServer(t, cfg, HandlerFunc(func(_ context.Context, req *Request) Reply {
		resp := echo(req)
		return Respond(append(resp, bytes.Repeat([]byte{byte(req.Header.CorrelationID)}, 200<<10)...))
	}))
	c := dial(t, ts.addr)
	var frames [][]byte
	for i := range n {
		frames = append(frames, metadata(int32(i), "body"))
	}
	c.send(t, frames...)
	for i := range n {
		corr, body, err := c.recv()
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte("body"), bytes.Repeat([]byte{byte(i)}, 200<<10)...)
		if corr != int32(i) || !bytes.Equal(body, want) {
			t.Fatalf("response %d (correlation %d) was changed by its release", i, corr)
		}
	}
	waitFor(t, "every response released", func() bool { return released.Load() == n })
}

// The request frames of releasable keys are released once their response
// is written (and at once without one); frames of other keys never are:
// their handler may keep the body.
func TestReleasableFramesAreReleasedOthersKept(t *testing.T) {
	const n = 20
	var mu sync.Mutex
	released := map[string]bool{}
	cfg := Config{
		Releasable: func(key int16) bool { return key == 0 },
		Release: func(b []byte) {
			mu.Lock()
			released[string(b)] = true
			mu.Unlock()
		},
	}
	ts := startServer(t, cfg, HandlerFunc(func(_ context.Context, req *Request) Reply {
		if req.Header.CorrelationID%2 == 1 {
			return nil // no response, as for acks=0
		}
		return Respond(echo(req))
	}))
	c := dial(t, ts.addr)
	frame := func(key int16, i int) []byte { return request(key, 1, int32(i), fmt.Sprintf("body %d", i)) }
	for _, key := range []int16{3, 0} { // Metadata: kept; Produce: releasable
		for i := range n {
			c.send(t, frame(key, i))
			if i%2 == 0 {
				if _, _, err := c.recv(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	waitFor(t, "the releasable frames released", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range n {
			if !released[string(frame(0, i)[4:])] {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for i := range n {
		if released[string(frame(3, i)[4:])] {
			t.Fatalf("frame %d of a key that is not releasable was released", i)
		}
	}
}
