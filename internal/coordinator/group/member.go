package group

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// protocol is one (name, metadata) pair a member supports, in its order of
// preference.
type protocol struct {
	name     string
	metadata []byte
}

// protocolsOf copies a JoinGroup's protocols, keeping the first of any
// repeated name so that the group's support counts stay right.
func protocolsOf(ps []kmsg.JoinGroupRequestProtocol) []protocol {
	out := make([]protocol, 0, len(ps))
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		out = append(out, protocol{name: p.Name, metadata: bytes.Clone(p.Metadata)})
	}
	return out
}

// waiter is a request parked until the group answers it.
type waiter struct {
	h       Handle
	version int16
}

// member is one member of a classic group.
type member struct {
	id                     string
	instance               *string // group.instance.id of a static member
	clientID, clientHost   string
	rebalanceMs, sessionMs int32
	protocolType           string
	protocols              []protocol
	assignment             []byte

	join *waiter // a JoinGroup awaiting the end of the join phase
	sync *waiter // a SyncGroup awaiting the leader's assignment

	isNew    bool      // joined in the current join phase
	deadline time.Time // heartbeat (session) deadline; zero if none
}

func (m *member) static() bool { return m.instance != nil }

// matches reports whether ps are the member's protocols, in the same order
// with the same metadata.
func (m *member) matches(ps []protocol) bool {
	if len(ps) != len(m.protocols) {
		return false
	}
	for i, p := range ps {
		if p.name != m.protocols[i].name || !bytes.Equal(p.metadata, m.protocols[i].metadata) {
			return false
		}
	}
	return true
}

// metadata returns the member's metadata for protocol name.
func (m *member) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

// vote returns the member's most preferred protocol among candidates.
func (m *member) vote(candidates map[string]bool) string {
	for _, p := range m.protocols {
		if candidates[p.name] {
			return p.name
		}
	}
	return ""
}
