package metadata

import "testing"

func TestProducerIDBlocksOnlyMoveForward(t *testing.T) {
	im, err := Empty().Apply(1, []Record{{ProducerIDs: &ProducerIDsRecord{BrokerID: 1, BrokerEpoch: 0, NextProducerID: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if im.NextProducerID() != 1000 {
		t.Fatalf("next id %d, want 1000", im.NextProducerID())
	}
	for _, next := range []int64{1000, 999, 0} {
		if _, err := im.Apply(2, []Record{{ProducerIDs: &ProducerIDsRecord{BrokerID: 1, NextProducerID: next}}}); err == nil {
			t.Fatalf("a block ending at %d after 1000 applied", next)
		}
	}
	im2, err := im.Apply(2, []Record{{ProducerIDs: &ProducerIDsRecord{BrokerID: 1, NextProducerID: 2000}}})
	if err != nil || im2.NextProducerID() != 2000 || im.NextProducerID() != 1000 {
		t.Fatalf("second block: %v, next %d (old image %d)", err, im2.NextProducerID(), im.NextProducerID())
	}

	// The snapshot form keeps the next id; a store restored from it and a
	// store whose entry was rejected keep it too.
	re, err := Empty().Apply(2, im2.Records())
	if err != nil || re.NextProducerID() != 2000 {
		t.Fatalf("rebuilt image: %v, next %d", err, re.NextProducerID())
	}
	s := NewStore()
	s.Apply(1, Encode([]Record{{ProducerIDs: &ProducerIDsRecord{NextProducerID: 1000}}}))
	s.Apply(2, Encode([]Record{{ProducerIDs: &ProducerIDsRecord{NextProducerID: 5}}}))
	if s.Image().NextProducerID() != 1000 || s.RejectedAt(2) == nil {
		t.Fatalf("after a rejected block: next %d, rejection %v", s.Image().NextProducerID(), s.RejectedAt(2))
	}
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	s2 := NewStore()
	if err := s2.Restore(snap); err != nil || s2.Image().NextProducerID() != 1000 {
		t.Fatalf("restored: %v, next %d", err, s2.Image().NextProducerID())
	}
}
