package api

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/wire"
)

// For every Fetch version and random responses, a response encoded with
// placeholders and spliced with file regions, once the regions are read
// in, is byte for byte kmsg's encoding of the response with the records.
func TestSpliceEqualsKmsgEncoding(t *testing.T) {
	h := New(Deps{})
	for v := int16(4); v <= 18; v++ {
		for seed := range uint64(40) {
			t.Run(fmt.Sprintf("v%d/%d", v, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(v), seed))
				spliceMatches(t, h, rng, v)
			})
		}
	}
}

func spliceMatches(t *testing.T, h *Handler, rng *rand.Rand, v int16) {
	real, withHolders := randomFetchResponse(rng, v)
	file := &bytes.Buffer{} // the "segment file" the regions point into
	var regions []*wire.Region
	released := 0
	for ti := range withHolders.Topics {
		for pi := range withHolders.Topics[ti].Partitions {
			recs := real.Topics[ti].Partitions[pi].RecordBatches
			if len(recs) == 0 {
				continue // empty records are sent as they are
			}
			file.Write(make([]byte, rng.IntN(100))) // other batches before it
			r := wire.NewRegion(nil, int64(file.Len()), len(recs), 1, func() { released++ })
			file.Write(recs)
			withHolders.Topics[ti].Partitions[pi].RecordBatches = placeholder(len(regions))
			regions = append(regions, r)
		}
	}
	f := bytes.NewReader(file.Bytes())
	for _, r := range regions {
		r.File = f
	}
	hdr := wire.RequestHeader{Key: int16(kmsg.Fetch), Version: v, CorrelationID: rng.Int32()}
	want := h.encode(hdr, h.deps.Now(), real)
	got := h.encodeReply(hdr, h.deps.Now(), withHolders, &reply{regions: func() []*wire.Region { return regions }})
	if len(got.Regions) != len(regions) {
		t.Fatalf("spliced %d regions of %d (fell back to copying?)", len(got.Regions), len(regions))
	}
	if got.Len() != len(want) {
		t.Fatalf("spliced response is %d bytes, kmsg's %d", got.Len(), len(want))
	}
	b, err := got.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("spliced response differs from kmsg's encoding\ngot  % x\nwant % x", b[:min(len(b), 200)], want[:min(len(want), 200)])
	}
	got.ReleaseRegions()
	if released != len(regions) {
		t.Fatalf("%d of %d regions released", released, len(regions))
	}
}

// randomFetchResponse returns a response at version v with random topics,
// partitions, errors, aborted transactions, records (some empty, some
// large enough for multi-byte length prefixes) and tagged fields, and a
// copy of it to put placeholders in.
func randomFetchResponse(rng *rand.Rand, v int16) (real, copy *kmsg.FetchResponse) {
	real, copy = kmsg.NewPtrFetchResponse(), kmsg.NewPtrFetchResponse()
	real.SetVersion(v)
	copy.SetVersion(v)
	real.ThrottleMillis = rng.Int32N(1000)
	real.ErrorCode = []int16{0, 0, 15}[rng.IntN(3)]
	real.SessionID = rng.Int32()
	for range rng.IntN(4) {
		t := kmsg.NewFetchResponseTopic()
		t.Topic = fmt.Sprintf("topic-%d", rng.IntN(1000))
		t.TopicID = metadata.NewUUID()
		for range rng.IntN(5) {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = rng.Int32N(100)
			p.ErrorCode = []int16{0, 0, 0, 1, 6, 74}[rng.IntN(6)]
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = rng.Int64(), rng.Int64(), rng.Int64()
			p.PreferredReadReplica = []int32{-1, 2}[rng.IntN(2)]
			for range rng.IntN(3) {
				a := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
				a.ProducerID, a.FirstOffset = rng.Int64(), rng.Int64()
				p.AbortedTransactions = append(p.AbortedTransactions, a)
			}
			if rng.IntN(3) == 0 {
				p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset = rng.Int32(), rng.Int64()
			}
			if rng.IntN(3) == 0 {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = rng.Int32(), rng.Int32()
			}
			if rng.IntN(4) == 0 {
				p.SnapshotID.EndOffset, p.SnapshotID.Epoch = rng.Int64(), rng.Int32()
			}
			switch rng.IntN(4) {
			case 0:
				p.RecordBatches = []byte{}
			case 1:
				p.RecordBatches = randomBytes(rng, 1+rng.IntN(200))
			case 2:
				p.RecordBatches = randomBytes(rng, 1+rng.IntN(70000)) // 3-byte uvarint
			default:
				p.RecordBatches = randomBytes(rng, 120+rng.IntN(20))
			}
			t.Partitions = append(t.Partitions, p)
		}
		real.Topics = append(real.Topics, t)
	}
	if rng.IntN(3) == 0 {
		for range 1 + rng.IntN(2) {
			e := kmsg.NewFetchResponseBroker()
			e.NodeID, e.Host, e.Port = rng.Int32(), fmt.Sprintf("host-%d", rng.IntN(9)), rng.Int32N(65536)
			real.Brokers = append(real.Brokers, e)
		}
	}
	*copy = *real
	copy.Topics = make([]kmsg.FetchResponseTopic, len(real.Topics))
	for i, t := range real.Topics {
		copy.Topics[i] = t
		copy.Topics[i].Partitions = append([]kmsg.FetchResponseTopicPartition(nil), t.Partitions...)
	}
	return real, copy
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// When the placeholders cannot be found exactly once each (here a
// placeholder's nonce also sits in an unknown tagged field before it), the
// response goes out with the records copied in, still equal to kmsg's
// encoding, and the regions are released.
func TestSpliceFallsBackToCopying(t *testing.T) {
	h := New(Deps{})
	real := kmsg.NewPtrFetchResponse()
	real.SetVersion(16)
	tp := kmsg.NewFetchResponseTopic()
	tp.TopicID = metadata.NewUUID()
	p := kmsg.NewFetchResponseTopicPartition()
	p.RecordBatches = []byte("the records")
	tp.Partitions = append(tp.Partitions, p)
	tp.UnknownTags.Set(7, append(append([]byte{}, nonce[:]...), 0, 0, 0, 0))
	real.Topics = append(real.Topics, tp)
	withHolder := *real
	withHolder.Topics = []kmsg.FetchResponseTopic{tp}
	withHolder.Topics[0].Partitions = []kmsg.FetchResponseTopicPartition{p}
	withHolder.Topics[0].Partitions[0].RecordBatches = placeholder(0)
	released := false
	r := wire.NewRegion(bytes.NewReader(p.RecordBatches), 0, len(p.RecordBatches), 1, func() { released = true })
	hdr := wire.RequestHeader{Key: int16(kmsg.Fetch), Version: 16, CorrelationID: 9}
	want := h.encode(hdr, h.deps.Now(), real)
	got := h.encodeReply(hdr, h.deps.Now(), &withHolder, &reply{regions: func() []*wire.Region { return []*wire.Region{r} }})
	if len(got.Regions) != 0 || !bytes.Equal(got.Bytes, want) || !released {
		t.Fatalf("fallback: %d regions, equal %v, released %v", len(got.Regions), bytes.Equal(got.Bytes, want), released)
	}
}
