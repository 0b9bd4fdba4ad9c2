package controller

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/scripttest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt")

// TestScripts runs testdata/*.txt: cases of a command line, "----", the
// expected output and a blank line (the format of etcd raft's interaction
// tests and the coordinators' scripts); -rewrite regenerates the output.
// After every command the cluster invariants are checked.
func TestScripts(t *testing.T) {
	for _, f := range scripttest.Files(t) {
		t.Run(scripttest.Name(f), func(t *testing.T) {
			h := newHarness(t)
			scripttest.RunFile(t, f, *rewrite, func(_ *testing.T, where, line string) string { return h.run(where, line) })
		})
	}
}

// harness drives one controller over an in-memory log with a fake clock.
type harness struct {
	t      *testing.T
	c      *Controller
	store  *metadata.Store
	now    time.Time
	epochs map[int32]int64
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, store: metadata.NewStore(), now: time.Unix(1000, 0), epochs: map[int32]int64{}}
	h.c = New(Config{
		DefaultPartitions: 1, DefaultReplicationFactor: 3, DeleteTopicEnable: true, ClusterID: "c1",
		Now: func() time.Time { return h.now }, AutoLeaderRebalance: true,
		LeaderImbalanceCheckInterval: time.Minute, Rand: rand.New(rand.NewPCG(1, 2)),
		MinInsyncReplicas: scriptMinISR,
	}, h.store, &logProposer{store: h.store})
	return h
}

// scriptMinISR is min.insync.replicas from the topic's config, else the
// cluster's, else 1.
func scriptMinISR(im *metadata.Image, topic string) int {
	for _, m := range []map[string]string{im.TopicConfigs(topic), im.Configs(metadata.ConfigKey{Type: metadata.ResourceBroker})} {
		if n, err := strconv.Atoi(m["min.insync.replicas"]); err == nil {
			return n
		}
	}
	return 1
}

func ids(s string) []int32 {
	if s == "" || s == "-" {
		return []int32{}
	}
	var out []int32
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			panic(fmt.Sprintf("id list %q: %v", s, err))
		}
		out = append(out, int32(n))
	}
	return out
}

// run executes one command and returns its output followed by what it
// changed in the image, then checks the invariants.
func (h *harness) run(where, line string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			h.t.Fatalf("%s: %s: panic: %v", where, line, r)
		}
	}()
	fields := strings.Fields(line)
	before := h.store.Image()
	res := h.command(fields[0], scripttest.ParseArgs(fields[1:]))
	after := h.store.Image()
	if err := checkInvariants(before, after); err != nil {
		h.t.Fatalf("%s: %s: invariant: %v", where, line, err)
	}
	if fields[0] == "show" {
		return res
	}
	return strings.TrimRight(res+"\n"+diff(before, after), "\n")
}

func (h *harness) command(cmd string, a scripttest.Args) string {
	ctx := context.Background()
	switch cmd {
	case "register":
		return h.register(a)
	case "heartbeat":
		return h.heartbeat(a)
	case "brokers":
		return h.brokers(a)
	case "beat":
		return h.beat(a)
	case "advance":
		d, err := time.ParseDuration(a.Pos[0])
		if err != nil {
			panic(err)
		}
		h.now = h.now.Add(d)
		return "ok"
	case "tick":
		return errString(h.c.Tick(ctx, h.now))
	case "activate":
		h.c.Activate()
		return "ok"
	case "create":
		return h.create(a)
	case "config":
		return h.config(a)
	case "alter":
		return h.alter(a)
	case "elect":
		return h.elect(a)
	case "reassign":
		return h.reassign(a)
	case "list-reassignments":
		return h.listReassignments()
	case "show":
		return show(h.store.Image())
	}
	panic("unknown command " + cmd)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return kerrName(Code(err))
}

func kerrName(code int16) string {
	if code == 0 {
		return "ok"
	}
	return kerr.ErrorForCode(code).(*kerr.Error).Message
}

func incarnation(n int64) metadata.UUID { return metadata.UUID{15: byte(n)} }

// register id=N [inc=N] [rack=R] [prev=N] [cluster=C] [dir=D]
func (h *harness) register(a scripttest.Args) string {
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.Version = 3
	req.BrokerID = int32(a.Int("id", 0))
	req.IncarnationID = incarnation(a.Int("inc", int64(req.BrokerID)))
	req.PreviousBrokerEpoch = a.Int("prev", -1)
	if d, ok := a.KV["dir"]; ok {
		var id [16]byte
		copy(id[:], d)
		req.LogDirs = append(req.LogDirs, id)
	}
	req.ClusterID = "c1"
	if c, ok := a.KV["cluster"]; ok {
		req.ClusterID = c
	}
	if r, ok := a.KV["rack"]; ok {
		req.Rack = &r
	}
	l := kmsg.NewBrokerRegistrationRequestListener()
	l.Name, l.Host, l.Port = "PLAINTEXT", fmt.Sprintf("b%d", req.BrokerID), 9092
	req.Listeners = append(req.Listeners, l)
	resp := h.c.KafkaBrokerRegistration(context.Background(), req)
	if resp.ErrorCode != 0 {
		return kerrName(resp.ErrorCode)
	}
	h.epochs[req.BrokerID] = resp.BrokerEpoch
	return fmt.Sprintf("epoch %d", resp.BrokerEpoch)
}

// heartbeat id=N [epoch=N] [offset=N] [fence] [shutdown]
func (h *harness) heartbeat(a scripttest.Args) string {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.BrokerID = int32(a.Int("id", 0))
	req.BrokerEpoch = a.Int("epoch", h.epochs[req.BrokerID])
	req.CurrentMetadataOffset = a.Int("offset", int64(h.store.Image().Index))
	req.WantFence, req.WantShutdown = slices.Contains(a.Pos, "fence"), slices.Contains(a.Pos, "shutdown")
	resp := h.c.KafkaBrokerHeartbeat(context.Background(), req)
	if resp.ErrorCode != 0 {
		return kerrName(resp.ErrorCode)
	}
	return fmt.Sprintf("caught-up=%v fenced=%v shutdown=%v", resp.IsCaughtUp, resp.IsFenced, resp.ShouldShutdown)
}

// brokers ID... [racks=R,R...]: registers and unfences brokers.
func (h *harness) brokers(a scripttest.Args) string {
	racks := strings.Split(a.KV["racks"], ",")
	for i, id := range a.Pos {
		reg := scripttest.Args{KV: map[string]string{"id": id}}
		if i < len(racks) && racks[i] != "" {
			reg.KV["rack"] = racks[i]
		}
		if out := h.register(reg); !strings.HasPrefix(out, "epoch") {
			return out
		}
	}
	return h.beat(scripttest.Args{Pos: a.Pos})
}

// beat ID...: a caught-up heartbeat from each broker; prints the answers
// that are not plain "unfenced".
func (h *harness) beat(a scripttest.Args) string {
	var out []string
	for _, id := range a.Pos {
		if r := h.heartbeat(scripttest.Args{KV: map[string]string{"id": id}}); r != "caught-up=true fenced=false shutdown=false" {
			out = append(out, id+": "+r)
		}
	}
	if len(out) == 0 {
		return "ok"
	}
	return strings.Join(out, "\n")
}

// create NAME [parts=N] [rf=N] [assign=1,2,3/2,3,4]
func (h *harness) create(a scripttest.Args) string {
	spec := TopicSpec{Name: a.Pos[0], Partitions: int32(a.Int("parts", -1)), ReplicationFactor: int16(a.Int("rf", -1))}
	if as, ok := a.KV["assign"]; ok {
		for _, p := range strings.Split(as, "/") {
			spec.Assignment = append(spec.Assignment, ids(p))
		}
	}
	return errString(h.c.CreateTopics(context.Background(), []TopicSpec{spec}, false)[0].Err)
}

// config TOPIC|cluster NAME=VALUE
func (h *harness) config(a scripttest.Args) string {
	ch := ConfigChange{Type: metadata.ResourceTopic, Name: a.Pos[0], Incremental: true}
	if a.Pos[0] == "cluster" {
		ch.Type, ch.Name = metadata.ResourceBroker, ""
	}
	for k, v := range a.KV {
		ch.Ops = append(ch.Ops, ConfigOp{Name: k, Op: OpSet, Value: &v})
	}
	return errString(h.c.AlterConfigs(context.Background(), []ConfigChange{ch}, false)[0])
}

func (h *harness) partition(tp string) (*metadata.Topic, int32) {
	name, p, _ := strings.Cut(tp, "/")
	n, _ := strconv.Atoi(p)
	return h.store.Image().Topic(name), int32(n)
}

// alter TOPIC/P from=ID isr=1,2 [le=N] [pe=N] [v=N] [epochs=1:5,2:-1] [broker-epoch=N] [recovery=N]
func (h *harness) alter(a scripttest.Args) string {
	t, p := h.partition(a.Pos[0])
	var cur metadata.Partition
	if int(p) < len(t.Partitions) {
		cur = t.Partitions[p]
	}
	if slices.Contains(a.Pos, "unknown-topic") {
		t = &metadata.Topic{Name: "unknown", ID: metadata.NewUUID()}
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.Version = int16(a.Int("v", 2))
	req.BrokerID = int32(a.Int("from", int64(cur.Leader)))
	req.BrokerEpoch = a.Int("broker-epoch", h.epochs[req.BrokerID])
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.Topic, rt.TopicID = t.Name, t.ID
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = p, int32(a.Int("le", int64(cur.LeaderEpoch))), int32(a.Int("pe", int64(cur.PartitionEpoch)))
	rp.LeaderRecoveryState = int8(a.Int("recovery", 0))
	rp.NewISR = ids(a.KV["isr"])
	for _, id := range rp.NewISR {
		rp.NewEpochISR = append(rp.NewEpochISR, kmsg.AlterPartitionRequestTopicPartitionNewEpochISR{BrokerID: id, BrokerEpoch: h.epochs[id]})
	}
	if e, ok := a.KV["epochs"]; ok {
		rp.NewEpochISR = nil
		for _, pair := range strings.Split(e, ",") {
			id, ep, _ := strings.Cut(pair, ":")
			i, _ := strconv.Atoi(id)
			n, _ := strconv.ParseInt(ep, 10, 64)
			rp.NewEpochISR = append(rp.NewEpochISR, kmsg.AlterPartitionRequestTopicPartitionNewEpochISR{BrokerID: int32(i), BrokerEpoch: n})
		}
	}
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := h.c.KafkaAlterPartition(context.Background(), req)
	if resp.ErrorCode != 0 {
		return kerrName(resp.ErrorCode)
	}
	r := resp.Topics[0].Partitions[0]
	if r.ErrorCode != 0 {
		return kerrName(r.ErrorCode)
	}
	return fmt.Sprintf("ok leader=%d le=%d pe=%d isr=%v", r.LeaderID, r.LeaderEpoch, r.PartitionEpoch, r.ISR)
}

// elect preferred|unclean [TOPIC/P...] (none: all partitions)
func (h *harness) elect(a scripttest.Args) string {
	req := kmsg.NewPtrElectLeadersRequest()
	req.Version = 2
	if a.Pos[0] == "unclean" {
		req.ElectionType = ElectionUnclean
	}
	if len(a.Pos) > 1 {
		req.Topics = []kmsg.ElectLeadersRequestTopic{}
	}
	for _, tp := range a.Pos[1:] {
		name, p, _ := strings.Cut(tp, "/")
		n, _ := strconv.Atoi(p)
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = name, []int32{int32(n)}
		req.Topics = append(req.Topics, rt)
	}
	resp := h.c.KafkaElectLeaders(context.Background(), req)
	var out []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, fmt.Sprintf("%s/%d %s", t.Topic, p.Partition, kerrName(p.ErrorCode)))
		}
	}
	if len(out) == 0 {
		return "(no elections)"
	}
	return strings.Join(out, "\n")
}

// reassign TOPIC/P REPLICAS|cancel [norf]
func (h *harness) reassign(a scripttest.Args) string {
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.Version = 1
	req.AllowReplicationFactorChange = !slices.Contains(a.Pos, "norf")
	name, p, _ := strings.Cut(a.Pos[0], "/")
	n, _ := strconv.Atoi(p)
	rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
	rp.Partition = int32(n)
	if a.Pos[1] != "cancel" {
		rp.Replicas = ids(a.Pos[1])
	}
	rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
	rt.Topic, rt.Partitions = name, []kmsg.AlterPartitionAssignmentsRequestTopicPartition{rp}
	req.Topics = append(req.Topics, rt)
	resp := h.c.KafkaAlterPartitionReassignments(context.Background(), req)
	if resp.ErrorCode != 0 {
		return kerrName(resp.ErrorCode)
	}
	return kerrName(resp.Topics[0].Partitions[0].ErrorCode)
}

func (h *harness) listReassignments() string {
	resp := h.c.KafkaListPartitionReassignments(context.Background(), kmsg.NewPtrListPartitionReassignmentsRequest())
	var out []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, fmt.Sprintf("%s/%d replicas=%v adding=%v removing=%v", t.Topic, p.Partition, p.Replicas, p.AddingReplicas, p.RemovingReplicas))
		}
	}
	if len(out) == 0 {
		return "(none)"
	}
	return strings.Join(out, "\n")
}

func brokerLine(b metadata.BrokerRecord) string {
	s := fmt.Sprintf("broker %d epoch=%d", b.ID, b.Epoch)
	if b.Rack != nil {
		s += " rack=" + *b.Rack
	}
	if b.Fenced {
		s += " fenced"
	}
	if b.InControlledShutdown {
		s += " shutting-down"
	}
	return s
}

func partitionLine(name string, i int, p metadata.Partition) string {
	s := fmt.Sprintf("%s/%d replicas=%v isr=%v leader=%d le=%d pe=%d", name, i, p.Replicas, p.ISR, p.Leader, p.LeaderEpoch, p.PartitionEpoch)
	if p.Reassigning() {
		s += fmt.Sprintf(" adding=%v removing=%v", p.AddingReplicas, p.RemovingReplicas)
	}
	if p.LeaderRecoveryState != 0 {
		s += " recovering"
	}
	if len(p.ELR) > 0 {
		s += fmt.Sprintf(" elr=%v", p.ELR)
	}
	if len(p.LastKnownELR) > 0 {
		s += fmt.Sprintf(" last-known-elr=%v", p.LastKnownELR)
	}
	return s
}

func show(im *metadata.Image) string {
	var out []string
	for _, b := range im.Brokers() {
		out = append(out, brokerLine(b))
	}
	for _, name := range im.TopicNames() {
		for i, p := range im.Topic(name).Partitions {
			out = append(out, partitionLine(name, i, p))
		}
	}
	return strings.Join(out, "\n")
}

// diff lists the brokers and partitions that changed, prefixed by "> ".
func diff(before, after *metadata.Image) string {
	var out []string
	for _, b := range after.Brokers() {
		if old, ok := before.Broker(b.ID); !ok || brokerLine(old) != brokerLine(b) {
			out = append(out, "> "+brokerLine(b))
		}
	}
	for _, name := range after.TopicNames() {
		old := before.Topic(name)
		for i, p := range after.Topic(name).Partitions {
			line := partitionLine(name, i, p)
			if old == nil || i >= len(old.Partitions) || partitionLine(name, i, old.Partitions[i]) != line {
				out = append(out, "> "+line)
			}
		}
	}
	return strings.Join(out, "\n")
}

// checkInvariants checks every partition of after, and that no epoch went
// back from before: the leader is -1 or an active ISR member, the ISR is a
// non-empty duplicate-free subset of the replicas, reassignment lists are
// replicas, and a changed partition has a larger partition epoch.
func checkInvariants(before, after *metadata.Image) error {
	for _, b := range after.Brokers() {
		if old, ok := before.Broker(b.ID); ok && b.Epoch < old.Epoch {
			return fmt.Errorf("broker %d epoch went from %d to %d", b.ID, old.Epoch, b.Epoch)
		}
	}
	for _, name := range after.TopicNames() {
		t := after.Topic(name)
		for i, p := range t.Partitions {
			if err := checkPartition(after, p); err != nil {
				return fmt.Errorf("%s/%d %+v: %w", name, i, p, err)
			}
			old := before.TopicByID(t.ID)
			if old == nil || i >= len(old.Partitions) {
				continue
			}
			if err := checkEpochs(old.Partitions[i], p); err != nil {
				return fmt.Errorf("%s/%d: %w", name, i, err)
			}
		}
	}
	return nil
}

func checkPartition(im *metadata.Image, p metadata.Partition) error {
	switch {
	case len(p.ISR) == 0 && len(p.ELR) == 0:
		return fmt.Errorf("empty ISR and ELR")
	case !validISR(p.Replicas, p.ISR) || !validISR(p.Replicas, p.ELR):
		return fmt.Errorf("ISR or ELR not a duplicate-free subset of the replicas")
	case slices.ContainsFunc(p.ELR, func(r int32) bool { return slices.Contains(p.ISR, r) }):
		return fmt.Errorf("ELR %v overlaps the ISR %v", p.ELR, p.ISR)
	case !validISR(p.Replicas, p.ISR):
		return fmt.Errorf("ISR not a duplicate-free subset of the replicas")
	case p.Leader != metadata.NoLeader && (!slices.Contains(p.ISR, p.Leader) || !isActive(im, p.Leader)):
		return fmt.Errorf("leader %d is not an active ISR member", p.Leader)
	case !containsAll(p.Replicas, p.AddingReplicas) || !containsAll(p.Replicas, p.RemovingReplicas):
		return fmt.Errorf("reassignment lists are not replicas")
	}
	return nil
}

func checkEpochs(old, p metadata.Partition) error {
	switch {
	case p.LeaderEpoch < old.LeaderEpoch || p.PartitionEpoch < old.PartitionEpoch:
		return fmt.Errorf("epochs went back from %d/%d to %d/%d", old.LeaderEpoch, old.PartitionEpoch, p.LeaderEpoch, p.PartitionEpoch)
	case !samePartition(old, p) && p.PartitionEpoch == old.PartitionEpoch:
		return fmt.Errorf("changed without a partition epoch bump")
	case old.Leader != p.Leader && p.LeaderEpoch == old.LeaderEpoch:
		return fmt.Errorf("leader changed without a leader epoch bump")
	}
	return nil
}
