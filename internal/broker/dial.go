package broker

// Connections to other nodes (the quorum transport, the controller
// client, follower fetches) go through one dialer. Its address map is a
// fault-injection seam: the chaos suite (chaos/) sets SAMSA_TEST_DIAL_MAP
// so each node reaches the others through proxies it can cut, while
// clients still reach every node directly. Nothing else sets it.

import (
	"context"
	"fmt"
	stdnet "net"
	"strings"
	"time"
)

// DialMapEnv names the environment variable cmd/samsa reads into
// Config.DialMap: comma-separated from=to host:port pairs.
const DialMapEnv = "SAMSA_TEST_DIAL_MAP"

// ParseDialMap reads a DialMapEnv value.
func ParseDialMap(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		from, to, ok := strings.Cut(pair, "=")
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("%s: %q is not from=to", DialMapEnv, pair)
		}
		out[from] = to
	}
	return out, nil
}

// nodeDialer dials other nodes, through Config.DialMap's rewrites.
type nodeDialer struct {
	rewrite map[string]string
	d       stdnet.Dialer
}

func newNodeDialer(rewrite map[string]string) *nodeDialer {
	return &nodeDialer{rewrite: rewrite, d: stdnet.Dialer{Timeout: 5 * time.Second, KeepAlive: 15 * time.Second}}
}

// DialContext dials addr, or what the map sends it to.
func (n *nodeDialer) DialContext(ctx context.Context, network, addr string) (stdnet.Conn, error) {
	if to, ok := n.rewrite[addr]; ok {
		addr = to
	}
	return n.d.DialContext(ctx, network, addr)
}
