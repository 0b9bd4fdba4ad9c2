package broker

// Connections to other nodes (the quorum transport, the controller
// client, follower fetches) go through one dialer. Its address map is a
// fault-injection seam: the chaos suite (chaos/) sets SAMSA_TEST_DIAL_MAP
// so each node reaches the others through proxies it can cut, while
// clients still reach every node directly. Nothing else sets it.
// Config.Dial, when set, replaces the network dial itself: samsatest
// routes an in-process cluster's node-to-node connections through it.

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

// DialFunc dials a network address (Config.Dial).
type DialFunc func(ctx context.Context, network, addr string) (stdnet.Conn, error)

// nodeDialer dials other nodes, through Config.DialMap's rewrites and
// then Config.Dial when set (samsatest cuts and pauses links with it).
type nodeDialer struct {
	rewrite map[string]string
	dial    DialFunc
	d       stdnet.Dialer
}

func newNodeDialer(rewrite map[string]string, dial DialFunc) *nodeDialer {
	return &nodeDialer{rewrite: rewrite, dial: dial, d: stdnet.Dialer{Timeout: 5 * time.Second, KeepAlive: 15 * time.Second}}
}

// DialContext dials addr, or what the map sends it to.
func (n *nodeDialer) DialContext(ctx context.Context, network, addr string) (stdnet.Conn, error) {
	if to, ok := n.rewrite[addr]; ok {
		addr = to
	}
	if n.dial != nil {
		return n.dial(ctx, network, addr)
	}
	return n.d.DialContext(ctx, network, addr)
}
