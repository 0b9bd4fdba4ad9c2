package group

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record schema versions, as Kafka 4.x writes them. The key's version says
// which record it is: 0 and 1 an offset commit, 2 group metadata; higher
// ones belong to KIP-848 consumer groups, share and streams groups.
const (
	offsetCommitKeyVersion     = 1
	groupMetadataKeyVersion    = 2
	groupMetadataValueVersion  = 3
	offsetCommitValueVersion   = 3
	offsetCommitValueExpiresV1 = 1 // the only value version with an expire timestamp
)

// ErrNotClassic is returned by Replay for records of group types Samsa
// does not have (share and streams groups, KIP-848's partition metadata
// and regular expression records).
var ErrNotClassic = errors.New("group: not a classic group or offset commit record")

// metadataRecord is the GroupMetadata record of the group with the given
// assignment (Kafka's newGroupMetadataRecord).
func (g *Group) metadataRecord(assignment map[string][]byte) Record {
	v := g.metadataValue()
	v.Protocol, v.Leader = optional(g.protocol), optional(g.leader)
	for _, id := range g.order {
		m := g.members[id]
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID = id, m.instance
		vm.ClientID, vm.ClientHost = m.clientID, m.clientHost
		vm.RebalanceTimeoutMillis, vm.SessionTimeoutMillis = m.rebalanceMs, m.sessionMs
		vm.Subscription = m.metadata(g.protocol)
		vm.Assignment = assignment[id]
		v.Members = append(v.Members, vm)
	}
	return Record{Key: groupKey(g.id), Value: v.AppendTo(nil)}
}

// emptyRecord is the GroupMetadata record of a group without members, as
// written when a group is created (so that it survives a restart).
func (g *Group) emptyRecord() Record {
	v := g.metadataValue()
	v.ProtocolType, v.Generation = "", 0 // as Kafka's newEmptyGroupMetadataRecord
	return Record{Key: groupKey(g.id), Value: v.AppendTo(nil)}
}

func (g *Group) metadataValue() kmsg.GroupMetadataValue {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupMetadataValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	v.CurrentStateTimestamp = -1
	if !g.stateTime.IsZero() {
		v.CurrentStateTimestamp = g.stateTime.UnixMilli()
	}
	return v
}

func groupKey(id string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = groupMetadataKeyVersion, id
	return k.AppendTo(nil)
}

func groupTombstone(id string) Record { return Record{Key: groupKey(id)} }

func offsetKey(group string, tp topicPartition) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = offsetCommitKeyVersion, group, tp.topic, tp.partition
	return k.AppendTo(nil)
}

func offsetRecord(group string, tp topicPartition, off offset) Record {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetCommitValueVersion
	if off.expireMs >= 0 {
		v.Version = offsetCommitValueExpiresV1
	}
	v.Offset, v.LeaderEpoch, v.Metadata = off.offset, off.leaderEpoch, off.metadata
	v.CommitTimestamp, v.ExpireTimestamp = off.commitMs, off.expireMs
	return Record{Key: offsetKey(group, tp), Value: v.AppendTo(nil)}
}

func offsetTombstone(group string, tp topicPartition) Record {
	return Record{Key: offsetKey(group, tp)}
}

// Replay applies one record of __consumer_offsets, read back at load.
// Tombstones (nil value) delete. Records of other group types return an
// error wrapping ErrNotClassic. Call Loaded once every record is replayed.
func (s *Shard) Replay(key, value []byte) error {
	if len(key) < 2 {
		return fmt.Errorf("group: record key of %d bytes", len(key))
	}
	// kmsg decodes byte fields as views of its input: copy what we keep.
	key, value = bytes.Clone(key), bytes.Clone(value)
	switch v := int16(binary.BigEndian.Uint16(key)); v {
	case 0, 1:
		return s.replayOffset(key, value)
	case groupMetadataKeyVersion:
		return s.replayGroup(key, value)
	case cgMetadataType, cgMemberType, cgTargetMetaType, cgTargetMemberType, cgCurrentType:
		return s.replayConsumer(key, value)
	default:
		return fmt.Errorf("%w: key version %d", ErrNotClassic, v)
	}
}

func (s *Shard) replayGroup(key, value []byte) error {
	var k kmsg.GroupMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("group: group metadata key: %w", err)
	}
	old := s.groups[k.Group]
	if value == nil {
		if old != nil {
			s.dropGroup(old)
		}
		return nil
	}
	var v kmsg.GroupMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("group: group metadata of %q: %w", k.Group, err)
	}
	g := groupFromValue(k.Group, &s.cfg, &v)
	if old != nil {
		g.offsets = old.offsets
	}
	s.groups[k.Group] = g
	return nil
}

// dropGroup forgets a group's metadata at a tombstone; offsets that are not
// tombstoned yet keep a bare simple group alive, as in Kafka.
func (s *Shard) dropGroup(g *Group) {
	delete(s.groups, g.id)
	if len(g.offsets) > 0 {
		bare := newGroup(g.id, &s.cfg, time.Time{})
		bare.offsets = g.offsets
		s.groups[g.id] = bare
	}
}

// groupFromValue rebuilds a group as Kafka loads it: Stable with the
// recorded members (each supporting only the selected protocol) or Empty.
func groupFromValue(id string, cfg *Config, v *kmsg.GroupMetadataValue) *Group {
	var at time.Time
	if v.CurrentStateTimestamp >= 0 {
		at = time.UnixMilli(v.CurrentStateTimestamp)
	}
	g := newGroup(id, cfg, at)
	g.generation, g.protocolType = v.Generation, v.ProtocolType
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	if v.Leader != nil && len(v.Members) > 0 {
		g.leader = *v.Leader
	}
	for _, vm := range v.Members {
		g.add(memberFromValue(vm, v.ProtocolType, g.protocol), nil)
	}
	if len(g.members) > 0 {
		g.state = Stable
	}
	return g
}

func memberFromValue(vm kmsg.GroupMetadataValueMember, protocolType, selected string) *member {
	m := &member{
		id: vm.MemberID, instance: vm.InstanceID,
		clientID: vm.ClientID, clientHost: vm.ClientHost,
		rebalanceMs: vm.RebalanceTimeoutMillis, sessionMs: vm.SessionTimeoutMillis,
		protocolType: protocolType,
		protocols:    []protocol{{name: selected, metadata: nonNil(vm.Subscription)}},
		assignment:   nonNil(vm.Assignment),
	}
	if m.rebalanceMs == -1 { // written before KIP-62
		m.rebalanceMs = m.sessionMs
	}
	return m
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *Shard) replayOffset(key, value []byte) error {
	var k kmsg.OffsetCommitKey
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("group: offset commit key: %w", err)
	}
	tp := topicPartition{topic: k.Topic, partition: k.Partition}
	if value == nil {
		if g := s.groups[k.Group]; g != nil {
			delete(g.offsets, tp)
		}
		return nil
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("group: offset commit of %q: %w", k.Group, err)
	}
	off := offset{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitMs: v.CommitTimestamp, expireMs: -1}
	if v.Version >= 3 {
		off.leaderEpoch = v.LeaderEpoch
	}
	if v.Version == offsetCommitValueExpiresV1 {
		off.expireMs = v.ExpireTimestamp
	}
	g := s.groups[k.Group]
	if g == nil { // offsets without a group: a simple consumer's group
		g = newGroup(k.Group, &s.cfg, time.Time{})
		s.groups[k.Group] = g
	}
	g.offsets[tp] = off
	return nil
}
