package samsatest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

func TestProduceConsumeRoundTrip(t *testing.T) {
	node := samsatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ConsumeTopics("rt"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "rt"); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		r := &kgo.Record{Topic: "rt", Key: []byte(fmt.Sprint(i % 7)), Value: []byte(fmt.Sprint(i))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("fetch: %v (after %d records)", err, got)
		}
		got += fs.NumRecords()
	}
	if got != n {
		t.Fatalf("consumed %d, want %d", got, n)
	}
}
