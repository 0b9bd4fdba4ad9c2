package api

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// racyPartition has data from its second read on, and its Watch never
// notifies: the high watermark moved between a fetch's first read and its
// registration, the window a long poll must not lose.
type racyPartition struct {
	Partition
	reads int
}

func (p *racyPartition) Read(offset int64, maxBytes int, minOne bool) (Records, int64, int64, int64, error) {
	p.reads++
	if p.reads == 1 {
		return Records{}, 0, 0, 0, nil
	}
	return Records{Bytes: make([]byte, 100)}, 1, 1, 0, nil
}

func (p *racyPartition) Watch(func()) func()    { return func() {} }
func (p *racyPartition) CheckEpoch(int32) error { return nil }
func (p *racyPartition) HighWatermark() int64   { return 1 }

func TestLongPollReadsAgainAfterWatching(t *testing.T) {
	id := metadata.NewUUID()
	im, _ := metadata.Empty().Apply(1, []metadata.Record{{Topic: &metadata.TopicRecord{Name: "t", ID: id}},
		{Partition: &metadata.PartitionRecord{TopicID: id, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}}})
	p := &racyPartition{}
	h := New(Deps{Image: func() *metadata.Image { return im }, Partition: func(string, int32) (Partition, error) { return p, nil }})
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(12)
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes, req.SessionEpoch = 5000, 1, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	r := handleFetch(context.Background(), h, &Client{}, req)
	if r.wait == nil {
		t.Fatal("the first read found data: the test does not reach the long poll")
	}
	start := time.Now()
	resp := r.wait(context.Background()).(*kmsg.FetchResponse)
	if took := time.Since(start); took > 2*time.Second || len(resp.Topics[0].Partitions[0].RecordBatches) != 100 {
		t.Fatalf("long poll returned after %v with %d bytes", took, len(resp.Topics[0].Partitions[0].RecordBatches))
	}
}
