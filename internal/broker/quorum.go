package broker

// DescribeQuorum (KIP-595, KIP-836, KIP-853) from the Raft node's status:
// Raft's term is KRaft's leader epoch, its commit index the quorum's high
// watermark, a member's match index its log end offset. Only the leader
// knows the members' progress, so only it answers; the broker listener
// forwards the request to it.

import (
	"context"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/raft"
)

// metadataTopic is the metadata log's name in DescribeQuorum.
const metadataTopic = "__cluster_metadata"

func (b *Broker) describeQuorum(req *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
	st := b.quorum.Status()
	for _, t := range req.Topics {
		rt := kmsg.NewDescribeQuorumResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, quorumPartition(st, t.Topic, p.Partition))
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, v := range b.cfg.Voters {
		n := kmsg.NewDescribeQuorumResponseNode()
		n.NodeID = v.ID
		if host, port, err := net.SplitHostPort(v.Addr); err == nil {
			p, _ := strconv.Atoi(port)
			l := kmsg.NewDescribeQuorumResponseNodeListener()
			l.Name, l.Host, l.Port = "CONTROLLER", host, uint16(p)
			n.Listeners = append(n.Listeners, l)
		}
		resp.Nodes = append(resp.Nodes, n)
	}
	return resp
}

// describeQuorumRequest asks DescribeQuorum for the metadata log.
func describeQuorumRequest() *kmsg.DescribeQuorumRequest {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = metadataTopic
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	return req
}

func quorumPartition(st raft.Status, topic string, partition int32) kmsg.DescribeQuorumResponseTopicPartition {
	out := kmsg.NewDescribeQuorumResponseTopicPartition()
	out.Partition = partition
	switch {
	case topic != metadataTopic || partition != 0:
		out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return out
	case st.Role != "leader":
		out.ErrorCode = kerr.NotLeaderForPartition.Code
		return out
	}
	out.LeaderID, out.LeaderEpoch, out.HighWatermark = int32(st.Leader), int32(st.Term), int64(st.Commit)
	out.CurrentVoters = replicaStates(st.Voters, st.Commit)
	out.Observers = replicaStates(st.Learners, st.Commit)
	return out
}

func replicaStates(peers []raft.PeerStatus, commit uint64) []kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
	out := make([]kmsg.DescribeQuorumResponseTopicPartitionReplicaState, 0, len(peers))
	for _, p := range peers {
		rs := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
		rs.ReplicaID, rs.LogEndOffset = int32(p.ID), int64(p.Match)
		if !p.LastContact.IsZero() {
			rs.LastFetchTimestamp = p.LastContact.UnixMilli()
			if p.Match >= commit {
				rs.LastCaughtUpTimestamp = rs.LastFetchTimestamp
			}
		}
		out = append(out, rs)
	}
	return out
}

// forwardDescribeQuorum answers on the broker listener, from the leader.
func (b *Broker) forwardDescribeQuorum(ctx context.Context, req *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	return forward(ctx, b.ctlc, req, func(context.Context) *kmsg.DescribeQuorumResponse { return b.describeQuorum(req) })
}
