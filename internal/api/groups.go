package api

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Groups is the group coordinator. Every call may wait (for the group's
// rebalance, or for __consumer_offsets to be created and loaded), so
// handlers call it from a reply's wait function. Errors come back inside
// the responses, as Kafka's codes.
type Groups interface {
	// Coordinator returns the node coordinating a group, creating
	// __consumer_offsets on first use; errors wrap kerr values.
	Coordinator(ctx context.Context, group string) (int32, error)
	JoinGroup(ctx context.Context, clientID, clientHost string, req *kmsg.JoinGroupRequest) kmsg.Response
	SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) kmsg.Response
	Heartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) kmsg.Response
	LeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) kmsg.Response
	// OffsetCommit takes topics by name.
	OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) kmsg.Response
	OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) kmsg.Response
	// OffsetFetch returns one group's offsets for topics by name (nil:
	// every committed one); a consumer group member names itself and its
	// epoch (v9+, KIP-848), others pass nil and -1.
	OffsetFetch(ctx context.Context, group string, topics []kmsg.OffsetFetchRequestGroupTopic, memberID *string, memberEpoch int32) kmsg.OffsetFetchResponseGroup
	// DescribeGroup describes one group; found is false for an unknown one.
	DescribeGroup(ctx context.Context, group string) (d kmsg.DescribeGroupsResponseGroup, found bool)
	DeleteGroup(ctx context.Context, group string) kmsg.DeleteGroupsResponseGroup
	// ConsumerGroupHeartbeat handles a KIP-848 heartbeat (join, heartbeat
	// and leave of a consumer group member).
	ConsumerGroupHeartbeat(ctx context.Context, clientID, clientHost string, req *kmsg.ConsumerGroupHeartbeatRequest) kmsg.Response
	// ConsumerGroupDescribe describes one KIP-848 consumer group.
	ConsumerGroupDescribe(ctx context.Context, group string) kmsg.ConsumerGroupDescribeResponseGroup
	// ListGroups lists the groups this node coordinates, with an error
	// code if some could not be listed.
	ListGroups(ctx context.Context, states, types []string) ([]kmsg.ListGroupsResponseGroup, int16)
}

// clientHost is the client's address as Kafka shows it in group
// descriptions: "/" and the IP.
func clientHost(c *Client) string {
	host, _, err := net.SplitHostPort(c.Remote)
	if err != nil {
		host = c.Remote
	}
	return "/" + host
}

func clientID(c *Client) string {
	if c.ID == nil {
		return ""
	}
	return *c.ID
}

// waitFor answers later with fn's response.
func waitFor(fn func(ctx context.Context) kmsg.Response) reply {
	return reply{wait: fn}
}
