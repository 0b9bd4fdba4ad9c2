package testport

import (
	"net"
	"strconv"
	"testing"
)

func TestAddrIsFreeAndOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := ephemeralRange()
	seen := map[string]bool{}
	for range 20 {
		addr, err := Addr()
		if err != nil {
			t.Fatal(err)
		}
		_, ps, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(ps)
		if p < low || p > high || (p >= lo && p <= hi) {
			t.Fatalf("port %d: want %d-%d outside %d-%d", p, low, high, lo, hi)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s was handed out but cannot be bound: %v", addr, err)
		}
		ln.Close()
		seen[addr] = true
	}
	if len(seen) < 2 {
		t.Fatalf("20 picks gave %d distinct ports", len(seen))
	}
}
