package broker_test

// Protocol-level tests of the group APIs' version rules against a live
// node; the client-level tests are in samsatest/groups_test.go.

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// call sends req at version on its own connection and decodes into resp.
func call(t *testing.T, e *env, req kmsg.Request, version int16, resp kmsg.Response) {
	t.Helper()
	body, closed := exchange(t, e.cl.OptValue(kgo.SeedBrokers).([]string)[0], frame(req, version))
	if closed {
		t.Fatalf("key %d v%d closed the connection", req.Key(), version)
	}
	resp.SetVersion(version)
	if resp.IsFlexible() {
		body = body[1:] // the response header's tagged fields
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
}

func TestFindCoordinatorVersions(t *testing.T) {
	e := newEnv(t)
	old := kmsg.NewPtrFindCoordinatorRequest()
	old.CoordinatorKey = "g"
	r0 := kmsg.NewPtrFindCoordinatorResponse()
	call(t, e, old, 0, r0)
	if r0.ErrorCode != 0 || r0.NodeID != 1 || r0.Port == 0 || r0.Host == "" {
		t.Fatalf("v0: %+v", r0)
	}
	batched := kmsg.NewPtrFindCoordinatorRequest()
	batched.CoordinatorKeys = []string{"a", "b"}
	r4 := kmsg.NewPtrFindCoordinatorResponse()
	call(t, e, batched, 4, r4)
	if len(r4.Coordinators) != 2 || r4.Coordinators[0].Key != "a" || r4.Coordinators[1].ErrorCode != 0 || r4.Coordinators[1].Port != r0.Port {
		t.Fatalf("v4: %+v", r4.Coordinators)
	}
	batched.CoordinatorType = 1 // transactions: this node, __transaction_state created
	call(t, e, batched, 4, r4)
	if r4.Coordinators[0].ErrorCode != 0 || r4.Coordinators[0].NodeID != 1 || r4.Coordinators[0].Port != r0.Port {
		t.Fatalf("transaction coordinator: %+v", r4.Coordinators[0])
	}
	if md, err := e.adm.Metadata(e.ctx, "__transaction_state"); err != nil || len(md.Topics["__transaction_state"].Partitions) != 50 {
		t.Fatalf("__transaction_state after FindCoordinator: %v %v", md.Topics["__transaction_state"], err)
	}
	// The first FindCoordinator created __consumer_offsets as Kafka does.
	md, err := e.adm.Metadata(e.ctx, "__consumer_offsets")
	if err != nil || len(md.Topics["__consumer_offsets"].Partitions) != 50 || !md.Topics["__consumer_offsets"].IsInternal {
		t.Fatalf("__consumer_offsets after FindCoordinator: %v %v", md.Topics["__consumer_offsets"], err)
	}
	cfg, err := e.adm.DescribeTopicConfigs(e.ctx, "__consumer_offsets")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := cfg.On("__consumer_offsets", nil)
	for name, want := range map[string]string{"cleanup.policy": "compact", "compression.type": "producer", "segment.bytes": "104857600"} {
		got := ""
		for _, c := range rc.Configs {
			if c.Key == name && c.Value != nil {
				got = *c.Value
			}
		}
		if got != want {
			t.Errorf("__consumer_offsets %s = %q, want %q", name, got, want)
		}
	}
}

func TestGroupVersionRules(t *testing.T) {
	e := newEnv(t)
	// KIP-394: from v4 a new dynamic member is given an id to rejoin with.
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = "vg", 10000, 10000, "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", []byte{0, 0, 0, 0, 0, 0, 0, 0}
	join.Protocols = append(join.Protocols, p)
	jr := kmsg.NewPtrJoinGroupResponse()
	call(t, e, join, 4, jr)
	if jr.ErrorCode != kerr.MemberIDRequired.Code || jr.MemberID == "" {
		t.Fatalf("JoinGroup v4 without a member id: %+v", jr)
	}
	// KIP-1043: DescribeGroups v6 says an unknown group is not found;
	// earlier versions show it Dead.
	desc := kmsg.NewPtrDescribeGroupsRequest()
	desc.Groups = []string{"nobody"}
	dr := kmsg.NewPtrDescribeGroupsResponse()
	call(t, e, desc, 5, dr)
	if dr.Groups[0].ErrorCode != 0 || dr.Groups[0].State != "Dead" {
		t.Fatalf("DescribeGroups v5 of an unknown group: %+v", dr.Groups[0])
	}
	call(t, e, desc, 6, dr)
	if dr.Groups[0].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("DescribeGroups v6 of an unknown group: %+v", dr.Groups[0])
	}
}

func TestOffsetsByTopicID(t *testing.T) {
	e := newEnv(t)
	id := e.create("ids", 2, nil).ID
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Group, commit.Generation = "byid", -1
	for _, tid := range [][16]byte{id, {1}} {
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.TopicID = tid
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Partition, cp.Offset, cp.LeaderEpoch = 1, 42, -1
		ct.Partitions = append(ct.Partitions, cp)
		commit.Topics = append(commit.Topics, ct)
	}
	cr := kmsg.NewPtrOffsetCommitResponse()
	call(t, e, commit, 10, cr)
	codes := map[[16]byte]int16{}
	for _, rt := range cr.Topics {
		codes[rt.TopicID] = rt.Partitions[0].ErrorCode
	}
	if codes[id] != 0 || codes[[16]byte{1}] != kerr.UnknownTopicID.Code {
		t.Fatalf("OffsetCommit v10: %+v", cr.Topics)
	}
	fetch := kmsg.NewPtrOffsetFetchRequest()
	g := kmsg.NewOffsetFetchRequestGroup()
	g.Group = "byid"
	fetch.Groups = append(fetch.Groups, g) // every committed offset
	fr := kmsg.NewPtrOffsetFetchResponse()
	call(t, e, fetch, 10, fr)
	ts := fr.Groups[0].Topics
	if fr.Groups[0].ErrorCode != 0 || len(ts) != 1 || ts[0].TopicID != id || ts[0].Partitions[0].Offset != 42 {
		t.Fatalf("OffsetFetch v10: %+v", fr.Groups[0])
	}
	// Before v10 the same offsets are fetched by name.
	fetch.Groups[0].Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "ids", Partitions: []int32{0, 1}}}
	call(t, e, fetch, 9, fr)
	ps := fr.Groups[0].Topics[0].Partitions
	if ps[0].Offset != -1 || ps[1].Offset != 42 {
		t.Fatalf("OffsetFetch v9: %+v", ps)
	}
}
