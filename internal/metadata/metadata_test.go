package metadata

import (
	"errors"
	"reflect"
	"testing"
)

func strp(s string) *string { return &s }

func topicRecords(name string, id UUID, parts int) []Record {
	recs := []Record{{Topic: &TopicRecord{Name: name, ID: id}}}
	for p := range parts {
		recs = append(recs, Record{Partition: &PartitionRecord{
			TopicID: id, Partition: int32(p), Replicas: []int32{1}, ISR: []int32{1}, Leader: 1,
		}})
	}
	return recs
}

func TestApplyBuildsImageAndKeepsOldOne(t *testing.T) {
	a, b := NewUUID(), NewUUID()
	im0 := Empty()
	im1, err := im0.Apply(1, append(topicRecords("a", a, 3),
		Record{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "a", Name: "retention.ms", Value: strp("1000")}}))
	if err != nil {
		t.Fatal(err)
	}
	im2, err := im1.Apply(2, append(topicRecords("b", b, 1),
		Record{Broker: &BrokerRecord{ID: 1, Listeners: []Endpoint{{Name: "PLAINTEXT", Host: "localhost", Port: 9092}}}}))
	if err != nil {
		t.Fatal(err)
	}
	if im0.NumTopics() != 0 || im1.NumTopics() != 1 || im2.NumTopics() != 2 {
		t.Fatalf("topic counts %d %d %d", im0.NumTopics(), im1.NumTopics(), im2.NumTopics())
	}
	if got := im2.Topic("a"); got == nil || got.ID != a || len(got.Partitions) != 3 || im2.TopicByID(a) != got {
		t.Fatalf("topic a: %+v", got)
	}
	if got := im2.TopicConfigs("a")["retention.ms"]; got != "1000" {
		t.Fatalf("config %q", got)
	}
	if _, ok := im1.Broker(1); ok {
		t.Fatal("broker leaked into the older image")
	}
	if im2.Index != 2 || im1.Index != 1 {
		t.Fatalf("indexes %d %d", im1.Index, im2.Index)
	}

	// A partition change replaces state; the old image keeps its own.
	im3, err := im2.Apply(3, []Record{{Partition: &PartitionRecord{TopicID: a, Partition: 1, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if im3.Topic("a").Partitions[1].LeaderEpoch != 4 || im2.Topic("a").Partitions[1].LeaderEpoch != 0 {
		t.Fatal("partition change not copy-on-write")
	}

	// Removing a topic drops its configs; config removal with nil.
	im4, err := im3.Apply(4, []Record{{RemoveTopic: &RemoveTopicRecord{ID: a}},
		{Config: &ConfigRecord{ResourceType: ResourceBroker, ResourceName: "", Name: "x", Value: strp("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if im4.Topic("a") != nil || im4.TopicByID(a) != nil || im4.TopicConfigs("a") != nil {
		t.Fatal("topic a survived removal")
	}
	im5, _ := im4.Apply(5, []Record{{Config: &ConfigRecord{ResourceType: ResourceBroker, Name: "x"}}})
	if im5.Configs(ConfigKey{ResourceBroker, ""}) != nil || im4.Configs(ConfigKey{ResourceBroker, ""})["x"] != "1" {
		t.Fatal("config removal")
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	a := NewUUID()
	im1, _ := Empty().Apply(1, topicRecords("a", a, 1))
	cases := map[string][]Record{
		"duplicate name":        topicRecords("a", NewUUID(), 1),
		"duplicate id":          topicRecords("z", a, 1),
		"partition gap":         {{Partition: &PartitionRecord{TopicID: a, Partition: 5}}},
		"unknown topic":         {{Partition: &PartitionRecord{TopicID: NewUUID()}}},
		"remove unknown":        {{RemoveTopic: &RemoveTopicRecord{ID: NewUUID()}}},
		"valid then bad record": append(topicRecords("c", NewUUID(), 2), Record{RemoveTopic: &RemoveTopicRecord{ID: NewUUID()}}),
	}
	for name, recs := range cases {
		got, err := im1.Apply(2, recs)
		if err == nil || got != im1 {
			t.Errorf("%s: err %v, image changed %v", name, err, got != im1)
		}
		if got.Topic("c") != nil {
			t.Errorf("%s: partial entry applied", name)
		}
	}
}

func TestRecordsRebuildTheImage(t *testing.T) {
	im, _ := Empty().Apply(1, append(topicRecords("b", NewUUID(), 2), topicRecords("a", NewUUID(), 3)...))
	im, _ = im.Apply(2, []Record{
		{Broker: &BrokerRecord{ID: 2, Rack: strp("r1")}},
		{Config: &ConfigRecord{ResourceType: ResourceTopic, ResourceName: "a", Name: "cleanup.policy", Value: strp("compact")}},
		{Config: &ConfigRecord{ResourceType: ResourceBroker, ResourceName: "1", Name: "log.retention.ms", Value: strp("5")}},
	})
	again, err := Empty().Apply(2, im.Records())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, im) {
		t.Fatalf("rebuilt image differs:\n%+v\n%+v", again, im)
	}
	// And the encoding round-trips the records.
	recs, err := Decode(Encode(im.Records()))
	if err != nil || !reflect.DeepEqual(recs, im.Records()) {
		t.Fatalf("encode/decode: %v", err)
	}
}

func TestDecodeRejectsBadEntries(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"version":   append([]byte{9}, Encode(nil)[1:]...),
		"json":      {entryVersion, '{'},
		"no kind":   append([]byte{entryVersion}, `{"records":[{}]}`...),
		"two kinds": append([]byte{entryVersion}, `{"records":[{"topic":{"name":"a","id":"AAAAAAAAAAAAAAAAAAAAAA"},"removeTopic":{"id":"AAAAAAAAAAAAAAAAAAAAAA"}}]}`...),
		"bad uuid":  append([]byte{entryVersion}, `{"records":[{"topic":{"name":"a","id":"xyz"}}]}`...),
	} {
		if _, err := Decode(data); !errors.Is(err, ErrBadEntry) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStoreSnapshotRestoreAndSubscribers(t *testing.T) {
	s := NewStore()
	var seen []uint64
	s.Subscribe(func(old, cur *Image) { seen = append(seen, cur.Index) })
	id := NewUUID()
	if err := s.Apply(1, Encode(topicRecords("t", id, 2))); err != nil {
		t.Fatal(err)
	}
	// An invalid entry is skipped, recorded, and still advances the index.
	if err := s.Apply(2, Encode(topicRecords("t", NewUUID(), 1))); err != nil {
		t.Fatal(err)
	}
	if len(s.Rejected()) != 1 || s.Image().Index != 2 || s.Image().Topic("t").ID != id {
		t.Fatalf("rejected %v index %d", s.Rejected(), s.Image().Index)
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r := NewStore()
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Image(), s.Image()) {
		t.Fatal("restored image differs")
	}
	if !reflect.DeepEqual(seen, []uint64{1, 2}) {
		t.Fatalf("subscriber saw %v", seen)
	}
	if err := r.Restore([]byte{entryVersion, 'x'}); !errors.Is(err, ErrBadEntry) {
		t.Fatalf("bad snapshot: %v", err)
	}
}

func TestUUID(t *testing.T) {
	seen := map[UUID]bool{}
	for range 1000 {
		u := NewUUID()
		if seen[u] || u == (UUID{}) {
			t.Fatal("repeat or zero uuid")
		}
		seen[u] = true
		back, err := ParseUUID(u.String())
		if err != nil || back != u || len(u.String()) != 22 {
			t.Fatalf("round trip %s: %v", u, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(topicRecords("a", NewUUID(), 2)))
	f.Add([]byte{entryVersion, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes either applies or is rejected whole.
		im, err := Empty().Apply(1, recs)
		if err != nil && im.NumTopics() != 0 {
			t.Fatal("rejected entry changed the image")
		}
	})
}
