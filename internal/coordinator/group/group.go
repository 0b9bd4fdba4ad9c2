package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a classic group's state.
type State int8

// The states of Kafka's ClassicGroupState, with their legal predecessors:
// Empty ← PreparingRebalance; PreparingRebalance ← Stable,
// CompletingRebalance, Empty; CompletingRebalance ← PreparingRebalance;
// Stable ← CompletingRebalance; Dead ← any.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

// String returns Kafka's name for the state, as DescribeGroups and
// ListGroups show it.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown"
}

var validPrevious = map[State][]State{
	Empty:               {PreparingRebalance},
	PreparingRebalance:  {Stable, CompletingRebalance, Empty},
	CompletingRebalance: {PreparingRebalance},
	Stable:              {CompletingRebalance},
	Dead:                {Empty, PreparingRebalance, CompletingRebalance, Stable, Dead},
}

// Group is one classic group and its committed offsets. It is changed only
// through its Shard.
type Group struct {
	id  string
	cfg *Config

	state, prev State
	stateTime   time.Time // when the group entered its state; zero if unknown
	generation  int32

	protocolType string // "" until the first member joins
	protocol     string // selected protocol; "" when none
	leader       string // "" when there are no members

	members      map[string]*member
	order        []string             // member ids in join order
	static       map[string]string    // group.instance.id → member id
	pending      map[string]time.Time // ids handed out with MEMBER_ID_REQUIRED → deadline
	pendingSync  map[string]bool      // members yet to send SyncGroup this generation
	supported    map[string]int       // protocol name → number of members supporting it
	awaitingJoin int

	newMemberAdded bool // a member joined during the initial rebalance delay

	joinAt           time.Time // join phase deadline; zero if none
	joinInitial      bool      // joinAt is the initial-delay deadline
	initialDelay     time.Duration
	initialRemaining time.Duration
	syncAt           time.Time // pending-sync deadline; zero if none
	syncGeneration   int32

	offsets map[topicPartition]offset

	// consumer is set for a KIP-848 consumer group, whose state it holds;
	// the classic fields above then stay Empty.
	consumer *consumerGroup
}

func newGroup(id string, cfg *Config, now time.Time) *Group {
	return &Group{
		id: id, cfg: cfg, state: Empty, prev: Dead, stateTime: now,
		members: map[string]*member{}, static: map[string]string{},
		pending: map[string]time.Time{}, pendingSync: map[string]bool{},
		supported: map[string]int{}, offsets: map[topicPartition]offset{},
	}
}

// ID returns the group id.
func (g *Group) ID() string { return g.id }

// State returns the group's state.
func (g *Group) State() State { return g.state }

// Generation returns the group's generation id.
func (g *Group) Generation() int32 { return g.generation }

// Leader returns the leader's member id, or "" if there are no members.
func (g *Group) Leader() string { return g.leader }

// MemberIDs returns the members' ids in join order.
func (g *Group) MemberIDs() []string { return slices.Clone(g.order) }

func (g *Group) transition(o *op, to State) {
	if !slices.Contains(validPrevious[to], g.state) {
		panic("group: illegal transition " + g.state.String() + " -> " + to.String())
	}
	o.fx.Transitions = append(o.fx.Transitions, Transition{Group: g.id, From: g.state, To: to, Generation: g.generation})
	g.prev, g.state, g.stateTime = g.state, to, o.now
}

func (g *Group) canRebalance() bool {
	return slices.Contains(validPrevious[PreparingRebalance], g.state)
}

// add makes m a member; join is its parked JoinGroup, if any.
func (g *Group) add(m *member, join *waiter) {
	if m.instance != nil {
		g.static[*m.instance] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	g.count(m, 1)
	m.join = join
	if join != nil {
		g.awaitingJoin++
	}
	delete(g.pending, m.id)
}

func (g *Group) count(m *member, delta int) {
	for _, p := range m.protocols {
		g.supported[p.name] += delta
		if g.supported[p.name] == 0 {
			delete(g.supported, p.name)
		}
	}
}

// remove drops a member or a pending member. Kafka answers a parked
// JoinGroup of a removed member with UNKNOWN_MEMBER_ID; a parked SyncGroup
// is answered the same way here (Kafka leaves it to the client's timeout).
func (g *Group) remove(o *op, id string) {
	if m := g.members[id]; m != nil {
		g.answerJoin(o, m, joinError("", kerr.UnknownMemberID.Code))
		g.answerSync(o, m, syncError(kerr.UnknownMemberID.Code))
		g.count(m, -1)
		delete(g.members, id)
		g.order = slices.DeleteFunc(g.order, func(s string) bool { return s == id })
		if m.instance != nil {
			delete(g.static, *m.instance)
		}
	}
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	delete(g.pending, id)
	delete(g.pendingSync, id)
}

// replaceStatic gives the static member of instance the id newID, fencing
// whatever the old id had parked.
func (g *Group) replaceStatic(o *op, instance, oldID, newID string) *member {
	m := g.members[oldID]
	fenced := joinError(oldID, kerr.FencedInstanceID.Code)
	g.answerJoin(o, m, fenced)
	g.answerSync(o, m, syncError(kerr.FencedInstanceID.Code))
	delete(g.members, oldID)
	m.id, m.isNew, m.deadline = newID, false, time.Time{}
	g.members[newID] = m
	g.order[slices.Index(g.order, oldID)] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	g.static[instance] = newID
	if g.pendingSync[oldID] { // the new id owes the SyncGroup the old one did
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	return m
}

// updateMember takes a rejoining member's new protocols and timeouts and
// parks its JoinGroup. A JoinGroup it had already parked (a retry on another
// connection) is answered with REBALANCE_IN_PROGRESS.
func (g *Group) updateMember(o *op, m *member, r *joinReq) {
	g.count(m, -1)
	m.protocols = r.protocols
	g.count(m, 1)
	m.rebalanceMs, m.sessionMs = r.rebalanceMs, r.sessionMs
	if m.join != nil {
		g.answerJoin(o, m, joinError(m.id, kerr.RebalanceInProgress.Code))
	}
	m.join = &r.w
	g.awaitingJoin++
}

// supportsProtocols reports whether a member of protocolType supporting
// names may join: an empty group takes any non-empty proposal; otherwise
// the type must match and one protocol must be supported by every member.
func (g *Group) supportsProtocols(protocolType string, ps []protocol) bool {
	if g.state == Empty {
		return protocolType != "" && len(ps) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range ps {
		if g.supported[p.name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol lets every member vote for its preferred protocol among
// those all members support; the most votes win. Kafka breaks ties by hash
// order; here the protocol met first in the members' lists (join order,
// then preference) wins, so the leader's preference decides a tie.
func (g *Group) selectProtocol() string {
	candidates := map[string]bool{}
	for name, n := range g.supported {
		if n == len(g.members) {
			candidates[name] = true
		}
	}
	votes := map[string]int{}
	var order []string
	for _, id := range g.order {
		for _, p := range g.members[id].protocols {
			if candidates[p.name] && !slices.Contains(order, p.name) {
				order = append(order, p.name)
			}
		}
		votes[g.members[id].vote(candidates)]++
	}
	best := ""
	for _, name := range order {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// rebalanceTimeout is the largest rebalance timeout of the members.
func (g *Group) rebalanceTimeout() time.Duration {
	var most int32
	for _, m := range g.members {
		most = max(most, m.rebalanceMs)
	}
	return ms(most)
}

func (g *Group) hasAllMembersJoined() bool {
	return len(g.members) == g.awaitingJoin && len(g.pending) == 0
}

// validateMember is Kafka's ClassicGroup.validateMember: the instance id, if
// given, must map to memberID, and memberID must be a member.
func (g *Group) validateMember(memberID string, instance *string) int16 {
	if instance != nil {
		existing, ok := g.static[*instance]
		if !ok {
			return kerr.UnknownMemberID.Code
		}
		if existing != memberID {
			return kerr.FencedInstanceID.Code
		}
	}
	if g.members[memberID] == nil {
		return kerr.UnknownMemberID.Code
	}
	return 0
}

// reschedule sets a member's next heartbeat deadline d from now.
func (g *Group) reschedule(o *op, m *member, d time.Duration) {
	m.deadline = o.at(d)
}

// answerJoin completes a member's parked JoinGroup, if it has one.
func (g *Group) answerJoin(o *op, m *member, resp *kmsg.JoinGroupResponse) bool {
	if m.join == nil {
		return false
	}
	resp.Version = m.join.version
	o.respond(m.join.h, resp)
	m.join = nil
	g.awaitingJoin--
	return true
}

// answerSync completes a member's parked SyncGroup, if it has one.
func (g *Group) answerSync(o *op, m *member, resp *kmsg.SyncGroupResponse) bool {
	if m.sync == nil {
		return false
	}
	resp.Version = m.sync.version
	o.respond(m.sync.h, resp)
	m.sync = nil
	return true
}

// assignments returns every member's current assignment.
func (g *Group) assignments() map[string][]byte {
	out := make(map[string][]byte, len(g.members))
	for id, m := range g.members {
		out[id] = m.assignment
	}
	return out
}
