package group

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/scripttest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// TestScripts runs testdata/*.txt (see package scripttest); -rewrite
// regenerates the expected output.
func TestScripts(t *testing.T) {
	scripttest.Run(t, *rewrite, func() scripttest.Command { return newHarness().run })
}

// run executes one command and returns its output.
func (h *harness) run(t *testing.T, where, line string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: %s: panic: %v", where, line, r)
		}
	}()
	fields := strings.Fields(line)
	cmd, a := fields[0], parseArgs(fields[1:])
	var fx Effects
	switch cmd {
	case "config":
		h.reset(configFrom(a))
		return "ok"
	case "tick", "advance":
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		h.now = h.now.Add(d)
		if cmd == "advance" {
			return h.rel(h.now)
		}
		fx = h.s.Tick(h.now)
	case "cleanup":
		fx = h.s.Cleanup(h.now)
	case "unload":
		fx = h.s.Unload(h.now)
	default:
		if s, ok := h.query(t, where, cmd, a); ok {
			return s
		}
		fx = h.request(t, where, cmd, a)
	}
	if err := h.apply(fx); err != nil {
		t.Fatalf("%s: %s: %v", where, line, err)
	}
	return h.show(fx)
}

// query runs the commands that only read.
func (h *harness) query(t *testing.T, where, cmd string, a args) (string, bool) {
	switch cmd {
	case "describe":
		return describe(h.s, a.str("g", "g")), true
	case "offsets":
		return showOffsets(h.s, a.str("g", "g")), true
	case "list":
		var ls []string
		for _, g := range h.s.List(a.list("states"), a.list("types")) {
			ls = append(ls, fmt.Sprintf("%s %s %s %s", g.Group, g.GroupState, g.ProtocolType, g.GroupType))
		}
		if len(ls) == 0 {
			return "(none)", true
		}
		return strings.Join(ls, "\n"), true
	case "deadline":
		return "next " + h.rel(h.s.NextDeadline()), true
	case "parked":
		var ps []string
		for _, name := range sortedKeys(h.handles) {
			if h.parked[h.handles[name]] {
				ps = append(ps, name)
			}
		}
		return "parked: " + strings.Join(ps, " "), true
	case "replay":
		s, err := h.compareReplay()
		if err != nil {
			t.Fatalf("%s: replay: %v", where, err)
		}
		return s, true
	case "restart":
		if len(a) > 0 {
			h.cfg = configFrom(a)
		}
		return h.restart(t, where), true
	}
	return "", false
}

// restart replaces the shard with one replayed from the records and loaded
// now, as after a broker restart; parked requests died with the broker.
func (h *harness) restart(t *testing.T, where string) string {
	s, err := h.replayed()
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	h.s = s
	clear(h.parked)
	fx := s.Loaded(h.now)
	if err := h.apply(fx); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	return h.show(fx)
}

// request runs the commands that send a request with a handle.
func (h *harness) request(t *testing.T, where, cmd string, a args) Effects {
	hd, err := h.handle(a.str("h", ""))
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	switch cmd {
	case "join":
		return h.s.Join(h.now, hd, Client{ID: a.str("client", "c"), Host: a.str("host", "/10.0.0.1")}, joinRequest(a))
	case "sync":
		return h.s.Sync(h.now, hd, syncRequest(a))
	case "hb":
		req := kmsg.NewPtrHeartbeatRequest()
		req.Version, req.Group, req.MemberID = int16(a.num("v", 4)), a.str("g", "g"), a.str("m", "")
		req.Generation, req.InstanceID = int32(a.num("gen", 0)), a.opt("instance")
		return h.s.Heartbeat(h.now, hd, req)
	case "leave":
		return h.s.Leave(h.now, hd, leaveRequest(a))
	case "commit":
		return h.s.CommitOffsets(h.now, hd, commitRequest(a))
	case "offset-delete":
		req := kmsg.NewPtrOffsetDeleteRequest()
		req.Group = a.str("g", "g")
		tps := topicPartitions(a.list("topics"))
		for _, topic := range sortedKeys(tps) {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = topic
			for _, p := range tps[topic] {
				rp := kmsg.NewOffsetDeleteRequestTopicPartition()
				rp.Partition = p
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		return h.s.DeleteOffsets(h.now, hd, req)
	case "delete-groups":
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Groups = a.list("groups")
		return h.s.DeleteGroups(h.now, hd, req)
	}
	t.Fatalf("%s: unknown command %q", where, cmd)
	return Effects{}
}

func configFrom(a args) Config {
	cfg := DefaultConfig()
	cfg.InitialRebalanceDelay = a.dur("delay", cfg.InitialRebalanceDelay)
	cfg.MinSessionTimeout = a.dur("minsession", cfg.MinSessionTimeout)
	cfg.MaxSessionTimeout = a.dur("maxsession", cfg.MaxSessionTimeout)
	cfg.MaxSize = int(a.num("maxsize", int64(cfg.MaxSize)))
	cfg.NewMemberJoinTimeout = a.dur("jointimeout", cfg.NewMemberJoinTimeout)
	cfg.OffsetsRetention = a.dur("retention", cfg.OffsetsRetention)
	cfg.OffsetMetadataMaxBytes = int(a.num("metamax", int64(cfg.OffsetMetadataMaxBytes)))
	return cfg
}

func joinRequest(a args) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.MemberID = int16(a.num("v", 9)), a.str("g", "g"), a.str("m", "")
	req.SessionTimeoutMillis = int32(a.dur("session", 10*time.Second).Milliseconds())
	req.RebalanceTimeoutMillis = int32(a.dur("rebalance", 30*time.Second).Milliseconds())
	req.InstanceID, req.ProtocolType = a.opt("instance"), a.str("type", "consumer")
	req.Protocols = a.protocols("range:x")
	return req
}

func syncRequest(a args) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version, req.Group, req.MemberID = int16(a.num("v", 5)), a.str("g", "g"), a.str("m", "")
	req.Generation, req.InstanceID = int32(a.num("gen", 0)), a.opt("instance")
	req.ProtocolType, req.Protocol = a.opt("ptype"), a.opt("pname")
	for _, as := range a.list("assign") {
		id, b, _ := strings.Cut(as, ":")
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = id, []byte(b)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	return req
}

func leaveRequest(a args) *kmsg.LeaveGroupRequest {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version, req.Group, req.MemberID = int16(a.num("v", 5)), a.str("g", "g"), a.str("m", "")
	for _, spec := range a.list("members") { // id, id/instance or /instance
		id, instance, hasInstance := strings.Cut(spec, "/")
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = id
		if hasInstance {
			m.InstanceID = &instance
		}
		req.Members = append(req.Members, m)
	}
	return req
}

// commitRequest builds an OffsetCommit from offsets=topic/partition:offset,...
func commitRequest(a args) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.MemberID = int16(a.num("v", 9)), a.str("g", "g"), a.str("m", "")
	req.Generation, req.InstanceID = int32(a.num("gen", -1)), a.opt("instance")
	req.RetentionTimeMillis = a.dur("retention", -time.Millisecond).Milliseconds()
	byTopic := map[string]int{}
	for _, spec := range a.list("offsets") {
		tp, off, _ := strings.Cut(spec, ":")
		topic, part, _ := strings.Cut(tp, "/")
		i, ok := byTopic[topic]
		if !ok {
			i = len(req.Topics)
			byTopic[topic] = i
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = topic
			req.Topics = append(req.Topics, rt)
		}
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset = int32(mustInt(part)), mustInt(off)
		p.LeaderEpoch, p.Metadata = int32(a.num("epoch", -1)), a.opt("meta")
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	return req
}

// topicPartitions parses topic/partition,...
func topicPartitions(specs []string) map[string][]int32 {
	out := map[string][]int32{}
	for _, spec := range specs {
		topic, part, _ := strings.Cut(spec, "/")
		out[topic] = append(out[topic], int32(mustInt(part)))
	}
	return out
}

func mustInt(s string) int64 {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		panic(fmt.Sprintf("%q: %v", s, err))
	}
	return n
}
