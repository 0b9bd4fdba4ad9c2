package partition

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

func idemBatch(t *testing.T, pid int64, epoch int16, seq int32) []byte {
	t.Helper()
	b, err := record.Build(record.BatchSpec{BaseTimestamp: 1, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: -1},
		[]record.Record{{Value: []byte("v")}, {OffsetDelta: 1, Value: []byte("w")}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A retry is answered with the first write's offsets and commits at once;
// gaps and stale epochs carry Kafka's codes.
func TestIdempotentAppendCodes(t *testing.T) {
	f := newFixture(t, vfs.NewMem())
	f.m.Start(f.im)
	f.apply(topic("a", metadata.NewUUID(), []int32{1})...)
	p, _ := f.m.Get("a", 0)
	first, err := p.Append(idemBatch(t, 4, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(first.Next); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(idemBatch(t, 4, 1, 2)); err != nil {
		t.Fatal(err)
	}
	dup, err := p.Append(idemBatch(t, 4, 1, 0))
	if err != nil || !dup.Duplicate || dup.BaseOffset != first.BaseOffset || dup.Next != first.Next {
		t.Fatalf("retry %+v, %v; first %+v", dup, err, first)
	}
	if err := p.Commit(dup.Next); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(idemBatch(t, 4, 1, 9)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := p.Append(idemBatch(t, 4, 0, 4)); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("stale epoch: %v", err)
	}
}
