package net

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

// smallBufListener shrinks each accepted socket's send buffer, so that
// large writes and sendfile calls come back short and wait on the
// netpoller.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return nc, err
}

// regionFiles is a real file (sent with sendfile) and an in-memory one
// (read and copied), both holding content.
func regionFiles(t *testing.T, size int) (content []byte, osFile *os.File, memFile *bytes.Reader) {
	t.Helper()
	content = make([]byte, size)
	for i := range content {
		content[i] = byte(rand.Uint32())
	}
	name := filepath.Join(t.TempDir(), "segment")
	if err := os.WriteFile(name, content, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return content, f, bytes.NewReader(content)
}

// vecFor builds a response to corr of byte chunks and regions of both
// files at random places, and the bytes it must arrive as.
func vecFor(corr int32, content []byte, files [2]io.ReaderAt, maxRegion int, released *atomic.Int32, made *atomic.Int32) (wire.Vec, []byte) {
	var v wire.Vec
	v.Bytes = binary.BigEndian.AppendUint32(nil, uint32(corr))
	for range rand.IntN(4) {
		v.Bytes = append(v.Bytes, bytes.Repeat([]byte{byte(corr)}, rand.IntN(100))...)
		n := rand.IntN(maxRegion)
		off := rand.IntN(len(content) - n + 1)
		made.Add(1)
		v.Cuts = append(v.Cuts, len(v.Bytes))
		v.Regions = append(v.Regions, wire.NewRegion(files[rand.IntN(2)], int64(off), n, 0, func() { released.Add(1) }))
	}
	v.Bytes = append(v.Bytes, "tail"...)
	want, err := v.AppendTo(nil)
	if err != nil {
		panic(err)
	}
	return v, want
}

// Pipelined responses mixing bytes, regions sent with sendfile and
// regions copied from an in-memory file, some ready and some waited for,
// arrive in request order, byte for byte, through a send buffer small
// enough that every large region is written in many short pieces; every
// region is released, and the hook counts the regions' bytes.
func TestVecRepliesArriveInOrder(t *testing.T) {
	content, osFile, memFile := regionFiles(t, 4<<20)
	files := [2]io.ReaderAt{osFile, memFile}
	var released, made atomic.Int32
	var sent atomic.Int64
	wants := make(chan []byte, 1000)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Hooks: Hooks{ResponseSent: func(_ *ConnInfo, _ *wire.RequestHeader, n int, _ time.Duration) { sent.Add(int64(n)) }}}
	ts := serveOn(t, smallBufListener{ln}, cfg, HandlerFunc(func(_ context.Context, req *Request) Reply {
		corr := req.Header.CorrelationID
		maxRegion := 2000
		if corr%10 == 0 {
			maxRegion = 1 << 20
		}
		if corr%3 == 2 { // a plain reply among them
			b := append(echo(req), "plain"...)
			wants <- b
			return Respond(b)
		}
		v, want := vecFor(corr, content, files, maxRegion, &released, &made)
		wants <- want
		if corr%3 == 0 {
			return RespondVec(v)
		}
		return WaitVec(func(context.Context) wire.Vec {
			time.Sleep(rand.N(time.Millisecond))
			return v
		})
	}))
	c := dial(t, ts.addr)
	const n = 100
	var frames [][]byte
	for i := range n {
		frames = append(frames, metadata(int32(i), "x"))
	}
	sendErr := make(chan error, 1)
	go func() { sendErr <- writeInPieces(c.nc, bytes.Join(frames, nil)) }()
	total := int64(0)
	for i := range n {
		corr, body, err := c.recv()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		want := <-wants
		if corr != int32(i) || !bytes.Equal(body, want[4:]) {
			t.Fatalf("response %d (correlation %d): %d bytes, want %d, equal %v", i, corr, len(body), len(want)-4, bytes.Equal(body, want[4:]))
		}
		total += int64(len(want) + 4)
	}
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every region released", func() bool { return released.Load() == made.Load() })
	waitFor(t, "the hook counting every byte", func() bool { return sent.Load() == total })
}

// A client that goes away in the middle of a large response fails the
// write; the region being written, those of the responses queued behind
// it and those of later ready replies are all released.
func TestRegionsReleasedWhenTheConnectionCloses(t *testing.T) {
	_, osFile, memFile := regionFiles(t, 8<<20)
	var released, made atomic.Int32
	region := func(f io.ReaderAt) *wire.Region {
		made.Add(1)
		return wire.NewRegion(f, 0, 8<<20, 0, func() { released.Add(1) })
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := serveOn(t, smallBufListener{ln}, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
		vec := func() wire.Vec {
			return wire.Vec{Bytes: binary.BigEndian.AppendUint32(nil, uint32(req.Header.CorrelationID)), Cuts: []int{4, 4},
				Regions: []*wire.Region{region(osFile), region(memFile)}}
		}
		if req.Header.CorrelationID%2 == 1 {
			return WaitVec(func(context.Context) wire.Vec { return vec() }) // regions made when waited for
		}
		return RespondVec(vec())
	}))
	c := dial(t, ts.addr)
	c.send(t, metadata(0, ""), metadata(1, ""), metadata(2, ""), metadata(3, ""))
	c.nc.SetReadDeadline(time.Now().Add(patience))
	if _, err := io.ReadFull(c.br, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	c.nc.Close()
	waitFor(t, "the connection closed", func() bool {
		_, ok := ts.logLine("closing connection")
		return ok
	})
	// The waited-for replies the writer never reached made no region.
	waitFor(t, "every region made released", func() bool { return released.Load() == made.Load() })
	if made.Load() < 4 {
		t.Fatalf("only %d regions made", made.Load())
	}
}

// A region longer than its file (truncated under it) cannot be sent as
// the frame's size promised: the connection closes, and the region is
// released.
func TestRegionPastTheFileEndClosesTheConnection(t *testing.T) {
	for _, name := range []string{"sendfile", "copy"} {
		t.Run(name, func(t *testing.T) {
			_, osFile, memFile := regionFiles(t, 64<<10)
			f := io.ReaderAt(osFile)
			if name == "copy" {
				f = memFile
			}
			var released atomic.Int32
			ts := startServer(t, Config{}, HandlerFunc(func(_ context.Context, req *Request) Reply {
				v := wire.Vec{Bytes: binary.BigEndian.AppendUint32(nil, uint32(req.Header.CorrelationID)), Cuts: []int{4}}
				v.Regions = []*wire.Region{wire.NewRegion(f, 32<<10, 64<<10, 0, func() { released.Add(1) })}
				return RespondVec(v)
			}))
			c := dial(t, ts.addr)
			c.send(t, metadata(0, ""))
			c.nc.SetReadDeadline(time.Now().Add(patience))
			got, _ := io.ReadAll(c.br)
			if len(got) >= 4+4+64<<10 {
				t.Fatalf("got a whole response of %d bytes from a short file", len(got))
			}
			waitFor(t, "the region released", func() bool { return released.Load() == 1 })
		})
	}
}
