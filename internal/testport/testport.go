// Package testport picks loopback addresses for servers that tests start
// as separate processes.
//
// A port taken with Listen(":0") and closed again comes from the kernel's
// ephemeral range, the same range the kernel hands out to outgoing
// connections. Between closing it and the child process binding it (or
// rebinding it after a kill -9), any outgoing connection on the machine may
// take it, and the child fails with "address already in use". The ports
// picked here lie outside that range, so only another listener can take
// them.
package testport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// given remembers the ports this process handed out, so that two servers
// started by one test never get the same port.
var given struct {
	sync.Mutex
	ports map[int]bool
}

// low and high bound the ports handed out: above the well-known and
// registered ports most services listen on, below any ephemeral range.
const (
	low  = 20000
	high = 32767
)

// Addr returns "127.0.0.1:port" for a port that was free a moment ago and
// lies outside the kernel's ephemeral port range.
func Addr() (string, error) {
	lo, hi := ephemeralRange()
	for range 200 {
		p := low + rand.IntN(high-low+1)
		if (p >= lo && p <= hi) || !take(p) {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr, nil
	}
	// The ephemeral range covers ours (or every pick was taken): fall back
	// to a port the kernel picks, with the race described above.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("testport: no free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// take marks p as handed out, reporting false if it already was.
func take(p int) bool {
	given.Lock()
	defer given.Unlock()
	if given.ports[p] {
		return false
	}
	if given.ports == nil {
		given.ports = map[int]bool{}
	}
	given.ports[p] = true
	return true
}

// Port is Addr's port number.
func Port() (int, error) {
	addr, err := Addr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(addr)
	return strconv.Atoi(p)
}

// ephemeralRange reads Linux's ip_local_port_range; elsewhere it assumes
// the IANA range 49152-65535.
func ephemeralRange() (int, int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152, 65535
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 49152, 65535
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return 49152, 65535
	}
	return lo, hi
}
