package net

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

// ConnInfo describes one client connection. It does not change after the
// connection is accepted.
type ConnInfo struct {
	ID       uint64 // unique within the Server, in accept order
	Listener string // Config.ListenerName
	Remote   net.Addr
	Local    net.Addr
	Opened   time.Time
}

// Request is one request frame, its header parsed. The header's key may be
// one kmsg does not know (Header.Known is false): the handler decides.
type Request struct {
	Header wire.RequestHeader
	// Body is the request after its header. It lies in a buffer allocated
	// for this frame alone, so the handler owns it and may keep it, unless
	// Config.Releasable names its key.
	Body     []byte
	Conn     *ConnInfo
	Received time.Time // when the whole frame had been read

	frame []byte // the whole frame, for Config.Release when releasable
}

// Handler handles requests. Handle is called on the connection's reader
// goroutine, one request at a time, in request order: it does the part of
// the work whose order matters (appending a produce to a log) before it
// returns, and leaves the waiting (acks=all, a fetch's long poll) to the
// Reply. While Handle runs, the connection reads nothing more.
//
// A nil Reply sends no response (a produce with acks=0). ctx is cancelled
// when the connection closes.
type Handler interface {
	Handle(ctx context.Context, req *Request) Reply
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, req *Request) Reply

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req *Request) Reply { return f(ctx, req) }

// Reply is the response to one request, possibly not known yet. The
// connection's writer calls Ready and then Wait, in request order.
//
// Wait returns the response header and body (without the 4-byte size,
// which the connection adds); the response must start with the request's
// correlation id. An error closes the connection after the responses
// before it are written, and is logged: that is how a handler refuses a
// request Kafka answers by disconnecting (an unknown API key, say). ctx is
// cancelled when the connection closes; Wait must then return promptly.
//
// Ready reports, without blocking, whether Wait would return at once. The
// writer keeps ready responses in its buffer to send several in one write,
// and flushes before waiting on a Reply that is not ready.
type Reply interface {
	Ready() bool
	Wait(ctx context.Context) ([]byte, error)
}

// VecReply is a Reply whose response may hold file regions (a fetch's
// record batches, sent with sendfile): the writer calls WaitVec instead of
// Wait, and writes the regions between the bytes. The writer releases the
// regions once written or failed. Discard releases what a reply the
// writer will never wait for holds (its connection closed first).
type VecReply interface {
	Reply
	WaitVec(ctx context.Context) (wire.Vec, error)
	Discard()
}

// RespondVec returns a VecReply whose response is v.
func RespondVec(v wire.Vec) VecReply { return &doneVec{v: v} }

type doneVec struct{ v wire.Vec }

func (d *doneVec) Ready() bool { return true }
func (d *doneVec) Wait(context.Context) ([]byte, error) {
	return nil, errors.New("net: a VecReply is waited for with WaitVec")
}
func (d *doneVec) WaitVec(context.Context) (wire.Vec, error) { return d.v, nil }
func (d *doneVec) Discard()                                  { d.v.ReleaseRegions() }

// WaitVec returns a VecReply that is never ready: the writer calls wait,
// in request order, for the response. Until then it holds no region.
func WaitVec(wait func(ctx context.Context) wire.Vec) VecReply { return waitVec(wait) }

type waitVec func(ctx context.Context) wire.Vec

func (w waitVec) Ready() bool { return false }
func (w waitVec) Wait(context.Context) ([]byte, error) {
	return nil, errors.New("net: a VecReply is waited for with WaitVec")
}
func (w waitVec) WaitVec(ctx context.Context) (wire.Vec, error) { return w(ctx), nil }
func (w waitVec) Discard()                                      {}

// done is a Reply known when it is made.
type done struct {
	resp []byte
	err  error
}

func (d done) Ready() bool                          { return true }
func (d done) Wait(context.Context) ([]byte, error) { return d.resp, d.err }

// Respond returns a Reply whose response is resp.
func Respond(resp []byte) Reply { return done{resp: resp} }

// Fail returns a Reply that closes the connection, logging err, once the
// responses to the requests before it are written.
func Fail(err error) Reply { return done{err: err} }

// Future is a Reply completed later, from any goroutine.
type Future struct {
	completed atomic.Bool
	done      chan struct{}
	resp      []byte
	err       error
}

// NewFuture returns a Future not yet completed.
func NewFuture() *Future { return &Future{done: make(chan struct{})} }

// Complete sets the response, or with a non-nil err fails the connection
// (see Fail). A Future is completed once; a second call panics.
func (f *Future) Complete(resp []byte, err error) {
	if !f.completed.CompareAndSwap(false, true) {
		panic("net: Future completed twice")
	}
	f.resp, f.err = resp, err
	close(f.done)
}

// Ready reports whether Complete has been called.
func (f *Future) Ready() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Wait waits for Complete or for ctx.
func (f *Future) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.done:
		return f.resp, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
