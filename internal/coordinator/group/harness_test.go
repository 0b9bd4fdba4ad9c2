package group

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// harness drives a Shard for the scripts and the property test: a virtual
// clock, named request handles, every record kept for replay, and a check
// that every handle is answered exactly once.
type harness struct {
	cfg     Config
	s       *Shard
	start   time.Time
	now     time.Time
	ids     int
	records []Record
	names   map[Handle]string
	handles map[string]Handle
	parked  map[Handle]bool // sent, not yet answered
	gens    map[string]int32
}

func newHarness() *harness {
	h := &harness{start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.now = h.start
	h.reset(DefaultConfig())
	return h
}

func (h *harness) reset(cfg Config) {
	cfg.RandomID = func() string { h.ids++; return strconv.Itoa(h.ids) }
	h.ids = 0
	h.cfg, h.s = cfg, NewShard(cfg)
	h.records = nil
	h.names, h.handles = map[Handle]string{}, map[string]Handle{}
	h.parked, h.gens = map[Handle]bool{}, map[string]int32{}
}

// handle registers a request under name (or the next number).
func (h *harness) handle(name string) (Handle, error) {
	if name == "" {
		name = "#" + strconv.Itoa(len(h.handles)+1)
	}
	if _, dup := h.handles[name]; dup {
		return 0, fmt.Errorf("handle %q used twice", name)
	}
	hd := Handle(len(h.handles) + 1)
	h.handles[name], h.names[hd] = hd, name
	h.parked[hd] = true
	return hd, nil
}

// apply takes an operation's effects: records are kept, responses must
// answer parked handles once, and the group invariants must hold.
func (h *harness) apply(fx Effects) error {
	h.records = append(h.records, fx.Records...)
	for _, r := range fx.Responses {
		if !h.parked[r.Handle] {
			return fmt.Errorf("handle %q answered twice or never sent", h.names[r.Handle])
		}
		delete(h.parked, r.Handle)
	}
	if err := checkInvariants(h.s); err != nil {
		return err
	}
	for id := range h.gens {
		if h.s.groups[id] == nil { // deleted: a new group of that name starts over
			delete(h.gens, id)
		}
	}
	for _, id := range h.s.GroupIDs() {
		gen := h.s.groups[id].generation
		if gen < h.gens[id] {
			return fmt.Errorf("group %q generation went back from %d to %d", id, h.gens[id], gen)
		}
		h.gens[id] = gen
	}
	return nil
}

// replayed returns a fresh shard built from every record so far.
func (h *harness) replayed() (*Shard, error) {
	s := NewShard(h.cfg)
	for _, r := range h.records {
		if err := s.Replay(r.Key, r.Value); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// compareReplay checks that replaying the records rebuilds every Stable or
// Empty group as DescribeGroups shows it, and every group's offsets.
func (h *harness) compareReplay() (string, error) {
	r, err := h.replayed()
	if err != nil {
		return "", err
	}
	var compared []string
	for _, id := range h.s.GroupIDs() {
		g := h.s.groups[id]
		if g.state != Stable && g.state != Empty {
			continue
		}
		if got, want := describe(r, id), describe(h.s, id); got != want {
			if g.state == Empty && len(g.offsets) == 0 && r.groups[id] == nil {
				continue // a group created by a rejected commit: nothing to persist
			}
			return "", fmt.Errorf("replayed %s:\n%s\nlive:\n%s", id, got, want)
		}
		if got, want := showOffsets(r, id), showOffsets(h.s, id); got != want {
			return "", fmt.Errorf("replayed offsets of %s:\n%s\nlive:\n%s", id, got, want)
		}
		compared = append(compared, id)
	}
	for _, id := range r.GroupIDs() {
		if h.s.groups[id] == nil {
			return "", fmt.Errorf("replay has group %q that is gone", id)
		}
	}
	if len(compared) == 0 {
		return fmt.Sprintf("replayed %d records: no Stable or Empty group to compare", len(h.records)), nil
	}
	return fmt.Sprintf("replayed %d records: %s match", len(h.records), strings.Join(compared, ", ")), nil
}

func errName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return strconv.Itoa(int(code))
}

func (h *harness) rel(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return "t=" + t.Sub(h.start).String()
}

// show renders effects, one line each: transitions, records, responses.
func (h *harness) show(fx Effects) string {
	var lines []string
	for _, t := range fx.Transitions {
		lines = append(lines, fmt.Sprintf("%s: %v -> %v (gen %d)", t.Group, t.From, t.To, t.Generation))
	}
	for _, r := range fx.Records {
		lines = append(lines, "record "+showRecord(r))
	}
	for _, r := range fx.Responses {
		lines = append(lines, h.names[r.Handle]+" "+showResponse(r.Msg))
	}
	if len(lines) == 0 {
		return "(nothing)"
	}
	return strings.Join(lines, "\n")
}

func showRecord(r Record) string {
	if len(r.Key) >= 2 && r.Key[1] == groupMetadataKeyVersion {
		var k kmsg.GroupMetadataKey
		_ = k.ReadFrom(r.Key)
		if r.Value == nil {
			return "group " + k.Group + ": tombstone"
		}
		var v kmsg.GroupMetadataValue
		if err := v.ReadFrom(r.Value); err != nil {
			return "group " + k.Group + ": " + err.Error()
		}
		var ms []string
		for _, m := range v.Members {
			ms = append(ms, fmt.Sprintf("%s%s(%s=%s)", m.MemberID, inst(m.InstanceID), showMeta(m.Subscription), m.Assignment))
		}
		return fmt.Sprintf("group %s: gen=%d type=%s proto=%s leader=%s members=[%s]",
			k.Group, v.Generation, v.ProtocolType, deref(v.Protocol), deref(v.Leader), strings.Join(ms, " "))
	}
	var k kmsg.OffsetCommitKey
	_ = k.ReadFrom(r.Key)
	if r.Value == nil {
		return fmt.Sprintf("offset %s %s/%d: tombstone", k.Group, k.Topic, k.Partition)
	}
	var v kmsg.OffsetCommitValue
	_ = v.ReadFrom(r.Value)
	s := fmt.Sprintf("offset %s %s/%d: %d", k.Group, k.Topic, k.Partition, v.Offset)
	if v.Version >= 3 {
		s += fmt.Sprintf(" epoch=%d", v.LeaderEpoch)
	}
	s += fmt.Sprintf(" meta=%q", v.Metadata)
	if v.Version == 1 {
		s += fmt.Sprintf(" expire=%d", v.ExpireTimestamp)
	}
	return s
}

func inst(s *string) string {
	if s == nil {
		return ""
	}
	return "/" + *s
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func showResponse(msg kmsg.Response) string {
	switch r := msg.(type) {
	case *kmsg.JoinGroupResponse:
		return showJoin(r)
	case *kmsg.SyncGroupResponse:
		if r.ErrorCode != 0 {
			return "sync: " + errName(r.ErrorCode)
		}
		s := fmt.Sprintf("sync: assign=%s", r.MemberAssignment)
		if r.Version >= 5 {
			s += fmt.Sprintf(" proto=%s/%s", deref(r.ProtocolType), deref(r.Protocol))
		}
		return s
	case *kmsg.HeartbeatResponse:
		return "heartbeat: " + errName(r.ErrorCode)
	case *kmsg.LeaveGroupResponse:
		s := "leave: " + errName(r.ErrorCode)
		for _, m := range r.Members {
			s += fmt.Sprintf(" [%s%s %s]", m.MemberID, inst(m.InstanceID), errName(m.ErrorCode))
		}
		return s
	case *kmsg.OffsetCommitResponse:
		var ps []string
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				ps = append(ps, fmt.Sprintf("%s/%d %s", t.Topic, p.Partition, errName(p.ErrorCode)))
			}
		}
		return "commit: " + strings.Join(ps, ", ")
	case *kmsg.OffsetDeleteResponse:
		s := "offset-delete: " + errName(r.ErrorCode)
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				s += fmt.Sprintf(" [%s/%d %s]", t.Topic, p.Partition, errName(p.ErrorCode))
			}
		}
		return s
	case *kmsg.DeleteGroupsResponse:
		var gs []string
		for _, g := range r.Groups {
			gs = append(gs, g.Group+" "+errName(g.ErrorCode))
		}
		return "delete-groups: " + strings.Join(gs, ", ")
	}
	return fmt.Sprintf("%T", msg)
}

func showJoin(r *kmsg.JoinGroupResponse) string {
	if r.ErrorCode != 0 {
		return fmt.Sprintf("join: %s member=%s", errName(r.ErrorCode), r.MemberID)
	}
	s := fmt.Sprintf("join: gen=%d member=%s leader=%s proto=%s", r.Generation, r.MemberID, r.LeaderID, deref(r.Protocol))
	if r.Version >= 7 {
		s += " type=" + deref(r.ProtocolType)
	}
	if len(r.Members) > 0 {
		var ms []string
		for _, m := range r.Members {
			ms = append(ms, fmt.Sprintf("%s%s:%s", m.MemberID, inst(m.InstanceID), showMeta(m.ProtocolMetadata)))
		}
		s += " members=[" + strings.Join(ms, " ") + "]"
	}
	if r.SkipAssignment {
		s += " skip-assignment"
	}
	return s
}

// describe renders DescribeGroups data for a group.
func describe(s *Shard, id string) string {
	d, found := s.Describe(id)
	head := fmt.Sprintf("%s: %s type=%s proto=%s", d.Group, d.State, d.ProtocolType, d.Protocol)
	if g := s.groups[id]; found {
		head += fmt.Sprintf(" gen=%d leader=%s", g.generation, g.leader)
	}
	lines := []string{head}
	for _, m := range d.Members {
		lines = append(lines, fmt.Sprintf("  %s%s client=%s host=%s meta=%s assign=%s",
			m.MemberID, inst(m.InstanceID), m.ClientID, m.ClientHost, showMeta(m.ProtocolMetadata), m.MemberAssignment))
	}
	return strings.Join(lines, "\n")
}

func showOffsets(s *Shard, id string) string {
	var lines []string
	for _, t := range s.FetchOffsets(id, nil, nil, -1).Topics {
		for _, p := range t.Partitions {
			lines = append(lines, fmt.Sprintf("%s/%d: %d epoch=%d meta=%q", t.Topic, p.Partition, p.Offset, p.LeaderEpoch, deref(p.Metadata)))
		}
	}
	if len(lines) == 0 {
		return "(no offsets)"
	}
	return strings.Join(lines, "\n")
}

// args are a command's key=value arguments.
type args map[string]string

func parseArgs(fields []string) args {
	a := args{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		a[k] = v
	}
	return a
}

func (a args) str(k, def string) string {
	if v, ok := a[k]; ok {
		return v
	}
	return def
}

func (a args) opt(k string) *string {
	if v, ok := a[k]; ok {
		return &v
	}
	return nil
}

func (a args) num(k string, def int64) int64 {
	v, ok := a[k]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("%s=%s: %v", k, v, err))
	}
	return n
}

func (a args) dur(k string, def time.Duration) time.Duration {
	v, ok := a[k]
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%s: %v", k, v, err))
	}
	return d
}

func (a args) list(k string) []string {
	v, ok := a[k]
	if !ok || v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// protocols parses "range:x,roundrobin:y" (name:metadata).
func (a args) protocols(def string) []kmsg.JoinGroupRequestProtocol {
	var out []kmsg.JoinGroupRequestProtocol
	for _, p := range strings.Split(a.str("protos", def), ",") {
		if p == "" {
			continue
		}
		name, meta, _ := strings.Cut(p, ":")
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name, jp.Metadata = name, metaBytes(meta)
		out = append(out, jp)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// metaBytes turns "sub=t+u" into a consumer-protocol subscription to topics
// t and u; anything else is taken as raw bytes.
func metaBytes(spec string) []byte {
	topics, ok := strings.CutPrefix(spec, "sub=")
	if !ok {
		return []byte(spec)
	}
	s := kmsg.NewConsumerMemberMetadata()
	s.Version = 3
	s.Topics = strings.Split(topics, "+")
	return s.AppendTo(nil)
}

// showMeta reverses metaBytes.
func showMeta(b []byte) string {
	if len(b) > 6 && b[0] == 0 && b[1] == 3 {
		if topics, err := subscriptionTopics(b); err == nil {
			return "sub=" + strings.Join(topics, "+")
		}
	}
	return string(b)
}
