package group

// Records of KIP-848 consumer groups in __consumer_offsets, encoded with
// kbin exactly as Kafka's JSON schemas in
// group-coordinator/src/main/resources/common/message/ describe them (kmsg
// has no types for them):
//
//	type 3 ConsumerGroupMetadataKey/Value          group epoch (+ KIP-1101 MetadataHash, tag 0)
//	type 5 ConsumerGroupMemberMetadataKey/Value    a member's subscription
//	type 6 ConsumerGroupTargetAssignmentMetadataKey/Value  the assignment epoch
//	type 7 ConsumerGroupTargetAssignmentMemberKey/Value    a member's target assignment
//	type 8 ConsumerGroupCurrentMemberAssignmentKey/Value   a member's current assignment
//
// A key is the int16 record type then the non-flexible key fields; a value
// is the int16 value version (0 for all of these) then the flexible fields
// (compact strings and arrays, tagged fields). Unknown tagged fields are
// skipped on read, so records written by newer Kafka versions load.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Record types (the key version) of consumer group records.
const (
	cgMetadataType     int16 = 3
	cgMemberType       int16 = 5
	cgTargetMetaType   int16 = 6
	cgTargetMemberType int16 = 7
	cgCurrentType      int16 = 8
)

var errRecord = errors.New("group: malformed consumer group record")

// cgKey is the key of a consumer group record: the group, and the member
// for types 5, 7 and 8.
type cgKey struct {
	Type   int16
	Group  string
	Member string
}

func (k cgKey) hasMember() bool {
	return k.Type == cgMemberType || k.Type == cgTargetMemberType || k.Type == cgCurrentType
}

func (k cgKey) append(dst []byte) []byte {
	dst = kbin.AppendInt16(dst, k.Type)
	dst = kbin.AppendString(dst, k.Group)
	if k.hasMember() {
		dst = kbin.AppendString(dst, k.Member)
	}
	return dst
}

func readCGKey(b []byte) (cgKey, error) {
	r := kbin.Reader{Src: b}
	k := cgKey{Type: r.Int16(), Group: r.String()}
	if k.hasMember() {
		k.Member = r.String()
	}
	if err := r.Complete(); err != nil {
		return k, fmt.Errorf("%w: key: %v", errRecord, err)
	}
	return k, nil
}

// cgTopicPartitions is the TopicPartitions struct of types 7 and 8.
type cgTopicPartitions struct {
	TopicID    [16]byte
	Partitions []int32
}

// cgMetadataValue is ConsumerGroupMetadataValue v0.
type cgMetadataValue struct {
	Epoch        int32
	MetadataHash int64 // tag 0, default 0 (KIP-1101)
}

// cgMemberValue is ConsumerGroupMemberMetadataValue v0. The tagged
// ClassicMemberMetadata (tag 0) is only set for classic members of a
// consumer group, which Samsa does not have; it is skipped on read.
type cgMemberValue struct {
	InstanceID           *string
	RackID               *string
	ClientID             string
	ClientHost           string
	SubscribedTopicNames []string
	SubscribedTopicRegex *string
	RebalanceTimeoutMs   int32
	ServerAssignor       *string
}

// cgTargetMetaValue is ConsumerGroupTargetAssignmentMetadataValue v0.
type cgTargetMetaValue struct {
	AssignmentEpoch int32
}

// cgTargetMemberValue is ConsumerGroupTargetAssignmentMemberValue v0.
type cgTargetMemberValue struct {
	TopicPartitions []cgTopicPartitions
}

// cgCurrentValue is ConsumerGroupCurrentMemberAssignmentValue v0 (the
// KIP-1251 AssignmentEpochs tag of TopicPartitions is skipped on read).
type cgCurrentValue struct {
	MemberEpoch                 int32
	PreviousMemberEpoch         int32
	State                       int8
	AssignedPartitions          []cgTopicPartitions
	PartitionsPendingRevocation []cgTopicPartitions
}

func valueHeader() []byte { return kbin.AppendInt16(make([]byte, 0, 64), 0) }

func (v cgMetadataValue) append() []byte {
	b := kbin.AppendInt32(valueHeader(), v.Epoch)
	if v.MetadataHash == 0 {
		return kbin.AppendUvarint(b, 0)
	}
	b = kbin.AppendUvarint(b, 1)
	b = kbin.AppendUvarint(b, 0)
	b = kbin.AppendUvarint(b, 8)
	return kbin.AppendInt64(b, v.MetadataHash)
}

func (v cgMemberValue) append() []byte {
	b := kbin.AppendCompactNullableString(valueHeader(), v.InstanceID)
	b = kbin.AppendCompactNullableString(b, v.RackID)
	b = kbin.AppendCompactString(b, v.ClientID)
	b = kbin.AppendCompactString(b, v.ClientHost)
	b = kbin.AppendCompactArrayLen(b, len(v.SubscribedTopicNames))
	for _, t := range v.SubscribedTopicNames {
		b = kbin.AppendCompactString(b, t)
	}
	b = kbin.AppendCompactNullableString(b, v.SubscribedTopicRegex)
	b = kbin.AppendInt32(b, v.RebalanceTimeoutMs)
	b = kbin.AppendCompactNullableString(b, v.ServerAssignor)
	return kbin.AppendUvarint(b, 0)
}

func (v cgTargetMetaValue) append() []byte {
	b := kbin.AppendInt32(valueHeader(), v.AssignmentEpoch)
	return kbin.AppendUvarint(b, 0)
}

func (v cgTargetMemberValue) append() []byte {
	b := appendTopicPartitions(valueHeader(), v.TopicPartitions)
	return kbin.AppendUvarint(b, 0)
}

func (v cgCurrentValue) append() []byte {
	b := kbin.AppendInt32(valueHeader(), v.MemberEpoch)
	b = kbin.AppendInt32(b, v.PreviousMemberEpoch)
	b = kbin.AppendInt8(b, v.State)
	b = appendTopicPartitions(b, v.AssignedPartitions)
	b = appendTopicPartitions(b, v.PartitionsPendingRevocation)
	return kbin.AppendUvarint(b, 0)
}

func appendTopicPartitions(b []byte, tps []cgTopicPartitions) []byte {
	b = kbin.AppendCompactArrayLen(b, len(tps))
	for _, tp := range tps {
		b = kbin.AppendUuid(b, tp.TopicID)
		b = kbin.AppendCompactArrayLen(b, len(tp.Partitions))
		for _, p := range tp.Partitions {
			b = kbin.AppendInt32(b, p)
		}
		b = kbin.AppendUvarint(b, 0)
	}
	return b
}

// valueReader reads a value after checking its version.
func valueReader(b []byte) (*kbin.Reader, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: value of %d bytes", errRecord, len(b))
	}
	if v := int16(binary.BigEndian.Uint16(b)); v != 0 {
		return nil, fmt.Errorf("%w: value version %d", errRecord, v)
	}
	return &kbin.Reader{Src: b[2:]}, nil
}

// readTags reads a tagged-field section, calling fn with each field's bytes.
func readTags(r *kbin.Reader, fn func(tag uint32, b []byte)) {
	n := r.Uvarint()
	if int(n) > len(r.Src) { // a field takes at least two bytes
		r.Span(-1)
		return
	}
	for range n {
		tag, size := r.Uvarint(), r.Uvarint()
		b := r.Span(int(size)) // past the end, the reader turns bad
		if b != nil && fn != nil {
			fn(tag, b)
		}
	}
}

func done(r *kbin.Reader, what string) error {
	if err := r.Complete(); err != nil {
		return fmt.Errorf("%w: %s: %v", errRecord, what, err)
	}
	return nil
}

func readCGMetadataValue(b []byte) (cgMetadataValue, error) {
	var v cgMetadataValue
	r, err := valueReader(b)
	if err != nil {
		return v, err
	}
	v.Epoch = r.Int32()
	readTags(r, func(tag uint32, b []byte) {
		if tag == 0 && len(b) == 8 {
			v.MetadataHash = int64(binary.BigEndian.Uint64(b))
		}
	})
	return v, done(r, "ConsumerGroupMetadataValue")
}

func readCGMemberValue(b []byte) (cgMemberValue, error) {
	var v cgMemberValue
	r, err := valueReader(b)
	if err != nil {
		return v, err
	}
	v.InstanceID = r.CompactNullableString()
	v.RackID = r.CompactNullableString()
	v.ClientID = r.CompactString()
	v.ClientHost = r.CompactString()
	n := r.CompactArrayLen()
	if n > 0 && int(n) <= len(r.Src) {
		v.SubscribedTopicNames = make([]string, 0, n)
		for range n {
			v.SubscribedTopicNames = append(v.SubscribedTopicNames, r.CompactString())
		}
	}
	v.SubscribedTopicRegex = r.CompactNullableString()
	v.RebalanceTimeoutMs = r.Int32()
	v.ServerAssignor = r.CompactNullableString()
	readTags(r, nil)
	return v, done(r, "ConsumerGroupMemberMetadataValue")
}

func readCGTargetMetaValue(b []byte) (cgTargetMetaValue, error) {
	var v cgTargetMetaValue
	r, err := valueReader(b)
	if err != nil {
		return v, err
	}
	v.AssignmentEpoch = r.Int32()
	readTags(r, nil)
	return v, done(r, "ConsumerGroupTargetAssignmentMetadataValue")
}

func readCGTargetMemberValue(b []byte) (cgTargetMemberValue, error) {
	var v cgTargetMemberValue
	r, err := valueReader(b)
	if err != nil {
		return v, err
	}
	v.TopicPartitions = readTopicPartitions(r)
	readTags(r, nil)
	return v, done(r, "ConsumerGroupTargetAssignmentMemberValue")
}

func readCGCurrentValue(b []byte) (cgCurrentValue, error) {
	var v cgCurrentValue
	r, err := valueReader(b)
	if err != nil {
		return v, err
	}
	v.MemberEpoch = r.Int32()
	v.PreviousMemberEpoch = r.Int32()
	v.State = r.Int8()
	v.AssignedPartitions = readTopicPartitions(r)
	v.PartitionsPendingRevocation = readTopicPartitions(r)
	readTags(r, nil)
	return v, done(r, "ConsumerGroupCurrentMemberAssignmentValue")
}

// readTopicPartitions reads a compact array of TopicPartitions, bounding
// every count by the bytes left (a partition takes 4 bytes, a topic 18).
func readTopicPartitions(r *kbin.Reader) []cgTopicPartitions {
	n := r.CompactArrayLen()
	if n <= 0 || int(n) > len(r.Src)/18 {
		if n > 0 {
			r.Span(-1) // more topics than bytes: make the reader bad
		}
		return nil
	}
	out := make([]cgTopicPartitions, 0, n)
	for range n {
		tp := cgTopicPartitions{TopicID: r.Uuid()}
		np := r.CompactArrayLen()
		if np < 0 || int(np) > len(r.Src)/4 {
			r.Span(-1)
			return nil
		}
		tp.Partitions = make([]int32, 0, np)
		for range np {
			tp.Partitions = append(tp.Partitions, r.Int32())
		}
		readTags(r, nil)
		out = append(out, tp)
	}
	return out
}
