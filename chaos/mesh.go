package main

// The mesh of proxies between nodes: one link per ordered pair (from, to),
// each with a proxy to the Kafka listener (follower fetches) and one to
// the controller listener (the Raft quorum and controller requests).
// Clients never go through it; only the nodes' own dials do, redirected
// by SAMSA_TEST_DIAL_MAP.

import (
	"fmt"
	"slices"
	"strings"
)

// dialMapEnv is the broker's test seam: comma-separated from=to host:port
// pairs; every connection the node opens to another node dials `to`
// instead of `from`.
const dialMapEnv = "SAMSA_TEST_DIAL_MAP"

type link struct{ kafka, ctl *proxy }

type mesh struct {
	ids   []int
	addrs func(id int) (kafka, ctl string)
	links map[[2]int]*link // {from, to}
}

// newMesh starts a proxy for both listeners of every ordered pair of ids.
func newMesh(ids []int, addrs func(id int) (kafka, ctl string)) (*mesh, error) {
	m := &mesh{ids: ids, addrs: addrs, links: map[[2]int]*link{}}
	for _, from := range ids {
		for _, to := range ids {
			if from == to {
				continue
			}
			kafka, ctl := addrs(to)
			l := &link{}
			var err error
			if l.kafka, err = newProxy(kafka); err == nil {
				l.ctl, err = newProxy(ctl)
			}
			m.links[[2]int{from, to}] = l
			if err != nil {
				m.Close()
				return nil, err
			}
		}
	}
	return m, nil
}

// DialMap is node from's SAMSA_TEST_DIAL_MAP value: every other node's
// real addresses mapped to the proxies of the link from->to.
func (m *mesh) DialMap(from int) string {
	var pairs []string
	for _, to := range m.ids {
		if to == from {
			continue
		}
		kafka, ctl := m.addrs(to)
		l := m.links[[2]int{from, to}]
		pairs = append(pairs, kafka+"="+l.kafka.Addr(), ctl+"="+l.ctl.Addr())
	}
	return strings.Join(pairs, ",")
}

// Isolate cuts every link into and out of node id; clients still reach it.
func (m *mesh) Isolate(id int) {
	for k, l := range m.links {
		if k[0] == id || k[1] == id {
			l.kafka.Cut()
			l.ctl.Cut()
		}
	}
}

// HealAll heals every link.
func (m *mesh) HealAll() {
	for _, l := range m.links {
		l.kafka.Heal()
		l.ctl.Heal()
	}
}

// Unused lists the nodes none of whose outgoing links ever carried a
// connection: a sign that the binary does not honour SAMSA_TEST_DIAL_MAP
// and link faults would not reach it.
func (m *mesh) Unused() []int {
	var out []int
	for _, from := range m.ids {
		n := int64(0)
		for k, l := range m.links {
			if k[0] == from {
				n += l.kafka.Accepted() + l.ctl.Accepted()
			}
		}
		if n == 0 {
			out = append(out, from)
		}
	}
	slices.Sort(out)
	return out
}

// Touching sums the connections forwarded and refused on every link
// into or out of node id.
func (m *mesh) Touching(id int) (accepted, refused int64) {
	for k, l := range m.links {
		if k[0] == id || k[1] == id {
			accepted += l.kafka.Accepted() + l.ctl.Accepted()
			refused += l.kafka.Refused() + l.ctl.Refused()
		}
	}
	return accepted, refused
}

// Counts describes the connections each link carried, for the logs.
func (m *mesh) Counts() string {
	var parts []string
	for _, from := range m.ids {
		for _, to := range m.ids {
			if l := m.links[[2]int{from, to}]; l != nil {
				parts = append(parts, fmt.Sprintf("%d->%d kafka %d ctl %d", from, to, l.kafka.Accepted(), l.ctl.Accepted()))
			}
		}
	}
	return strings.Join(parts, ", ")
}

func (m *mesh) Close() {
	for _, l := range m.links {
		if l.kafka != nil {
			l.kafka.Close()
		}
		if l.ctl != nil {
			l.ctl.Close()
		}
	}
}
