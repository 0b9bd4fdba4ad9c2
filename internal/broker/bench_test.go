package broker_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

// BenchmarkProduce1KiB: franz-go producing 1 KiB records with acks=all to
// an in-process node (client and broker share the machine's cores); every
// batch is fsynced before its acknowledgement. b.SetBytes gives MB/s.
func BenchmarkProduce1KiB(b *testing.B) {
	node := samsatest.Start(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.AllowAutoTopicCreation(),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.DisableIdempotentWrite())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "bench", Value: []byte("warm")}).FirstErr(); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 1024)
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	for range b.N {
		cl.Produce(ctx, &kgo.Record{Topic: "bench", Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConsume1KiB: franz-go reading 1 KiB records from the start of
// a topic on an in-process node.
func BenchmarkConsume1KiB(b *testing.B) {
	node := samsatest.Start(b)
	ctx := context.Background()
	p, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.AllowAutoTopicCreation(),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.DisableIdempotentWrite())
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 1024)
	for range b.N {
		p.Produce(ctx, &kgo.Record{Topic: "bench", Value: value}, nil)
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	p.Close()
	c, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ConsumeTopics("bench"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	for n := 0; n < b.N; {
		fs := c.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		n += fs.NumRecords()
	}
}
