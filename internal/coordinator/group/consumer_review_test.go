package group

// Regression tests from a review of the KIP-848 coordinator against Kafka
// 4.x, each named after the behaviour it pins.

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka's GroupMetadataManager.consumerGroupFenceMember recomputes the
// subscription metadata (hash) from the metadata image, which a Kafka
// coordinator always has. Samsa's shard learns the topics from heartbeats:
// a member fenced by a timer after a load, before any heartbeat, must not
// record a hash of zero (as if no topic existed), which made the next
// heartbeat bump the group epoch a second time for nothing.
func TestConsumerFenceBeforeAnyHeartbeatKeepsTheMetadataHash(t *testing.T) {
	h := newCGHarness(t, nil)
	a := h.ok(join("g", "ma", "a"))
	h.ok(join("g", "mb", "a"))
	h.ok(beat("g", "ma", 1, owned(a))) // ma must revoke two partitions
	hash := h.group("g").metadataHash
	h.s = h.replayed()
	h.advance(1100 * time.Millisecond) // ma's rebalance timeout fires
	cg := h.group("g")
	if cg.members["ma"] != nil || cg.epoch != 3 {
		t.Fatalf("ma not fenced by its rebalance timeout (members %v, epoch %d)", cg.memberIDs(), cg.epoch)
	}
	if cg.metadataHash != hash {
		t.Errorf("fence before any heartbeat recorded hash %x, want the unchanged %x", cg.metadataHash, hash)
	}
	b := h.ok(beat("g", "mb", 2, map[uuid][]int32{}))
	if b.MemberEpoch != 3 || count(owned(b)) != 4 {
		t.Errorf("mb after ma was fenced: epoch %d with %v, want all four at epoch 3 (no second bump)", b.MemberEpoch, owned(b))
	}
	h.checkReplay()
}

// Kafka's coordinator shards see metadata images in order
// (GroupCoordinatorShard.onNewMetadataImage). Samsa hands each heartbeat
// the image it saw when queued, so a heartbeat queued earlier may run later
// with an older image: it must not take the group back to older topics
// (a new group epoch, then another when the newer image returns).
func TestConsumerOlderTopicsDoNotRollTheGroupBack(t *testing.T) {
	h := newCGHarness(t, nil)
	h.topics = NewTopicsAt(5, []TopicMeta{{Name: "a", ID: topicA, Partitions: 4}})
	a := h.ok(join("g", "ma", "a"))
	grown := NewTopicsAt(7, []TopicMeta{{Name: "a", ID: topicA, Partitions: 6}})
	h.topics = grown
	a = h.ok(beat("g", "ma", a.MemberEpoch, owned(a)))
	if a.MemberEpoch != 2 || count(owned(a)) != 6 {
		t.Fatalf("after a grew: epoch %d with %v, want 6 partitions at 2", a.MemberEpoch, owned(a))
	}
	h.topics = NewTopicsAt(6, []TopicMeta{{Name: "a", ID: topicA, Partitions: 4}})
	if r := h.ok(beat("g", "ma", 2, owned(a))); r.MemberEpoch != 2 || r.Assignment != nil {
		t.Errorf("a heartbeat carrying an older image moved the member to epoch %d with %v", r.MemberEpoch, owned(r))
	}
	h.topics = grown
	if r := h.ok(beat("g", "ma", 2, owned(a))); r.MemberEpoch != 2 {
		t.Errorf("back on the newer image the member moved to epoch %d", r.MemberEpoch)
	}
}

// Kafka's CurrentAssignmentBuilder.computeNextAssignment does not count a
// partition as unreleased when the member itself holds it pending
// revocation ("safe to do since only a single member can own a partition
// at a time"): once the member has revoked it and the target gives it back,
// it gets it at once instead of waiting one more heartbeat in
// UNRELEASED_PARTITIONS.
func TestConsumerRevokedPartitionGoesBackToItsOwnerAtOnce(t *testing.T) {
	h := newCGHarness(t, nil)
	a := h.ok(join("g", "ma", "a"))
	h.ok(join("g", "mb", "a"))
	a = h.ok(beat("g", "ma", 1, owned(a))) // told to keep two, revoke two
	kept := owned(a)
	h.ok(beat("g", "mb", -1, nil)) // mb leaves: the target gives ma all four
	a = h.ok(beat("g", "ma", 1, kept))
	m := h.group("g").members["ma"]
	if count(owned(a)) != 4 || m.state != memberStable || a.MemberEpoch != 3 {
		t.Errorf("ma after revoking what the target gives back: %v at epoch %d in state %d, want all four, stable at 3", owned(a), a.MemberEpoch, m.state)
	}
	h.checkReplay()
}

// Kafka's TargetAssignmentBuilder.build always writes a target assignment
// record for a member that had none, even an empty one, so that replay
// (and a Kafka reading the log) knows the member's target.
func TestConsumerNewMemberGetsATargetRecordEvenWhenEmpty(t *testing.T) {
	h := newCGHarness(t, nil)
	h.ok(join("g", "ma", "a"))
	h.ok(join("g", "mb", "nothing-yet"))
	n := 0
	for _, r := range h.records {
		if k, err := readCGKey(r.Key); err == nil && k.Type == cgTargetMemberType && k.Member == "mb" && r.Value != nil {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d target assignment records for mb, want 1", n)
	}
	h.checkReplay()
}

// Kafka's throwIfEmptyString (GroupMetadataManager) refuses a blank id,
// value.trim().isEmpty(), not only an empty one (GroupMetadataManagerTest
// sends the group id "   "); and a join with neither names nor a regex is
// refused with the message of Kafka 4.x.
func TestConsumerBlankIdsAreInvalid(t *testing.T) {
	h := newCGHarness(t, nil)
	blankRack := join("g", "m", "a")
	blankRack.RackID = ptr("\t")
	blankInstance := join("g", "m", "a")
	blankInstance.InstanceID = ptr("  ")
	for _, req := range []*kmsg.ConsumerGroupHeartbeatRequest{
		join("   ", "m", "a"), join("g", " ", "a"), blankRack, blankInstance,
	} {
		h.fails(req, kerr.InvalidRequest)
	}
	noSub := join("g", "m")
	noSub.SubscribedTopicNames = nil
	resp := h.hb(noSub)
	const want = "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining."
	if resp.ErrorCode != kerr.InvalidRequest.Code || deref(resp.ErrorMessage) != want {
		t.Errorf("join without a subscription: %v %q, want INVALID_REQUEST %q", kerr.ErrorForCode(resp.ErrorCode), deref(resp.ErrorMessage), want)
	}
	if len(h.s.groups) != 0 || len(h.records) != 0 {
		t.Errorf("rejected requests created %d groups and %d records", len(h.s.groups), len(h.records))
	}
}
