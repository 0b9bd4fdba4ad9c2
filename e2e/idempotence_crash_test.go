package e2e

import (
	"math"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An idempotent producer (franz-go's default, KIP-679) keeps retrying
// across a kill -9 and restart of the broker: batches whose write survived
// the crash are recognised as duplicates by the recovered producer state,
// lost ones are written again, and every record reads back exactly once,
// in order per partition.
func TestIdempotentProducerAcrossKill9(t *testing.T) {
	const partitions, perPart = 3, 3000
	s := newServer(t)
	s.start()
	ctx := ctxFor(t, 90*time.Second)
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(s.addr()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, "idem"); err != nil {
		t.Fatal(err)
	}
	adm.Close()

	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.DefaultProduceTopic("idem"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(math.MaxInt),
		kgo.ProducerLinger(time.Millisecond), kgo.MaxBufferedRecords(3000))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var acked, failed atomic.Int64
	killed := false
	for i := range perPart {
		for p := range int32(partitions) {
			cl.Produce(ctx, &kgo.Record{Partition: p, Value: []byte(strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Add(1)
					t.Errorf("record failed: %v", err)
					return
				}
				acked.Add(1)
			})
		}
		if i == perPart/2 && !killed {
			// Kill while batches are in flight, restart, keep going.
			for acked.Load() < int64(partitions*perPart/4) && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			s.kill()
			t.Logf("killed with %d records acknowledged", acked.Load())
			time.Sleep(300 * time.Millisecond)
			s.start()
			killed = true
		}
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if failed.Load() > 0 {
		t.Fatalf("%d records failed", failed.Load())
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.ConsumeTopics("idem"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	next := make([]int, partitions)
	dups, gaps, total := 0, 0, 0
	for total < partitions*perPart && ctx.Err() == nil {
		cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			total++
			v, _ := strconv.Atoi(string(r.Value))
			switch want := next[r.Partition]; {
			case v < want:
				dups++
			case v > want:
				gaps += v - want
				next[r.Partition] = v + 1
			default:
				next[r.Partition] = v + 1
			}
		})
	}
	t.Logf("%d records, one kill -9: %d read back, %d duplicates, %d gaps", partitions*perPart, total, dups, gaps)
	if dups != 0 || gaps != 0 || total != partitions*perPart {
		t.Fatalf("%d duplicates, %d gaps, %d of %d records", dups, gaps, total, partitions*perPart)
	}
}
