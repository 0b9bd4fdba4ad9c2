package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

// Fetch reads into reused buffers (wire.GetBuffer) and gives them back
// once each response is encoded and written. Consumers reading different
// topics at once, with long polls that read again, must each see exactly
// their own records: a buffer given back too early would show up as
// another topic's bytes.
func TestConcurrentFetchesKeepTheirOwnRecords(t *testing.T) {
	node := samsatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const topics, perTopic = 4, 3000
	p, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.AllowAutoTopicCreation(),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	value := func(topic, i int) []byte {
		return bytes.Repeat([]byte(fmt.Sprintf("t%d-%d|", topic, i)), 40)
	}
	var wg sync.WaitGroup
	for tp := range topics {
		wg.Add(1)
		go func() { // consumers start first: their long polls race the produce
			defer wg.Done()
			c, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ConsumeTopics(fmt.Sprintf("pool-%d", tp)),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(64<<10))
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			next := 0
			for next < perTopic && ctx.Err() == nil {
				c.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					if !bytes.Equal(r.Value, value(tp, next)) {
						t.Errorf("topic %d record %d: got %.20q, want %.20q", tp, next, r.Value, value(tp, next))
					}
					next++
				})
			}
			if next != perTopic {
				t.Errorf("topic %d: read %d of %d records", tp, next, perTopic)
			}
		}()
	}
	for i := range perTopic {
		for tp := range topics {
			p.Produce(ctx, &kgo.Record{Topic: fmt.Sprintf("pool-%d", tp), Value: value(tp, i)}, nil)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
