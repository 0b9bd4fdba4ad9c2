package main

// The workload: idempotent acks=all producers (franz-go's defaults) at a
// steady rate through every fault, recording each acknowledgement; and
// the read-back of every partition after the cluster has healed.

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tick is how often each producer hands its share of the rate to kgo.
const tick = 20 * time.Millisecond

type workload struct {
	topic      string
	partitions int32
	perTick    int // records per producer per tick
	clients    []*kgo.Client
	wg         sync.WaitGroup
	stop       context.CancelFunc

	mu struct {
		sync.Mutex
		acks     []Ack
		sent     int64
		failures map[string]int // error text -> records failed with it
	}
}

// producerOpts are the client settings: kgo's defaults (acks=all,
// idempotence, unlimited retries) with quick leader discovery, request
// timeouts short enough that a paused leader is given up on, and no limit
// on UNKNOWN_TOPIC_OR_PARTITION retries (kgo's default fails a record
// after 4, and a restarted node answers so until it has loaded the
// metadata), so that every record waits for its acknowledgement.
func producerOpts(addrs []string, topic string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addrs...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordRetries(math.MaxInt), kgo.UnknownTopicRetries(-1), kgo.ProducerLinger(5 * time.Millisecond),
		kgo.MaxBufferedRecords(100_000), kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.ProduceRequestTimeout(8 * time.Second), kgo.RequestTimeoutOverhead(2 * time.Second),
		kgo.DialTimeout(2 * time.Second),
	}
}

// startWorkload starts producers producing rate records/s in total, each
// record to the next partition in turn, until Stop.
func startWorkload(addrs []string, topic string, partitions int32, producers, rate int) (*workload, error) {
	w := &workload{topic: topic, partitions: partitions,
		perTick: max(1, rate*int(tick/time.Millisecond)/1000/producers)}
	w.mu.failures = map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	for p := range producers {
		cl, err := kgo.NewClient(producerOpts(addrs, topic)...)
		if err != nil {
			w.Close()
			return nil, err
		}
		w.clients = append(w.clients, cl)
		w.wg.Add(1)
		go w.produce(ctx, p, cl)
	}
	return w, nil
}

// produce sends producer p's records, perTick every tick, each to the
// next partition in turn.
func (w *workload) produce(ctx context.Context, p int, cl *kgo.Client) {
	defer w.wg.Done()
	t := time.NewTicker(tick)
	defer t.Stop()
	var seq int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for range w.perTick {
			r := &kgo.Record{Partition: int32((seq + int64(p)) % int64(w.partitions)), Value: recordValue(p, seq)}
			s := seq
			w.countSent()
			// The background context: a record already handed over is
			// retried until acknowledged or Close, never abandoned by Stop.
			cl.Produce(context.Background(), r, func(r *kgo.Record, err error) { w.record(p, s, r, err) })
			seq++
		}
	}
}

func (w *workload) countSent() {
	w.mu.Lock()
	w.mu.sent++
	w.mu.Unlock()
}

func (w *workload) record(p int, seq int64, r *kgo.Record, err error) {
	at := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.mu.failures[err.Error()]++
		return
	}
	w.mu.acks = append(w.mu.acks, Ack{Producer: p, Seq: seq, Partition: r.Partition, Offset: r.Offset, At: at})
}

// Stop stops producing new records and waits up to limit for every
// record handed over to be acknowledged or failed.
func (w *workload) Stop(limit time.Duration) error {
	w.stop()
	w.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for _, cl := range w.clients {
		if err := cl.Flush(ctx); err != nil {
			return fmt.Errorf("flushing the producers: %w", err)
		}
	}
	return nil
}

// Close closes the clients; records still buffered fail.
func (w *workload) Close() {
	if w.stop != nil {
		w.stop()
	}
	w.wg.Wait()
	for _, cl := range w.clients {
		cl.Close()
	}
}

// Stats returns the acknowledgements so far, how many records were
// handed to the producers, and the failures by error.
func (w *workload) Stats() (acks []Ack, sent int64, failures map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	failures = map[string]int{}
	for k, v := range w.mu.failures {
		failures[k] = v
	}
	return append([]Ack(nil), w.mu.acks...), w.mu.sent, failures
}

// readBack reads every partition of topic from its start to its high
// watermark (read_uncommitted: every record is settled once the cluster
// has healed and the producers flushed).
func readBack(ctx context.Context, addrs []string, adm *admin, limit time.Duration) ([]Read, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	ends, err := adm.adm.ListEndOffsets(ctx, adm.topic)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	want := map[int32]int64{}
	offsets := map[int32]kgo.Offset{}
	var fail error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			fail = fmt.Errorf("end offset of partition %d: %w", o.Partition, o.Err)
		}
		want[o.Partition] = o.Offset
		offsets[o.Partition] = kgo.NewOffset().AtStart()
	})
	if fail != nil {
		return nil, fail
	}
	return consumeTo(ctx, addrs, adm.topic, offsets, want)
}

// consumeTo consumes the partitions until each is read to want.
func consumeTo(ctx context.Context, addrs []string, topic string, offsets map[int32]kgo.Offset, want map[int32]int64) ([]Read, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	next := map[int32]int64{}
	reads := []Read{} // not nil: an empty read-back is still a read-back
	for !readTo(next, want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reading back: read to %v of %v: %w", next, want, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			reads = append(reads, Read{Partition: r.Partition, Offset: r.Offset, Value: r.Value})
			next[r.Partition] = r.Offset + 1
		})
	}
	return reads, nil
}

func readTo(next, want map[int32]int64) bool {
	for p, end := range want {
		if next[p] < end {
			return false
		}
	}
	return true
}
