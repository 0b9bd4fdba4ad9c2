package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/samsatest"
)

// retentionValue is the value of the record at offset: its offset, then
// filler that depends on it, so a batch of another offset or of another
// segment's bytes cannot pass for it.
func retentionValue(offset int64) []byte {
	return append([]byte(fmt.Sprintf("%012d|", offset)), bytes.Repeat([]byte{byte(offset), byte(offset >> 8)}, 250)...)
}

// Fetches send record batches from segment files by sendfile, holding the
// segment open until the bytes are written. Consumers fetching at random
// offsets while retention and DeleteRecords remove segments underneath
// must get the right records or OFFSET_OUT_OF_RANGE, never other bytes.
func TestFetchWhileRetentionDeletesSegments(t *testing.T) {
	node := samsatest.Start(t, samsatest.WithProps(map[string]string{"log.retention.check.interval.ms": "10"}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	segment, retention := "1048576", "2097152"
	created, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"segment.bytes": &segment, "retention.bytes": &retention}, "churn")
	if err != nil {
		t.Fatal(err)
	}
	var hw atomic.Int64
	// One producer, one partition: records take the offsets of their
	// order, which their values name.
	produce := func(n int) {
		base := hw.Load()
		for i := range int64(n) {
			cl.Produce(ctx, &kgo.Record{Topic: "churn", Value: retentionValue(base + i)}, func(r *kgo.Record, err error) {
				if err == nil && r.Offset != base+i {
					err = fmt.Errorf("record produced at %d, want %d", r.Offset, base+i)
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		if err := cl.Flush(ctx); err != nil {
			t.Error(err)
		}
		hw.Add(int64(n))
	}
	produce(100)

	stop := make(chan struct{})
	var served, outOfRange atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				high := hw.Load()
				offset := max(high-rand.Int64N(12000), 0)
				req := fetchReq("churn", created.ID, offset)
				req.Topics[0].Partitions[0].PartitionMaxBytes = int32(1 + rand.IntN(1<<20))
				resp, err := req.RequestWith(ctx, cl)
				if err != nil {
					t.Error(err)
					return
				}
				p := resp.Topics[0].Partitions[0]
				switch p.ErrorCode {
				case kerr.OffsetOutOfRange.Code:
					outOfRange.Add(1)
					continue
				case 0:
				default:
					t.Errorf("fetch at %d: error %d", offset, p.ErrorCode)
					return
				}
				if err := checkRetentionBatches(p.RecordBatches, offset); err != nil {
					t.Errorf("fetch at %d: %v", offset, err)
					return
				}
				served.Add(1)
			}
		})
	}
	start := time.Now()
	for time.Since(start) < 3*time.Second && !t.Failed() {
		produce(1000)
		// Move the log start too, so segments go on the next check.
		if _, err := adm.DeleteRecords(ctx, kadm.Offsets{"churn": {0: {Topic: "churn", At: hw.Load() - 3000}}}); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d records produced, %d fetches served records, %d were out of range", hw.Load(), served.Load(), outOfRange.Load())
	if served.Load() == 0 || outOfRange.Load() == 0 {
		t.Fatalf("%d fetches served, %d out of range: the test did not race retention", served.Load(), outOfRange.Load())
	}
}

// checkRetentionBatches checks that data holds whole, valid batches, the
// first one holding offset, of the records produced at their offsets.
func checkRetentionBatches(data []byte, offset int64) error {
	if len(data) == 0 {
		return nil
	}
	first := true
	for len(data) > 0 {
		batch, h, rest, err := record.Next(data)
		if err != nil {
			return err
		}
		if _, err := record.Validate(batch); err != nil {
			return err
		}
		if first && (h.BaseOffset > offset || h.LastOffset() < offset) {
			return fmt.Errorf("first batch [%d, %d] does not hold the offset fetched", h.BaseOffset, h.LastOffset())
		}
		first = false
		recs, err := record.Records(batch, 1<<20)
		if err != nil {
			return err
		}
		for _, r := range recs {
			at := h.BaseOffset + int64(r.OffsetDelta)
			if !bytes.Equal(r.Value, retentionValue(at)) {
				return fmt.Errorf("record at %d holds %.13q", at, r.Value)
			}
		}
		data = rest
	}
	return nil
}
