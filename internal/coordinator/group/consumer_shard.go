package group

// The Shard's side of KIP-848 consumer groups: their records (written and
// replayed), deadlines, description, listing, deletion, and the offset
// commit and fetch checks that use member epochs instead of generations.

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func cgRecord(k cgKey, value []byte) Record { return Record{Key: k.append(nil), Value: value} }

func memberRecord(group string, m *cmember) Record {
	names := m.names
	if names == nil {
		names = []string{}
	}
	v := cgMemberValue{
		InstanceID: m.instance, RackID: m.rack, ClientID: m.clientID, ClientHost: m.clientHost,
		SubscribedTopicNames: names, SubscribedTopicRegex: m.regex,
		RebalanceTimeoutMs: m.rebalanceMs, ServerAssignor: m.assignor,
	}
	return cgRecord(cgKey{Type: cgMemberType, Group: group, Member: m.id}, v.append())
}

func memberTombstone(group, member string) Record {
	return cgRecord(cgKey{Type: cgMemberType, Group: group, Member: member}, nil)
}

func epochRecord(group string, cg *consumerGroup) Record {
	v := cgMetadataValue{Epoch: cg.epoch, MetadataHash: cg.metadataHash}
	return cgRecord(cgKey{Type: cgMetadataType, Group: group}, v.append())
}

func epochTombstone(group string) Record {
	return cgRecord(cgKey{Type: cgMetadataType, Group: group}, nil)
}

func targetRecord(group, member string, a assignment) Record {
	v := cgTargetMemberValue{TopicPartitions: a.records()}
	return cgRecord(cgKey{Type: cgTargetMemberType, Group: group, Member: member}, v.append())
}

func targetTombstone(group, member string) Record {
	return cgRecord(cgKey{Type: cgTargetMemberType, Group: group, Member: member}, nil)
}

func targetEpochRecord(group string, epoch int32) Record {
	return cgRecord(cgKey{Type: cgTargetMetaType, Group: group}, cgTargetMetaValue{AssignmentEpoch: epoch}.append())
}

func targetEpochTombstone(group string) Record {
	return cgRecord(cgKey{Type: cgTargetMetaType, Group: group}, nil)
}

func currentRecord(group string, m *cmember) Record {
	v := cgCurrentValue{
		MemberEpoch: m.epoch, PreviousMemberEpoch: m.prevEpoch, State: int8(m.state),
		AssignedPartitions: m.assigned.records(), PartitionsPendingRevocation: m.revoking.records(),
	}
	return cgRecord(cgKey{Type: cgCurrentType, Group: group, Member: m.id}, v.append())
}

func currentTombstone(group, member string) Record {
	return cgRecord(cgKey{Type: cgCurrentType, Group: group, Member: member}, nil)
}

// consumerTombstones are the records deleting an empty consumer group
// (Kafka's ConsumerGroup.createGroupTombstoneRecords).
func consumerTombstones(g *Group) []Record {
	var out []Record
	ids := g.consumer.memberIDs()
	for _, id := range ids {
		out = append(out, currentTombstone(g.id, id))
	}
	for _, id := range ids {
		out = append(out, targetTombstone(g.id, id))
	}
	out = append(out, targetEpochTombstone(g.id))
	for _, id := range ids {
		out = append(out, memberTombstone(g.id, id))
	}
	return append(out, epochTombstone(g.id))
}

// replayConsumer applies one consumer group record.
func (s *Shard) replayConsumer(key, value []byte) error {
	k, err := readCGKey(key)
	if err != nil {
		return err
	}
	if value == nil {
		s.replayConsumerTombstone(k)
		return nil
	}
	g := s.groups[k.Group]
	switch {
	case g == nil:
		g = newGroup(k.Group, &s.cfg, time.Time{})
		s.groups[k.Group] = g
		g.makeConsumer(time.Time{})
	case g.consumer == nil:
		// A group created by offset commits (or an empty classic group,
		// whose tombstone came first) becomes the consumer group.
		g.makeConsumer(time.Time{})
	}
	return replayConsumerValue(g.consumer, k, value)
}

func replayConsumerValue(cg *consumerGroup, k cgKey, value []byte) error {
	switch k.Type {
	case cgMetadataType:
		v, err := readCGMetadataValue(value)
		cg.epoch, cg.metadataHash = v.Epoch, v.MetadataHash
		return err
	case cgTargetMetaType:
		v, err := readCGTargetMetaValue(value)
		cg.assignmentEpoch = v.AssignmentEpoch
		return err
	case cgTargetMemberType:
		v, err := readCGTargetMemberValue(value)
		cg.target[k.Member] = assignmentOf(v.TopicPartitions)
		return err
	}
	m := &cmember{id: k.Member, assigned: assignment{}, revoking: assignment{}, rebalanceMs: -1}
	if old := cg.members[k.Member]; old != nil {
		m = old.clone()
	}
	var err error
	if k.Type == cgMemberType {
		err = m.replayMetadata(value)
	} else {
		err = m.replayCurrent(value)
	}
	cg.put(m)
	return err
}

func (m *cmember) replayMetadata(value []byte) error {
	v, err := readCGMemberValue(value)
	m.instance, m.rack, m.clientID, m.clientHost = v.InstanceID, v.RackID, v.ClientID, v.ClientHost
	m.names, m.regex = v.SubscribedTopicNames, v.SubscribedTopicRegex
	m.rebalanceMs, m.assignor = v.RebalanceTimeoutMs, v.ServerAssignor
	if len(m.names) == 0 {
		m.names = nil
	}
	slices.Sort(m.names)
	return err
}

func (m *cmember) replayCurrent(value []byte) error {
	v, err := readCGCurrentValue(value)
	m.epoch, m.prevEpoch, m.state = v.MemberEpoch, v.PreviousMemberEpoch, memberState(v.State)
	m.assigned, m.revoking = assignmentOf(v.AssignedPartitions), assignmentOf(v.PartitionsPendingRevocation)
	return err
}

func (s *Shard) replayConsumerTombstone(k cgKey) {
	g := s.groups[k.Group]
	if g == nil || g.consumer == nil {
		return
	}
	cg := g.consumer
	switch k.Type {
	case cgMetadataType: // the group is deleted; its offsets may outlive it
		g.consumer = nil
		g.protocolType = ""
		if len(g.offsets) == 0 {
			delete(s.groups, k.Group)
		}
	case cgMemberType:
		cg.drop(k.Member)
	case cgTargetMemberType:
		delete(cg.target, k.Member)
	case cgCurrentType:
		if m := cg.members[k.Member]; m != nil {
			left := m.clone()
			left.epoch, left.prevEpoch, left.state = leaveEpoch, leaveEpoch, memberStable
			left.assigned, left.revoking = assignment{}, assignment{}
			cg.put(left)
		}
	}
}

// isConsumerRecord reports whether a key's version is a consumer group
// record type.
func isConsumerRecord(v int16) bool {
	switch v {
	case cgMetadataType, cgMemberType, cgTargetMetaType, cgTargetMemberType, cgCurrentType:
		return true
	}
	return false
}

// loadedConsumer starts the session of every replayed member, and the
// revocation deadline of those revoking (as Kafka's onLoaded).
func (s *Shard) loadedConsumer(o *op, g *Group) {
	for _, m := range g.consumer.members {
		m.sessionAt = o.at(s.cfg.ConsumerSessionTimeout)
		if m.state == memberUnrevoked {
			m.rebalanceAt, m.rebalanceEpoch = o.at(ms(max(m.rebalanceMs, 0))), m.epoch
		}
	}
}

// tickConsumer fences members whose session or revocation deadline passed.
func (s *Shard) tickConsumer(o *op, g *Group) {
	cg := g.consumer
	for _, id := range cg.memberIDs() {
		m := cg.members[id]
		switch {
		case !m.sessionAt.IsZero() && !m.sessionAt.After(o.now):
			s.fence(o, g, m) // its session expired
		case !m.rebalanceAt.IsZero() && !m.rebalanceAt.After(o.now):
			if m.epoch == m.rebalanceEpoch { // it did not revoke in time
				s.fence(o, g, m)
			} else {
				m.rebalanceAt = time.Time{}
			}
		}
	}
}

// ConsumerDescribe describes one group for ConsumerGroupDescribe.
func (s *Shard) ConsumerDescribe(id string, topics *Topics) kmsg.ConsumerGroupDescribeResponseGroup {
	d := kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = id
	g := s.groups[id]
	switch {
	case !s.cfg.ConsumerProtocol:
		d.ErrorCode = kerr.UnsupportedVersion.Code
		return d
	case g == nil:
		d.ErrorCode, d.ErrorMessage = kerr.GroupIDNotFound.Code, ptr("Group "+id+" not found.")
		return d
	case g.consumer == nil:
		d.ErrorCode, d.ErrorMessage = kerr.GroupIDNotFound.Code, ptr("Group "+id+" is not a consumer group.")
		return d
	}
	cg := g.consumer
	d.State, d.Epoch, d.AssignmentEpoch = cg.state().String(), cg.epoch, cg.assignmentEpoch
	d.AssignorName = cg.preferredAssignor(s.cfg.ConsumerAssignors)
	for _, mid := range cg.memberIDs() {
		m := cg.members[mid]
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.RackID, dm.MemberEpoch = m.id, m.instance, m.rack, m.epoch
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
		dm.SubscribedTopics, dm.SubscribedTopicRegex = slices.Clone(m.names), m.regex
		if dm.SubscribedTopics == nil {
			dm.SubscribedTopics = []string{}
		}
		dm.Assignment, dm.TargetAssignment = describeAssignment(m.assigned, topics), describeAssignment(cg.target[mid], topics)
		dm.MemberType = 1 // the consumer protocol (0 would be a classic member)
		d.Members = append(d.Members, dm)
	}
	return d
}

func describeAssignment(a assignment, topics *Topics) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, t := range a.sortedTopics() {
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID, tp.Topic, tp.Partitions = t, topics.name(t), slices.Clone(a[t])
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}

func ptr(s string) *string { return &s }

// validateConsumerCommit is Kafka's ConsumerGroup.validateOffsetCommit: a
// commit without a member epoch is only for an empty group; members commit
// with their current epoch, from OffsetCommit v9.
func (cg *consumerGroup) validateCommit(memberID string, epoch int32, version int16) int16 {
	if epoch < 0 && len(cg.members) == 0 {
		return 0
	}
	m := cg.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case version < 9:
		return kerr.UnsupportedVersion.Code
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// validateFetch is Kafka's ConsumerGroup.validateOffsetFetch.
func (cg *consumerGroup) validateFetch(memberID *string, epoch int32) int16 {
	if memberID == nil && epoch < 0 {
		return 0
	}
	var m *cmember
	if memberID != nil {
		m = cg.members[*memberID]
	}
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// subscribedTopic reports whether a consumer group consumes topic; before
// the first heartbeat after a load the topics are unknown, and every topic
// counts as consumed.
func (cg *consumerGroup) subscribedTopic(topic string) bool {
	if len(cg.members) == 0 {
		return false
	}
	return cg.subscribed == nil || cg.subscribed[topic]
}
