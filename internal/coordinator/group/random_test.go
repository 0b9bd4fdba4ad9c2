package group

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRandomOperations drives shards with random clients: some follow the
// protocol (join, sync as leader or follower, heartbeat, commit, leave),
// some send stale or made-up ids, time jumps, the broker restarts. After
// every step the invariants hold (leader is a member, Stable members have
// assignments, counts agree, every handle answered at most once, the
// generation never goes back except across a restart); every few steps the
// records replay into the same groups; at the end, unloading answers every
// request still parked.
func TestRandomOperations(t *testing.T) {
	for seed := uint64(1); seed <= 120; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := newRandomRun(seed)
			for step := range 250 {
				what := r.step()
				if err := r.h.apply(r.fx); err != nil {
					t.Fatalf("step %d (%s): %v", step, what, err)
				}
				r.observe()
				if err := encodable(r.fx.Responses); err != nil {
					t.Fatalf("step %d (%s): %v", step, what, err)
				}
				if step%10 == 9 {
					if _, err := r.h.compareReplay(); err != nil {
						t.Fatalf("step %d (%s): %v", step, what, err)
					}
				}
			}
			if err := r.h.apply(r.h.s.Unload(r.h.now)); err != nil {
				t.Fatal(err)
			}
			if len(r.h.parked) > 0 {
				t.Fatalf("%d requests never answered", len(r.h.parked))
			}
		})
	}
}

// fakeClient is what a consumer knows about its membership.
type fakeClient struct {
	name     string
	group    string
	instance *string
	version  int16
	protos   string
	memberID string
	gen      int32
	leader   bool
	members  []string
}

type randomRun struct {
	rng     *rand.Rand
	h       *harness
	clients []*fakeClient
	sent    map[Handle]*fakeClient
	fx      Effects
}

func newRandomRun(seed uint64) *randomRun {
	r := &randomRun{rng: rand.New(rand.NewPCG(seed, seed)), h: newHarness(), sent: map[Handle]*fakeClient{}}
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelay = time.Duration(r.rng.IntN(3)) * time.Second
	cfg.MaxSize = 2 + r.rng.IntN(4)
	cfg.NewMemberJoinTimeout = 20 * time.Second
	cfg.OffsetsRetention = time.Minute
	r.h.reset(cfg)
	protos := []string{"range:a", "range:b,roundrobin:b", "roundrobin:c,range:c", "cooperative-sticky:d,range:d"}
	for i := range 6 {
		c := &fakeClient{name: fmt.Sprintf("c%d", i), group: []string{"g1", "g2"}[i%2], protos: protos[r.rng.IntN(len(protos))]}
		if i%3 == 0 {
			inst := fmt.Sprintf("i%d", i)
			c.instance = &inst
		}
		c.version = int16(r.rng.IntN(10))
		if c.instance != nil && c.version < 5 {
			c.version = 5
		}
		r.clients = append(r.clients, c)
	}
	return r
}

// step performs one random operation and leaves its effects in r.fx.
func (r *randomRun) step() string {
	c := r.clients[r.rng.IntN(len(r.clients))]
	now := r.h.now
	switch n := r.rng.IntN(100); {
	case n < 25:
		r.fx = r.h.s.Join(now, r.send(c), Client{ID: c.name, Host: "h"}, r.join(c))
		return c.name + " join"
	case n < 40:
		r.fx = r.h.s.Sync(now, r.send(c), r.sync(c))
		return c.name + " sync"
	case n < 55:
		req := kmsg.NewPtrHeartbeatRequest()
		req.Version, req.Group, req.MemberID, req.Generation, req.InstanceID = int16(r.rng.IntN(5)), c.group, r.maybeStale(c), c.gen, c.instance
		r.fx = r.h.s.Heartbeat(now, r.send(c), req)
		return c.name + " heartbeat"
	case n < 62:
		r.fx = r.h.s.CommitOffsets(now, r.send(c), r.commit(c))
		return c.name + " commit"
	case n < 67:
		r.fx = r.h.s.Leave(now, r.send(c), r.leave(c))
		return c.name + " leave"
	case n < 85:
		r.h.now = now.Add(time.Duration(r.rng.IntN(12000)) * time.Millisecond)
		r.fx = r.h.s.Tick(r.h.now)
		return "tick"
	default:
		return r.admin(c)
	}
}

// admin performs the rare operations: cleanup, deletes, a broker restart.
func (r *randomRun) admin(c *fakeClient) string {
	now := r.h.now
	switch r.rng.IntN(4) {
	case 0:
		r.fx = r.h.s.Cleanup(now)
		return "cleanup"
	case 1:
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Groups = []string{c.group}
		r.fx = r.h.s.DeleteGroups(now, r.send(c), req)
		return "delete-groups"
	case 2:
		req := kmsg.NewPtrOffsetDeleteRequest()
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic, rt.Partitions = "t", []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
		req.Group, req.Topics = c.group, []kmsg.OffsetDeleteRequestTopic{rt}
		r.fx = r.h.s.DeleteOffsets(now, r.send(c), req)
		return "offset-delete"
	}
	s, err := r.h.replayed()
	if err != nil {
		panic(err)
	}
	r.h.s = s
	clear(r.h.parked)
	clear(r.h.gens) // a generation not yet written is lost with the broker
	r.sent = map[Handle]*fakeClient{}
	r.fx = s.Loaded(now)
	return "restart"
}

func (r *randomRun) send(c *fakeClient) Handle {
	hd, err := r.h.handle("")
	if err != nil {
		panic(err)
	}
	r.sent[hd] = c
	return hd
}

// maybeStale mostly returns the client's member id, sometimes a wrong one.
func (r *randomRun) maybeStale(c *fakeClient) string {
	switch r.rng.IntN(20) {
	case 0:
		return "stale-" + c.name
	case 1:
		return ""
	}
	return c.memberID
}

func (r *randomRun) join(c *fakeClient) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.MemberID, req.InstanceID = c.version, c.group, r.maybeStale(c), c.instance
	req.SessionTimeoutMillis = int32(6000 + r.rng.IntN(6000))
	req.RebalanceTimeoutMillis = int32(1000 + r.rng.IntN(15000))
	req.ProtocolType = "consumer"
	a := args{"protos": c.protos}
	if r.rng.IntN(10) == 0 { // a change of metadata
		a["protos"] = fmt.Sprintf("range:%d", r.rng.IntN(3))
	}
	req.Protocols = a.protocols("")
	return req
}

func (r *randomRun) sync(c *fakeClient) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version, req.Group, req.MemberID, req.InstanceID = int16(r.rng.IntN(6)), c.group, r.maybeStale(c), c.instance
	req.Generation = c.gen
	if c.leader {
		for _, m := range c.members {
			if r.rng.IntN(5) > 0 {
				req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: []byte(c.name)})
			}
		}
	}
	return req
}

func (r *randomRun) commit(c *fakeClient) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID, req.InstanceID = 9, c.group, r.maybeStale(c), c.instance
	req.Generation = c.gen
	if r.rng.IntN(4) == 0 { // a simple consumer
		req.Generation, req.MemberID, req.InstanceID = -1, "", nil
	}
	p := kmsg.NewOffsetCommitRequestTopicPartition()
	p.Partition, p.Offset = int32(r.rng.IntN(2)), int64(r.rng.IntN(1000))
	req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: []string{"t", "u"}[r.rng.IntN(2)], Partitions: []kmsg.OffsetCommitRequestTopicPartition{p}}}
	return req
}

func (r *randomRun) leave(c *fakeClient) *kmsg.LeaveGroupRequest {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version, req.Group, req.MemberID = int16(r.rng.IntN(6)), c.group, r.maybeStale(c)
	m := kmsg.NewLeaveGroupRequestMember()
	m.MemberID, m.InstanceID = req.MemberID, c.instance
	if c.instance != nil && r.rng.IntN(3) == 0 { // by instance id alone
		m.MemberID = ""
	}
	req.Members = []kmsg.LeaveGroupRequestMember{m}
	return req
}

// observe updates the clients from the responses, as real clients would.
func (r *randomRun) observe() {
	for _, resp := range r.fx.Responses {
		c := r.sent[resp.Handle]
		delete(r.sent, resp.Handle)
		if c == nil {
			continue
		}
		switch m := resp.Msg.(type) {
		case *kmsg.JoinGroupResponse:
			r.observeJoin(c, m)
		case *kmsg.HeartbeatResponse:
			r.observeError(c, m.ErrorCode)
		case *kmsg.SyncGroupResponse:
			r.observeError(c, m.ErrorCode)
		}
	}
}

func (r *randomRun) observeJoin(c *fakeClient, m *kmsg.JoinGroupResponse) {
	switch m.ErrorCode {
	case 0:
		c.memberID, c.gen, c.leader = m.MemberID, m.Generation, m.LeaderID == m.MemberID
		c.members = c.members[:0]
		for _, jm := range m.Members {
			c.members = append(c.members, jm.MemberID)
		}
	case kerr.MemberIDRequired.Code:
		c.memberID = m.MemberID
	default:
		r.observeError(c, m.ErrorCode)
	}
}

func (r *randomRun) observeError(c *fakeClient, code int16) {
	switch code {
	case kerr.UnknownMemberID.Code, kerr.FencedInstanceID.Code:
		c.memberID, c.gen, c.leader = "", 0, false
	}
}

// encodable checks that every response encodes at its version and decodes
// back to the same bytes.
func encodable(rs []Response) error {
	for _, r := range rs {
		b := r.Msg.AppendTo(nil)
		back := r.Msg.RequestKind().ResponseKind()
		back.SetVersion(r.Msg.GetVersion())
		if err := back.ReadFrom(b); err != nil {
			return fmt.Errorf("%T v%d does not decode: %w", r.Msg, r.Msg.GetVersion(), err)
		}
		if again := back.AppendTo(nil); !bytes.Equal(again, b) {
			return fmt.Errorf("%T v%d does not round-trip", r.Msg, r.Msg.GetVersion())
		}
	}
	return nil
}
