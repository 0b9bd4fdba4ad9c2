package net

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/wire"
)

const (
	readBufferSize  = 32 << 10
	writeBufferSize = 32 << 10
	// writeChunk bounds one write call, so that a large response to a
	// slow client is cut off only when a whole chunk makes no progress
	// for IdleTimeout, not when the whole response takes longer.
	writeChunk = 64 << 10
)

// Reasons a connection closes, besides the peer's and wire's errors.
var (
	errIdle    = errors.New("net: idle for longer than connections.max.idle.ms")
	errStalled = errors.New("net: client took no response bytes for connections.max.idle.ms")
)

// conn is one client connection: its reader runs in serve, its writer in a
// goroutine serve starts and waits for.
type conn struct {
	srv    *Server
	nc     net.Conn
	info   *ConnInfo
	log    *slog.Logger
	ctx    context.Context // given to Handle and Wait; cancelled by abort
	cancel context.CancelFunc
	br     *bufio.Reader
	bw     *bufio.Writer // the writer goroutine's alone

	// queue carries Replies from reader to writer in request order.
	queue chan pending
	// slots holds one token per request in flight, MaxInFlight at most:
	// the reader takes one before reading a frame; the writer gives it
	// back when the response is buffered, the reader when there is none.
	// Both channels have MaxInFlight room, so sends on queue never block.
	slots chan struct{}
	// inflight counts requests queued whose responses are not buffered;
	// lastWrite is when the last response was buffered (unix ns). The
	// reader's idle check reads both.
	inflight  atomic.Int32
	lastWrite atomic.Int64

	stop      chan struct{} // closed by drain: read no more requests
	stopOnce  sync.Once
	abortOnce sync.Once
	reason    error // why the connection closed; written in abortOnce
}

// pending is a request whose response the writer has not written yet.
type pending struct {
	header   wire.RequestHeader
	received time.Time
	reply    Reply
	frame    []byte // the request's, to give back once replied (Config.Releasable)
}

func newConn(s *Server, nc net.Conn) *conn {
	info := &ConnInfo{
		ID:       s.nextID.Add(1),
		Listener: s.cfg.ListenerName,
		Remote:   nc.RemoteAddr(),
		Local:    nc.LocalAddr(),
		Opened:   time.Now(),
	}
	c := &conn{
		srv:   s,
		nc:    nc,
		info:  info,
		log:   s.cfg.Logger.With("listener", info.Listener, "conn", info.ID, "remote", info.Remote.String()),
		queue: make(chan pending, s.cfg.MaxInFlight),
		slots: make(chan struct{}, s.cfg.MaxInFlight),
		stop:  make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	c.br = bufio.NewReaderSize(connReader{c}, readBufferSize)
	c.bw = bufio.NewWriterSize(connWriter{c}, writeBufferSize)
	c.lastWrite.Store(info.Opened.UnixNano())
	return c
}

// serve runs the connection to its end: the reader here, the writer in a
// goroutine of its own.
func (c *conn) serve() {
	defer c.srv.conns.Done()
	if f := c.srv.cfg.Hooks.ConnOpened; f != nil {
		f(c.info)
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		c.writeLoop()
	}()
	c.readLoop()
	close(c.queue)
	<-written
	// Unless an error closed it already, the reader stopped for Close and
	// the writer has written every response: close it now.
	c.abort(ErrServerClosed)
	c.srv.forget(c)
	if f := c.srv.cfg.Hooks.ConnClosed; f != nil {
		f(c.info, c.reason)
	}
}

// abort closes the connection for reason, once, logging why. Cancelling
// ctx releases a writer in Wait and a reader in Handle; closing the socket
// releases them from reads and writes.
func (c *conn) abort(reason error) {
	c.abortOnce.Do(func() {
		c.reason = reason
		c.log.Log(context.Background(), levelOf(reason), "net: closing connection", "reason", reason.Error())
		c.cancel()
		c.nc.Close()
	})
}

// drain makes the reader stop at the next frame, interrupting a read in
// progress; the writer then writes what is queued and the connection
// closes.
func (c *conn) drain() {
	c.stopOnce.Do(func() { close(c.stop) })
	c.nc.SetReadDeadline(time.Now())
}

func (c *conn) stopping() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// levelOf logs ordinary ends of a connection at Debug and the rest (the
// protocol violations, error replies, failed writes) at Warn.
func levelOf(reason error) slog.Level {
	for _, ordinary := range []error{io.EOF, errIdle, ErrServerClosed, net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE, context.Canceled} {
		if errors.Is(reason, ordinary) {
			return slog.LevelDebug
		}
	}
	return slog.LevelWarn
}

// readLoop reads requests and hands them to the Handler until an error,
// the writer's failure or drain stops it.
func (c *conn) readLoop() {
	for c.acquire() {
		req, err := c.readRequest()
		if err != nil {
			if !c.stopping() {
				c.abort(err)
			}
			return
		}
		reply := c.srv.handler.Handle(c.ctx, req)
		var frame []byte
		if f := c.srv.cfg.Releasable; f != nil && f(req.Header.Key) {
			frame = req.frame
		}
		if reply == nil {
			c.release(frame)
			<-c.slots
			continue
		}
		c.inflight.Add(1)
		c.queue <- pending{header: req.Header, received: req.Received, reply: reply, frame: frame}
	}
}

// acquire takes a slot for the next request, waiting while MaxInFlight
// requests are in flight. False means stop reading.
func (c *conn) acquire() bool {
	select { // the common case, without a three-way select
	case c.slots <- struct{}{}:
		return !c.stopping()
	default:
	}
	select {
	case c.slots <- struct{}{}:
	case <-c.ctx.Done():
		return false
	case <-c.stop:
		return false
	}
	return !c.stopping()
}

func (c *conn) readRequest() (*Request, error) {
	frame, err := wire.ReadFrame(c.br, c.srv.cfg.MaxRequestSize, nil)
	if err != nil {
		return nil, fmt.Errorf("reading a request: %w", err)
	}
	received := time.Now()
	h, body, err := wire.ParseRequestHeader(frame)
	if err != nil {
		return nil, fmt.Errorf("request header: %w", err)
	}
	if f := c.srv.cfg.Hooks.RequestRead; f != nil {
		f(c.info, &h, len(frame)+4)
	}
	return &Request{Header: h, Body: body, Conn: c.info, Received: received, frame: frame}, nil
}

// writeLoop writes the responses in request order until the reader closes
// the queue or a reply or write fails.
func (c *conn) writeLoop() {
	for p := range c.queue {
		if err := c.writeReply(p); err != nil {
			c.abort(err)
			c.discard()
			return
		}
	}
	if err := c.bw.Flush(); err != nil {
		c.abort(fmt.Errorf("writing responses: %w", err))
	}
}

// discard releases the regions of the replies still queued once the
// writer has stopped, until the reader closes the queue.
func (c *conn) discard() {
	for p := range c.queue {
		if vr, ok := p.reply.(VecReply); ok {
			vr.Discard()
		}
	}
}

// wait waits for a reply's response.
func (c *conn) wait(r Reply) (wire.Vec, error) {
	if vr, ok := r.(VecReply); ok {
		return vr.WaitVec(c.ctx)
	}
	b, err := r.Wait(c.ctx)
	return wire.Vec{Bytes: b}, err
}

// writeReply buffers one response, flushing before a wait and whenever
// nothing more is queued: responses ready together go out in one write.
// File regions go out after a flush, with sendfile (writeRegion).
func (c *conn) writeReply(p pending) error {
	if c.bw.Buffered() > 0 && !p.reply.Ready() {
		if err := c.bw.Flush(); err != nil {
			return fmt.Errorf("writing responses: %w", err)
		}
	}
	resp, err := c.wait(p.reply)
	if err == nil {
		err = checkResponse(&p.header, &resp)
	}
	if err != nil {
		resp.ReleaseRegions()
		c.bw.Flush() // the responses before this one still go out
		return fmt.Errorf("reply to %s: %w", describe(&p.header), err)
	}
	n := resp.Len()
	var size [4]byte
	binary.BigEndian.PutUint32(size[:], uint32(n))
	c.bw.Write(size[:])
	err = c.writeVec(&resp)
	c.release(resp.Bytes)
	c.release(p.frame) // the handler is done with its request
	if err != nil {
		return fmt.Errorf("writing responses: %w", err)
	}
	now := time.Now()
	c.lastWrite.Store(now.UnixNano()) // before inflight drops: see readDeadline
	c.inflight.Add(-1)
	if f := c.srv.cfg.Hooks.ResponseSent; f != nil {
		f(c.info, &p.header, n+4, now.Sub(p.received))
	}
	<-c.slots
	if len(c.queue) == 0 {
		if err := c.bw.Flush(); err != nil {
			return fmt.Errorf("writing responses: %w", err)
		}
	}
	return nil
}

// release gives a buffer the connection is done with to Config.Release.
func (c *conn) release(b []byte) {
	if f := c.srv.cfg.Release; f != nil && b != nil {
		f(b)
	}
}

// checkResponse checks what the connection can of a handler's response:
// that it fits a frame and answers the request's correlation id.
func checkResponse(h *wire.RequestHeader, resp *wire.Vec) error {
	switch n := resp.Len(); {
	case len(resp.Bytes) < 4 || len(resp.Cuts) > 0 && resp.Cuts[0] < 4:
		return fmt.Errorf("net: response of %d bytes has no correlation id", n)
	case n > math.MaxInt32:
		return fmt.Errorf("net: response of %d bytes does not fit a frame", n)
	case len(resp.Cuts) != len(resp.Regions):
		return fmt.Errorf("net: response has %d cuts for %d regions", len(resp.Cuts), len(resp.Regions))
	}
	if id := int32(binary.BigEndian.Uint32(resp.Bytes)); id != h.CorrelationID {
		return fmt.Errorf("net: response has correlation id %d", id)
	}
	return nil
}

func describe(h *wire.RequestHeader) string {
	return fmt.Sprintf("%s (key %d) v%d, correlation id %d", kmsg.NameForKey(h.Key), h.Key, h.Version, h.CorrelationID)
}

// connReader reads the socket for the reader goroutine, enforcing the idle
// timeout and stopping when the connection drains.
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	deadline, _ := c.readDeadline(time.Now(), true)
	for {
		c.nc.SetReadDeadline(deadline)
		// After the deadline is set: a drain either is seen here or sets
		// its own deadline after ours.
		if c.stopping() {
			return 0, ErrServerClosed
		}
		n, err := c.nc.Read(p)
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		var idle bool
		if deadline, idle = c.readDeadline(time.Now(), false); idle {
			return 0, fmt.Errorf("%w (%v)", errIdle, c.srv.cfg.IdleTimeout)
		}
	}
}

// readDeadline returns when the connection becomes idle if no bytes
// arrive, or idle=true if it is idle already. fresh means bytes have just
// been read; otherwise none have been for IdleTimeout, and the connection
// is idle unless a request is in flight or a response was written within
// IdleTimeout.
func (c *conn) readDeadline(now time.Time, fresh bool) (deadline time.Time, idle bool) {
	timeout := c.srv.cfg.IdleTimeout
	switch {
	case timeout < 0:
		return time.Time{}, false
	case fresh || c.inflight.Load() > 0:
		return now.Add(timeout), false
	}
	deadline = time.Unix(0, c.lastWrite.Load()).Add(timeout)
	return deadline, !deadline.After(now)
}

// connWriter writes the socket for the writer goroutine in chunks, each of
// which must make progress within IdleTimeout.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	c := w.c
	timeout := c.srv.cfg.IdleTimeout
	written := 0
	for len(p) > 0 {
		if timeout > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(timeout))
		}
		n, err := c.nc.Write(p[:min(len(p), writeChunk)])
		written += n
		p = p[n:]
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%w (%v)", errStalled, timeout)
		}
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
