package net

import (
	"bufio"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/wire"
)

// BenchmarkPipelined100 measures round trips of small requests (a 22-byte
// frame, a 4-byte response) on one loopback connection, with the client
// keeping 100 requests in flight, as a producer pipelining does.
func BenchmarkPipelined100(b *testing.B) {
	const depth = 100
	ts := startServer(b, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, echoHandler)
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	window := make(chan struct{}, depth)
	sent := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { sent <- sendWindowed(nc, b.N, window) }()
	br := bufio.NewReaderSize(nc, 64<<10)
	for i := range b.N {
		resp, err := wire.ReadFrame(br, 1<<20, nil)
		if err != nil {
			b.Fatal(err)
		}
		if got := int32(binary.BigEndian.Uint32(resp)); got != int32(i) {
			b.Fatalf("response %d, want %d", got, i)
		}
		<-window
	}
	elapsed := time.Since(start)
	if err := <-sent; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "round-trips/s")
}

// sendWindowed writes n requests, holding a window slot for each and
// flushing whenever the window is full.
func sendWindowed(nc net.Conn, n int, window chan struct{}) error {
	bw := bufio.NewWriterSize(nc, 64<<10)
	frame := metadata(0, "")
	for i := range n {
		select {
		case window <- struct{}{}:
		default:
			if err := bw.Flush(); err != nil {
				return err
			}
			window <- struct{}{}
		}
		binary.BigEndian.PutUint32(frame[8:], uint32(i))
		if _, err := bw.Write(frame); err != nil {
			return err
		}
	}
	return bw.Flush()
}
