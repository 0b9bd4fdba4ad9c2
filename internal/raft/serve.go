package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// handshakeTimeout bounds reading the preface and the hello of an inbound
// connection.
const handshakeTimeout = 10 * time.Second

// ServeConn serves one inbound quorum connection whose Preface the caller
// has already read and checked. It reads the peer's hello and refuses, with
// a log line, a peer of another cluster or one that addressed another node;
// then it hands each message to n until the peer closes the connection, a
// frame is bad (logged), or n stops. It closes conn and returns nil when
// the peer closed it or n stopped. Run it on a goroutine of its own.
func ServeConn(conn net.Conn, n *Node, clusterID string) error {
	defer conn.Close()
	finished := make(chan struct{})
	defer close(finished)
	go func() { // unblocks the read below when the node stops
		select {
		case <-n.done:
			conn.Close()
		case <-finished:
		}
	}()
	log := n.log.With("remote", conn.RemoteAddr().String())
	h, err := acceptHello(conn, n.ID(), clusterID, log)
	if err != nil {
		return err
	}
	err = receive(conn, n, h.from, log.With("peer", h.from))
	if n.stopped() {
		return nil
	}
	return err
}

// acceptHello reads the hello and answers it.
func acceptHello(conn net.Conn, self uint64, clusterID string, log *slog.Logger) (hello, error) {
	if err := conn.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return hello{}, err
	}
	h, err := readHello(conn)
	if err != nil {
		log.Warn("raft: bad hello", "err", err)
		return hello{}, err
	}
	status := checkHello(h, self, clusterID)
	if _, err := conn.Write([]byte{status}); err != nil {
		return hello{}, err
	}
	if status != helloOK {
		err := fmt.Errorf("raft: connection from node %d %s", h.from, helloStatusText(status))
		log.Warn("raft: connection refused", "peer", h.from, "peer_cluster", h.clusterID,
			"cluster", clusterID, "addressed_to", h.to, "why", helloStatusText(status))
		return hello{}, err
	}
	return h, conn.SetDeadline(time.Time{})
}

// receive steps each message from peer `from` into n.
func receive(conn net.Conn, n *Node, from uint64, log *slog.Logger) error {
	var buf []byte
	warned := false
	for {
		m, b, err := readFrame(conn, buf)
		if buf = b; cap(buf) > keepBuf {
			buf = nil
		}
		if errors.Is(err, io.EOF) {
			return nil // the peer closed the connection between frames
		}
		if err != nil {
			if !n.stopped() {
				log.Warn("raft: closing connection", "err", err)
			}
			return err
		}
		if why := acceptable(m, from, n.ID()); why != "" {
			level := slog.LevelDebug
			if !warned {
				level, warned = slog.LevelWarn, true
			}
			log.Log(context.Background(), level, "raft: message dropped", "why", why,
				"type", m.GetType(), "from", m.GetFrom(), "to", m.GetTo())
			continue
		}
		if err := n.Step(context.Background(), m); err != nil {
			return err
		}
	}
}

// Serve accepts quorum connections on a listener of their own until ln is
// closed, reads each one's Preface and serves it with ServeConn. When ln
// fails it closes the connections it serves and waits for them.
func Serve(ln net.Listener, n *Node, clusterID string) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		mu.Lock()
		conns[conn] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			serveAccepted(conn, n, clusterID)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		})
	}
}

// serveAccepted checks a new connection's Preface and serves it.
func serveAccepted(conn net.Conn, n *Node, clusterID string) {
	if err := ReadPreface(conn); err != nil {
		n.log.Warn("raft: not a quorum connection", "remote", conn.RemoteAddr().String(), "err", err)
		conn.Close()
		return
	}
	ServeConn(conn, n, clusterID) // logs its own failures
}

// ReadPreface reads len(Preface) bytes from conn, within a deadline, and
// fails unless they are Preface.
func ReadPreface(conn net.Conn) error {
	if err := conn.SetReadDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return err
	}
	var b [len(Preface)]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return fmt.Errorf("raft: read preface: %w", err)
	}
	if string(b[:]) != Preface {
		return fmt.Errorf("raft: preface %x, want %x", b[:], Preface)
	}
	return conn.SetReadDeadline(time.Time{})
}
