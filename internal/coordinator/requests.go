package coordinator

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/group"
)

// do runs fn on the shard of groupID and waits for its response. A group
// this node does not coordinate gets NOT_COORDINATOR, and a missing
// __consumer_offsets is created first.
func (c *Coordinator) do(ctx context.Context, groupID string, req kmsg.Request, fn opFunc) kmsg.Response {
	if err := c.ensureTopic(ctx); err != nil {
		return errorResponse(req, codeOf(err))
	}
	s, ok := c.rt.ledShard(c.partitionFor(groupID))
	if !ok {
		return errorResponse(req, kerr.NotCoordinator.Code)
	}
	return c.submit(ctx, s, req, fn)
}

// submit queues fn on shard s and waits for its response.
func (c *Coordinator) submit(ctx context.Context, s *shard, req kmsg.Request, fn opFunc) kmsg.Response {
	op := operation{call: newCall(req), fn: fn}
	r, err := s.submit(ctx, c.rt.stop, op, op.resp)
	if err != nil {
		return errorResponse(req, submitCode(err))
	}
	return r
}

// submitCode is the error code of a request submit did not answer:
// COORDINATOR_NOT_AVAILABLE when its context ended, else NOT_COORDINATOR.
func submitCode(err error) int16 {
	if stopped(err) {
		return kerr.NotCoordinator.Code
	}
	return kerr.CoordinatorNotAvailable.Code
}

// read runs a read-only fn on the group's shard.
func (c *Coordinator) read(ctx context.Context, groupID string, req kmsg.Request, fn func(s *group.Shard) kmsg.Response) kmsg.Response {
	return c.do(ctx, groupID, req, func(s *group.Shard, _ time.Time, h group.Handle) group.Effects {
		return group.Effects{Responses: []group.Response{{Handle: h, Msg: fn(s)}}}
	})
}

func codeOf(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.CoordinatorNotAvailable.Code
}

// JoinGroup handles a JoinGroup from a client (id and host as Kafka shows
// them); it returns once the rebalance answers it.
func (c *Coordinator) JoinGroup(ctx context.Context, clientID, host string, req *kmsg.JoinGroupRequest) kmsg.Response {
	cl := group.Client{ID: clientID, Host: host}
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.Join(now, h, cl, req)
	})
}

// SyncGroup handles a SyncGroup.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) kmsg.Response {
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.Sync(now, h, req)
	})
}

// Heartbeat handles a Heartbeat.
func (c *Coordinator) Heartbeat(ctx context.Context, req *kmsg.HeartbeatRequest) kmsg.Response {
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.Heartbeat(now, h, req)
	})
}

// LeaveGroup handles a LeaveGroup.
func (c *Coordinator) LeaveGroup(ctx context.Context, req *kmsg.LeaveGroupRequest) kmsg.Response {
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.Leave(now, h, req)
	})
}

// OffsetCommit handles an OffsetCommit whose topics are named.
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) kmsg.Response {
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.CommitOffsets(now, h, req)
	})
}

// OffsetDelete handles an OffsetDelete.
func (c *Coordinator) OffsetDelete(ctx context.Context, req *kmsg.OffsetDeleteRequest) kmsg.Response {
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.DeleteOffsets(now, h, req)
	})
}

// OffsetFetch answers one group's committed offsets (nil topics: all); a
// consumer group member names itself and its epoch (nil and -1 otherwise).
func (c *Coordinator) OffsetFetch(ctx context.Context, groupID string, topics []kmsg.OffsetFetchRequestGroupTopic, memberID *string, epoch int32) kmsg.OffsetFetchResponseGroup {
	return c.fetchOffsets(ctx, groupID, topics, func(s *group.Shard) kmsg.OffsetFetchResponseGroup {
		return s.FetchOffsets(groupID, topics, memberID, epoch)
	})
}

// fetchOffsets answers one group's offsets with fetch, run on its shard.
func (c *Coordinator) fetchOffsets(ctx context.Context, groupID string, topics []kmsg.OffsetFetchRequestGroupTopic, fetch func(s *group.Shard) kmsg.OffsetFetchResponseGroup) kmsg.OffsetFetchResponseGroup {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	req.Groups = []kmsg.OffsetFetchRequestGroup{{Group: groupID, Topics: topics}}
	r := c.read(ctx, groupID, req, func(s *group.Shard) kmsg.Response {
		resp := kmsg.NewPtrOffsetFetchResponse()
		resp.Groups = []kmsg.OffsetFetchResponseGroup{fetch(s)}
		return resp
	})
	return r.(*kmsg.OffsetFetchResponse).Groups[0]
}

// DescribeGroup describes one group; found is false for an unknown one.
func (c *Coordinator) DescribeGroup(ctx context.Context, groupID string) (kmsg.DescribeGroupsResponseGroup, bool) {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{groupID}
	found := false
	r := c.read(ctx, groupID, req, func(s *group.Shard) kmsg.Response {
		resp := kmsg.NewPtrDescribeGroupsResponse()
		d, ok := s.Describe(groupID)
		found = ok
		resp.Groups = []kmsg.DescribeGroupsResponseGroup{d}
		return resp
	})
	d := r.(*kmsg.DescribeGroupsResponse).Groups[0]
	return d, found || d.ErrorCode != 0
}

// DeleteGroup deletes one empty group and its offsets.
func (c *Coordinator) DeleteGroup(ctx context.Context, groupID string) kmsg.DeleteGroupsResponseGroup {
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Groups = []string{groupID}
	r := c.do(ctx, groupID, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.DeleteGroups(now, h, req)
	})
	return r.(*kmsg.DeleteGroupsResponse).Groups[0]
}

// ListGroups lists the groups of every shard this node coordinates.
func (c *Coordinator) ListGroups(ctx context.Context, states, types []string) ([]kmsg.ListGroupsResponseGroup, int16) {
	if !c.topicExists() {
		return nil, 0
	}
	var out []kmsg.ListGroupsResponseGroup
	code := int16(0)
	t := c.rt.topicMeta()
	for p := range int32(len(t.Partitions)) {
		if t.Partitions[p].Leader != c.cfg.NodeID {
			continue
		}
		s, ok := c.rt.ledShard(p)
		if !ok {
			code = kerr.NotCoordinator.Code
			continue
		}
		req := kmsg.NewPtrListGroupsRequest()
		r := c.submit(ctx, s, req, func(st *group.Shard, _ time.Time, h group.Handle) group.Effects {
			resp := kmsg.NewPtrListGroupsResponse()
			resp.Groups = st.List(states, types)
			return group.Effects{Responses: []group.Response{{Handle: h, Msg: resp}}}
		}).(*kmsg.ListGroupsResponse)
		if r.ErrorCode != 0 {
			code = r.ErrorCode
			continue
		}
		out = append(out, r.Groups...)
	}
	slices.SortFunc(out, func(a, b kmsg.ListGroupsResponseGroup) int {
		if a.Group < b.Group {
			return -1
		}
		if a.Group > b.Group {
			return 1
		}
		return 0
	})
	return out, code
}

// ConsumerGroupHeartbeat handles a KIP-848 ConsumerGroupHeartbeat; the
// group's subscriptions resolve against the current metadata image.
func (c *Coordinator) ConsumerGroupHeartbeat(ctx context.Context, clientID, host string, req *kmsg.ConsumerGroupHeartbeatRequest) kmsg.Response {
	cl := group.Client{ID: clientID, Host: host}
	topics := c.topics()
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.ConsumerHeartbeat(now, h, cl, topics, req)
	})
}

// ConsumerGroupDescribe describes one consumer group.
func (c *Coordinator) ConsumerGroupDescribe(ctx context.Context, groupID string) kmsg.ConsumerGroupDescribeResponseGroup {
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{groupID}
	topics := c.topics()
	r := c.read(ctx, groupID, req, func(s *group.Shard) kmsg.Response {
		resp := kmsg.NewPtrConsumerGroupDescribeResponse()
		resp.Groups = []kmsg.ConsumerGroupDescribeResponseGroup{s.ConsumerDescribe(groupID, topics)}
		return resp
	})
	return r.(*kmsg.ConsumerGroupDescribeResponse).Groups[0]
}
