package group

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// optional returns nil for "" (Kafka's Optional.empty()).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func joinError(memberID string, code int16) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.ErrorCode = code
	resp.MemberID = memberID
	return resp
}

// joinResponse is a successful JoinGroup answer for the current generation.
func (g *Group) joinResponse(memberID string, skipAssignment bool) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.MemberID = memberID
	resp.Generation = g.generation
	resp.ProtocolType = optional(g.protocolType)
	resp.Protocol = optional(g.protocol)
	resp.LeaderID = g.leader
	resp.SkipAssignment = skipAssignment
	return resp
}

// joinMembers is the member list the leader gets: every member's metadata
// for the selected protocol, in join order.
func (g *Group) joinMembers() []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(g.order))
	for _, id := range g.order {
		m := g.members[id]
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = id
		jm.InstanceID = m.instance
		jm.ProtocolMetadata = m.metadata(g.protocol)
		out = append(out, jm)
	}
	return out
}

func syncError(code int16) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.ErrorCode = code
	resp.MemberAssignment = []byte{}
	return resp
}

func (g *Group) syncResponse(m *member) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.ProtocolType = optional(g.protocolType)
	resp.Protocol = optional(g.protocol)
	resp.MemberAssignment = m.assignment
	return resp
}

func heartbeatResponse(version int16, code int16) *kmsg.HeartbeatResponse {
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.Version = version
	resp.ErrorCode = code
	return resp
}
