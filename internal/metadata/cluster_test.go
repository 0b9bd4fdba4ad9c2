package metadata

import (
	"reflect"
	"testing"
)

func boolp(b bool) *bool { return &b }

// A broker change applies only to the registration it names, and a new
// registration remembers the index it was registered at.
func TestBrokerChange(t *testing.T) {
	inc := NewUUID()
	im, err := Empty().Apply(7, []Record{{Broker: &BrokerRecord{ID: 1, Epoch: 7, Fenced: true, IncarnationID: inc}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := im.Broker(1); b.RegisteredAt != 7 || !b.Fenced || b.IncarnationID != inc {
		t.Fatalf("registration %+v", b)
	}
	im2, err := im.Apply(8, []Record{{BrokerChange: &BrokerChangeRecord{ID: 1, Epoch: 7, Fenced: boolp(false)}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := im2.Broker(1); b.Fenced || b.RegisteredAt != 7 {
		t.Fatalf("unfenced %+v", b)
	}
	im3, err := im2.Apply(9, []Record{{BrokerChange: &BrokerChangeRecord{ID: 1, Epoch: 7, InControlledShutdown: boolp(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := im3.Broker(1); b.Fenced || !b.InControlledShutdown {
		t.Fatalf("shutting down %+v", b)
	}
	for name, c := range map[string]BrokerChangeRecord{
		"stale epoch":  {ID: 1, Epoch: 6, Fenced: boolp(true)},
		"unregistered": {ID: 2, Epoch: 7, Fenced: boolp(true)},
	} {
		if _, err := im3.Apply(10, []Record{{BrokerChange: &c}}); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
}

// Reassignment state, recovery state and broker state survive a snapshot
// and the encoding.
func TestClusterStateRoundTrips(t *testing.T) {
	id := NewUUID()
	im, _ := Empty().Apply(3, []Record{
		{Broker: &BrokerRecord{ID: 1, Epoch: 3, Rack: strp("a"), IncarnationID: NewUUID(), InControlledShutdown: true}},
		{Broker: &BrokerRecord{ID: 2, Epoch: 3, Fenced: true}},
		{Topic: &TopicRecord{Name: "t", ID: id}},
		{Partition: &PartitionRecord{TopicID: id, Replicas: []int32{1, 2, 3}, ISR: []int32{1}, Leader: 1,
			LeaderEpoch: 2, PartitionEpoch: 5, AddingReplicas: []int32{3}, RemovingReplicas: []int32{2}, LeaderRecoveryState: 1}},
	})
	again, err := Empty().Apply(3, im.Records())
	if err != nil || !reflect.DeepEqual(again, im) {
		t.Fatalf("rebuilt image differs (%v):\n%+v\n%+v", err, again, im)
	}
	recs, err := Decode(Encode(im.Records()))
	if err != nil || !reflect.DeepEqual(recs, im.Records()) {
		t.Fatalf("encode/decode: %v", err)
	}
	p := im.Topic("t").Partitions[0]
	if !p.Reassigning() || p.LeaderRecoveryState != 1 {
		t.Fatalf("partition %+v", p)
	}
}

// Entries written before the cluster fields existed still decode, with
// the fields' zero values.
func TestOldEntriesDecode(t *testing.T) {
	old := append([]byte{entryVersion}, `{"records":[`+
		`{"broker":{"id":1,"epoch":2,"listeners":[{"name":"PLAINTEXT","host":"h","port":9092,"securityProtocol":0}]}},`+
		`{"topic":{"name":"t","id":"AAAAAAAAAAAAAAAAAAAAAQ"}},`+
		`{"partition":{"topicId":"AAAAAAAAAAAAAAAAAAAAAQ","partition":0,"replicas":[1],"isr":[1],"leader":1,"leaderEpoch":0,"partitionEpoch":0}}]}`...)
	recs, err := Decode(old)
	if err != nil {
		t.Fatal(err)
	}
	im, err := Empty().Apply(4, recs)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := im.Broker(1)
	p := im.Topic("t").Partitions[0]
	if b.Fenced || b.InControlledShutdown || b.IncarnationID != (UUID{}) || b.RegisteredAt != 4 || p.Reassigning() {
		t.Fatalf("old entry: %+v %+v", b, p)
	}
}
