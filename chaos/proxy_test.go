package main

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					c.Write([]byte(line))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line and reads it back; an error means the link is down.
func roundTrip(c net.Conn, line string) error {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && got != line+"\n" {
		return &net.OpError{Op: "echo", Err: net.UnknownNetworkError(got)}
	}
	return err
}

func dialProxy(t *testing.T, p *proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTripNew dials the proxy and round-trips one line; a refused dial
// is an error like any other.
func roundTripNew(t *testing.T, p *proxy, line string) error {
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	return roundTrip(c, line)
}

func TestProxyForwardsBytesBothWays(t *testing.T) {
	p, err := newProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := dialProxy(t, p)
	for _, line := range []string{"hello", "a second line through the same connection"} {
		if err := roundTrip(c, line); err != nil {
			t.Fatalf("%q through the proxy: %v", line, err)
		}
	}
	if p.Accepted() != 1 {
		t.Fatalf("accepted %d connections, want 1", p.Accepted())
	}
}

func TestProxyCutClosesLiveAndRefusesNewThenHealRestores(t *testing.T) {
	p, err := newProxy(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	live := dialProxy(t, p)
	if err := roundTrip(live, "before"); err != nil {
		t.Fatal(err)
	}

	p.Cut()
	if err := roundTrip(live, "after cut"); err == nil {
		t.Fatal("a live connection still carries bytes after the cut")
	}
	if err := roundTripNew(t, p, "new while cut"); err == nil {
		t.Fatal("a new connection carries bytes while the link is cut")
	}

	p.Heal()
	if err := roundTripNew(t, p, "healed"); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}

// A target that is down ends the connection instead of leaving it open.
func TestProxyClosesWhenTargetIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close()
	p, err := newProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := roundTripNew(t, p, "anyone?"); err == nil {
		t.Fatal("a connection to a stopped target carried bytes")
	}
}

func TestMeshIsolateCutsEveryLinkOfOneNodeBothWays(t *testing.T) {
	target := echoServer(t)
	m, err := newMesh([]int{1, 2, 3}, func(int) (string, string) { return target, target })
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Isolate(2)
	for from := 1; from <= 3; from++ {
		for to := 1; to <= 3; to++ {
			if from == to {
				continue
			}
			l := m.links[[2]int{from, to}]
			wantCut := from == 2 || to == 2
			for _, p := range []*proxy{l.kafka, l.ctl} {
				err := roundTripNew(t, p, "x")
				if (err != nil) != wantCut {
					t.Errorf("link %d->%d: round trip error %v, want cut=%v", from, to, err, wantCut)
				}
			}
		}
	}
	m.HealAll()
	if err := roundTripNew(t, m.links[[2]int{2, 1}].ctl, "x"); err != nil {
		t.Fatalf("after HealAll: %v", err)
	}
}

func TestDialMapSendsEveryOtherNodeThroughItsLink(t *testing.T) {
	addrs := func(id int) (string, string) {
		return fmt.Sprintf("127.0.0.1:%d", 9090+id), fmt.Sprintf("127.0.0.1:%d", 9190+id)
	}
	m, err := newMesh([]int{1, 2, 3}, addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l12, l13 := m.links[[2]int{1, 2}], m.links[[2]int{1, 3}]
	want := strings.Join([]string{
		"127.0.0.1:9092=" + l12.kafka.Addr(), "127.0.0.1:9192=" + l12.ctl.Addr(),
		"127.0.0.1:9093=" + l13.kafka.Addr(), "127.0.0.1:9193=" + l13.ctl.Addr(),
	}, ",")
	if got := m.DialMap(1); got != want {
		t.Fatalf("DialMap(1) = %s\nwant %s", got, want)
	}
}
