package group

// KIP-848 consumer groups: the group state (Kafka 4.x's ConsumerGroup and
// ConsumerGroupMember). A consumer group is a Group whose consumer field is
// set: it shares the group id space, the committed offsets and their
// expiry with classic groups, as in Kafka, where offsets are kept apart
// from the group type.
//
// The group has an epoch, bumped whenever its members' subscriptions or
// the metadata of the subscribed topics change; a target assignment,
// computed by a server-side assignor for the latest epoch (the assignment
// epoch); and per member a current assignment, reconciled towards the
// target one heartbeat at a time (CurrentAssignmentBuilder): partitions are
// revoked before they are given to another member, so none is owned by two
// members at once.

import (
	"hash/fnv"
	"maps"
	"regexp"
	"slices"
	"time"
)

type uuid = [16]byte

// TopicMeta is what the consumer group coordinator needs of a topic.
type TopicMeta struct {
	Name       string
	ID         [16]byte
	Partitions int32
}

// Topics is the cluster's topics as the runtime passes them in (built from
// the metadata image); it is read-only once built.
type Topics struct {
	index  uint64 // of the metadata image they come from
	byName map[string]TopicMeta
	byID   map[uuid]string
	names  []string // sorted
}

// NewTopics indexes ts.
func NewTopics(ts []TopicMeta) *Topics { return NewTopicsAt(0, ts) }

// NewTopicsAt indexes ts, the topics of the metadata image at index; a
// Shard never goes back to topics of an older image than it has seen.
func NewTopicsAt(index uint64, ts []TopicMeta) *Topics {
	t := &Topics{index: index, byName: make(map[string]TopicMeta, len(ts)), byID: make(map[uuid]string, len(ts))}
	for _, m := range ts {
		t.byName[m.Name] = m
		t.byID[m.ID] = m.Name
		t.names = append(t.names, m.Name)
	}
	slices.Sort(t.names)
	return t
}

func (t *Topics) name(id uuid) string {
	if t == nil {
		return ""
	}
	return t.byID[id]
}

// ConsumerState is a consumer group's state (Kafka's ConsumerGroupState).
type ConsumerState int8

// The states: Empty without members; Assigning while the group epoch is
// ahead of the assignment epoch; Reconciling while a member has not reached
// the target assignment; Stable otherwise; Dead once deleted.
const (
	ConsumerEmpty ConsumerState = iota
	ConsumerAssigning
	ConsumerReconciling
	ConsumerStable
	ConsumerDead
)

var consumerStateNames = [...]string{"Empty", "Assigning", "Reconciling", "Stable", "Dead"}

// String returns Kafka's name for the state.
func (s ConsumerState) String() string {
	if int(s) < len(consumerStateNames) {
		return consumerStateNames[s]
	}
	return "Unknown"
}

// memberState is a member's reconciliation state (Kafka's MemberState,
// with its record values).
type memberState int8

const (
	memberStable      memberState = 0
	memberUnrevoked   memberState = 1 // waiting for the member to revoke partitions
	memberUnreleased  memberState = 2 // waiting for others to release partitions
	memberUnknownSate memberState = 127
)

// Member epochs with a meaning of their own.
const (
	leaveEpoch       = -1 // a member leaves
	staticLeaveEpoch = -2 // a static member leaves for now, keeping its partitions
)

// assignment maps a topic id to sorted partitions; no entry is empty.
type assignment map[uuid][]int32

func (a assignment) clone() assignment {
	out := make(assignment, len(a))
	for t, ps := range a {
		out[t] = slices.Clone(ps)
	}
	return out
}

func (a assignment) equal(b assignment) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}

func (a assignment) size() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a assignment) has(t uuid, p int32) bool {
	_, ok := slices.BinarySearch(a[t], p)
	return ok
}

func (a assignment) add(t uuid, p int32) {
	ps := a[t]
	if i, ok := slices.BinarySearch(ps, p); !ok {
		a[t] = slices.Insert(ps, i, p)
	}
}

// sortedTopics returns the topic ids in byte order.
func (a assignment) sortedTopics() []uuid {
	ts := slices.Collect(maps.Keys(a))
	slices.SortFunc(ts, func(x, y uuid) int { return slices.Compare(x[:], y[:]) })
	return ts
}

func (a assignment) records() []cgTopicPartitions {
	out := make([]cgTopicPartitions, 0, len(a))
	for _, t := range a.sortedTopics() {
		out = append(out, cgTopicPartitions{TopicID: t, Partitions: slices.Clone(a[t])})
	}
	return out
}

func assignmentOf(tps []cgTopicPartitions) assignment {
	a := assignment{}
	for _, tp := range tps {
		for _, p := range tp.Partitions {
			a.add(tp.TopicID, p)
		}
	}
	return a
}

// cmember is one member of a consumer group.
type cmember struct {
	id                   string
	instance, rack       *string
	clientID, clientHost string
	names                []string // subscribed topic names, sorted
	regex                *string
	rebalanceMs          int32
	assignor             *string

	epoch, prevEpoch int32
	state            memberState
	assigned         assignment
	revoking         assignment

	sessionAt      time.Time // session deadline; zero if none
	rebalanceAt    time.Time // revocation deadline; zero if none
	rebalanceEpoch int32     // the epoch the revocation deadline is for
}

func (m *cmember) clone() *cmember {
	c := *m
	c.names = slices.Clone(m.names)
	c.assigned, c.revoking = m.assigned.clone(), m.revoking.clone()
	return &c
}

func (m *cmember) reconciledTo(epoch int32) bool {
	return m.state == memberStable && m.epoch == epoch
}

func eqStr(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// sameSubscription reports whether the persisted fields of m and o match
// (Kafka's ConsumerGroupMember equality for the member record).
func (m *cmember) sameMetadata(o *cmember) bool {
	return m.id == o.id && eqStr(m.instance, o.instance) && eqStr(m.rack, o.rack) &&
		m.clientID == o.clientID && m.clientHost == o.clientHost && slices.Equal(m.names, o.names) &&
		eqStr(m.regex, o.regex) && m.rebalanceMs == o.rebalanceMs && eqStr(m.assignor, o.assignor)
}

func (m *cmember) sameAssignment(o *cmember) bool {
	return m.epoch == o.epoch && m.prevEpoch == o.prevEpoch && m.state == o.state &&
		m.assigned.equal(o.assigned) && m.revoking.equal(o.revoking)
}

// partKey is one partition of a topic, by id.
type partKey struct {
	topic     uuid
	partition int32
}

// consumerGroup is the KIP-848 state of a Group.
type consumerGroup struct {
	epoch           int32
	assignmentEpoch int32
	metadataHash    int64

	members map[string]*cmember
	static  map[string]string     // instance id → member id
	target  map[string]assignment // member id → target assignment
	owners  map[partKey]int32     // partition → epoch of the member holding it (assigned or revoking)

	// subscribed is the topic names the members consume, as of the last
	// epoch check; nil until then (after a load).
	subscribed map[string]bool
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members: map[string]*cmember{}, static: map[string]string{},
		target: map[string]assignment{}, owners: map[partKey]int32{},
	}
}

// state derives the group state as Kafka's maybeUpdateGroupState does.
func (cg *consumerGroup) state() ConsumerState {
	switch {
	case len(cg.members) == 0:
		return ConsumerEmpty
	case cg.epoch > cg.assignmentEpoch:
		return ConsumerAssigning
	}
	for _, m := range cg.members {
		if !m.reconciledTo(cg.assignmentEpoch) {
			return ConsumerReconciling
		}
	}
	return ConsumerStable
}

func (cg *consumerGroup) memberIDs() []string {
	return slices.Sorted(maps.Keys(cg.members))
}

// partitionEpoch is Kafka's currentPartitionEpoch: the epoch of the member
// holding a partition, or -1 if it is free.
func (cg *consumerGroup) partitionEpoch(t uuid, p int32) int32 {
	if e, ok := cg.owners[partKey{t, p}]; ok {
		return e
	}
	return -1
}

func (cg *consumerGroup) releaseOwned(m *cmember) {
	for _, a := range []assignment{m.assigned, m.revoking} {
		for t, ps := range a {
			for _, p := range ps {
				delete(cg.owners, partKey{t, p})
			}
		}
	}
}

func (cg *consumerGroup) takeOwned(m *cmember) {
	for _, a := range []assignment{m.assigned, m.revoking} {
		for t, ps := range a {
			for _, p := range ps {
				cg.owners[partKey{t, p}] = m.epoch
			}
		}
	}
}

// put makes m the member of its id, replacing (and releasing) any old one.
func (cg *consumerGroup) put(m *cmember) {
	if old := cg.members[m.id]; old != nil {
		cg.releaseOwned(old)
		if old.instance != nil && (m.instance == nil || *m.instance != *old.instance) {
			delete(cg.static, *old.instance)
		}
	}
	cg.members[m.id] = m
	if m.instance != nil {
		cg.static[*m.instance] = m.id
	}
	cg.takeOwned(m)
}

// drop forgets a member, its target assignment and its partitions.
func (cg *consumerGroup) drop(id string) {
	m := cg.members[id]
	if m == nil {
		return
	}
	cg.releaseOwned(m)
	delete(cg.members, id)
	delete(cg.target, id)
	if m.instance != nil && cg.static[*m.instance] == id {
		delete(cg.static, *m.instance)
	}
}

// subscribedNames is the set of topic names the members subscribe to,
// names and regular expressions (matched against whole names, as Kafka's
// RE2J Pattern.matches) resolved against topics; with is a member to count
// in place of its stored version, without one to leave out.
func (cg *consumerGroup) subscribedNames(topics *Topics, with *cmember, without string) map[string]bool {
	out := map[string]bool{}
	regexes := map[string]bool{}
	visit := func(m *cmember) {
		for _, n := range m.names {
			out[n] = true
		}
		if m.regex != nil {
			regexes[*m.regex] = true
		}
	}
	for id, m := range cg.members {
		if id != without && (with == nil || id != with.id) {
			visit(m)
		}
	}
	if with != nil {
		visit(with)
	}
	for re := range regexes {
		for _, n := range matchTopics(re, topics) {
			out[n] = true
		}
	}
	return out
}

// matchTopics returns the topics whose whole name the regex matches.
func matchTopics(re string, topics *Topics) []string {
	if topics == nil {
		return nil
	}
	rx, err := regexp.Compile("^(?:" + re + ")$")
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range topics.names {
		if rx.MatchString(n) {
			out = append(out, n)
		}
	}
	return out
}

// memberTopics resolves one member's subscription to topic ids.
func memberTopics(m *cmember, topics *Topics) map[uuid]bool {
	out := map[uuid]bool{}
	if topics == nil {
		return out
	}
	for _, n := range m.names {
		if t, ok := topics.byName[n]; ok {
			out[t.ID] = true
		}
	}
	if m.regex != nil {
		for _, n := range matchTopics(*m.regex, topics) {
			out[topics.byName[n].ID] = true
		}
	}
	return out
}

// metadataHash hashes the subscribed topics' names, ids and partition
// counts (KIP-1101's idea; FNV-64a rather than Kafka's Murmur3, so a Kafka
// reading Samsa's records rebalances once). 0 means no topics.
func metadataHash(names map[string]bool, topics *Topics) int64 {
	if topics == nil || len(names) == 0 {
		return 0
	}
	h := fnv.New64a()
	for _, n := range slices.Sorted(maps.Keys(names)) {
		t, ok := topics.byName[n]
		if !ok {
			continue
		}
		h.Write([]byte(n))
		h.Write(t.ID[:])
		h.Write([]byte{byte(t.Partitions >> 24), byte(t.Partitions >> 16), byte(t.Partitions >> 8), byte(t.Partitions)})
	}
	return int64(h.Sum64())
}

// preferredAssignor is the server assignor most members ask for (ties go
// to the earlier in group.consumer.assignors), else the default: the first
// configured.
func (cg *consumerGroup) preferredAssignor(configured []string) string {
	counts := map[string]int{}
	for _, m := range cg.members {
		if m.assignor != nil {
			counts[*m.assignor]++
		}
	}
	best := ""
	for _, name := range configured {
		if counts[name] > counts[best] || best == "" && counts[name] > 0 {
			best = name
		}
	}
	if best == "" && len(configured) > 0 {
		best = configured[0]
	}
	return best
}

// nextDeadline is the earliest session or revocation deadline.
func (cg *consumerGroup) nextDeadline() time.Time {
	var at time.Time
	for _, m := range cg.members {
		for _, t := range []time.Time{m.sessionAt, m.rebalanceAt} {
			if !t.IsZero() && (at.IsZero() || t.Before(at)) {
				at = t
			}
		}
	}
	return at
}

func compareTopicIDs(a, b uuid) int { return slices.Compare(a[:], b[:]) }
