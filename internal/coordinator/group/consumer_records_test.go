package group

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

func TestConsumerRecordsRoundTrip(t *testing.T) {
	inst, regex, assignor := "i", "t.*", "uniform"
	tps := []cgTopicPartitions{{TopicID: uuid{1, 2}, Partitions: []int32{0, 3}}, {TopicID: uuid{9}, Partitions: []int32{7}}}
	check := func(name string, in, out any, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(in, out) {
			t.Errorf("%s: read back %+v (%v), want %+v", name, out, err, in)
		}
	}
	meta := cgMetadataValue{Epoch: 7, MetadataHash: -42}
	got, err := readCGMetadataValue(meta.append())
	check("metadata", meta, got, err)
	member := cgMemberValue{InstanceID: &inst, ClientID: "c", ClientHost: "/h", SubscribedTopicNames: []string{"a", "b"},
		SubscribedTopicRegex: &regex, RebalanceTimeoutMs: 300, ServerAssignor: &assignor}
	gotMember, err := readCGMemberValue(member.append())
	check("member", member, gotMember, err)
	target := cgTargetMemberValue{TopicPartitions: tps}
	gotTarget, err := readCGTargetMemberValue(target.append())
	check("target", target, gotTarget, err)
	tmeta := cgTargetMetaValue{AssignmentEpoch: 5}
	gotTMeta, err := readCGTargetMetaValue(tmeta.append())
	check("target metadata", tmeta, gotTMeta, err)
	cur := cgCurrentValue{MemberEpoch: 4, PreviousMemberEpoch: 3, State: 1, AssignedPartitions: tps, PartitionsPendingRevocation: tps[:1]}
	gotCur, err := readCGCurrentValue(cur.append())
	check("current", cur, gotCur, err)
	for _, k := range []cgKey{{Type: cgMetadataType, Group: "g"}, {Type: cgMemberType, Group: "g", Member: "m"},
		{Type: cgTargetMetaType, Group: "g"}, {Type: cgTargetMemberType, Group: "g", Member: "m"}, {Type: cgCurrentType, Group: "g", Member: "m"}} {
		gotKey, err := readCGKey(k.append(nil))
		check("key", k, gotKey, err)
	}
}

// TestConsumerRecordBytes pins the encodings to Kafka's schemas, byte by
// byte: keys are the record type and non-flexible strings; values are
// version 0 and flexible fields with a tagged-field section.
func TestConsumerRecordBytes(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"ConsumerGroupMetadataKey", cgKey{Type: 3, Group: "g"}.append(nil), "0003" + "0001" + "67"},
		{"ConsumerGroupCurrentMemberAssignmentKey", cgKey{Type: 8, Group: "g", Member: "m"}.append(nil), "0008" + "000167" + "00016d"},
		{"ConsumerGroupMetadataValue", cgMetadataValue{Epoch: 5}.append(), "0000" + "00000005" + "00"},
		// MetadataHash is tagged field 0, eight bytes.
		{"ConsumerGroupMetadataValue with hash", cgMetadataValue{Epoch: 5, MetadataHash: 1}.append(), "0000" + "00000005" + "01" + "00" + "08" + "0000000000000001"},
		{"ConsumerGroupTargetAssignmentMetadataValue", cgTargetMetaValue{AssignmentEpoch: 2}.append(), "0000" + "00000002" + "00"},
		// InstanceId null, RackId null, ClientId "c", ClientHost "h",
		// SubscribedTopicNames ["t"], SubscribedTopicRegex null,
		// RebalanceTimeoutMs 10, ServerAssignor null, no tags.
		{"ConsumerGroupMemberMetadataValue", cgMemberValue{ClientID: "c", ClientHost: "h", SubscribedTopicNames: []string{"t"}, RebalanceTimeoutMs: 10}.append(),
			"0000" + "00" + "00" + "0263" + "0268" + "02" + "0274" + "00" + "0000000a" + "00" + "00"},
		// Epoch 1, previous 0, state 0, one topic {1} with partition 2,
		// nothing pending revocation.
		{"ConsumerGroupCurrentMemberAssignmentValue", cgCurrentValue{MemberEpoch: 1, AssignedPartitions: []cgTopicPartitions{{TopicID: uuid{1}, Partitions: []int32{2}}}}.append(),
			"0000" + "00000001" + "00000000" + "00" + "02" + "01000000000000000000000000000000" + "02" + "00000002" + "00" + "01" + "00"},
	} {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestConsumerRecordsRejectGarbage(t *testing.T) {
	cur := cgCurrentValue{MemberEpoch: 1, AssignedPartitions: []cgTopicPartitions{{TopicID: uuid{1}, Partitions: []int32{1, 2, 3}}}}.append()
	for n := range len(cur) - 1 {
		if _, err := readCGCurrentValue(cur[:n]); !errors.Is(err, errRecord) {
			t.Errorf("truncated to %d bytes: %v", n, err)
		}
	}
	huge := bytes.Clone(cur)
	huge[11] = 0x7f // claims 126 topics
	if _, err := readCGCurrentValue(huge); !errors.Is(err, errRecord) {
		t.Errorf("an oversized topic count: %v", err)
	}
	if _, err := readCGMetadataValue([]byte{0, 1, 0, 0, 0, 1, 0}); !errors.Is(err, errRecord) {
		t.Errorf("value version 1: %v", err)
	}
}
